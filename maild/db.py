"""Engine and session helpers; schema upgrades through alembic only.

SQLite is the embedded default and runs in WAL mode with ``synchronous=FULL`` so a committed
checkpoint survives a power cut; a busy timeout lets the source threads share one file.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from maild.audit_head import anchor_heads

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # package data: wheels carry it
#: PostgreSQL advisory lock key serialising schema upgrades (the audit chain's is 7301001).
UPGRADE_LOCK_KEY = 7301002


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the parent folder and set the pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def storable(text: str) -> str:
    """Text as every backend can store it: PostgreSQL refuses NUL characters in text columns,
    and mail (headers, subjects, server errors) can carry them."""
    return text.replace("\x00", "\ufffd")


def session_factory(engine: Engine, *, archive_dir: Path | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``; with ``archive_dir``, every commit that appended audit events also
    appends the chain's new head to the archive's head file (``maild.audit_head``)."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    if archive_dir is not None:
        anchor_heads(sessions, archive_dir)
    return sessions


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision`` (default: the newest).

    ``run``, ``status``, ``ingest`` and ``archive verify`` all upgrade on start, and a fleet starts
    its daemons together: two alembic runs at once on a fresh database would both create the same
    tables and one would fail. So the run holds a lock that every maild process takes, and a
    database already at the newest revision is left alone without waiting for that lock.
    """
    config = alembic_config(url)
    engine = make_engine(url)  # creates the SQLite folder
    try:
        if revision == "head" and _at_head(engine, config):
            return
        with _migration_lock(engine):
            if revision == "head" and _at_head(engine, config):
                return  # another process upgraded it while this one waited
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def _at_head(engine: Engine, config: AlembicConfig) -> bool:
    """True when the database stands at every head of the migration scripts."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def migration_lock_path(database: str) -> Path:
    """The file a SQLite database's upgrades lock, beside the database file."""
    return Path(f"{database}.upgrade.lock")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the schema-upgrade lock of ``engine``'s database until the block ends.

    PostgreSQL: a session-level advisory lock on a connection of its own (alembic commits its
    own transactions, so a transaction-level lock would not span the run); it is released when
    the block ends or, if the process dies, when its connection closes. SQLite: an exclusive
    ``flock`` on a file beside the database, which the kernel releases with the process.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": UPGRADE_LOCK_KEY})
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # a private in-memory database has no second process to race
        return
    with open(migration_lock_path(database), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def begin_write(session: Session) -> None:
    """Take SQLite's write lock now, before the first savepoint of the session's transaction.

    pysqlite opens a transaction only before its first data-changing statement, so a SAVEPOINT
    issued first would open (and its RELEASE commit) a transaction of its own. An explicit
    ``BEGIN IMMEDIATE`` makes the savepoints nest inside one transaction, as on PostgreSQL,
    where this does nothing (the transaction is open already).
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection \
            .in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")
