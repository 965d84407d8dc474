"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database on loopback.

The PostgreSQL server is the one of this machine (127.0.0.1:5432, trust auth). Each
:class:`PostgresDatabase` creates ``maild_test_<random>`` and drops it on close, so tests never
see each other's rows and a run leaves no database behind.
"""

from __future__ import annotations

import secrets
from types import TracebackType

import psycopg
from psycopg import sql

PG_HOST = "127.0.0.1"
PG_PORT = 5432
#: Roles tried in order; trust auth lets either connect on a Debian install run as root.
PG_ROLES = ("postgres", "root")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL accepted a connection on 127.0.0.1:5432; the message says what to do."""


def _admin_connect() -> tuple[psycopg.Connection[tuple[object, ...]], str]:
    """Connect to the maintenance database ``postgres``; return the connection and the role used."""
    errors = []
    for role in PG_ROLES:
        try:
            conn = psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=role,
                dbname="postgres",
                autocommit=True,  # CREATE/DROP DATABASE cannot run in a transaction
                connect_timeout=5,
            )
        except psycopg.OperationalError as exc:
            errors.append(f"{role}: {str(exc).strip()}")
            continue
        return conn, role
    raise PostgresUnavailable(
        f"PostgreSQL on {PG_HOST}:{PG_PORT} refused every role ({'; '.join(errors)}). "
        "Start it (./scripts/test.sh tries `pg_ctlcluster --skip-systemctl-redirect <ver> main "
        "start`); the storage tests must run on PostgreSQL too."
    )


class PostgresDatabase:
    """A freshly created, empty PostgreSQL database, dropped by :meth:`drop` (or ``with``).

    Attributes:
        name: ``maild_test_<16 hex digits>``.
        role: the role that created (and owns) it.
        url: SQLAlchemy URL, ``postgresql+psycopg://<role>@127.0.0.1:5432/<name>``.
    """

    name: str
    role: str
    url: str

    def __init__(self) -> None:
        """Create the database now; raises :class:`PostgresUnavailable` when the server is down."""
        self.name = f"maild_test_{secrets.token_hex(8)}"
        conn, self.role = _admin_connect()
        with conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.url = f"postgresql+psycopg://{self.role}@{PG_HOST}:{PG_PORT}/{self.name}"
        self._dropped = False

    def exists(self) -> bool:
        """True while the database is present on the server."""
        conn, _ = _admin_connect()
        with conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.name,)
            ).fetchone()
        return row is not None

    def drop(self) -> None:
        """Drop the database, ending any session still connected to it (PostgreSQL 13+ FORCE)."""
        if self._dropped:
            return
        conn, _ = _admin_connect()
        with conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        self._dropped = True

    def set_reachable(self, reachable: bool) -> None:
        """Simulate a database outage: refuse new connections and end every open session
        (``reachable=False``), or accept connections again (``True``)."""
        conn, _ = _admin_connect()
        with conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(self.name), sql.Literal(reachable)))
            if not reachable:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (self.name,))

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.drop()
