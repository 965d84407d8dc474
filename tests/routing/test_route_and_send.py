"""Route and send on the generic runner: notices reach their client's and advisors' inboxes as
tagged summaries through a real SMTP server, follow-ups join their case, unmatched mail goes to
the fallback, maild's own mail is never summarised again, and SMTP faults are retried or
reported with their receipts."""

from __future__ import annotations

import email
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.config import Config, load_config
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Incoming, Ingestor
from maild.models import AuditEvent, Case, Message, Outbound, Receipt
from maild.outbound.send_step import SendStep
from maild.parse_stage import ParseStep
from maild.routing.route_step import RouteStep
from maild.stages import StepRunner
from tests.support import SmtpSink

SECRET_ENV = "MAILD_TEST_ROUTING_SECRET"

CONFIG = """
[maild]
database = "{database}"
archive_dir = "{root}/archive"
secret_env = "{secret_env}"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "plain"
from = "Advisor Desk <desk@advisor.example>"
reply_address = "desk+{{token}}@advisor.example"
operator = ["ops@advisor.example"]

[fallback]
to = ["triage@advisor.example"]

[[client]]
id = "acme"
name = "Acme Lighting"
languages = ["zh", "en"]
timezone = "Asia/Shanghai"
calendar = "CN"
hours = "09:00-21:00"
decision_maker = "li.wei@acme.example"
summary_to = ["ops@acme.example"]
advisors = ["anna@advisor.example"]

[[client.store]]
platform = "amazon"
name = "AcmeLight EU"
addresses = ["acme@inbox.advisor.example"]
sender = "amazon-eu@acme.example"

[[client]]
id = "beta"
name = "Beta Home"
languages = ["en"]
timezone = "Europe/Berlin"
calendar = "DE"
hours = "09:00-18:00"
decision_maker = "boss@beta.example"
summary_to = ["team@beta.example"]
advisors = ["ben@advisor.example"]

[[client.store]]
platform = "amazon"
name = "Beta Home DE"
addresses = ["beta@inbox.advisor.example"]
sender = "amazon@beta.example"
"""


def notice(to: str, *, n: int = 1, complaint: str = "1234567890",
           extra_headers: str = "") -> bytes:
    return (f"From: Amazon <notice-dispute@amazon.de>\r\nTo: {to}\r\n"
            f"Subject: Rights owner complaint about your listing\r\n"
            f"Date: Tue, 10 Mar 2026 08:00:00 +0000\r\nMessage-ID: <ip-{n}@amazon.de>\r\n"
            f"{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello,\r\n\r\nWe received a report from a rights owner that your listing "
            f"ASIN B0TEST{n:04d} infringes their trademark. Complaint ID: {complaint}.\r\n"
            f"Please respond within 72 hours.\r\n").encode()


class Pipeline:
    """Parse, route and send runners on one store and database, with a settable clock."""

    def __init__(self, config: Config, sessions: sessionmaker[Session]) -> None:
        self.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        self.store = RawStore(config.archive_dir)
        self.sessions = sessions
        clock: Callable[[], datetime] = lambda: self.now  # noqa: E731
        self.ingestor = Ingestor(self.store, sessions, actor="test", clock=clock)
        self.send_step = SendStep(config, self.store, sessions, clock=clock)
        self.runners = [StepRunner(ParseStep(self.store), sessions),
                        StepRunner(RouteStep(config, self.store, clock=clock), sessions),
                        StepRunner(self.send_step, sessions, clock=clock, owner="test")]

    def deliver(self, *raws: bytes) -> None:
        self.ingestor.ingest([Incoming(raw=raw, origin=f"test:{i}") for i, raw in
                              enumerate(raws)])
        for runner in self.runners:
            runner.drain()

    def cases(self) -> list[Case]:
        with self.sessions() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def outbound(self) -> list[Outbound]:
        with self.sessions() as session:
            return list(session.scalars(select(Outbound).order_by(Outbound.id)))


@contextmanager
def pipeline_for(database: str, root: Path, smtp_port: int, extra: str = "") -> Iterator[Pipeline]:
    """The routing pipeline on ``CONFIG`` (plus ``extra`` TOML) in ``root``; the reply-token
    secret must be in ``SECRET_ENV``."""
    path = root / "maild.toml"
    path.write_text(CONFIG.format(database=database, root=root, port=smtp_port,
                                  secret_env=SECRET_ENV) + extra, encoding="utf-8")
    config = load_config(path)
    upgrade(config.database)
    engine = make_engine(config.database)
    try:
        yield Pipeline(config, session_factory(engine))
    finally:
        engine.dispose()


@pytest.fixture
def routing(db_url: str, tmp_path: Path, smtp_sink: SmtpSink,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    monkeypatch.setenv(SECRET_ENV, "routing-test-secret")
    with pipeline_for(db_url, tmp_path, smtp_sink.port) as pipeline:
        yield pipeline


def by_recipient(sink: SmtpSink) -> dict[str, EmailMessage]:
    return {rcpt: email.message_from_bytes(mail.content)
            for mail in sink.received for rcpt in mail.rcpt_tos}


def test_a_notice_reaches_its_client_and_advisors_as_tagged_summaries(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a platform notice that arrived through the client's store address WHEN parsed,
    routed and sent THEN a case MD-2026-000001 is opened for that client, the client and its
    advisor each get a tagged summary with the case headers and the original attached byte for
    byte, and each send has its SMTP receipt."""
    raw = notice("acme@inbox.advisor.example")
    routing.deliver(raw)
    [case] = routing.cases()
    assert (case.ticket, case.client_id, case.priority, case.state) == (
        "MD-2026-000001", "acme", "P1", "triaged")
    mails = by_recipient(smtp_sink)
    assert set(mails) == {"ops@acme.example", "anna@advisor.example"}
    for mail in mails.values():
        subject = str(mail["Subject"])
        assert subject.startswith("[P1][Amazon.de]") and "(MD-2026-000001)" in subject
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["X-Maild-Case"] == "MD-2026-000001"
        assert str(mail["Reply-To"]).startswith("desk+")
        assert [part.get_content_type() for part in mail.walk()].count("message/rfc822") == 1
        assert b"Candidate clients" not in mail.as_bytes()  # only unmatched mail names them
    for received in smtp_sink.received:  # the original travels unchanged, byte for byte
        assert raw in received.content
    rows = routing.outbound()
    assert {row.stage for row in rows} == {"sent"}
    with routing.sessions() as session:
        receipts = session.scalars(select(Receipt)).all()
        routed = session.scalars(select(AuditEvent).where(AuditEvent.action == "routed")).one()
    assert len(receipts) == 2 and all(r.code == 250 and r.queue_id for r in receipts)
    assert "acme@inbox.advisor.example" in routed.detail


def test_a_follow_up_with_the_same_complaint_joins_the_case_and_says_what_changed(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a routed complaint WHEN a second notice with the same complaint id arrives with a
    new deadline THEN it joins the same case, and its summary says it updates the case."""
    routing.deliver(notice("acme@inbox.advisor.example", n=1))
    smtp_sink.clear()
    later = notice("acme@inbox.advisor.example", n=2).replace(
        b"within 72 hours", b"within 24 hours")
    routing.deliver(later)
    assert [c.ticket for c in routing.cases()] == ["MD-2026-000001"]
    mails = by_recipient(smtp_sink)
    assert mails and all("MD-2026-000001" in str(m["Subject"]) for m in mails.values())
    text = mails["anna@advisor.example"].as_bytes()
    assert b"deadline" in text.lower()


def test_unmatched_mail_goes_to_the_fallback_and_own_mail_is_never_summarised_again(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a notice that arrived through no client's address WHEN routed THEN the fallback
    gets it on an unmatched case; WHEN that summary itself lands in the watched mailbox THEN it
    is not summarised again (loop protection) and nothing more is sent."""
    routing.deliver(notice("someone@elsewhere.example"))
    [case] = routing.cases()
    assert case.client_id is None
    [(rcpt, summary)] = by_recipient(smtp_sink).items()
    assert rcpt == "triage@advisor.example"
    sent = len(smtp_sink.received)
    routing.deliver(summary.as_bytes())
    assert len(smtp_sink.received) == sent
    with routing.sessions() as session:
        assert session.scalars(select(AuditEvent.action)
                               .where(AuditEvent.action == "not_routed")).all()


def test_a_temporary_failure_is_retried_and_a_permanent_one_alerts_the_operator(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a server answering the first DATA with 451 WHEN a summary is sent THEN it stays
    queued with the 451 receipt and is sent when its retry is due; GIVEN a 550 THEN the row is
    failed with the reply kept, and the operator gets an alert."""
    smtp_sink.fail_next(451, "4.3.0 try later", times=1)
    routing.deliver(notice("beta@inbox.advisor.example"))
    rows = routing.outbound()
    assert sorted(row.stage for row in rows) == ["queued", "sent"]
    waiting = next(row for row in rows if row.stage == "queued")
    assert waiting.next_try_at is not None and waiting.next_try_at > routing.now
    routing.now = waiting.next_try_at + timedelta(seconds=1)
    routing.runners[2].drain()
    assert {row.stage for row in routing.outbound()} == {"sent"}
    with routing.sessions() as session:
        codes = sorted(r.code for r in session.scalars(select(Receipt)))
    assert codes == [250, 250, 451]

    smtp_sink.clear()
    smtp_sink.fail_next(550, "5.7.1 rejected", times=1)
    routing.deliver(notice("beta@inbox.advisor.example", n=5, complaint="555"))
    stages = sorted(row.stage for row in routing.outbound())
    assert stages.count("failed") == 1
    assert "ops@advisor.example" in by_recipient(smtp_sink)
    with routing.sessions() as session:
        assert 550 in session.scalars(select(Receipt.code)).all()


def dsn_for(message_id: str, recipient: str) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one for a failed recipient,
    returning the original's header."""
    return (f"From: MAILER-DAEMON@mx.example.test (Mail Delivery System)\r\n"
            f"To: desk@advisor.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: Tue, 10 Mar 2026 09:05:00 +0000\r\nMessage-ID: <bounce-1@mx.example.test>\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            f"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            f"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.example.test\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: user unknown\r\n\r\n"
            f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: Advisor Desk <desk@advisor.example>\r\nTo: {recipient}\r\n"
            f"Message-ID: {message_id}\r\n\r\n--B--\r\n").encode()


def test_a_bounce_is_linked_to_its_outbound_row_shown_on_the_case_and_alerted(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a summary sent to the client WHEN a DSN for it arrives in the replies mailbox THEN
    the outbound row is 'bounced' with the remote diagnostic, the bounce joins the case, the
    case's history names it, and the operator is alerted; other mail there waits for intake."""
    from maild.outbound.bounce_step import BounceStep
    from maild.routing.casebook import case_history
    from maild.stages import Stage

    routing.deliver(notice("acme@inbox.advisor.example"))
    client_row = next(row for row in routing.outbound() if "ops@acme.example" in row.recipients)
    step = BounceStep(routing.send_step.config, routing.store, clock=lambda: routing.now)
    routing.ingestor.ingest([
        Incoming(raw=dsn_for(client_row.message_id, "ops@acme.example"), origin="replies:1",
                 stage=Stage.RECEIVED),
        Incoming(raw=notice("desk@advisor.example", n=9), origin="replies:2",
                 stage=Stage.RECEIVED)])
    StepRunner(step, routing.sessions).drain()
    routing.runners[2].drain()
    bounced = next(row for row in routing.outbound() if row.id == client_row.id)
    assert bounced.stage == "bounced" and "5.1.1" in (bounced.error or "")
    with routing.sessions() as session:
        stages = sorted(session.scalars(select(Message.stage).where(
            Message.origin.like("replies:%"))))
        found = case_history(session, "MD-2026-000001")
    assert stages == ["bounce", "intake"]
    assert found is not None and any("bounced" in line.text for line in found[1])
    assert "ops@advisor.example" in by_recipient(smtp_sink)


def policy_update(to: str, n: int = 1) -> bytes:
    return (f"From: Amazon <seller-notification@amazon.de>\r\nTo: {to}\r\n"
            f"Subject: Update to the Amazon.de packaging policy\r\n"
            f"Date: Tue, 10 Mar 2026 08:00:00 +0000\r\nMessage-ID: <policy-{n}@amazon.de>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello,\r\n\r\nWe are updating our packaging requirements for sellers on "
            f"Amazon.de. The new requirements take effect on 1 June 2026.\r\n").encode()


def test_a_p3_notice_waits_for_the_clients_daily_digest(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a client with the default digest (P3 at 18:00 in Asia/Shanghai) WHEN a P3
    announcement arrives at 09:00 UTC (17:00 there) THEN nothing is sent at once; WHEN the clock
    passes 18:00 local THEN one digest goes to the client and one to the advisors, once."""
    from maild.routing.digests import DigestStep
    from maild.routing.route_step import summary_facts

    routing.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    routing.deliver(policy_update("acme@inbox.advisor.example"))
    assert smtp_sink.received == []
    digests = StepRunner(DigestStep(routing.send_step.config, routing.store, summary_facts,
                                    clock=lambda: routing.now), routing.sessions,
                         clock=lambda: routing.now)
    routing.now = datetime(2026, 3, 10, 9, 59, tzinfo=UTC)  # 17:59 in Shanghai
    assert digests.drain() == 0
    routing.now = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 18:00
    assert digests.drain() == 2
    routing.runners[2].drain()
    mails = by_recipient(smtp_sink)
    assert set(mails) == {"ops@acme.example", "anna@advisor.example"}
    assert all(row.kind.startswith("digest:") for row in routing.outbound())
    assert digests.drain() == 0


def test_one_announcement_is_summarised_once_per_affected_client(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN two clients with Amazon stores WHEN an Amazon.de policy announcement arrives
    through one of them, and the same announcement again through the other THEN each client has
    one case for it and got one summary; the second copy adds nothing."""
    config = routing.send_step.config
    every_priority_at_once = replace(config, clients=tuple(
        replace(client, at_once=("P0", "P1", "P2", "P3")) for client in config.clients))
    routing.runners[1] = StepRunner(RouteStep(every_priority_at_once, routing.store,
                                              clock=lambda: routing.now), routing.sessions)
    routing.deliver(policy_update("acme@inbox.advisor.example", n=1))
    first = len(smtp_sink.received)
    routing.deliver(policy_update("beta@inbox.advisor.example", n=2))
    cases = routing.cases()
    assert sorted(c.client_id or "" for c in cases) == ["acme", "beta"]
    assert len(smtp_sink.received) == first == 4  # client + advisor of each client
    assert {r for mail in smtp_sink.received for r in mail.rcpt_tos} == {
        "ops@acme.example", "anna@advisor.example", "team@beta.example", "ben@advisor.example"}
