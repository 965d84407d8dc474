"""The reply path on the generic runner, against a real SMTP server and both databases: an
advisor's answer to a summary becomes a draft version, the decision-maker's answer to its
approval request decides it, and only an approved version goes to the platform, once, from the
store's registered sender; everything else changes nothing, is audited and tells the operator."""

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
from maild.models import AuditEvent, Case, Clock, Comment, Decision, Draft, Outbound, Timer
from maild.outbound.bounce_step import BounceStep
from maild.outbound.intake_step import IntakeStep
from maild.outbound.send_step import SendStep
from maild.parse_stage import ParseStep
from maild.routing.casebook import case_history
from maild.routing.route_step import RouteStep
from maild.routing.timer_step import TimerStep
from maild.routing.tokens import make_token, reply_address
from maild.stages import Stage, StepRunner
from tests.outbound.reply_layouts import Attached, Original, build_reply
from tests.routing.test_route_and_send import CONFIG, SECRET_ENV
from tests.support import SmtpSink

SECRET = "reply-path-test-secret"
BUYER = "7x9k2m4q8w1z3v5@marketplace.amazon.de"
ADVISOR = "Anna <anna@advisor.example>"
DECIDER = "Li Wei <li.wei@acme.example>"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
DRAFT = ("Dear Jane,\n\nthank you for your message. We checked order 302-1234567-7654321 with "
         "the carrier: the parcel is on its way and will arrive by Friday. The carrier's "
         "confirmation is attached.\n\nKind regards,\nAcme Lighting")


def buyer_message(n: int = 1, body: str = "my order has not arrived yet") -> bytes:
    return (f'From: "Jane - Amazon Marketplace" <{BUYER}>\r\nReply-To: {BUYER}\r\n'
            f"To: acme@inbox.advisor.example\r\n"
            f"Subject: Question about order 302-1234567-765432{n} from Amazon customer Jane\r\n"
            f"Date: Tue, 10 Mar 2026 08:00:00 +0000\r\n"
            f"Message-ID: <buyer-{n}@marketplace.amazon.de>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nDear seller,\r\n\r\n{body} "
            f"(order 302-1234567-765432{n}, ASIN B0TEST0001). Can you please check?\r\n"
            f"\r\nJane\r\n").encode()


class Desk:
    """Every step of the daemon that the reply path touches, on one store and database, with a
    settable clock; mail goes out through the test's SMTP sink."""

    def __init__(self, config: Config, sessions: sessionmaker[Session], sink: SmtpSink) -> None:
        self.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
        self.sink = sink
        self.config = config
        self.sessions = sessions
        self.store = RawStore(config.archive_dir)
        clock: Callable[[], datetime] = lambda: self.now  # noqa: E731
        self.ingestor = Ingestor(self.store, sessions, actor="test", clock=clock)
        steps = [ParseStep(self.store), RouteStep(config, self.store, clock=clock),
                 BounceStep(config, self.store, clock=clock),
                 IntakeStep(config, self.store, clock=clock),
                 TimerStep(config, self.store, clock=clock)]
        self.runners = [StepRunner(step, sessions, clock=clock) for step in steps]
        self.runners.append(StepRunner(SendStep(config, self.store, sessions, clock=clock),
                                       sessions, clock=clock, owner="test"))
        self.delivered = 0

    def receive(self, raw: bytes, stage: Stage) -> None:
        self.delivered += 1
        self.ingestor.ingest([Incoming(raw=raw, origin=f"test:{self.delivered}",
                                       stage=stage)])
        self.work()

    def notice(self, raw: bytes) -> None:
        self.receive(raw, Stage.ARCHIVED)

    def answer(self, raw: bytes) -> None:
        """Mail arriving in the replies mailbox."""
        self.receive(raw, Stage.RECEIVED)

    def work(self) -> None:
        for runner in self.runners:
            runner.drain()

    def address(self, ticket: str, scope: str = "case") -> str:
        return reply_address("desk+{token}@advisor.example",
                             make_token(SECRET, ticket, scope))

    def one(self, model: type, *where: object) -> object:
        with self.sessions() as session:
            return session.scalars(select(model).where(*where)).one()

    def all(self, model: type, *where: object) -> list:  # type: ignore[type-arg]
        with self.sessions() as session:
            return list(session.scalars(select(model).where(*where)))

    def case(self) -> Case:
        (case,) = self.all(Case)
        return case


@contextmanager
def open_desk(database: str, root: Path, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch,
              port: int | None = None) -> Iterator[Desk]:
    """A desk on ``CONFIG`` written to ``root/maild.toml`` (the CLI reads the same file),
    sending through ``sink`` (or through a relay to it on ``port``)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    path = root / "maild.toml"
    path.write_text(CONFIG.format(database=database, root=root, port=port or sink.port,
                                  secret_env=SECRET_ENV), encoding="utf-8")
    config = load_config(path)
    upgrade(config.database)
    engine = make_engine(config.database)
    try:
        yield Desk(config, session_factory(engine), sink)
    finally:
        engine.dispose()


@pytest.fixture
def desk(db_url: str, tmp_path: Path, smtp_sink: SmtpSink,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with open_desk(db_url, tmp_path, smtp_sink, monkeypatch) as opened:
        yield opened


def mails_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [email.message_from_bytes(m.content) for m in sink.received
            if address in m.rcpt_tos]


def text_of(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def files_of(message: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.walk():
        name = part.get_filename()
        if name and part.get_content_type() != "message/rfc822":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[name] = payload
    return found


def advisor_reply(desk: Desk, text: str, *, client: str = "gmail", sender: str = ADVISOR,
                  scope: str = "case", attachments: tuple[Attached, ...] = (),
                  trace: tuple[tuple[str, str], ...] = (), n: int = 1) -> bytes:
    """An advisor's answer to the summary of the desk's one case, as ``client`` lays it out."""
    to = desk.address(desk.case().ticket, scope)
    quoted = Original(sender_name="Advisor Desk", sender=to, to_name="Anna",
                      to="anna@advisor.example", subject="[P2][Amazon.de] Question about order",
                      body="New notice from Amazon for AcmeLight EU.\n\nSuggested next step: "
                           "reply to the buyer within 24 hours.")
    return build_reply(client, text, signature="Anna Schmidt\nAdvisor Desk | Shenzhen",
                       original=quoted, sender=sender, to=to, attachments=attachments,
                       message_id=f"<answer-{n}-{scope}@advisor.example>",
                       trace=(("Delivered-To", to), *trace))


def decision_reply(desk: Desk, text: str, version: int, *, sender: str = DECIDER,
                   client: str = "qq", n: int = 1) -> bytes:
    """The decision-maker's answer to the approval request of ``version`` (QQ Mail quotes the
    whole request, whose instructions name APPROVE / 同意 / 批准 themselves)."""
    to = desk.address(desk.case().ticket, f"v{version}")
    requests = [m for m in mails_to(desk.sink, "li.wei@acme.example")
                if str(m["X-Maild-Draft"] or "").endswith(f" v{version}")]
    body = text_of(requests[0]) if requests else "回复 APPROVE / 同意 / 批准 即可发送"
    quoted = Original(sender_name="Advisor Desk", sender=to, to_name="李伟",
                      to="li.wei@acme.example", subject=f"[待审批] v{version}", body=body)
    return build_reply(client, text, signature="李伟", original=quoted, sender=sender, to=to,
                       message_id=f"<decision-{n}-v{version}@acme.example>",
                       trace=(("Delivered-To", to),))


@pytest.fixture
def loop(desk: Desk, smtp_sink: SmtpSink) -> Iterator[tuple[Desk, SmtpSink]]:
    """The desk with the buyer's message routed: the summaries are out."""
    desk.notice(buyer_message())
    assert mails_to(smtp_sink, "anna@advisor.example"), "the advisors got no summary"
    yield desk, smtp_sink


def platform_replies(sink: SmtpSink) -> list[EmailMessage]:
    return mails_to(sink, BUYER)


def test_the_whole_loop_sends_only_the_approved_new_text_to_the_platform_once(
        loop: tuple[Desk, SmtpSink]) -> None:
    """GIVEN a buyer's message routed to Acme WHEN the advisor answers the summary from Gmail
    (quoted summary, signature, a PDF) and the decision-maker answers the approval request
    from QQ Mail with 同意 THEN the draft is v1 with only the new text and the PDF, the SLA clock
    stopped, the request went to the decision-maker with the v1 token, and the platform got
    one reply from the store's sender, threaded to the buyer's message, with only the
    advisor's text and the PDF; the receipt is kept, the case is sent, the approval was first
    pass, and the client and the advisor got a confirmation."""
    desk, sink = loop
    ticket = desk.case().ticket
    desk.answer(advisor_reply(desk, DRAFT, attachments=(
        Attached("tracking.pdf", "application/pdf", PDF),)))

    draft = desk.one(Draft)
    assert isinstance(draft, Draft)
    assert (draft.version, draft.state, draft.body) == (1, "pending", DRAFT)
    assert draft.platform_to == BUYER and draft.author == "anna@advisor.example"
    assert [a["filename"] for a in draft.attachments] == ["tracking.pdf"]
    assert desk.store.get(str(draft.attachments[0]["sha256"])) == PDF
    sla = desk.one(Clock, Clock.kind == "sla")
    assert isinstance(sla, Clock) and sla.stopped_at == desk.now
    assert desk.case().state == "awaiting_approval"
    (request,) = mails_to(sink, "li.wei@acme.example")
    assert request["Reply-To"] == desk.address(ticket, "v1")
    assert request["X-Maild-Draft"] == f"{ticket} v1"
    assert files_of(request)["tracking.pdf"] == PDF
    assert "carrier's confirmation is attached" in text_of(request).replace("\r\n", "\n")
    assert not platform_replies(sink)

    desk.now += timedelta(hours=2)
    desk.answer(decision_reply(desk, "同意", 1))

    (sent,) = platform_replies(sink)
    assert email.utils.parseaddr(sent["From"])[1] == "amazon-eu@acme.example"
    assert sent["To"] == BUYER
    assert sent["Subject"].startswith("Re: Question about order 302-1234567-7654321")
    assert sent["In-Reply-To"] == "<buyer-1@marketplace.amazon.de>"
    assert "<buyer-1@marketplace.amazon.de>" in sent["References"]
    assert text_of(sent).replace("\r\n", "\n").strip() == DRAFT
    assert files_of(sent) == {"tracking.pdf": PDF}
    assert sent["Auto-Submitted"] is None
    (envelope,) = [m for m in sink.received if BUYER in m.rcpt_tos]
    assert envelope.mail_from == "amazon-eu@acme.example"

    row = desk.one(Outbound, Outbound.kind == "platform_reply")
    assert isinstance(row, Outbound) and row.stage == "sent" and row.draft_id == draft.id
    with desk.sessions() as session:
        receipts = session.get_one(Outbound, row.id).receipts
        assert [r.code for r in receipts] == [250]
    decision = desk.one(Decision)
    assert isinstance(decision, Decision)
    assert (decision.decision, decision.by, decision.via, decision.first_pass) == (
        "approved", "li.wei@acme.example", "mail", True)
    assert desk.case().state == "sent"
    assert desk.one(Draft).state == "sent"  # type: ignore[union-attr]
    for who in ("ops@acme.example", "anna@advisor.example"):
        assert any(m["X-Maild-Kind"] == "sent" for m in mails_to(sink, who)), who

    desk.answer(decision_reply(desk, "同意", 1, n=2))  # the same approval again
    assert len(platform_replies(sink)) == 1

    with desk.sessions() as session:
        found = case_history(session, ticket)
        assert found is not None
        history = [(line.kind, line.text) for line in found[1]]
    assert ("draft", f"v1 by anna@advisor.example to {BUYER}: sent, 1 attachment(s)") in history
    assert ("decision", "v1 approved by li.wei@acme.example (mail)") in history
    assert sum(kind == "reply" for kind, _text in history) == 3  # answer, approval, repeat
    assert ".maild@" not in sent["Message-ID"] and ticket not in sent["Message-ID"]

    # The buyer answers our reply: the case is worked again, with its clocks' timers.
    follow_up = buyer_message(body="the parcel is still not here").replace(
        b"Message-ID: <buyer-1@marketplace.amazon.de>",
        f"Message-ID: <buyer-9@marketplace.amazon.de>\r\nIn-Reply-To: {sent['Message-ID']}"
        .encode())
    desk.now += timedelta(days=1)
    desk.notice(follow_up)
    assert [c.ticket for c in desk.all(Case)] == [ticket]
    assert desk.case().state == "triaged"
    assert desk.all(Timer, Timer.stage == "scheduled", Timer.clock == "platform")


@pytest.mark.parametrize("case", [
    "forged token", "token of another secret", "stranger", "dkim failed", "out of office",
    "phishing case"])
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_answers_that_must_change_nothing_are_refused_and_told_to_the_operator_only(
        loop: tuple[Desk, SmtpSink], case: str) -> None:
    """GIVEN a routed case WHEN an answer arrives with a forged token, a token made with
    another secret, from a stranger, with DKIM failed at the receiving server, as an
    out-of-office reply, or for a phishing-suspect case THEN there is no draft and nothing to
    the decision-maker or the platform; the refusal is audited with its reason and the operator
    (only) is told."""
    desk, sink = loop
    ticket = desk.case().ticket
    raw = advisor_reply(desk, DRAFT)
    if case == "forged token":
        good = desk.address(ticket)
        forged = good[:-len("@advisor.example") - 1] + (
            "a" if good[-len("@advisor.example") - 1] != "a" else "b") + "@advisor.example"
        raw = raw.replace(good.encode(), forged.encode())
    elif case == "token of another secret":
        raw = raw.replace(desk.address(ticket).encode(), reply_address(
            "desk+{token}@advisor.example", make_token("another", ticket)).encode())
    elif case == "stranger":
        raw = advisor_reply(desk, DRAFT, sender="Mallory <anna@advisor-example.com>")
    elif case == "dkim failed":
        raw = advisor_reply(desk, DRAFT, trace=(
            ("Authentication-Results",
             "mx.advisor.example; dkim=fail header.d=advisor.example; spf=pass; dmarc=fail"),))
    elif case == "out of office":
        raw = raw.replace(b"\nMIME-Version:", b"\nAuto-Submitted: auto-replied\nMIME-Version:")
    elif case == "phishing case":
        with desk.sessions.begin() as session:
            session.scalars(select(Case)).one().category = "phishing_suspect"
    before = len(sink.received)
    desk.answer(raw)

    assert not desk.all(Draft) and not desk.all(Comment)
    new = sink.received[before:]
    assert [m.rcpt_tos for m in new] == [("ops@advisor.example",)]
    refused = desk.all(AuditEvent, AuditEvent.action == "reply_refused")
    assert len(refused) == 1


def test_only_the_newest_version_can_be_approved_and_a_contact_cannot_approve(
        loop: tuple[Desk, SmtpSink]) -> None:
    """GIVEN v1 and then v2 of a draft WHEN the decision-maker approves v1 THEN nothing is sent
    (v1 was superseded) and the operator hears of it; WHEN a contact of the client (not the
    decision-maker) answers v2 with APPROVE THEN it is a comment to the advisors, no decision;
    WHEN the decision-maker approves v2 THEN v2's text, not v1's, goes to the platform."""
    desk, sink = loop
    desk.answer(advisor_reply(desk, "First try.", n=1))
    desk.answer(advisor_reply(desk, DRAFT, n=2))
    assert [(d.version, d.state) for d in desk.all(Draft)] == [(1, "superseded"),
                                                               (2, "pending")]
    desk.answer(decision_reply(desk, "APPROVE", 1))
    assert not platform_replies(sink) and not desk.all(Decision)
    assert desk.all(AuditEvent, AuditEvent.action == "reply_refused")

    desk.answer(decision_reply(desk, "APPROVE", 2, sender="Ops <ops@acme.example>"))
    assert not platform_replies(sink) and not desk.all(Decision)
    (comment,) = desk.all(Comment)
    assert (comment.kind, comment.author) == ("comment", "ops@acme.example")
    assert desk.all(AuditEvent, AuditEvent.action == "approval_refused")

    desk.answer(decision_reply(desk, "批准", 2, n=2))
    (sent,) = platform_replies(sink)
    assert text_of(sent).replace("\r\n", "\n").strip() == DRAFT


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_change_requests_and_rejections_go_back_to_the_advisors(
        loop: tuple[Desk, SmtpSink]) -> None:
    """GIVEN v1 WHEN the decision-maker answers with other text THEN v1 is ``changes``, the text
    reaches the advisors and the case is drafting; GIVEN v2 with the change WHEN it is rejected
    with a reason THEN v2 is rejected and the advisors get the reason; GIVEN v3 WHEN approved
    THEN it is sent and the approval is not first pass."""
    desk, sink = loop
    desk.answer(advisor_reply(desk, "Version one.", n=1))
    desk.answer(decision_reply(desk, "第二段请写得更短一些，并注明快递单号。", 1))
    assert desk.one(Draft).state == "changes"  # type: ignore[union-attr]
    assert desk.case().state == "drafting"
    asked = [m for m in mails_to(sink, "anna@advisor.example")
             if m["X-Maild-Kind"] == "changes_requested"]
    assert asked and "注明快递单号" in text_of(asked[0])

    desk.answer(advisor_reply(desk, "Version two.", n=2))
    desk.answer(decision_reply(desk, "拒绝：不要承诺周五送达", 2))
    second = desk.one(Draft, Draft.version == 2)
    assert second.state == "rejected"  # type: ignore[union-attr]
    (rejection,) = desk.all(Decision, Decision.decision == "rejected")
    assert rejection.reason == "不要承诺周五送达"
    assert any(m["X-Maild-Kind"] == "rejected" and "不要承诺周五送达" in text_of(m)
               for m in mails_to(sink, "anna@advisor.example"))

    desk.answer(advisor_reply(desk, DRAFT, n=3))
    desk.answer(decision_reply(desk, "同意", 3))
    assert len(platform_replies(sink)) == 1
    (approval,) = desk.all(Decision, Decision.decision == "approved")
    assert approval.first_pass is False


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_note_goes_to_the_client_and_is_no_draft(loop: tuple[Desk, SmtpSink]) -> None:
    """GIVEN a case WHEN an advisor answers with ``备注: …`` THEN it is a note passed on to the
    client's people and the decision-maker; no draft, the SLA clock keeps running."""
    desk, sink = loop
    desk.answer(advisor_reply(desk, "备注: 我们已联系物流公司，明天给您更新。", client="gmail_zh"))
    assert not desk.all(Draft)
    (note,) = desk.all(Comment)
    assert (note.kind, note.body) == ("note", "我们已联系物流公司，明天给您更新。")
    for who in ("ops@acme.example", "li.wei@acme.example"):
        assert any("我们已联系物流公司" in text_of(m) for m in mails_to(sink, who)), who
    assert desk.one(Clock, Clock.kind == "sla").stopped_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_draft_that_would_get_the_seller_penalised_is_blocked_with_the_reason(
        loop: tuple[Desk, SmtpSink]) -> None:
    """GIVEN an Amazon buyer message WHEN the advisor's draft holds an external link THEN the
    draft is blocked, the advisors are told why, and the decision-maker gets nothing."""
    desk, sink = loop
    desk.answer(advisor_reply(desk, "Track it at https://track.example-carrier.com/123 please."))
    draft = desk.one(Draft)
    assert draft.state == "blocked" and draft.blocked_by  # type: ignore[union-attr]
    assert not mails_to(sink, "li.wei@acme.example")
    told = [m for m in mails_to(sink, "anna@advisor.example") if m["X-Maild-Kind"] == "blocked"]
    assert told and "link" in text_of(told[0]).lower()
    # No draft the platform could get: the SLA clock (first draft) runs on.
    assert desk.one(Clock, Clock.kind == "sla").stopped_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_waiting_decision_is_chased_once_each_and_the_chase_stops_when_it_comes(
        loop: tuple[Desk, SmtpSink]) -> None:
    """GIVEN v1 waiting for the decision-maker WHEN 24 hours pass THEN the decision-maker gets
    one reminder (answerable: it carries the v1 token), however often the timers run; WHEN 48
    hours pass THEN the advisors get one escalation; WHEN v2 comes and is approved THEN the v2
    timers are cancelled and nothing more is sent."""
    desk, sink = loop
    desk.answer(advisor_reply(desk, DRAFT))
    ticket = desk.case().ticket
    desk.now += timedelta(hours=23)
    desk.work()
    assert not [m for m in mails_to(sink, "li.wei@acme.example")
                if m["X-Maild-Kind"] == "approval_reminder"]
    desk.now += timedelta(hours=1, minutes=1)
    desk.work()
    desk.work()
    reminders = [m for m in mails_to(sink, "li.wei@acme.example")
                 if m["X-Maild-Kind"] == "approval_reminder"]
    assert len(reminders) == 1 and reminders[0]["Reply-To"] == desk.address(ticket, "v1")
    desk.now += timedelta(hours=24)
    desk.work()
    escalations = [m for m in mails_to(sink, "anna@advisor.example")
                   if m["X-Maild-Kind"] == "approval_escalation"]
    assert len(escalations) == 1

    desk.answer(advisor_reply(desk, DRAFT + "\n\nP.S.", n=2))
    desk.answer(decision_reply(desk, "同意", 2))
    pending = desk.all(Timer, Timer.clock == "approval", Timer.stage == "scheduled")
    assert pending == []
    count = len(sink.received)
    desk.now += timedelta(days=5)
    desk.work()
    assert len(sink.received) == count


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_with_an_authserv_id_only_the_receiving_servers_verdict_counts(
        desk: Desk, smtp_sink: SmtpSink) -> None:
    """GIVEN ``[maild] authserv_id = "mx.advisor.example"`` WHEN an advisor's answer carries no
    Authentication-Results of that server (only one the sender wrote, claiming pass) THEN it is
    refused; WHEN our server's header says pass THEN it becomes a draft."""
    checked = Desk(replace(desk.config, authserv_id="mx.advisor.example"), desk.sessions,
                   smtp_sink)
    checked.notice(buyer_message())
    forged = ("Authentication-Results", "mx.evil.example; dkim=pass header.d=advisor.example")
    checked.answer(advisor_reply(checked, DRAFT, trace=(forged,), n=1))
    assert not checked.all(Draft)
    (refused,) = checked.all(AuditEvent, AuditEvent.action == "reply_refused")
    assert "no Authentication-Results from mx.advisor.example" in refused.detail
    ours = ("Authentication-Results",
            "mx.advisor.example; dkim=pass header.d=advisor.example; spf=pass; dmarc=pass")
    checked.answer(advisor_reply(checked, DRAFT, trace=(ours, forged), n=2))
    assert [d.version for d in checked.all(Draft)] == [1]
