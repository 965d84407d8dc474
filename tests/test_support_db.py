"""Database fixtures give empty, working SQLite and PostgreSQL databases and clean up after."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import PostgresDatabase


def _roundtrip(url: str) -> tuple[str, list[str]]:
    """Create a table, write and read a row; return the dialect and the tables found at first."""
    engine = sa.create_engine(url)
    try:
        tables_before = sa.inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, raw TEXT)"))
            conn.execute(sa.text("INSERT INTO probe (id, raw) VALUES (1, 'x')"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT raw FROM probe WHERE id = 1")).scalar_one() == "x"
        return engine.dialect.name, tables_before
    finally:
        engine.dispose()


def test_sqlite_url_is_a_fresh_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    """GIVEN the sqlite_url fixture
    WHEN a table is written through SQLAlchemy
    THEN the database started empty and lives in this test's tmp_path."""
    dialect, tables_before = _roundtrip(sqlite_url)

    assert dialect == "sqlite"
    assert tables_before == []
    assert (tmp_path / "maild.sqlite3").exists()


def test_postgres_url_is_an_empty_database_of_its_own(postgres_url: str) -> None:
    """GIVEN the postgres_url fixture
    WHEN a table is written through SQLAlchemy with psycopg
    THEN the database is PostgreSQL, started empty and is named maild_test_<random>."""
    dialect, tables_before = _roundtrip(postgres_url)

    assert dialect == "postgresql"
    assert tables_before == []
    assert postgres_url.startswith("postgresql+psycopg://")
    assert postgres_url.rsplit("/", 1)[1].startswith("maild_test_")


def test_postgres_database_is_dropped_even_with_an_open_session() -> None:
    """GIVEN a throw-away PostgreSQL database with a connection still open to it
    WHEN it is dropped
    THEN it no longer exists on the server."""
    database = PostgresDatabase()
    engine = sa.create_engine(database.url)
    try:
        assert database.exists()
        conn = engine.connect()
        conn.execute(sa.text("SELECT 1"))

        database.drop()  # FORCE ends the session above

        conn.invalidate()  # its server side is gone: close without a rollback
        conn.close()

        assert not database.exists()
    finally:
        database.drop()
        engine.dispose()


def test_two_databases_do_not_share_rows() -> None:
    """GIVEN two throw-away databases
    THEN they have different names, so concurrent tests cannot see each other's rows."""
    with PostgresDatabase() as first, PostgresDatabase() as second:
        assert first.name != second.name
        assert first.exists() and second.exists()


def test_db_url_runs_on_each_backend(db_url: str, request: pytest.FixtureRequest) -> None:
    """GIVEN the parametrized db_url fixture
    WHEN a storage test uses it
    THEN it runs once per backend, on the backend its parameter names."""
    dialect, tables_before = _roundtrip(db_url)

    assert tables_before == []
    assert dialect == request.node.callspec.params["db_url"]
    if dialect == "postgresql":
        assert request.node.get_closest_marker("postgres") is not None
