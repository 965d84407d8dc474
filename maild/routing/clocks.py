"""A case's two clocks and the timers that make sure a person hears before either runs out.

- The **platform** clock runs to the act-by moment the notice states, or, when it states none,
  to the standing rule of its platform and category (:mod:`maild.routing.standing_rules`, each
  figure with its public source). A follow-up that moves the deadline moves the clock; the case
  history says from when to when.
- The **SLA** clock runs from the moment the first notice was archived to the client's promised
  first draft, counted in the client's service hours on its business calendar
  (:mod:`maild.routing.calendar`). The reply path stops it at the first draft.

Each clock gets timers (rows, see :class:`maild.models.Timer`): reminders to the advisors when
the client's ``sla_reminders`` percents of the SLA time have passed (default 50 and 80) and its
``deadline_reminders`` hours before the platform deadline (default 24 and 4), and an escalation
when a clock is breached; a P0 case escalates at once. Moving a clock cancels and
replaces its pending timers; closing a case cancels them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from maild.audit import AuditLog
from maild.config import Client
from maild.models import Case, Clock, Timer
from maild.routing.calendar import SlaTier, sla_due
from maild.routing.standing_rules import platform_deadline
from maild.stages import Stage

PLATFORM, SLA = "platform", "sla"
# Without a client (unmatched mail, whose fallback recipients get the reminders): the defaults
# every client has unless it sets ``sla_reminders`` / ``deadline_reminders``.
DEFAULT_SLA_REMINDERS = (50.0, 80.0)  # percent of the SLA time elapsed
DEFAULT_DEADLINE_REMINDERS = (24.0, 4.0)  # hours before the platform deadline


@dataclass(frozen=True)
class PlannedTimer:
    kind: str  # reminder | escalation
    clock: str
    label: str
    due_at: datetime


def plan_timers(kind: str, started: datetime, due: datetime, now: datetime,
                client: Client | None = None) -> list[PlannedTimer]:
    """The reminders (the client's ``sla_reminders`` / ``deadline_reminders``) and the breach
    escalation of one clock. Reminders already past are left out (a notice that arrives with 3
    hours left gets no 24-hour reminder); a breach already past escalates now."""
    planned: list[PlannedTimer] = []
    if kind == SLA:
        span = due - started
        percents = client.sla_reminders if client else DEFAULT_SLA_REMINDERS
        planned += [PlannedTimer("reminder", SLA, f"{percent:g}% of the SLA time",
                                 started + span * (percent / 100)) for percent in percents]
    else:
        hours = client.deadline_reminders if client else DEFAULT_DEADLINE_REMINDERS
        planned += [PlannedTimer("reminder", PLATFORM, f"{before:g} h before the platform "
                                 f"deadline", due - timedelta(hours=before)) for before in hours]
    # A clock that starts (or moves) already past its due time escalates at once.
    planned.append(PlannedTimer("escalation", kind, f"{kind} deadline breached", max(due, now)))
    return [timer for timer in planned if timer.kind == "escalation" or timer.due_at > now]


def start_clocks(session: Session, case: Case, client: Client | None, *, deadline: datetime | None,
                 platform: str, category: str, marketplace: str | None, received: datetime,
                 now: datetime, actor: str, tiers: Mapping[str, SlaTier] | None = None) -> None:
    """Set or move the case's clocks for a notice received at ``received`` (its own
    ``deadline`` first, else the standing rule), and schedule their timers."""
    source = "stated in the notice"
    if deadline is None and client is not None:
        found = platform_deadline(platform, category, marketplace, received, client.zone)
        if found is not None:
            deadline, rule = found
            source = f"standing rule: {rule.source}"
    if deadline is not None:
        _set_clock(session, case, client, PLATFORM, received, deadline, source, now, actor)
    if client is not None and _clock(session, case, SLA) is None:
        _set_clock(session, case, client, SLA, received, sla_due(received, client, tiers),
                   f"SLA {client.sla}", now, actor)
    if case.priority == "P0" and not session.scalars(select(Timer.id).where(
            Timer.case_id == case.id, Timer.label == "P0: at once")).first():
        session.add(Timer(case_id=case.id, kind="escalation", clock=PLATFORM,
                          label="P0: at once", due_at=now, stage=Stage.SCHEDULED.value,
                          attempts=0, created_at=now))


def cancel_timers(session: Session, case: Case, now: datetime, actor: str,
                  clocks: Sequence[str] = (PLATFORM, SLA)) -> int:
    """Cancel the case's pending timers of ``clocks`` (the case moved on, or a clock moved)."""
    result = session.execute(
        update(Timer).where(Timer.case_id == case.id, Timer.clock.in_(list(clocks)),
                            Timer.stage == Stage.SCHEDULED.value)
        .values(stage=Stage.CANCELLED.value, fired_at=now)
        .execution_options(synchronize_session=False))
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        AuditLog(session).record(actor, "timers_cancelled", case.ticket, clocks=list(clocks),
                                 count=count)
    return count


def sla_due_of(session: Session, case: Case) -> datetime | None:
    """When the case's running SLA clock runs out (None without one, or once stopped)."""
    clock = _clock(session, case, SLA)
    return clock.due_at if clock is not None and clock.stopped_at is None else None


def clocks_of(session: Session, case_id: int) -> dict[str, Clock]:
    return {clock.kind: clock for clock in session.scalars(
        select(Clock).where(Clock.case_id == case_id))}


def _clock(session: Session, case: Case, kind: str) -> Clock | None:
    return session.scalars(select(Clock).where(Clock.case_id == case.id,
                                               Clock.kind == kind)).first()


def _set_clock(session: Session, case: Case, client: Client | None, kind: str,
               started: datetime, due: datetime, source: str, now: datetime,
               actor: str) -> None:
    clock = _clock(session, case, kind)
    audit = AuditLog(session)
    if kind == PLATFORM:
        case.deadline = due  # what `maild cases` sorts and summaries show
    if clock is None:
        session.add(Clock(case_id=case.id, kind=kind, started_at=started, due_at=due,
                          source=source[:500]))
        audit.record(actor, "clock_started", case.ticket, clock=kind, due=due.isoformat(),
                     source=source)
    elif clock.due_at != due:
        audit.record(actor, "clock_moved", case.ticket, clock=kind,
                     old=clock.due_at.isoformat(), new=due.isoformat(), source=source)
        cancel_timers(session, case, now, actor, clocks=(kind,))
        clock.due_at, clock.source, clock.breached_at = due, source[:500], None
        if kind == PLATFORM:  # a new act-by moment for a new notice: the clock runs from it
            clock.started_at = started
    else:
        return
    session.flush()
    for timer in plan_timers(kind, started if clock is None else clock.started_at, due, now,
                             client):
        session.add(Timer(case_id=case.id, kind=timer.kind, clock=timer.clock,
                          label=timer.label, due_at=timer.due_at,
                          stage=Stage.SCHEDULED.value, attempts=0, created_at=now))
    session.flush()
