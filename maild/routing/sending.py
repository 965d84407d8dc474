"""Queueing routing mail: the runaway guard every routing mail goes through (a recipient over
the rate limit gets nothing more this window, which is audited, and the operator is alerted
once a window; the notice or ticket that caused it is still routed), and the one way a
reminder or an escalation is sent to people (mail, plus chat cards for escalations)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client
from maild.config_smtp import SmtpSettings
from maild.models import Case
from maild.outbound.outbox import RATE_WINDOW, RateLimited, alert_operator, new_message_id, queue
from maild.routing.alerts import queue_webhooks
from maild.routing.compose import SummaryFacts, compose_operator_alert, compose_summary

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


def queue_alert(session: Session, store: RawStore, smtp: SmtpSettings | None, *, kind: str,
                facts: SummaryFacts, recipients: Sequence[str], original: bytes, case: Case,
                client: Client | None, now: datetime, actor: str) -> None:
    """A reminder or escalation about ``case`` (``facts.alert`` says which): the advisors'
    summary form, English first, without a reply path, the notice attached; an escalation also
    goes to the client's chat webhooks."""
    if smtp is not None and recipients:
        message_id = new_message_id(smtp.from_address, f"{case.ticket}.{kind}")
        raw = compose_summary(facts, audience="advisor", languages=("en", "zh"),
                              zone=client.zone if client else ZoneInfo("UTC"), now=now,
                              from_address=smtp.from_address, to=list(recipients),
                              reply_to=None, message_id=message_id, original=original)
        queue_guarded(session, store, smtp, kind=kind, recipients=recipients, raw=raw,
                      message_id=message_id, case=case, now=now, actor=actor)
    if kind == "escalation" and client is not None:
        queue_webhooks(session, store, client, facts, case, now, actor)
