"""The parse stage: archived rows become notices; unreadable ones are quarantined, not lost."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.ingest import Incoming, Ingestor
from maild.models import AuditEvent, Message, Notice
from maild.stages import parse_pending, requeue

SUSPENSION = (
    "From: Amazon Seller Performance <seller-performance@amazon.de>\r\n"
    "To: seller@example-shop.cn\r\nSubject: Ihr Verkäuferkonto wurde deaktiviert\r\n"
    "Date: Tue, 10 Mar 2026 08:00:00 +0100\r\nMessage-ID: <susp-1@amazon.de>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Guten Tag,\r\n\r\nIhr Verkäuferkonto auf Amazon.de wurde deaktiviert. Bitte reichen Sie "
    "innerhalb von 17 Tagen einen Maßnahmenplan ein.\r\n").encode()


def test_archived_messages_are_parsed_into_notices(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN an archived German suspension notice WHEN the parse stage runs
    THEN the row is 'parsed' and its notice says suspension, P0, amazon.de, with a deadline."""
    store = RawStore(tmp_path / "archive")
    Ingestor(store, migrated_sessions, actor="test").ingest(
        [Incoming(raw=SUSPENSION, origin="test")])
    assert parse_pending(migrated_sessions, store) == 1
    assert parse_pending(migrated_sessions, store) == 0
    with migrated_sessions() as session:
        message = session.scalars(select(Message)).one()
        notice = session.scalars(select(Notice)).one()
    assert message.stage == "parsed"
    assert (notice.platform, notice.marketplace, notice.category, notice.priority) == (
        "amazon", "amazon.de", "suspension", "P0")
    assert notice.deadline is not None and notice.language == "de"
    assert notice.summary_zh and notice.summary_en


def test_missing_archive_file_quarantines_the_row_with_its_error(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN an archived row whose file has vanished WHEN parsed THEN the row is quarantined with
    an error naming the file, and the other rows are still parsed; WHEN the file is restored and
    the row requeued THEN it is parsed."""
    store = RawStore(tmp_path / "archive")
    ingestor = Ingestor(store, migrated_sessions, actor="test")
    ingestor.ingest([Incoming(raw=SUSPENSION, origin="a"), Incoming(raw=b"x", origin="b")])
    lost = store.path_for(ingestor.store.put(b"x").sha256)
    lost.unlink()
    assert parse_pending(migrated_sessions, store) == 2
    with migrated_sessions() as session:
        stages = dict(session.execute(select(Message.origin, Message.stage)).all())
        error = session.scalar(select(Message.error).where(Message.origin == "b"))
    assert stages == {"a": "parsed", "b": "quarantined"}
    assert error is not None and "missing" in error

    store.put(b"x")
    assert requeue(migrated_sessions, actor="test") == 1
    assert parse_pending(migrated_sessions, store) == 1
    with migrated_sessions() as session:
        assert set(session.scalars(select(Message.stage))) == {"parsed"}
        assert len(session.scalars(select(Notice)).all()) == 2
        assert "requeued" in session.scalars(select(AuditEvent.action)).all()


def test_nul_characters_in_headers_are_stored_on_every_backend(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a message with NUL bytes in its Message-ID, subject and body WHEN archived and
    parsed THEN both stages commit (PostgreSQL refuses NUL in text) and the raw bytes are kept."""
    raw = (b"From: seller-notification@amazon.com\r\nMessage-ID: <nul\x00id@amazon.com>\r\n"
           b"Subject: Listing removed \x00 ASIN B0ABCDEFGH\r\n\r\nbody \x00 text\r\n")
    store = RawStore(tmp_path / "archive")
    Ingestor(store, migrated_sessions, actor="test").ingest([Incoming(raw=raw, origin="nul")])
    assert parse_pending(migrated_sessions, store) == 1
    with migrated_sessions() as session:
        message = session.scalars(select(Message)).one()
        notice = session.scalars(select(Notice)).one()
    assert message.message_id == "<nul\ufffdid@amazon.com>"
    assert "\x00" not in notice.subject and "\x00" not in notice.summary_en
    assert store.get(message.sha256) == raw
