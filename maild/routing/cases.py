"""Cases: every notice belongs to one, under a ticket number; follow-ups join the open case.

A follow-up is found, in this order (DESIGN §2 "link case"):
1. a platform case or complaint id the case already has;
2. a Message-ID of the case named in References / In-Reply-To;
3. an item identifier (ASIN, order, item, SKU) of the same category within ``WINDOW``;
4. the same normalised subject within ``WINDOW``.
Only cases of the same client and platform are candidates. A closed case, or one whose reply was
sent, found this way is reopened (its new deadline gets its timers). Every opening, update and
state change is an audit event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maild.audit import AuditLog
from maild.models import Case, CaseKey, TicketCounter
from maild.routing.threads import thread_keys, window_keys

WINDOW = timedelta(days=30)
STATES = ("new", "triaged", "drafting", "awaiting_approval", "sent", "closed", "reopened")
_URGENCY = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}


def next_ticket(session: Session, year: int) -> str:
    """The next ticket number of ``year`` (``MD-2026-000123``), unique across a fleet: the
    year's counter row is incremented under a row lock (SQLite: the write lock)."""
    query = select(TicketCounter).where(TicketCounter.year == year).with_for_update()
    counter = session.scalars(query).first()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(TicketCounter(year=year, last=0))
        except IntegrityError:  # another daemon created the year's row first
            pass
        counter = session.scalars(query).one()
    counter.last += 1
    session.flush()
    return f"MD-{year}-{counter.last:06d}"


@dataclass(frozen=True)
class Arrival:
    """What a routed notice brings to its case."""

    client_id: str | None
    store_name: str | None
    platform: str
    marketplace: str | None
    category: str
    priority: str
    deadline: datetime | None
    subject_key: str
    identifiers: Mapping[str, Sequence[str]]
    message_id: str | None
    references: Sequence[str]


@dataclass(frozen=True)
class Linked:
    """The case a notice was linked to, and what the notice changed when it was a follow-up."""

    case: Case
    is_update: bool
    changes: tuple[str, ...]
    how: str


def link(session: Session, arrival: Arrival, now: datetime, actor: str) -> Linked:
    """Find the case ``arrival`` follows up, or open a new one; record its keys."""
    found = _find(session, arrival, now)
    audit = AuditLog(session)
    if found is None:
        case = Case(ticket=next_ticket(session, now.year), client_id=arrival.client_id,
                    store_name=arrival.store_name, platform=arrival.platform,
                    marketplace=arrival.marketplace, category=arrival.category,
                    priority=arrival.priority, state="new", subject_key=arrival.subject_key[:500],
                    deadline=arrival.deadline, opened_at=now, updated_at=now)
        session.add(case)
        session.flush()
        audit.record(actor, "case_opened", case.ticket, client=case.client_id,
                     platform=case.platform, category=case.category, priority=case.priority)
        linked = Linked(case, False, (), "new case")
    else:
        case, how = found
        changes = _update(case, arrival, now)
        if case.state in ("sent", "closed"):  # the platform wrote again: work to do
            changes += (set_state(session, case, "reopened", actor),)
        audit.record(actor, "case_updated", case.ticket, how=how, changes=list(changes))
        linked = Linked(case, True, changes, how)
    _add_keys(session, linked.case, arrival)
    return linked


def set_state(session: Session, case: Case, state: str, actor: str) -> str:
    """Move a case to ``state`` with an audit event; returns a line saying what changed."""
    if state not in STATES:
        raise ValueError(f"unknown case state {state!r}")
    old, case.state = case.state, state
    if state == "closed":
        case.closed_at = case.updated_at
    AuditLog(session).record(actor, "case_state", case.ticket, old=old, new=state)
    if state in ("sent", "closed"):  # nothing left to remind anyone of
        from maild.routing.clocks import cancel_timers

        cancel_timers(session, case, case.updated_at, actor)
    return f"state {old} -> {state}"


def _update(case: Case, arrival: Arrival, now: datetime) -> tuple[str, ...]:
    changes: list[str] = []
    if arrival.deadline is not None and arrival.deadline != case.deadline:
        old = case.deadline.isoformat() if case.deadline else "none"
        changes.append(f"deadline {old} -> {arrival.deadline.isoformat()}")
        case.deadline = arrival.deadline
    if arrival.category != case.category:
        changes.append(f"new notice: {arrival.category}")
    if _URGENCY[arrival.priority] < _URGENCY[case.priority]:
        changes.append(f"priority {case.priority} -> {arrival.priority}")
        case.priority = arrival.priority
    case.updated_at = now
    return tuple(changes)


def _find(session: Session, arrival: Arrival, now: datetime) -> tuple[Case, str] | None:
    same_owner = and_(Case.client_id.is_(None) if arrival.client_id is None
                      else Case.client_id == arrival.client_id,
                      Case.platform == arrival.platform)
    keyed = select(Case).join(CaseKey).where(same_owner)

    def first(query: object, how: str) -> tuple[Case, str] | None:
        case = session.scalars(query.order_by(Case.updated_at.desc())  # type: ignore[attr-defined]
                               .limit(1)).first()
        return (case, how) if case is not None else None

    platform_keys = thread_keys(arrival.identifiers)
    for kind, value in sorted(platform_keys):
        if hit := first(keyed.where(CaseKey.kind == kind, CaseKey.value == value),
                        f"{kind} {value}"):
            return hit
    references = keyed.where(CaseKey.kind == "message_id",
                             CaseKey.value.in_(list(arrival.references)))
    if arrival.references and (hit := first(references, "References")):
        return hit
    recent = Case.updated_at >= now - WINDOW
    for kind, value in sorted(window_keys(arrival.identifiers)):
        if hit := first(keyed.where(CaseKey.kind == kind, CaseKey.value == value,
                                    Case.category == arrival.category, recent,
                                    Case.state != "closed"),
                        f"{kind} {value} in a {arrival.category} case"):
            return hit
    if arrival.subject_key:
        return first(select(Case).where(same_owner, Case.subject_key == arrival.subject_key[:500],
                                        recent, Case.state != "closed"), "same subject")
    return None


def _add_keys(session: Session, case: Case, arrival: Arrival) -> None:
    wanted: set[tuple[str, str]] = set(thread_keys(arrival.identifiers))
    wanted |= window_keys(arrival.identifiers)
    if arrival.message_id:
        wanted.add(("message_id", arrival.message_id))
    add_keys(session, case, wanted)


def add_keys(session: Session, case: Case, keys: Iterable[tuple[str, str]]) -> None:
    """Record keys that thread later mail into ``case`` (known ones are skipped)."""
    known = {(kind, value) for kind, value in session.execute(
        select(CaseKey.kind, CaseKey.value).where(CaseKey.case_id == case.id))}
    for kind, value in sorted(set(keys) - known):
        session.add(CaseKey(case_id=case.id, kind=kind, value=value[:998]))
    session.flush()
