"""The bounce step: delivery status notifications are linked to the outbound row they report.

``received -> bounce`` for an RFC 3464 DSN about a message maild sent (found by the returned
Message-ID): a failed recipient marks the outbound row ``bounced`` with the remote server's
status and diagnostic, the bounce joins the row's case (so ``maild case`` shows it), and the
operator is alerted. Everything else that reaches a ``replies`` mailbox moves on to ``intake``,
where the reply path (advisors' drafts, decisions) takes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Config
from maild.models import Case, Message, Outbound
from maild.outbound.dsn import Dsn, parse_dsn
from maild.outbound.outbox import alert_operator
from maild.routing.compose import compose_operator_alert
from maild.stages import MessageStep, Stage

log = logging.getLogger("maild.outbound")

ACTOR = "maild:bounces"


@dataclass(frozen=True)
class Report:
    dsn: Dsn | None


class BounceStep(MessageStep):
    """Links DSNs to outbound rows; passes other mail on to the reply path's intake."""

    name: ClassVar[str] = "bounces"
    takes: ClassVar[Stage] = Stage.RECEIVED
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED,)

    def __init__(self, config: Config, store: RawStore,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def prepare(self, message: Message) -> Report:
        return Report(parse_dsn(self.store.get(message.sha256)))

    def apply(self, session: Session, message: Message, report: Report) -> Stage:
        dsn = report.dsn
        row = None
        if dsn is not None and dsn.original_message_id:
            row = session.scalars(select(Outbound).where(
                Outbound.message_id == dsn.original_message_id)).first()
        if dsn is None or row is None:
            return Stage.INTAKE
        message.case_id = row.case_id
        failed = [r for r in dsn.recipients if r.action.lower() == "failed"]
        ticket = (session.get_one(Case, row.case_id).ticket if row.case_id is not None
                  else row.message_id)
        details = "; ".join(f"{r.address}: {r.status} {r.diagnostic or ''}".strip()
                            for r in dsn.recipients)
        AuditLog(session).record(ACTOR, "bounced" if failed else "dsn", ticket,
                                 outbound=row.id, message=row.message_id, report=details)
        if failed:
            row.stage = Stage.BOUNCED.value
            row.error = f"bounced: {details}"
            log.error("bounced outbound=%d %s", row.id, details)
            self._alert(session, row, ticket, details)
        return Stage.BOUNCE

    def _alert(self, session: Session, row: Outbound, ticket: str, details: str) -> None:
        smtp = self.config.smtp
        if smtp is None or row.kind == "operator_alert":
            return
        now = self.clock()
        facts = {"case": ticket, "message": row.message_id, "to": ", ".join(row.recipients),
                 "report": details}
        alert_operator(session, self.store, smtp.operator, smtp.from_address,
                       lambda mid: compose_operator_alert(
                           "bounce", facts, from_address=smtp.from_address,
                           to=list(smtp.operator), message_id=mid, now=now),
                       label=f"bounce.{row.id}", now=now, case_id=row.case_id, actor=ACTOR)
