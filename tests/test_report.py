"""The monthly communication-effectiveness report (issue 13): every figure of a constructed
month, exactly; the same numbers in CSV, JSON and HTML; the HTML as headless Chromium draws it
at a mail client's width; the mail with its charts; the monthly run; ``maild report``.

The constructed month is February 2026 for a client in Shanghai with an expedited SLA (4
service hours, 09:00-21:00 on China's business days): Spring Festival closes 15-23 February,
and Saturday 14 and 28 February are make-up working days. January 2026 is the month before.
Rows are written through the real models with the moments chosen; the SLA due moments come
from the real business calendar (:func:`maild.routing.calendar.sla_due`).
"""

from __future__ import annotations

import base64
import csv
import email
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.audit import event_hash
from maild.config import Config, load_config
from maild.db import make_engine, session_factory, upgrade
from maild.models import (
    AuditEvent,
    Case,
    Clock,
    Decision,
    Draft,
    Message,
    Notice,
    Outbound,
    ReportRun,
    Timer,
)
from maild.outbound.send_step import SendStep
from maild.report import Month, MonthlyReport, Scope, monthly_report, report_from, triage_of
from maild.report_facts import load_facts
from maild.report_render import (
    figures_json,
    flatten,
    html_file,
    render_csv,
    render_json,
    render_text,
    report_json,
)
from maild.report_step import ReportAlreadySent, ReportStep, queue_report, send_report
from maild.routing.calendar import sla_due
from maild.routing.triage import load_rules
from maild.stages import StepRunner
from tests.support import SmtpSink, maild_command, run_maild

SHANGHAI = ZoneInfo("Asia/Shanghai")
FEB, JAN = Month(2026, 2), Month(2026, 1)
AFTER = datetime(2026, 3, 5, tzinfo=UTC)  # the report is made after the month ended
REPO = Path(__file__).resolve().parents[1]

CONFIG = """
[maild]
database = "{database}"
archive_dir = "{root}/archive"
secret_env = "MAILD_TEST_REPORT_SECRET"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "plain"
from = "Advisor Desk <desk@advisor.example>"
reply_address = "desk+{{token}}@advisor.example"
operator = ["ops@advisor.example"]

[[client]]
id = "acme"
name = "Acme Lighting"
languages = ["zh", "en"]
timezone = "Asia/Shanghai"
calendar = "CN"
hours = "09:00-21:00"
sla = "expedited"
decision_maker = "Li Wei <li.wei@acme.example>"
summary_to = ["ops@acme.example", "li.wei@acme.example"]
advisors = ["anna@advisor.example"]

[client.triage.priorities]
claim_dispute = "P1"

[[client.store]]
platform = "amazon"
name = "AcmeLight EU"
addresses = ["acme@inbox.advisor.example"]
sender = "amazon-eu@acme.example"

[[client.store]]
platform = "walmart"
name = "Acme US"
addresses = ["acme-us@inbox.advisor.example"]

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
"""


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock moment, in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class Builder:
    """Writes a case's rows as the pipeline would, at the moments a test chooses."""

    def __init__(self, session: Session, config: Config) -> None:
        self.session = session
        self.config = config
        self.count = 0

    def _message(self, at: datetime, case: Case, direction: str = "in") -> Message:
        self.count += 1
        row = Message(sha256=f"{self.count:064x}", size=100, message_id=f"<m{self.count}@test>",
                      origin="test", received_at=at, direction=direction, case_id=case.id,
                      stage="routed" if direction == "in" else "outgoing", attempts=0)
        self.session.add(row)
        self.session.flush()
        return row

    def case(self, ticket: str, category: str, priority: str, at: datetime, *,
             client: str = "acme", platform: str = "amazon", store: str = "AcmeLight EU",
             tier: str = "expedited", deadline: datetime | None = None) -> Case:
        """A case opened by a notice at ``at``, with its SLA clock (under ``tier``) and, with
        a ``deadline``, its platform clock."""
        case = Case(ticket=ticket, client_id=client, store_name=store, platform=platform,
                    category=category, priority=priority, state="triaged", subject_key=ticket,
                    deadline=deadline, opened_at=at, updated_at=at)
        self.session.add(case)
        self.session.flush()
        self.notice(case, category, at, deadline)
        owner = self.config.client(client)
        assert owner is not None
        self.session.add(Clock(case_id=case.id, kind="sla", started_at=at,
                               due_at=sla_due(at, replace(owner, sla=tier),
                                              self.config.sla_tiers),
                               source=f"SLA {tier}"))
        if deadline is not None:
            self.session.add(Clock(case_id=case.id, kind="platform", started_at=at,
                                   due_at=deadline, source="stated in the notice"))
        self.session.flush()
        return case

    def notice(self, case: Case, category: str, at: datetime,
               deadline: datetime | None = None) -> None:
        message = self._message(at, case)
        self.session.add(Notice(
            message_id=message.id, platform=case.platform, category=category,
            priority=load_rules().priority(category, at, deadline),  # the parser's, untriaged
            deadline=deadline, identifiers={}, language="en", action_required=True,
            subject=f"{category} notice", sent_at=at, summary_zh="", summary_en="",
            parser="test", version="1", parsed_at=at))
        self.session.flush()

    def outbound(self, case: Case, kind: str, sent: datetime | None,
                 created: datetime | None = None) -> None:
        created = created or sent
        assert created is not None
        message = self._message(created, case, "out")
        self.session.add(Outbound(kind=kind, case_id=case.id, archived_id=message.id,
                                  message_id=message.message_id, sender="desk@advisor.example",
                                  recipients=["someone@example.com"],
                                  stage="sent" if sent else "failed", attempts=1,
                                  created_at=created, sent_at=sent))
        self.session.flush()

    def draft(self, case: Case, at: datetime) -> Draft:
        """A new draft version; the first one stops the SLA clock."""
        versions = self.session.scalars(select(Draft).where(Draft.case_id == case.id)).all()
        draft = Draft(case_id=case.id, version=len(versions) + 1, author="anna@advisor.example",
                      body="Dear team, ...", attachments=[], platform_to="seller@amazon.de",
                      state="pending", created_at=at)
        self.session.add(draft)
        if not versions:
            case.first_response_at = at
            sla = self.session.scalars(select(Clock).where(Clock.case_id == case.id,
                                                           Clock.kind == "sla")).one()
            sla.stopped_at = at
        self.session.flush()
        return draft

    def decide(self, draft: Draft, decision: str, at: datetime, *,
               first_pass: bool = False) -> None:
        draft.state, draft.decided_at = decision, at
        self.session.add(Decision(draft_id=draft.id, decision=decision, by="li.wei@acme.example",
                                  via="mail", evidence="test", first_pass=first_pass, at=at))
        self.session.flush()

    def timer(self, case: Case, kind: str, clock: str, at: datetime,
              stage: str = "fired") -> None:
        self.session.add(Timer(case_id=case.id, kind=kind, clock=clock, label=f"{clock} {kind}",
                               due_at=at, stage=stage, fired_at=at, attempts=0, created_at=at))
        self.session.flush()

    def audit(self, action: str, subject: str, at: datetime, **detail: Any) -> None:
        """An audit event at ``at`` (the log stamps events with the wall clock), chained."""
        tail = self.session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq.desc())
                                    ).first() or "0" * 64
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        self.session.execute(insert(AuditEvent), [
            {"at": at, "actor": "test", "action": action, "subject": subject, "detail": text,
             "prev_hash": tail, "hash": event_hash(tail, at, "test", action, subject, text)}])

    def close(self, case: Case, at: datetime) -> None:
        case.state, case.closed_at = "closed", at
        self.session.flush()


def build_month(session: Session, config: Config) -> None:
    """January and February 2026 of Acme (cases A–H), and one case of another client."""
    b = Builder(session, config)
    # A: an IP complaint late on Friday 13 February: one service hour that evening, then the
    # make-up Saturday 14th: due 12:00 on the 14th; drafted at 11:00 (met).
    a = b.case("MD-2026-00000A", "ip_complaint", "P1", local(2026, 2, 13, 20),
               deadline=local(2026, 2, 16, 20))
    b.outbound(a, "summary:client", local(2026, 2, 13, 20, 6))
    b.decide(b.draft(a, local(2026, 2, 14, 11)), "approved", local(2026, 2, 14, 15),
             first_pass=True)
    b.outbound(a, "platform_reply", local(2026, 2, 14, 15, 30))
    b.outbound(a, "webhook:feishu", None, created=local(2026, 2, 13, 20, 1))  # never delivered
    b.timer(a, "escalation", "sla", local(2026, 2, 14, 12), stage="cancelled")
    # B: a suspension (P0) on Saturday 14 February at 20:30: half an hour, then Spring Festival:
    # due 12:30 on Tuesday 24th. Drafted on the 20th (in the holiday): met. Changes asked,
    # a follow-up notice, v2 waited 72 h for approval; the reply missed the platform deadline.
    bb = b.case("MD-2026-00000B", "suspension", "P0", local(2026, 2, 14, 20, 30),
                deadline=local(2026, 2, 24, 20, 30))
    b.outbound(bb, "summary:client", local(2026, 2, 14, 20, 36))
    b.outbound(bb, "summary:advisor", local(2026, 2, 14, 20, 40))
    b.timer(bb, "escalation", "platform", local(2026, 2, 14, 20, 30))  # P0: at once
    b.outbound(bb, "webhook:feishu", local(2026, 2, 14, 20, 31))
    b.audit("escalation", bb.ticket, local(2026, 2, 14, 20, 31), rule="suspensions",
            to=["lead@advisor.example"])
    b.decide(b.draft(bb, local(2026, 2, 20, 10, 30)), "changes", local(2026, 2, 21, 10, 30))
    b.notice(bb, "appeal_decision", local(2026, 2, 22, 9))
    b.outbound(bb, "summary:client", local(2026, 2, 22, 9, 6))  # not the first summary
    v2 = b.draft(bb, local(2026, 2, 22, 10, 30))
    b.timer(bb, "escalation", "approval", local(2026, 2, 24, 10, 30))
    b.decide(v2, "approved", local(2026, 2, 25, 10, 30))
    b.outbound(bb, "platform_reply", local(2026, 2, 25, 11))
    # C: a Walmart claim (P1 by the client's triage) on Monday 23rd, a holiday: due 13:00 on
    # the 24th; drafted at 14:00 (missed). No platform deadline.
    c = b.case("MD-2026-00000C", "claim_dispute", "P1", local(2026, 2, 23, 10),
               platform="walmart", store="Acme US")
    b.outbound(c, "summary:client", local(2026, 2, 23, 10, 6))
    b.timer(c, "escalation", "sla", local(2026, 2, 24, 13))
    b.decide(b.draft(c, local(2026, 2, 24, 14)), "approved", local(2026, 2, 24, 16),
             first_pass=True)
    b.outbound(c, "platform_reply", local(2026, 2, 24, 16, 30))
    # D: a policy warning of 30 January under the standard SLA (48 h): missed on 1 February;
    # drafted on 25 February, still waiting for approval when February ended.
    d = b.case("MD-2026-00000D", "policy_warning", "P1", local(2026, 1, 30, 10),
               tier="standard", deadline=local(2026, 3, 2, 10))
    b.outbound(d, "summary:client", local(2026, 1, 30, 10, 6))
    b.timer(d, "escalation", "sla", local(2026, 2, 1, 10))
    b.decide(b.draft(d, local(2026, 2, 25, 9)), "approved", local(2026, 3, 2, 9),
             first_pass=True)
    b.outbound(d, "platform_reply", local(2026, 3, 2, 9, 30))
    # E: a phishing suspect for a store no longer configured, closed within the hour.
    e = b.case("MD-2026-00000E", "phishing_suspect", "P1", local(2026, 2, 10, 9),
               store="AcmeLight UK", tier="standard")
    b.outbound(e, "summary:client", local(2026, 2, 10, 9, 18))
    b.close(e, local(2026, 2, 10, 10))
    # F: a P3 notice (held for the digest: no summary of its own) on Friday 27th at 22:00:
    # due 13:00 on the make-up Saturday 28th; nothing done by the month's end.
    f = b.case("MD-2026-00000F", "other", "P3", local(2026, 2, 27, 22))
    b.timer(f, "escalation", "sla", local(2026, 2, 28, 13))
    # G: a buyer message due within 48 hours: P1 by the urgent-deadline rule of triage.
    g = b.case("MD-2026-00000G", "buyer_message", "P1", local(2026, 1, 10, 10),
               tier="standard", deadline=local(2026, 1, 12, 10))
    b.outbound(g, "summary:client", local(2026, 1, 10, 10, 6))
    b.decide(b.draft(g, local(2026, 1, 10, 12)), "approved", local(2026, 1, 10, 13),
             first_pass=True)
    b.outbound(g, "platform_reply", local(2026, 1, 10, 13, 30))
    h = b.case("MD-2026-00000H", "listing_removed", "P1", local(2026, 1, 20, 10),
               platform="walmart", store="Acme US", deadline=local(2026, 1, 27, 10))
    b.outbound(h, "summary:client", local(2026, 1, 20, 10, 6))
    b.timer(h, "escalation", "sla", local(2026, 1, 20, 14))
    b.audit("escalation", h.ticket, local(2026, 1, 20, 14), timer=1, label="sla breached")
    b.decide(b.draft(h, local(2026, 1, 20, 15)), "rejected", local(2026, 1, 21, 10))
    b.decide(b.draft(h, local(2026, 1, 21, 12)), "approved", local(2026, 1, 21, 14))
    b.outbound(h, "platform_reply", local(2026, 1, 21, 14, 30))
    b.close(h, local(2026, 1, 22, 10))
    # Another client's case in the same month counts nowhere here.
    z = b.case("MD-2026-00000Z", "suspension", "P0", local(2026, 2, 10, 9), client="beta",
               store="Beta Home DE", tier="standard")
    b.timer(z, "escalation", "platform", local(2026, 2, 10, 9))
    b.audit("escalation", z.ticket, local(2026, 2, 10, 9), rule="suspensions")


def config_for(database: str, root: Path, sink: SmtpSink,
               monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("MAILD_TEST_REPORT_SECRET", "report-test-secret")
    path = root / "maild.toml"
    path.write_text(CONFIG.format(database=database, root=root, port=sink.port),
                    encoding="utf-8")
    config = load_config(path)
    upgrade(config.database)
    return config


@pytest.fixture
def desk_config(db_url: str, tmp_path: Path, smtp_sink: SmtpSink,
                monkeypatch: pytest.MonkeyPatch) -> Config:
    return config_for(db_url, tmp_path, smtp_sink, monkeypatch)


@pytest.fixture
def cli_month(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
              monkeypatch: pytest.MonkeyPatch) -> Config:
    """The constructed months on SQLite, for the command line: each command is a process of
    its own, and the figures are checked on both databases by the tests above."""
    config = config_for(sqlite_url, tmp_path, smtp_sink, monkeypatch)
    engine = make_engine(config.database)
    try:
        with session_factory(engine).begin() as session:
            build_month(session, config)
    finally:
        engine.dispose()
    return config


@pytest.fixture
def sessions(desk_config: Config) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(desk_config.database)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def month(desk_config: Config, sessions: sessionmaker[Session]) -> Config:
    """The constructed January and February, committed."""
    with sessions.begin() as session:
        build_month(session, desk_config)
    return desk_config


def acme(config: Config) -> Any:
    client = config.client("acme")
    assert client is not None
    return client


def report_of(config: Config, sessions: sessionmaker[Session], month: Month = FEB,
              now: datetime = AFTER) -> MonthlyReport:
    with sessions() as session:
        return monthly_report(session, acme(config), month, now)


def scope(report: MonthlyReport, kind: str, platform: str | None = None,
          store: str | None = None) -> Any:
    (found,) = [s for s in report.scopes if s.scope == Scope(kind, platform, store)]
    return found


def categories(**counts: int) -> dict[str, int]:
    names = ("suspension", "legal", "ip_complaint", "policy_warning", "listing_removed",
             "verification_request", "phishing_suspect", "appeal_decision", "claim_dispute",
             "buyer_message", "payment", "policy_update", "other")
    return {name: counts.get(name, 0) for name in names}


def timing(count: int, mean: float | None, p90: float | None) -> dict[str, Any]:
    return {"count": count, "mean_hours": mean, "p90_hours": p90}


FEBRUARY = {
    "notices": 6,
    "by_category": categories(ip_complaint=1, suspension=1, appeal_decision=1, claim_dispute=1,
                              phishing_suspect=1, other=1),
    "by_priority": {"P0": 1, "P1": 4, "P2": 0, "P3": 1},
    "sla": {"met": 2, "total": 5, "percent": 40.0},
    "platform_deadline": {"met": 1, "total": 2, "percent": 50.0},
    "timings": {"summary": timing(4, 0.15, 0.3), "first_draft": timing(4, 200.0, 623.0),
                "approval": timing(3, 101.0, 254.0), "sent": timing(3, 101.5, 254.5)},
    "first_pass": {"first_pass": 2, "approvals": 3, "percent": 66.7},
    "risk": {"p0_cases": 1, "escalations": 5, "phishing_suspects": 1, "rule_alerts": 1,
             "total": 8},
    "decisions": {"waited_over_48h": 1, "waiting_over_48h_at_end": 1},
    "open_at_end": 2,
    "usage": {"notices": 6, "drafts": 5, "appeals": 4, "expedited_cases": 4, "chat_alerts": 1},
}
JANUARY = {
    "notices": 3,
    "by_category": categories(buyer_message=1, listing_removed=1, policy_warning=1),
    "by_priority": {"P0": 0, "P1": 3, "P2": 0, "P3": 0},
    "sla": {"met": 1, "total": 2, "percent": 50.0},
    "platform_deadline": {"met": 2, "total": 2, "percent": 100.0},
    "timings": {"summary": timing(3, 0.1, 0.1), "first_draft": timing(2, 3.5, 5.0),
                "approval": timing(2, 15.5, 28.0), "sent": timing(2, 16.0, 28.5)},
    "first_pass": {"first_pass": 1, "approvals": 2, "percent": 50.0},
    "risk": {"p0_cases": 0, "escalations": 1, "phishing_suspects": 0, "rule_alerts": 0,
             "total": 1},
    "decisions": {"waited_over_48h": 0, "waiting_over_48h_at_end": 0},
    "open_at_end": 1,
    "usage": {"notices": 3, "drafts": 3, "appeals": 2, "expedited_cases": 1, "chat_alerts": 0},
}
AMAZON_FEBRUARY = {
    "notices": 5,
    "by_category": categories(ip_complaint=1, suspension=1, appeal_decision=1,
                              phishing_suspect=1, other=1),
    "by_priority": {"P0": 1, "P1": 3, "P2": 0, "P3": 1},
    "sla": {"met": 2, "total": 4, "percent": 50.0},
    "platform_deadline": {"met": 1, "total": 2, "percent": 50.0},
    "timings": {"summary": timing(3, 0.17, 0.3), "first_draft": timing(3, 257.33, 623.0),
                "approval": timing(2, 136.5, 254.0), "sent": timing(2, 137.0, 254.5)},
    "first_pass": {"first_pass": 1, "approvals": 2, "percent": 50.0},
    "risk": {"p0_cases": 1, "escalations": 4, "phishing_suspects": 1, "rule_alerts": 1,
             "total": 7},
    "decisions": {"waited_over_48h": 1, "waiting_over_48h_at_end": 1},
    "open_at_end": 2,
    "usage": {"notices": 5, "drafts": 4, "appeals": 4, "expedited_cases": 3, "chat_alerts": 1},
}


def test_the_clocks_of_the_month_run_on_chinas_business_calendar(
        month: Config, sessions: sessionmaker[Session]) -> None:
    """GIVEN the constructed month WHEN the SLA clocks are read THEN their due moments skip
    Spring Festival and count the make-up Saturdays: the figures below rest on them."""
    with sessions() as session:
        due = {ticket: at.astimezone(SHANGHAI).strftime("%m-%d %H:%M") for ticket, at in
               session.execute(select(Case.ticket, Clock.due_at).join(Clock)
                               .where(Clock.kind == "sla", Case.client_id == "acme"))}
    assert due["MD-2026-00000A"] == "02-14 12:00"  # Saturday 14th is a working day
    assert due["MD-2026-00000B"] == "02-24 12:30"  # half an hour, then the holiday
    assert due["MD-2026-00000C"] == "02-24 13:00"  # opened on a holiday
    assert due["MD-2026-00000F"] == "02-28 13:00"  # Saturday 28th is a working day
    assert due["MD-2026-00000D"] == "02-01 10:00"  # standard: 48 calendar hours


def test_every_figure_of_the_month_and_the_month_before(
        month: Config, sessions: sessionmaker[Session]) -> None:
    """GIVEN January and February of Acme with known moments WHEN February is reported
    THEN every figure of the whole client, for both months, is exactly as counted by hand."""
    report = report_of(month, sessions)
    assert (report.month, report.previous, report.complete) == (FEB, JAN, True)
    assert (report.start, report.end) == (local(2026, 2, 1), local(2026, 3, 1))
    assert figures_json(report.total.current) == FEBRUARY
    assert figures_json(report.total.previous) == JANUARY


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_figures_per_platform_and_per_store(month: Config,
                                            sessions: sessionmaker[Session]) -> None:
    """GIVEN the month WHEN reported THEN each platform and each store has its own figures:
    the configured stores always, a store no longer configured while it has notices."""
    report = report_of(month, sessions)
    assert [s.scope for s in report.scopes] == [
        Scope("client"), Scope("platform", "amazon"), Scope("platform", "walmart"),
        Scope("store", "amazon", "AcmeLight EU"), Scope("store", "walmart", "Acme US"),
        Scope("store", "amazon", "AcmeLight UK")]
    assert figures_json(scope(report, "platform", "amazon").current) == AMAZON_FEBRUARY
    walmart = scope(report, "platform", "walmart")
    assert figures_json(walmart.current)["sla"] == {"met": 0, "total": 1, "percent": 0.0}
    assert figures_json(walmart.current)["platform_deadline"] == {
        "met": 0, "total": 0, "percent": None}
    assert walmart.current.timings["first_draft"].mean_hours == 28.0
    assert (walmart.current.first_pass.percent, walmart.previous.first_pass.percent) == (
        100.0, 0.0)
    assert walmart.current.risk.total == 1 and walmart.previous.usage.appeals == 2
    eu = scope(report, "store", "amazon", "AcmeLight EU")
    assert (eu.current.notices, eu.previous.notices, eu.current.open_at_end) == (4, 2, 2)
    uk = scope(report, "store", "amazon", "AcmeLight UK")
    assert (uk.current.notices, uk.current.risk.phishing_suspects, uk.current.sla.total) == (
        1, 1, 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_open_cases_daily_counts_and_trend(month: Config,
                                           sessions: sessionmaker[Session]) -> None:
    """GIVEN the month WHEN reported THEN the cases open at its end are listed with their due
    moments (the nearest first), notices are counted per local day, and six months of
    attainment feed the chart. D's first draft came, so only its platform deadline is
    pending."""
    report = report_of(month, sessions)
    assert [(o.ticket, o.platform_due, o.sla_due) for o in report.open_cases] == [
        ("MD-2026-00000F", None, local(2026, 2, 28, 13)),
        ("MD-2026-00000D", local(2026, 3, 2, 10), None)]
    daily = dict.fromkeys(range(1, 29), 0) | {10: 1, 13: 1, 14: 1, 22: 1, 23: 1, 27: 1}
    assert report.daily_notices == tuple(daily.values())
    assert [(str(p.month), p.sla.hit, p.sla.total, p.platform_deadline.hit,
             p.platform_deadline.total) for p in report.trend] == [
        ("2025-09", 0, 0, 0, 0), ("2025-10", 0, 0, 0, 0), ("2025-11", 0, 0, 0, 0),
        ("2025-12", 0, 0, 0, 0), ("2026-01", 1, 2, 2, 2), ("2026-02", 2, 5, 1, 2)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_past_month_reads_the_same_later_and_a_running_month_counts_so_far(
        month: Config, sessions: sessionmaker[Session]) -> None:
    """GIVEN the month WHEN January is reported on its own, and again from facts read up to
    the end of February, THEN both equal February's "month before"; WHEN February is reported
    on the 20th THEN it says so and counts only what was decided by then."""
    february = report_of(month, sessions)
    january = report_of(month, sessions, JAN)
    with sessions() as session:
        facts = load_facts(session, "acme", triage_of(acme(month)), FEB.end(SHANGHAI))
    again = report_from(facts, acme(month), JAN, AFTER)
    assert january.total.current == again.total.current == february.total.previous
    running = report_of(month, sessions, now=local(2026, 2, 20, 12))
    assert not running.complete
    assert (running.total.current.sla.hit, running.total.current.sla.total) == (2, 3)
    assert running.total.current.notices == 3  # E, A and B; the rest came later


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_csv_and_json_carry_the_same_numbers(month: Config,
                                             sessions: sessionmaker[Session]) -> None:
    """GIVEN the report WHEN written as CSV and JSON THEN each CSV row is a figure of a scope
    with this month's and last month's values exactly as in the JSON, and nothing is left
    out."""
    report = report_of(month, sessions)
    data = json.loads(render_json(report))
    assert data == json.loads(json.dumps(report_json(report)))
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    expected = []
    for s in data["scopes"]:
        current = dict(flatten(s["current"]))
        for metric, value in flatten(s["previous"]):
            expected.append((s["scope"], s["platform"] or "", s["store"] or "", metric,
                             current[metric], value))
    assert len(rows) == len(expected) == 6 * len(dict(flatten(FEBRUARY)))
    for row, (kind, platform, store, metric, current, previous) in zip(rows, expected,
                                                                       strict=True):
        assert (row["client"], row["month"], row["previous_month"]) == (
            "acme", "2026-02", "2026-01")
        assert (row["scope"], row["platform"], row["store"], row["metric"]) == (
            kind, platform, store, metric)
        assert json.loads(row["current"] or "null") == current
        assert json.loads(row["previous"] or "null") == previous
    client_rows = {r["metric"]: r for r in rows if r["scope"] == "client"}
    assert {m: json.loads(r["current"] or "null") for m, r in client_rows.items()} == dict(
        flatten(FEBRUARY))
    assert {m: json.loads(r["previous"] or "null") for m, r in client_rows.items()} == dict(
        flatten(JANUARY))
    assert client_rows["sla.percent"]["current"] == "40.0"
    assert [(o["ticket"], o["platform_due"], o["sla_due"]) for o in data["open_cases"]] == [
        ("MD-2026-00000F", None, "2026-02-28T05:00:00+00:00"),
        ("MD-2026-00000D", "2026-03-02T02:00:00+00:00", None)]



@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_text_says_a_month_runs_on_and_lists_the_nearest_open_cases_only(
        month: Config, sessions: sessionmaker[Session]) -> None:
    """GIVEN February reported on the 20th WHEN written as text THEN it says, in Chinese and
    in English, that the month is not over; GIVEN more open cases than a mail lists THEN the
    nearest are listed and the rest counted."""
    running = report_of(month, sessions, now=local(2026, 2, 20, 12))
    text = render_text(running)
    assert "本月尚未结束：数据截至 2026-02-20 12:00。" in text
    assert "The month is not over: figures up to 2026-02-20 12:00." in text
    crowded = replace(report_of(month, sessions),
                      open_cases=report_of(month, sessions).open_cases * 13)
    text = render_text(crowded)
    assert text.count("MD-2026-00000F") == 13 and text.count("MD-2026-00000D") == 12
    assert "… and 1 more: the JSON version of this report lists them all." in text
    assert "……另有 1 个：本报告的 JSON 版本列出全部案例。" in text
    assert "另有" in html_file(crowded)


# --------------------------------------------------------------------------- Chromium


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium not found (Debian: apt-get install chromium): the HTML "
                "report is checked as a browser draws it")


PROBE = """<script>
window.addEventListener("load", function () {
  var width = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var box = e.getBoundingClientRect();
    if (box.right > width + 0.5) { wide.push(e.tagName + " " + e.textContent.slice(0, 40)); }
  });
  var images = Array.prototype.map.call(document.images, function (i) {
    return [i.complete, i.naturalWidth, i.getBoundingClientRect().width];
  });
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({width: width, scroll: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight, wide: wide, images: images,
    tables: document.querySelectorAll("table").length, text: document.body.innerText});
  document.body.appendChild(out);
});
</script>"""


def browse(html: str, folder: Path, width: int = 600) -> dict[str, Any]:
    """What Chromium finds when it lays ``html`` out in a window ``width`` pixels wide."""
    page = folder / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={folder / 'chromium'}", f"--window-size={width},900",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    start = done.stdout.index('<pre id="probe">') + len('<pre id="probe">')
    found: dict[str, Any] = json.loads(unescape(done.stdout[start:done.stdout.index("</pre>",
                                                                                     start)]))
    return found


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


def screenshot(html: str, folder: Path, width: int, height: int) -> Path:
    page, shot = folder / "page.html", folder / "page.png"
    page.write_text(html, encoding="utf-8")
    subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--force-device-scale-factor=1", f"--user-data-dir={folder / 'chromium'}",
         f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True)
    return shot


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_html_report_fits_a_mail_client_in_chromium(
        month: Config, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """GIVEN February's report as an HTML file WHEN headless Chromium lays it out 600 px wide
    THEN nothing is wider than the window, its three charts load and fit, its tables and
    figures are there in Chinese and English; and a screenshot of the whole page shows it
    (``MAILD_REPORT_EXAMPLE=docs/report-example.png`` keeps a copy)."""
    from PIL import Image

    html = html_file(report_of(month, sessions))
    found = browse(html, tmp_path)
    assert found["wide"] == [] and found["scroll"] <= found["width"] == 600
    assert len(found["images"]) == 3
    for complete, natural, shown in found["images"]:
        assert complete and natural == 1120 and 0 < shown <= 600
    assert found["tables"] >= 8
    for text in ("月度沟通成效报告", "Monthly communication report", "40.0% (2/5)",
                 "66.7% (2/3)", "200.0 h", "MD-2026-00000D", "AcmeLight UK", "沃尔玛",
                 "SLA 达成率（初稿按时）", "SLA attainment (first draft on time)"):
        assert text in found["text"], text
    shot = screenshot(html, tmp_path, 600, found["height"])
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (600, found["height"])
        edge = {pixels.getpixel((x, y)) for x in range(592, 600)
                for y in range(0, pixels.size[1], 4)}
        assert edge == {(255, 255, 255)}, "something reaches the right edge"
        assert len(pixels.getcolors(1 << 20) or ()) > 50, "the page looks empty"
    if keep := os.environ.get("MAILD_REPORT_EXAMPLE"):
        shutil.copyfile(shot, REPO / keep)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_mail_carries_the_charts_as_related_parts_and_the_numbers_attached(
        month: Config, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """GIVEN the month WHEN its report is queued THEN one outbound ``report`` goes to the
    decision-maker and the summary recipients (each once); its HTML names its charts by cid:
    and each is a PNG part of multipart/related (Chromium draws them once they are put in
    place), a text part says the same, and the CSV and JSON are attached unchanged."""
    with sessions.begin() as session:
        row = queue_report(session, RawStore(month.archive_dir), month, acme(month), FEB,
                           AFTER)
        row_id = row.id
    with sessions() as session:
        row = session.get_one(Outbound, row_id)
        assert (row.kind, row.stage, row.case_id) == ("report", "queued", None)
        assert row.recipients == ["li.wei@acme.example", "ops@acme.example"]
        raw = RawStore(month.archive_dir).get(row.archived.sha256)
    mail = email.message_from_bytes(raw, policy=default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"] == "[月度报告] Acme Lighting 2026-02"
    assert mail["X-Maild-Report"] == "acme 2026-02" and mail["Auto-Submitted"]
    assert max(map(len, raw.split(b"\r\n"))) <= 998
    structure = [part.get_content_type() for part in mail.walk()]
    assert structure == ["multipart/mixed", "multipart/alternative", "text/plain",
                         "multipart/related", "text/html", "image/png", "image/png",
                         "image/png", "text/csv", "application/json"]
    report = report_of(month, sessions)
    files = {p.get_filename(): p.get_payload(decode=True) for p in mail.iter_attachments()}
    assert files == {"report-acme-2026-02.csv": render_csv(report).encode(),
                     "report-acme-2026-02.json": render_json(report).encode()}
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_content()
    assert "SLA 达成率（初稿按时） / SLA attainment (first draft on time): 40.0% (2/5)" in text
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_content()
    for part in mail.walk():
        if part.get_content_type() == "image/png":
            cid = part["Content-ID"].strip("<>")
            assert f'src="cid:{cid}"' in html
            html = html.replace(f"cid:{cid}", "data:image/png;base64,"
                                + base64.b64encode(part.get_content()).decode())
    assert "cid:" not in html
    found = browse(html, tmp_path)
    assert [natural for _complete, natural, _shown in found["images"]] == [1120] * 3
    assert found["wide"] == []


# --------------------------------------------------------------------------- monthly run


def test_the_monthly_run_queues_each_clients_report_once_on_the_first(
        month: Config, sessions: sessionmaker[Session], smtp_sink: SmtpSink) -> None:
    """GIVEN the report step built on 20 February WHEN its clock reaches 08:00 on 1 March in
    each client's zone THEN each client's February report is queued once (Shanghai first,
    Berlin seven hours later), March's run is planned, and the send step delivers it; an
    ended month sent by hand is not sent again unless asked, a running month sent by hand is
    still sent when it ends."""
    store = RawStore(month.archive_dir)
    now = [local(2026, 2, 20, 12)]
    step = ReportStep(month, store, sessions, clock=lambda: now[0])
    runner = StepRunner(step, sessions, clock=lambda: now[0])
    assert runner.drain() == 0
    now[0] = local(2026, 3, 1, 7, 59)
    assert runner.drain() == 0
    now[0] = local(2026, 3, 1, 8)
    assert runner.drain() == 1 and runner.drain() == 0
    berlin = datetime(2026, 3, 1, 8, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    april = datetime(2026, 4, 1, 8, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    now[0] = berlin
    assert runner.drain() == 1
    with sessions() as session:
        runs = {(r.client_id, r.month): (r.stage, r.due_at, r.outbound_id is not None)
                for r in session.scalars(select(ReportRun))}
        reports = session.scalars(select(Outbound).where(Outbound.kind == "report")).all()
    assert runs == {("acme", "2026-02"): ("fired", local(2026, 3, 1, 8), True),
                    ("beta", "2026-02"): ("fired", berlin, True),
                    ("acme", "2026-03"): ("scheduled", local(2026, 4, 1, 8), False),
                    ("beta", "2026-03"): ("scheduled", april, False)}
    assert sorted(tuple(r.recipients) for r in reports) == [
        ("boss@beta.example", "team@beta.example"),
        ("li.wei@acme.example", "ops@acme.example")]
    StepRunner(SendStep(month, store, sessions, clock=lambda: now[0]), sessions,
               clock=lambda: now[0], owner="test").drain()
    delivered = {tuple(m.rcpt_tos): email.message_from_bytes(m.content, policy=default)
                 for m in smtp_sink.received}
    assert delivered[("li.wei@acme.example", "ops@acme.example")]["Subject"] == (
        "[月度报告] Acme Lighting 2026-02")
    assert delivered[("boss@beta.example", "team@beta.example")]["Subject"] == (
        "[Monthly report] Beta Home 2026-02")
    with sessions.begin() as session, pytest.raises(ReportAlreadySent):
        send_report(session, store, month, acme(month), FEB, now[0])
    with sessions.begin() as session:
        send_report(session, store, month, acme(month), FEB, now[0], again=True)
        send_report(session, store, month, acme(month), Month(2026, 3), now[0])  # so far
    with sessions() as session:
        assert len(session.scalars(select(Outbound).where(Outbound.kind == "report")).all()) == 4
    now[0] = april
    assert runner.drain() == 2  # March's final reports, acme's sent so far by hand included


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_report_that_cannot_go_out_keeps_its_error_and_the_next_month_is_planned(
        month: Config, sessions: sessionmaker[Session]) -> None:
    """GIVEN one message per recipient and hour allowed, and January's report sent by hand at
    07:30 on 1 March WHEN February's run comes due at 08:00 THEN its row fails with the rate
    limit's error (nothing queued), March's run is planned all the same, and ``send_report``
    sends February once the hour has passed."""
    assert month.smtp is not None
    limited = replace(month, smtp=replace(month.smtp, rate_limit_per_hour=1))
    store = RawStore(month.archive_dir)
    now = [local(2026, 2, 20, 12)]
    runner = StepRunner(ReportStep(limited, store, sessions, clock=lambda: now[0]), sessions,
                        clock=lambda: now[0])
    now[0] = local(2026, 3, 1, 7, 30)
    with sessions.begin() as session:
        send_report(session, store, limited, acme(month), JAN, now[0])
    now[0] = local(2026, 3, 1, 8)
    assert runner.drain() == 1
    with sessions() as session:
        runs = {r.month: r for r in session.scalars(select(ReportRun)
                                                    .where(ReportRun.client_id == "acme"))}
    assert runs["2026-02"].stage == "failed" and runs["2026-02"].outbound_id is None
    assert "RateLimited" in (runs["2026-02"].error or "")
    assert runs["2026-03"].stage == "scheduled"
    now[0] = local(2026, 3, 1, 9, 31)
    with sessions.begin() as session:
        sent = send_report(session, store, limited, acme(month), FEB, now[0])
        assert session.scalars(select(ReportRun).where(
            ReportRun.client_id == "acme", ReportRun.month == "2026-02")).one().outbound_id \
            == sent.id


# --------------------------------------------------------------------------- maild report


def invoke(config: Config, *args: str) -> subprocess.CompletedProcess[str]:
    assert config.path is not None
    return run_maild(["--config", config.path, "report", *args],
                     {"MAILD_TEST_REPORT_SECRET": "report-test-secret"}, timeout=120)


@pytest.mark.slow
def test_maild_report_writes_one_month_or_a_span_with_a_line_per_month(
        cli_month: Config, tmp_path: Path) -> None:
    """GIVEN the month WHEN ``maild report`` prints February as JSON THEN it is the report's
    JSON; WHEN it writes December to February as CSV into a folder (not on a terminal) THEN
    one file per month and one plain line per month on stderr."""
    result = invoke(cli_month, "--client", "acme", "--month", "2026-02", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scopes"][0]["current"] == FEBRUARY
    out = tmp_path / "reports"
    result = invoke(cli_month, "--client", "acme", "--from", "2025-12", "--to", "2026-02",
                    "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "report-acme-2025-12.csv", "report-acme-2026-01.csv", "report-acme-2026-02.csv"]
    assert result.stderr.splitlines() == [
        f"maild report: acme {m}: written to {out / f'report-acme-{m}.csv'}"
        for m in ("2025-12", "2026-01", "2026-02")]
    engine = make_engine(cli_month.database)
    try:
        expected = render_csv(report_of(cli_month, session_factory(engine))).encode()
    finally:
        engine.dispose()
    assert (out / "report-acme-2026-02.csv").read_bytes() == expected
    html = tmp_path / "feb.html"
    assert invoke(cli_month, "--client", "acme", "--month", "2026-02", "--out",
                  str(html)).returncode == 0
    assert html.read_text(encoding="utf-8").count("data:image/png;base64,") == 3


@pytest.mark.slow
def test_maild_report_send_queues_once_and_refuses_bad_usage(cli_month: Config) -> None:
    """GIVEN the month WHEN ``maild report --send`` runs twice THEN the second is refused
    (exit 1) until ``--again``; an unknown client or a span without --out is bad usage
    (exit 2)."""
    first = invoke(cli_month, "--client", "acme", "--month", "2026-02", "--send")
    assert first.returncode == 0, first.stderr
    assert "queued as outbound" in first.stderr and "li.wei@acme.example" in first.stderr
    assert first.stdout == ""
    second = invoke(cli_month, "--client", "acme", "--month", "2026-02", "--send")
    assert second.returncode == 1 and "--again" in second.stderr
    assert invoke(cli_month, "--client", "acme", "--month", "2026-02", "--send",
                  "--again").returncode == 0
    assert invoke(cli_month, "--client", "nobody").returncode == 2
    assert invoke(cli_month, "--client", "acme", "--from", "2026-01", "--to",
                  "2026-02").returncode == 2
    assert invoke(cli_month, "--client", "acme", "--month", "2026-13").returncode == 2


@pytest.mark.slow
def test_maild_report_shows_a_progress_bar_on_a_terminal(cli_month: Config,
                                                         tmp_path: Path) -> None:
    """GIVEN a terminal WHEN ``maild report`` writes a year THEN stderr shows a progress bar
    and one line when it is done (not a line per month)."""
    import pty

    assert cli_month.path is not None
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            maild_command(["--config", cli_month.path, "report", "--client", "acme", "--from",
                           "2025-03", "--to", "2026-02", "--format", "json", "--out",
                           tmp_path / "year"]),
            stderr=follower, stdout=subprocess.PIPE, timeout=300, check=True,
            env={**os.environ, "MAILD_TEST_REPORT_SECRET": "report-test-secret"})
        os.close(follower)
        follower = -1
        shown = b""
        while chunk := _read(leader):
            shown += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.stdout == b""
    assert b"report acme" in shown and b"2026-02" in shown
    assert b"maild report: acme 2025-03:" not in shown  # no line per month
    assert f"acme 2025-03..2026-02: 12 months done into {tmp_path / 'year'}".encode() in shown
    assert len(list((tmp_path / "year").iterdir())) == 12


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal closed
        return b""


# --------------------------------------------------------------------------- the real pipeline


def test_the_report_reads_what_the_pipeline_wrote(db_url: str, tmp_path: Path,
                                                   smtp_sink: SmtpSink,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a buyer's message worked by the daemon's own steps with a settable clock: routed
    and summarised at 09:00, answered by the advisor an hour later, approved by the
    decision-maker two hours after that and sent at once WHEN March is reported THEN the
    report counts that notice, its summary, draft, approval and reply at those moments, the
    SLA met, the approval first pass and nothing left open."""
    from tests.outbound.test_reply_path import (
        DRAFT,
        advisor_reply,
        buyer_message,
        decision_reply,
        open_desk,
    )

    with open_desk(db_url, tmp_path, smtp_sink, monkeypatch) as desk:
        desk.notice(buyer_message())
        desk.now += timedelta(hours=1)
        desk.answer(advisor_reply(desk, DRAFT))
        desk.now += timedelta(hours=2)
        desk.answer(decision_reply(desk, "同意", 1))
        client = desk.config.client("acme")
        assert client is not None
        with desk.sessions() as session:
            report = monthly_report(session, client, Month(2026, 3), AFTER.replace(month=4))
    f = figures_json(report.total.current)
    assert (f["notices"], f["by_category"]["buyer_message"], f["by_priority"]["P2"]) == (1, 1, 1)
    assert f["timings"] == {"summary": timing(1, 0.0, 0.0), "first_draft": timing(1, 1.0, 1.0),
                            "approval": timing(1, 3.0, 3.0), "sent": timing(1, 3.0, 3.0)}
    assert f["sla"] == {"met": 1, "total": 1, "percent": 100.0}
    assert f["platform_deadline"] == {"met": 1, "total": 1, "percent": 100.0}
    assert f["first_pass"] == {"first_pass": 1, "approvals": 1, "percent": 100.0}
    assert (f["open_at_end"], f["usage"]["drafts"], f["usage"]["appeals"]) == (0, 1, 0)
