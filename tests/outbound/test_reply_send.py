"""An interrupted send is reconciled before anything goes out again (DESIGN §2 "sent once"):
the state a kill -9 leaves between the server's 250 and the commit (a row ``sending`` whose
claim ran out) is built here directly, and the send step must decide from the receipt journal,
never by sending a platform reply a second time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.models import AuditEvent, Case, Draft, Outbound
from maild.outbound import receipt_journal as journal
from maild.stages import Stage
from tests.ingestion.conftest import wait_until
from tests.outbound.servers import DropAfterData
from tests.outbound.test_reply_path import (
    BUYER,
    DRAFT,
    Desk,
    advisor_reply,
    buyer_message,
    decision_reply,
    open_desk,
    platform_replies,
)
from tests.support import SmtpSink


@pytest.fixture
def approved(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Desk, SmtpSink, int]]:
    """A case whose v1 was approved; the platform reply is queued, not yet sent (the desk's
    send step runs last in each pass, so its runner is held back here)."""
    with open_desk(sqlite_url, tmp_path, smtp_sink, monkeypatch) as desk:
        yield from _approved(desk, smtp_sink)


def _approved(desk: Desk, smtp_sink: SmtpSink) -> Iterator[tuple[Desk, SmtpSink, int]]:
    desk.notice(buyer_message())
    desk.answer(advisor_reply(desk, DRAFT))
    send = desk.runners.pop()
    desk.answer(decision_reply(desk, "同意", 1))
    desk.runners.append(send)
    with desk.sessions() as session:
        row = session.scalars(select(Outbound).where(Outbound.kind == "platform_reply")).one()
        assert row.stage == Stage.QUEUED
    yield desk, smtp_sink, row.id


def interrupt(desk: Desk, outbound_id: int) -> None:
    """What a daemon killed mid-send leaves: the row ``sending``, claimed by a process that is
    gone, its claim run out."""
    with desk.sessions.begin() as session:
        row = session.get_one(Outbound, outbound_id)
        row.stage, row.claimed_by = Stage.SENDING.value, "test-host:999999:dead"
        row.claimed_until, row.attempts = desk.now - timedelta(seconds=1), 1


def test_a_receipt_in_the_journal_marks_an_interrupted_reply_sent_without_sending_it(
        approved: tuple[Desk, SmtpSink, int]) -> None:
    """GIVEN a platform reply whose server said 250 (the journal has it) but whose commit never
    came WHEN the send step runs again THEN the row is sent with the journal's receipt, the
    platform gets nothing more, the audit says it was reconciled, and the case is sent."""
    desk, sink, outbound_id = approved
    with desk.sessions() as session:
        message_id = session.get_one(Outbound, outbound_id).message_id
    journal.record(desk.config.archive_dir / journal.JOURNAL_NAME, journal.JournalEntry(
        outbound_id=outbound_id, message_id=message_id, code=250,
        text="2.0.0 Ok: queued as 4ABC", queue_id="4ABC", at=desk.now))
    interrupt(desk, outbound_id)
    desk.work()

    assert platform_replies(sink) == []
    with desk.sessions() as session:
        row = session.get_one(Outbound, outbound_id)
        assert row.stage == Stage.SENT
        assert [(r.code, r.queue_id) for r in row.receipts] == [(250, "4ABC")]
        sent = session.scalars(select(AuditEvent).where(AuditEvent.action == "sent",
                                                        AuditEvent.subject == message_id)).one()
        assert '"reconciled": "receipt log"' in sent.detail
        assert session.scalars(select(Case)).one().state == "sent"
        assert session.scalars(select(Draft)).one().state == "sent"


def test_an_interrupted_reply_without_proof_is_held_and_never_sent_again(
        approved: tuple[Desk, SmtpSink, int]) -> None:
    """GIVEN a platform reply cut off mid-send with nothing in the journal and no Sent folder
    WHEN the send step runs again, twice THEN the row is ``uncertain`` with the commands in its
    error, the platform got nothing, and the operator was alerted once."""
    desk, sink, outbound_id = approved
    interrupt(desk, outbound_id)
    desk.work()
    desk.now += timedelta(hours=1)
    desk.work()

    assert platform_replies(sink) == []
    with desk.sessions() as session:
        row = session.get_one(Outbound, outbound_id)
        assert row.stage == Stage.UNCERTAIN
        assert f"maild outbox mark-sent {outbound_id}" in (row.error or "")
        assert session.scalars(select(Case)).one().state == "awaiting_approval"
    alerts = [m for m in sink.received if "ops@advisor.example" in m.rcpt_tos]
    assert len(alerts) == 1


def test_a_sent_reply_leaves_its_receipt_in_the_journal(
        approved: tuple[Desk, SmtpSink, int]) -> None:
    """GIVEN an approved reply WHEN it is sent THEN the journal holds its receipt (what a
    restart after a crash before the commit would find) with the sink's queue id."""
    desk, sink, outbound_id = approved
    desk.work()
    (sent,) = [m for m in sink.received if BUYER in m.rcpt_tos]
    with desk.sessions() as session:
        message_id = session.get_one(Outbound, outbound_id).message_id
    entry = journal.find(desk.config.archive_dir / journal.JOURNAL_NAME, message_id)
    assert entry is not None and entry.code == 250 and entry.queue_id == sent.queue_id


def test_only_the_row_in_hand_is_marked_sending(approved: tuple[Desk, SmtpSink, int]) -> None:
    """GIVEN a platform reply and a notice queued WHEN the send step works them while the server
    holds its answer to the first THEN only that one row is ``sending`` (a crash now would
    leave only it to reconcile; the other, never tried, is still ``queued``), and both are sent
    once the server answers."""
    desk, sink, _outbound_id = approved
    queued = desk.all(Outbound, Outbound.stage == Stage.QUEUED)
    assert len(queued) >= 2
    sink.delay_reply(2)
    worker = threading.Thread(target=desk.runners[-1].drain)
    worker.start()
    try:
        assert wait_until(lambda: bool(desk.all(Outbound, Outbound.stage == Stage.SENDING)), 5)
        stages = sorted(row.stage for row in desk.all(Outbound))
        assert stages.count(Stage.SENDING) == 1
        assert stages.count(Stage.QUEUED) == len(queued) - 1
    finally:
        worker.join(30)
    assert {row.stage for row in desk.all(Outbound)} == {Stage.SENT}


def test_a_reply_whose_connection_drops_after_its_data_is_held_not_sent_again(
        sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an approved platform reply and a connection cut right after its data (the server
    got it all, its 250 never came back) WHEN the send step runs, and runs again an hour later
    THEN the reply is ``uncertain`` (it may have arrived) and the platform holds it once: a
    summary would be retried, a platform reply never is."""
    with DropAfterData(smtp_sink.port, drops=0) as relay, \
            open_desk(sqlite_url, tmp_path, smtp_sink, monkeypatch, port=relay.port) as desk:
        _desk, sink, outbound_id = next(_approved(desk, smtp_sink))
        relay.drop_next(1)  # the platform reply is the oldest row queued: it goes first
        desk.work()
        desk.now += timedelta(hours=1)
        desk.work()
        assert len(platform_replies(sink)) == 1
        with desk.sessions() as session:
            row = session.get_one(Outbound, outbound_id)
            assert row.stage == Stage.UNCERTAIN
            assert "no answer after the message data" in (row.error or "")


def test_an_outcome_is_not_recorded_once_another_daemon_took_the_row_over(
        approved: tuple[Desk, SmtpSink, int]) -> None:
    """GIVEN a platform reply being sent while the server holds its answer WHEN its claim
    passes to another daemon meanwhile (the work outlived the claim) THEN this daemon records
    nothing when the answer comes: the row stays with the other daemon, which decides."""
    desk, sink, outbound_id = approved
    sink.delay_reply(2)
    worker = threading.Thread(target=desk.runners[-1].run_batch)
    worker.start()
    try:
        assert wait_until(lambda: bool(desk.all(Outbound, Outbound.id == outbound_id,
                                                Outbound.stage == Stage.SENDING)), 5)
        with desk.sessions.begin() as session:
            session.get_one(Outbound, outbound_id).claimed_by = "other-host:1:other"
    finally:
        worker.join(30)
    with desk.sessions() as session:
        row = session.get_one(Outbound, outbound_id)
        assert (row.stage, row.claimed_by, row.receipts) == (
            Stage.SENDING, "other-host:1:other", [])
