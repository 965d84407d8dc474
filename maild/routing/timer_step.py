"""The timer step: reminders and escalations fire once, when they are due.

``scheduled -> fired`` (or ``cancelled`` when the case closed meanwhile). A reminder goes to the
client's advisors; an escalation to the client's ``escalate_to`` and the advisors, and marks a
breached clock. The ``approval`` timers of a draft waiting for the decision-maker remind the
decision-maker (answerable: the reminder carries the version's reply token), then escalate;
a decision, or a newer version, cancels them. Timers are rows claimed by the generic runner
(``SKIP LOCKED`` on PostgreSQL), so in a fleet each fires exactly once, and a restart in between
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client, Config
from maild.models import Case, Message, Timer
from maild.outbound.drafts import APPROVAL, draft_facts, latest_draft, notify, store_of
from maild.routing.clocks import SLA, clocks_of
from maild.routing.route_step import summary_facts
from maild.routing.sending import queue_alert
from maild.stages import Stage

log = logging.getLogger("maild.routing")

ACTOR = "maild:timers"
CLOSED = ("sent", "closed")


class TimerStep:
    """Fires due timers into the outbox."""

    name: ClassVar[str] = "timers"
    takes: ClassVar[Stage] = Stage.SCHEDULED
    failed: ClassVar[Stage] = Stage.FAILED
    working: ClassVar[Stage | None] = None
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED,)

    def __init__(self, config: Config, store: RawStore,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def claim(self, now: datetime) -> Select[Any]:
        return (select(Timer).where(Timer.stage == Stage.SCHEDULED, Timer.due_at <= now)
                .order_by(Timer.due_at, Timer.id))

    def next_due(self, session: Session) -> datetime | None:
        return session.scalar(select(func.min(Timer.due_at))
                              .where(Timer.stage == Stage.SCHEDULED))

    def prepare(self, row: Timer) -> None:
        """Nothing slow: the mail is composed from rows inside the savepoint."""

    def reset(self, session: Session, row: Any) -> None:
        """Nothing to undo."""

    def apply(self, session: Session, row: Timer, _result: None) -> Stage:
        now = self.clock()
        case = session.get_one(Case, row.case_id)
        if case.state in CLOSED:
            return Stage.CANCELLED
        clocks = clocks_of(session, case.id)
        if row.clock in clocks and clocks[row.clock].stopped_at is not None:
            return Stage.CANCELLED  # the SLA clock stopped at the first draft
        client = self.config.client(case.client_id) if case.client_id else None
        if row.clock == APPROVAL:
            return self._chase_decision(session, case, client, row, now)
        if row.kind == "escalation" and row.clock in clocks and row.label.endswith("breached"):
            clocks[row.clock].breached_at = now
        recipients = self._recipients(client, row.kind)
        AuditLog(session).record(ACTOR, row.kind, case.ticket, timer=row.id, label=row.label,
                                 to=list(recipients))
        if recipients and self.config.smtp is not None:
            self._queue(session, case, client, row, recipients, now)
        log.info("%s case=%s %s to=%s", row.kind, case.ticket, row.label, ",".join(recipients))
        row.fired_at = now
        return Stage.FIRED

    def _chase_decision(self, session: Session, case: Case, client: Client | None, row: Timer,
                        now: datetime) -> Stage:
        """A draft waits for the decision-maker: remind them (with the version's reply token,
        so the reminder can be answered), or escalate to ``escalate_to`` and the advisors."""
        draft = latest_draft(session, case)
        if client is None or draft is None or draft.state != "pending":
            return Stage.CANCELLED
        escalation = row.kind == "escalation"
        recipients = (client.escalation_recipients() if escalation
                      else (client.decision_maker,))
        AuditLog(session).record(ACTOR, row.kind, case.ticket, timer=row.id, label=row.label,
                                 to=list(recipients))
        log.info("%s case=%s %s to=%s", row.kind, case.ticket, row.label, ",".join(recipients))
        _client, store = store_of(self.config, case)
        details = {"since": draft.created_at.isoformat(timespec="minutes")}
        if escalation:
            details["hours"] = f"{client.approval_escalate_after or 0:g}"
        notify(session, self.store, self.config, case, client,
               "approval_escalation" if escalation else "approval_reminder",
               draft_facts(session, case, draft, client, store), recipients=recipients,
               audience="advisor" if escalation else "client", details=details,
               now=now, actor=ACTOR, reply_scope=None if escalation else f"v{draft.version}")
        row.fired_at = now
        return Stage.FIRED

    def _recipients(self, client: Client | None, kind: str) -> Sequence[str]:
        if client is None:
            return self.config.fallback
        if kind == "escalation":
            return client.escalation_recipients()
        return client.advisors

    def _queue(self, session: Session, case: Case, client: Client | None, row: Timer,
               recipients: Sequence[str], now: datetime) -> None:
        smtp = self.config.smtp
        assert smtp is not None
        first = session.scalars(select(Message).where(Message.case_id == case.id,
                                                      Message.direction == "in")
                                .order_by(Message.id)).first()
        if first is None or first.notice is None:
            return
        clocks = clocks_of(session, case.id)
        sla = clocks.get(SLA)
        facts = replace(summary_facts(first.notice, case, client), is_update=True,
                        alert=row.kind, update_note=row.label,
                        sla_due=sla.due_at if sla else None)
        queue_alert(session, self.store, smtp, kind=row.kind, facts=facts,
                    recipients=recipients, original=self.store.get(first.sha256), case=case,
                    client=client, now=now, actor=ACTOR)
