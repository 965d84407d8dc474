"""Queueing a routing mail with the runaway guard: a recipient over the rate limit gets nothing
more this window, which is audited, and the operator is alerted once a window; the notice or
ticket that caused it is still routed (the case exists, advisors can see it)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config_smtp import SmtpSettings
from maild.models import Case
from maild.outbound.outbox import RATE_WINDOW, RateLimited, alert_operator, queue
from maild.routing.compose import compose_operator_alert

log = logging.getLogger("maild.routing")


def queue_guarded(session: Session, store: RawStore, smtp: SmtpSettings, *, kind: str,
                  recipients: Sequence[str], raw: bytes, message_id: str, case: Case,
                  now: datetime, actor: str) -> bool:
    """Queue one message from ``smtp.from_address``; False when the rate limit stopped it."""
    try:
        queue(session, store, kind=kind, sender=smtp.from_address, recipients=recipients,
              raw=raw, message_id=message_id, now=now, case_id=case.id, actor=actor,
              limit=smtp.rate_limit_per_hour)
    except RateLimited as exc:
        AuditLog(session).record(actor, "rate_limited", case.ticket, kind=kind, error=str(exc))
        log.error("not sent case=%s kind=%s: %s", case.ticket, kind, exc)
        details = {"case": case.ticket, "kind": kind, "error": str(exc)}
        alert_operator(session, store, smtp.operator, smtp.from_address,
                       lambda mid: compose_operator_alert(
                           "rate_limit", details, from_address=smtp.from_address,
                           to=list(smtp.operator), message_id=mid, now=now),
                       label="rate-limit", now=now, case_id=case.id, actor=actor,
                       once_per=RATE_WINDOW)
        return False
    return True
