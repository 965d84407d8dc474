"""Storage on SQLite and PostgreSQL: migrations and the atomic archive-then-commit step."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.db import MIGRATIONS_DIR, current_revision, make_engine, upgrade
from maild.ingest import Checkpoint, Incoming, Ingestor, header_message_id
from maild.models import Base, Mailbox, Message
from maild.sources import checkpoints
from tests.support import run_maild

from .conftest import notice


def test_db_upgrade_command_builds_schema_on_empty_database(db_url: str, tmp_path: Path) -> None:
    """GIVEN an empty database WHEN `maild db upgrade` runs THEN every model table exists and the
    revision is the newest; running it again is a no-op."""
    config = tmp_path / "c.toml"
    config.write_text(f'[maild]\ndatabase = "{db_url}"\narchive_dir = "{tmp_path}/a"\n')
    for _ in range(2):
        result = run_maild(["--config", config, "db", "upgrade"])
        assert result.returncode == 0, result.stderr
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        heads = [p.stem.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
        assert current_revision(engine) == max(heads)
    finally:
        engine.dispose()


def test_upgrade_from_every_earlier_revision(db_url: str) -> None:
    """GIVEN a database at each earlier revision WHEN upgraded THEN it reaches head."""
    revisions = sorted(p.stem.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    engine = make_engine(db_url)
    try:
        for revision in revisions:
            upgrade(db_url, revision)
            assert current_revision(engine) == revision
        upgrade(db_url)
        assert current_revision(engine) == revisions[-1]
    finally:
        engine.dispose()


def test_rows_and_checkpoint_commit_together(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a batch with a duplicate inside WHEN ingested with a checkpoint THEN the distinct
    messages and the new last_uid are committed, a replay of the batch adds nothing, and a batch
    fetched under an older UIDVALIDITY keeps its rows but does not move the checkpoint."""
    box = checkpoints.get_or_create(migrated_sessions, "acct", "INBOX")
    checkpoints.adopt_uidvalidity(migrated_sessions, box.id, 7, actor="test")
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")
    items = [Incoming(raw=notice(i % 3), origin="t", uid=i + 1) for i in range(4)]
    result = ingestor.ingest(items, Checkpoint(box.id, 7, 4))
    assert (result.new, result.duplicates) == (3, 1)
    replay = ingestor.ingest(items, Checkpoint(box.id, 7, 4))
    assert (replay.new, replay.duplicates) == (0, 4)
    with migrated_sessions() as session:
        assert session.get_one(Mailbox, box.id).last_uid == 4
        ids = list(session.scalars(select(Message.message_id).order_by(Message.id)))
    assert ids == ["<notice-0@amazon.com>", "<notice-1@amazon.com>", "<notice-2@amazon.com>"]

    stale = ingestor.ingest([Incoming(raw=notice(9), origin="t", uid=99)],
                            Checkpoint(box.id, 6, 99))
    assert stale.new == 1
    with migrated_sessions() as session:
        assert session.get_one(Mailbox, box.id).last_uid == 4, \
            "a checkpoint of another UIDVALIDITY must not move this one"


def test_failed_commit_leaves_checkpoint_where_it_was(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN the database refuses the batch WHEN ingesting THEN the checkpoint has not moved, so
    the batch is fetched again; the archived files are harmless and reused."""
    box = checkpoints.get_or_create(migrated_sessions, "acct", "INBOX")
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")
    too_long = Incoming(raw=notice(1), origin="t", uid=1)
    with pytest.raises(Exception):  # noqa: B017 - any database error will do
        ingestor.ingest([too_long], Checkpoint(box.id + 999, 1, 1))
    with migrated_sessions() as session:
        assert session.get_one(Mailbox, box.id).last_uid == 0
        assert session.scalars(select(Message)).all() == []
    assert ingestor.ingest([too_long], Checkpoint(box.id, 1, 1)).new == 1


@pytest.mark.parametrize(("raw", "expected"), [
    (b"Message-ID: <a@b>\r\n\r\nx", "<a@b>"),
    (b"message-id:\r\n <folded@b>\r\nSubject: s\r\n\r\n", "<folded@b>"),
    (b"Subject: s\r\n\r\nMessage-ID: <in-body@b>\r\n", None),
    (b"Message-ID: <\xff\xfe@b>\n\nx", "<\ufffd\ufffd@b>"),
])
def test_header_message_id_is_lenient(raw: bytes, expected: str | None) -> None:
    """GIVEN odd header blocks WHEN the Message-ID is read THEN only the header counts."""
    assert header_message_id(raw) == expected


def test_models_and_migrations_agree(db_url: str) -> None:
    """GIVEN a database built by the migrations alone WHEN compared with the models THEN alembic
    finds nothing to change: every model change came with its revision."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
