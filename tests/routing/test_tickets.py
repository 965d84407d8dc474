"""Service-mailbox tickets (DESIGN §4.6): a client writes to the ``service`` Maildir, the ticket
step opens (or joins) a case, alerts the advisors and acknowledges to the client — but never to
a stranger (no backscatter) and never to automatic mail (no loops)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.config import load_config
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Ingestor
from maild.models import AuditEvent, Case, Message, Notice, Outbound
from maild.outbound import outbox
from maild.outbound.send_step import SendStep
from maild.routing.ticket_step import TicketStep
from maild.sources.maildir import MaildirWorker
from maild.stages import StepRunner
from tests.routing.test_route_and_send import CONFIG, SECRET_ENV
from tests.support import SmtpSink

SERVICE = """
[[maildir]]
name = "service"
path = "{root}/service"
role = "service"
"""


class Desk:
    """The service Maildir watched by its real source worker, then the ticket and send steps."""

    def __init__(self, config_path: Path) -> None:
        config = load_config(config_path)
        upgrade(config.database)
        self.engine = make_engine(config.database)
        self.sessions = session_factory(self.engine)
        store = config.raw_store()
        [source] = config.maildirs
        self.folder = source.path
        self.worker = MaildirWorker(source, Ingestor(store, self.sessions, actor="test"),
                                    threading.Event())
        self.runners = [StepRunner(TicketStep(config, store), self.sessions),
                        StepRunner(SendStep(config, store, self.sessions), self.sessions)]
        self.count = 0

    def write(self, sender: str, subject: str, *, headers: dict[str, str] | None = None,
              body: str = "Our store page shows an error since this morning.") -> str:
        """Deliver a client's message into the service Maildir and work it through; returns
        its Message-ID."""
        self.count += 1
        message = EmailMessage(policy=email.policy.SMTP)
        message["From"] = sender
        message["To"] = "service@advisor.example"
        message["Subject"] = subject
        message["Date"] = "Tue, 10 Mar 2026 08:00:00 +0000"
        message["Message-ID"] = f"<client-{self.count}@client.example>"
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        delivering = self.folder / "tmp" / f"{self.count}.client"
        delivering.write_bytes(message.as_bytes())
        delivering.rename(self.folder / "new" / delivering.name)
        self.worker.run_once()
        for runner in self.runners:
            runner.drain()
        return str(message["Message-ID"])

    def cases(self) -> list[Case]:
        with self.sessions() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def outbound_kinds(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(Outbound.kind).order_by(Outbound.id)))


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
         monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Desk]:
    """The service desk on the routing tests' config; a test that parametrizes ``desk``
    indirectly gives a (text, replacement) edit of that config."""
    monkeypatch.setenv(SECRET_ENV, "tickets-test-secret")
    path = tmp_path / "maild.toml"
    text = CONFIG.format(database=sqlite_url, root=tmp_path, port=smtp_sink.port,
                         secret_env=SECRET_ENV) + SERVICE.format(root=tmp_path)
    if edit := getattr(request, "param", None):
        assert edit[0] in text
        text = text.replace(*edit)
    path.write_text(text, encoding="utf-8")
    desk = Desk(path)
    yield desk
    desk.engine.dispose()


def mails_to(sink: SmtpSink) -> dict[str, list[EmailMessage]]:
    """What each envelope recipient got, headers decoded."""
    got: dict[str, list[EmailMessage]] = {}
    for mail in sink.received:
        parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        for rcpt in mail.rcpt_tos:
            got.setdefault(rcpt, []).append(parsed)
    return got


@pytest.mark.parametrize(("sender", "subject"), [
    ("li.wei@acme.example", "【URGENT】 Store down"),
    ("ops@acme.example", "[URGENT] Store down"),
    ("Li Wei <Li.Wei@ACME.example>", "[urgent]Store down"),
])
def test_an_urgent_ticket_opens_a_p0_case_alerts_advisors_and_acknowledges(
        desk: Desk, smtp_sink: SmtpSink, sender: str, subject: str) -> None:
    """GIVEN Acme's decision-maker (or its summary address) WHEN it writes '【URGENT】 Store
    down' (or the ASCII '[URGENT]', in any case, from the address in any case) to the service
    mailbox THEN a P0 case is opened for Acme,
    the advisor gets a P0 summary at once with the client's text, and the writer gets one
    acknowledgement whose subject carries [URGENT-MD-2026-000001], threaded to the ticket."""
    message_id = desk.write(sender, subject)
    sender = parseaddr(sender)[1].lower()
    [case] = desk.cases()
    assert (case.ticket, case.client_id, case.priority, case.state) == (
        "MD-2026-000001", "acme", "P0", "triaged")
    mails = mails_to(smtp_sink)
    assert set(mails) == {"anna@advisor.example", sender}
    [alert] = mails["anna@advisor.example"]
    assert str(alert["Subject"]).startswith("[P0]") and "MD-2026-000001" in alert["Subject"]
    assert "Our store page shows an error" in alert.as_string()
    [ack] = mails[sender]
    assert "[URGENT-MD-2026-000001]" in str(ack["Subject"]), ack["Subject"]
    assert ack["In-Reply-To"] == message_id
    assert ack["Auto-Submitted"] == "auto-generated"  # a client's autoresponder stays quiet


def test_a_normal_ticket_is_p2_and_its_ack_has_no_urgent_tag(
        desk: Desk, smtp_sink: SmtpSink) -> None:
    """GIVEN a known client contact WHEN it writes with an ordinary subject THEN the case is
    P2 and the acknowledgement names the ticket without the URGENT tag."""
    desk.write("li.wei@acme.example", "Question about our listing photos")
    [case] = desk.cases()
    assert (case.priority, case.client_id) == ("P2", "acme")
    [ack] = mails_to(smtp_sink)["li.wei@acme.example"]
    assert "[MD-2026-000001]" in str(ack["Subject"]) and "URGENT" not in str(ack["Subject"])


def test_an_unknown_sender_goes_to_the_fallback_and_is_never_acknowledged(
        desk: Desk, smtp_sink: SmtpSink) -> None:
    """GIVEN a sender that is no client's contact (maybe forged) WHEN it writes '【URGENT】 ...'
    THEN the fallback recipients get it on an unmatched case and nothing goes to the sender
    (no backscatter); the audit says why."""
    desk.write("stranger@elsewhere.example", "【URGENT】 Please pay this invoice")
    [case] = desk.cases()
    assert case.client_id is None
    assert set(mails_to(smtp_sink)) == {"triage@advisor.example"}
    assert "ack" not in desk.outbound_kinds()
    with desk.sessions() as session:
        ticket = session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket")).one()
    assert "unknown sender" in ticket.detail


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"Auto-Submitted": "auto-generated", "Precedence": "junk"},
])
def test_automatic_mail_from_a_client_is_not_acknowledged(
        desk: Desk, smtp_sink: SmtpSink, headers: dict[str, str]) -> None:
    """GIVEN an out-of-office or bulk message from a known client address WHEN it reaches the
    service mailbox THEN the advisors still see it, but no acknowledgement is sent back (two
    robots answering each other is a mail loop)."""
    desk.write("ops@acme.example", "Out of office: Store down", headers=headers)
    assert [c.client_id for c in desk.cases()] == ["acme"]
    assert set(mails_to(smtp_sink)) == {"anna@advisor.example"}
    assert "ack" not in desk.outbound_kinds()


def test_a_reply_quoting_the_ticket_joins_its_case_without_a_second_ack(
        desk: Desk, smtp_sink: SmtpSink) -> None:
    """GIVEN an urgent ticket that was acknowledged as [URGENT-MD-2026-000001] WHEN the client
    answers with that tag in the subject (a different subject otherwise, no References) THEN
    the message joins the same case, the advisor hears of it, and no second acknowledgement is
    sent."""
    desk.write("li.wei@acme.example", "【URGENT】 Store down")
    smtp_sink.clear()
    desk.write("li.wei@acme.example", "Re: [URGENT-MD-2026-000001] more details, screenshots",
               body="Here is what the page says now.")
    assert [c.ticket for c in desk.cases()] == ["MD-2026-000001"]
    mails = mails_to(smtp_sink)
    assert set(mails) == {"anna@advisor.example"}
    assert "MD-2026-000001" in str(mails["anna@advisor.example"][0]["Subject"])
    assert desk.outbound_kinds().count("ack") == 1


def test_a_ticket_naming_another_clients_case_does_not_join_it(
        desk: Desk, smtp_sink: SmtpSink) -> None:
    """GIVEN Acme's ticket MD-2026-000001 WHEN Beta's contact writes quoting that ticket
    THEN Beta gets a case of its own: a ticket number in a subject never crosses clients."""
    desk.write("li.wei@acme.example", "[URGENT] Store down")
    desk.write("boss@beta.example", "Re: [MD-2026-000001] our account too?")
    assert [(c.ticket, c.client_id) for c in desk.cases()] == [
        ("MD-2026-000001", "acme"), ("MD-2026-000002", "beta")]


def test_a_flood_to_the_service_mailbox_is_rate_limited_with_one_operator_alert(
        desk: Desk, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a rate limit of 2 messages per recipient per hour WHEN a client's broken
    forwarder sends 4 distinct messages to the service mailbox THEN the advisor gets 2 alerts
    and the client 2 acks, the rest is audited ``rate_limited``, every message is still routed
    (none quarantined: a runaway is not a broken message), and the operator is alerted once."""
    monkeypatch.setattr(outbox, "RATE_LIMIT", 2)
    for n in range(4):
        desk.write("ops@acme.example", f"Forwarded report {n}")
    to = [r for mail in smtp_sink.received for r in mail.rcpt_tos]
    assert to.count("anna@advisor.example") == 2 and to.count("ops@acme.example") == 2
    assert to.count("ops@advisor.example") == 1
    with desk.sessions() as session:
        stages = session.scalars(select(Message.stage).where(Message.direction == "in")).all()
        limited = session.scalars(select(AuditEvent)
                                  .where(AuditEvent.action == "rate_limited")).all()
    assert stages == ["routed"] * 4
    assert len(limited) == 4  # 2 messages x (advisor alert, ack)


@pytest.mark.parametrize(("desk", "sender"), [
    (('summary_to = ["ops@acme.example"]', 'summary_to = ["Acme Ops <Ops@Acme.example>"]'),
     "ops@acme.example"),
    (('advisors = ["anna@advisor.example"]',
      'advisors = ["anna@advisor.example"]\nescalate_to = ["Acme Boss <boss@acme.example>"]'),
     "boss@acme.example"),
], indirect=["desk"])
def test_a_contact_configured_with_a_display_name_is_recognised(
        desk: Desk, smtp_sink: SmtpSink, sender: str) -> None:
    """GIVEN Acme's summary or escalation address written as 'Name <address>' in the config
    WHEN that address writes '[URGENT] Store down' THEN it is Acme's ticket (P0, advisor
    alerted, acknowledged), not an unknown sender's."""
    desk.write(sender, "[URGENT] Store down")
    assert [(c.client_id, c.priority) for c in desk.cases()] == [("acme", "P0")]
    assert {"anna@advisor.example", sender} <= set(mails_to(smtp_sink))


def test_a_forwarded_platform_notice_in_the_service_mailbox_is_a_ticket_not_a_notice(
        desk: Desk, smtp_sink: SmtpSink) -> None:
    """GIVEN a client forwarding Amazon's suspension text to the service mailbox WHEN it
    arrives THEN it is the client's ticket (a client request, P2, acknowledged), never parsed
    as a platform notice (DESIGN §4.6: only ``platform`` mail is)."""
    desk.write("li.wei@acme.example", "Fwd: Your Amazon.de selling privileges are deactivated",
               body="Your Amazon.de selling privileges have been deactivated. Please submit a "
                    "plan of action within 17 days.")
    [case] = desk.cases()
    assert (case.client_id, case.category, case.priority) == ("acme", "client_request", "P2")
    with desk.sessions() as session:
        assert session.scalars(select(Notice)).all() == []
    assert "li.wei@acme.example" in mails_to(smtp_sink)
