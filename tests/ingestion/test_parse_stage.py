"""The parse step on the generic stage runner: archived rows become notices; a row that fails is
quarantined with its step and attempt count, never blocks its batch, and is replayed exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.ingest import Incoming, Ingestor
from maild.models import AuditEvent, Message, Notice
from maild.parse_stage import ParseStep
from maild.parsers import Notice as ParsedNotice
from maild.stages import RequeueError, Stage, StepRunner, requeue


def parse_pending(sessions: sessionmaker[Session], store: RawStore) -> int:
    return StepRunner(ParseStep(store), sessions).drain()

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
    assert requeue(migrated_sessions, ParseStep(store), actor="test") == 1
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


class _FailsOnBody(ParseStep):
    """The real parse step, except that recording one chosen message raises (a bug in a step,
    a row the database refuses): the runner must confine the failure to that row."""

    def __init__(self, store: RawStore, marker: bytes) -> None:
        super().__init__(store)
        self.marker = marker

    def apply(self, session: Session, message: Message, result: ParsedNotice) -> Stage:
        stage = super().apply(session, message, result)
        session.flush()  # the notice row is written, then the failure must undo it
        if self.marker in self.store.get(message.sha256):
            raise RuntimeError("refused by the test step")
        return stage


def test_one_failing_row_is_quarantined_alone_with_its_step_and_attempts(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a batch of three rows whose middle one fails while being recorded WHEN the step
    runs THEN the other two are parsed in the same batch, the failing one is quarantined with
    its error, failed step 'parse' and one attempt, and its half-written notice is rolled back."""
    store = RawStore(tmp_path / "archive")
    raws = [SUSPENSION.replace(b"susp-1", f"susp-{i}".encode()) for i in range(3)]
    raws[1] += b"POISON\r\n"
    Ingestor(store, migrated_sessions, actor="test").ingest(
        [Incoming(raw=raw, origin=f"m{i}") for i, raw in enumerate(raws)])
    runner = StepRunner(_FailsOnBody(store, b"POISON"), migrated_sessions, batch=10)
    assert runner.run_batch() == 3
    with migrated_sessions() as session:
        rows = {m.origin: m for m in session.scalars(select(Message))}
        notices = session.scalars(select(Notice.message_id)).all()
    assert [rows[f"m{i}"].stage for i in range(3)] == ["parsed", "quarantined", "parsed"]
    bad = rows["m1"]
    assert (bad.failed_step, bad.attempts) == ("parse", 1)
    assert bad.error is not None and "refused by the test step" in bad.error
    assert sorted(notices) == sorted([rows["m0"].id, rows["m2"].id])


def test_requeue_replays_exactly_the_named_rows_and_refuses_worked_ones(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN two quarantined rows and a parsed one WHEN one quarantined row is requeued by id
    THEN only it is parsed again (attempts kept as history); WHEN the parsed row is named
    THEN nothing is requeued and the error names it."""
    store = RawStore(tmp_path / "archive")
    ingestor = Ingestor(store, migrated_sessions, actor="test")
    ingestor.ingest([Incoming(raw=SUSPENSION, origin="ok"), Incoming(raw=b"lost-1", origin="a"),
                     Incoming(raw=b"lost-2", origin="b")])
    for raw in (b"lost-1", b"lost-2"):
        store.path_for(store.put(raw).sha256).unlink()
    assert parse_pending(migrated_sessions, store) == 3
    with migrated_sessions() as session:
        ids = dict(session.execute(select(Message.origin, Message.id)).all())

    with pytest.raises(RequeueError, match=str(ids["ok"])):
        requeue(migrated_sessions, ParseStep(store), actor="test", ids=[ids["a"], ids["ok"]])
    store.put(b"lost-1")
    assert requeue(migrated_sessions, ParseStep(store), actor="test", ids=[ids["a"]]) == 1
    assert parse_pending(migrated_sessions, store) == 1
    with migrated_sessions() as session:
        rows = {m.origin: m for m in session.scalars(select(Message))}
    assert {k: v.stage for k, v in rows.items()} == {
        "ok": "parsed", "a": "parsed", "b": "quarantined"}
    assert rows["a"].attempts == 1 and rows["b"].attempts == 1


def test_only_platform_mail_waits_for_the_parse_step(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN the same kind of notice delivered to a platform Maildir and to a replies Maildir
    WHEN both are archived and the parse step runs THEN only the platform one becomes a notice;
    the replies one is 'received', kept for the reply path's intake (DESIGN §4.6)."""
    import threading

    from maild.config import MaildirSource
    from maild.sources.maildir import MaildirWorker

    store = RawStore(tmp_path / "archive")
    ingestor = Ingestor(store, migrated_sessions, actor="test")
    for role, raw in (("platform", SUSPENSION),
                      ("replies", SUSPENSION.replace(b"susp-1", b"reply-1"))):
        folder = tmp_path / role
        worker = MaildirWorker(MaildirSource(role, folder, role=role), ingestor, threading.Event())
        (folder / "new" / "1.eml").write_bytes(raw)
        assert worker.run_once() == 1
    assert parse_pending(migrated_sessions, store) == 1
    with migrated_sessions() as session:
        by_id = dict(session.execute(select(Message.message_id, Message.stage)).all())
        notices = session.scalars(select(Notice)).all()
    assert by_id == {"<susp-1@amazon.de>": "parsed", "<reply-1@amazon.de>": "received"}
    assert len(notices) == 1
