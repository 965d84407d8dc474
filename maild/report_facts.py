"""What the monthly report reads from the database: one client's cases and the moments that
matter for them, as plain frozen records (no ORM objects leave this module).

Everything is read once per client and up to a moment (`until`), so a report over a year
reads the database once and `maild.report` does the arithmetic for each month in memory.
A case's moments (DESIGN §2, the way of a notice):

- *notice*: its first platform notice archived (``Message.received_at``); a case with no
  notice of its own (an announcement filed for a second client) counts from its opening;
- *summary*: its first summary (``Outbound`` kind ``summary:*``) the server took (``sent_at``);
  a P3 notice that waited for the daily digest has none (the digest names no single case);
- *first draft*: its first draft version (``Draft.created_at``, else ``first_response_at``);
- *approval*: the decision-maker's first approval (``Decision`` ``approved``);
- *sent*: its first platform reply the platform's server took (``platform_reply`` sent).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, ScalarSelect, func, select
from sqlalchemy.orm import Session

from maild.models import AuditEvent, Case, Clock, Decision, Draft, Message, Notice, Outbound, Timer
from maild.outbound.approvals import PLATFORM_REPLY
from maild.routing.triage import TriageRules


@dataclass(frozen=True)
class ClockFacts:
    """One clock of a case as it stands (the SLA clock's ``source`` names its tier then)."""

    due_at: datetime
    started_at: datetime
    stopped_at: datetime | None
    source: str


@dataclass(frozen=True)
class CaseFacts:
    """One case of the client and its moments; ``replies`` are the platform replies sent."""

    id: int
    ticket: str
    platform: str
    marketplace: str | None
    store: str | None
    category: str
    priority: str
    opened_at: datetime
    closed_at: datetime | None
    notice_at: datetime
    notices: tuple[datetime, ...]
    summary_at: datetime | None
    first_draft_at: datetime | None
    approval_at: datetime | None
    replies: tuple[datetime, ...]
    sla: ClockFacts | None
    platform_clock: ClockFacts | None

    @property
    def sent_at(self) -> datetime | None:
        return self.replies[0] if self.replies else None


@dataclass(frozen=True)
class NoticeFacts:
    """One platform notice of the client: its category and the priority triage gave it."""

    case_id: int
    received_at: datetime
    category: str
    priority: str


@dataclass(frozen=True)
class DraftFacts:
    """One draft version, when the next version of its case replaced it, and its decisions."""

    case_id: int
    created_at: datetime
    blocked: bool
    replaced_at: datetime | None
    decisions: tuple[DecisionFacts, ...]


@dataclass(frozen=True)
class DecisionFacts:
    at: datetime
    decision: str
    first_pass: bool


@dataclass(frozen=True)
class Facts:
    """Everything the report of one client needs, up to ``until``."""

    cases: Mapping[int, CaseFacts]
    notices: tuple[NoticeFacts, ...]
    drafts: tuple[DraftFacts, ...]
    escalations: tuple[tuple[int, datetime], ...]  # (case, fired) of escalation timers
    rule_alerts: tuple[tuple[int, datetime], ...]  # (case, at) of escalation-rule events
    chat_alerts: tuple[tuple[int, datetime], ...]  # (case, sent) of webhook cards


def load_facts(session: Session, client_id: str, triage: TriageRules,
               until: datetime) -> Facts:
    """Read the facts of ``client_id``'s cases up to ``until`` (exclusive). ``triage`` is the
    client's table: a notice's priority is what the route step gave it from the same fields."""
    mine = select(Case.id).where(Case.client_id == client_id).scalar_subquery()
    notices = _notices(session, mine, triage, until)
    by_case: dict[int, list[datetime]] = defaultdict(list)
    for notice in notices:
        by_case[notice.case_id].append(notice.received_at)
    drafts = _drafts(session, mine, until)
    first_drafts = _first(session, select(Draft.case_id, func.min(Draft.created_at))
                          .where(Draft.case_id.in_(mine), Draft.created_at < until)
                          .group_by(Draft.case_id))
    approvals = _first(session, select(Draft.case_id, func.min(Decision.at))
                       .select_from(Decision).join(Draft, Decision.draft_id == Draft.id)
                       .where(Draft.case_id.in_(mine), Decision.decision == "approved",
                              Decision.at < until).group_by(Draft.case_id))
    summaries = _first(session, select(Outbound.case_id, func.min(Outbound.sent_at))
                       .where(Outbound.case_id.in_(mine), Outbound.kind.like("summary:%"),
                              Outbound.sent_at < until).group_by(Outbound.case_id))
    replies = _moments(session, select(Outbound.case_id, Outbound.sent_at)
                       .where(Outbound.case_id.in_(mine), Outbound.kind == PLATFORM_REPLY,
                              Outbound.sent_at < until))
    clocks: dict[tuple[int, str], ClockFacts] = {
        (row.case_id, row.kind): ClockFacts(row.due_at, row.started_at, row.stopped_at,
                                            row.source)
        for row in session.scalars(select(Clock).where(Clock.case_id.in_(mine)))}
    cases = {}
    # Every case of the client: one routed just after ``until`` may hold a notice archived
    # before it (its moments after ``until`` are not read).
    for case in session.scalars(select(Case).where(Case.client_id == client_id)):
        own = tuple(sorted(by_case.get(case.id, ())))
        cases[case.id] = CaseFacts(
            id=case.id, ticket=case.ticket, platform=case.platform,
            marketplace=case.marketplace, store=case.store_name, category=case.category,
            priority=case.priority, opened_at=case.opened_at,
            closed_at=case.closed_at if case.closed_at and case.closed_at < until else None,
            notice_at=own[0] if own else case.opened_at, notices=own,
            summary_at=summaries.get(case.id),
            first_draft_at=first_drafts.get(case.id) or _before(case.first_response_at, until),
            approval_at=approvals.get(case.id), replies=tuple(sorted(replies.get(case.id, ()))),
            sla=clocks.get((case.id, "sla")), platform_clock=clocks.get((case.id, "platform")))
    return Facts(
        cases=cases, notices=tuple(n for n in notices if n.case_id in cases),
        drafts=tuple(d for d in drafts if d.case_id in cases),
        escalations=_pairs(session, select(Timer.case_id, Timer.fired_at).where(
            Timer.case_id.in_(mine), Timer.kind == "escalation", Timer.stage == "fired",
            Timer.fired_at < until)),
        rule_alerts=_rule_alerts(session, client_id, until),
        chat_alerts=_pairs(session, select(Outbound.case_id, Outbound.sent_at).where(
            Outbound.case_id.in_(mine), Outbound.kind.like("webhook:%"),
            Outbound.sent_at < until)))


def _notices(session: Session, mine: ScalarSelect[Any], triage: TriageRules,
             until: datetime) -> list[NoticeFacts]:
    rows = session.execute(
        select(Message.case_id, Message.received_at, Notice.category, Notice.sent_at,
               Notice.deadline).join(Notice, Notice.message_id == Message.id)
        .where(Message.case_id.in_(mine), Message.direction == "in",
               Message.received_at < until).order_by(Message.received_at, Message.id))
    return [NoticeFacts(case_id, received, category, triage.priority(category, sent, due))
            for case_id, received, category, sent, due in rows if case_id is not None]


def _drafts(session: Session, mine: ScalarSelect[Any], until: datetime) -> list[DraftFacts]:
    """Draft versions written before ``until`` with their decisions before it; a version is
    replaced when the next version of its case is written."""
    rows = session.scalars(select(Draft).where(Draft.case_id.in_(mine), Draft.created_at < until)
                           .order_by(Draft.case_id, Draft.version)).all()
    decisions: dict[int, list[DecisionFacts]] = defaultdict(list)
    for decision in session.scalars(select(Decision).where(
            Decision.draft_id.in_(select(Draft.id).where(Draft.case_id.in_(mine))),
            Decision.at < until).order_by(Decision.at, Decision.id)):
        decisions[decision.draft_id].append(
            DecisionFacts(decision.at, decision.decision, decision.first_pass))
    found = []
    for index, row in enumerate(rows):
        after = rows[index + 1] if index + 1 < len(rows) else None
        replaced = after.created_at if after is not None and after.case_id == row.case_id \
            else None
        found.append(DraftFacts(row.case_id, row.created_at, row.state == "blocked", replaced,
                                tuple(decisions.get(row.id, ()))))
    return found


def _rule_alerts(session: Session, client_id: str,
                 until: datetime) -> tuple[tuple[int, datetime], ...]:
    """Escalation rules that matched a notice of the client: the route step's ``escalation``
    audit events, which name the rule (the timer step's name the timer instead)."""
    rows = session.execute(
        select(Case.id, AuditEvent.at, AuditEvent.detail)
        .join(Case, Case.ticket == AuditEvent.subject)
        .where(Case.client_id == client_id, AuditEvent.action == "escalation",
               AuditEvent.at < until).order_by(AuditEvent.seq))
    return tuple((case_id, at) for case_id, at, detail in rows if "rule" in json.loads(detail))


def _first(session: Session, query: Executable) -> dict[int, datetime]:
    return dict(_pairs(session, query))


def _moments(session: Session, query: Executable) -> dict[int, list[datetime]]:
    found: dict[int, list[datetime]] = defaultdict(list)
    for case_id, moment in _pairs(session, query):
        found[case_id].append(moment)
    return found


def _pairs(session: Session, query: Executable) -> tuple[tuple[int, datetime], ...]:
    return tuple((case_id, moment) for case_id, moment in session.execute(query)
                 if case_id is not None and moment is not None)


def _before(moment: datetime | None, until: datetime) -> datetime | None:
    return moment if moment is not None and moment < until else None
