"""The send step: queued outbound messages are delivered once, with their receipts kept.

``queued -> sending -> sent`` (or ``failed``), on the generic runner's two-transaction mode:
the row is marked ``sending`` and committed before the network call, then the outcome is
committed. So:
- a 4xx reply or a network failure puts the row back to ``queued`` with ``next_try_at`` after an
  exponential backoff (``MAX_ATTEMPTS`` in all);
- a 5xx reply marks it ``failed`` and queues an alert to the operator (never for an alert that
  itself failed: no loops);
- a crash between the server's 250 and the commit leaves the row ``sending``; once its claim
  expires (at once when the claimer was a dead process of this host) it is sent again with
  the same Message-ID and bytes, and the log says so. Nothing is sent twice otherwise.
The receipt is the server's reply code and text, the queue id where the server gives one, the
time, and the recipients it refused one by one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Config
from maild.errors import (
    ArchiveError,
    ConfigError,
    DeliveryError,
    PermanentFailure,
    TemporaryFailure,
)
from maild.models import Message, Outbound, Receipt
from maild.outbound.maildir_transport import transport_send
from maild.outbound.outbox import alert_operator
from maild.outbound.receipts import Receipt as ServerReceipt
from maild.outbound.webhooks import post_webhook, signed
from maild.routing.compose import compose_operator_alert
from maild.sources.lease import dead_local_owner
from maild.stages import Stage

log = logging.getLogger("maild.outbound")

ACTOR = "maild:send"
MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30.0
LAST_RETRY_SECONDS = 3600.0


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at an hour: a server that is down for maintenance gets
    its mail when it is back, without being hammered meanwhile."""
    return timedelta(seconds=min(LAST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class Attempt:
    """What happened when a row was handed to the server."""

    receipt: ServerReceipt | None
    failure: DeliveryError | None


class SendStep:
    """Sends outbound rows through the configured transport (SMTP, or Maildirs in the demo)."""

    name: ClassVar[str] = "send"
    takes: ClassVar[Stage] = Stage.QUEUED
    failed: ClassVar[Stage] = Stage.FAILED
    working: ClassVar[Stage | None] = Stage.SENDING
    wakes: ClassVar[tuple[Stage, ...]] = ()

    def __init__(self, config: Config, store: RawStore, sessions: sessionmaker[Session],
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.sessions = sessions
        self.clock = clock or (lambda: datetime.now(UTC))

    def claim(self, now: datetime) -> Select[Any]:
        due = or_(Outbound.next_try_at.is_(None), Outbound.next_try_at <= now)
        interrupted = and_(Outbound.stage == Stage.SENDING, Outbound.claimed_until < now)
        return (select(Outbound).where(or_(and_(Outbound.stage == Stage.QUEUED, due),
                                           interrupted))
                .order_by(Outbound.id))

    def release_dead_claims(self) -> int:
        """Rows a killed daemon of this host left ``sending`` are due now, not at the end of
        their claim: the process that held them is gone."""
        with self.sessions.begin() as session:
            rows = session.execute(select(Outbound.id, Outbound.claimed_by)
                                   .where(Outbound.stage == Stage.SENDING)).all()
            dead = [row.id for row in rows if row.claimed_by and dead_local_owner(row.claimed_by)]
            if dead:
                session.execute(update(Outbound).where(Outbound.id.in_(dead))
                                .values(claimed_until=self.clock())
                                .execution_options(synchronize_session=False))
        return len(dead)

    def next_due(self, session: Session) -> datetime | None:
        """When the earliest retry is due (the step's worker sleeps until then)."""
        return session.scalar(select(func.min(Outbound.next_try_at))
                              .where(Outbound.stage == Stage.QUEUED))

    def prepare(self, row: Outbound) -> Attempt:
        settings = self.config.smtp
        if settings is None and not row.kind.startswith("webhook:"):
            return Attempt(None, PermanentFailure("no [smtp] configured: nothing can be sent"))
        with self.sessions() as session:
            sha = session.get_one(Message, row.archived_id).sha256
        try:  # only the exact bytes archived when it was queued are ever sent
            raw = self.store.get(sha)
        except ArchiveError as exc:
            return Attempt(None, PermanentFailure(f"cannot send: {exc}"))
        if hashlib.sha256(raw).hexdigest() != sha:
            return Attempt(None, PermanentFailure(
                f"cannot send: the archive file for {sha} was altered since it was queued"))
        try:
            if row.kind.startswith("webhook:"):
                return Attempt(self._post_webhook(row, raw), None)
            assert settings is not None
            return Attempt(transport_send(settings, row.sender, row.recipients, raw), None)
        except DeliveryError as exc:
            return Attempt(None, exc)
        except ConfigError as exc:  # e.g. the password's file is unreadable: fixable, so retried
            return Attempt(None, TemporaryFailure(f"cannot send: {exc}"))
        except ValueError as exc:  # nothing that a retry could fix (no recipients, no host)
            return Attempt(None, PermanentFailure(f"cannot send: {exc}"))

    def _post_webhook(self, row: Outbound, body: bytes) -> ServerReceipt:
        """A chat alert: the card archived at queueing, signed now, posted to the URL that the
        row's ``client#index`` names in the current config (URLs and secrets are never stored)."""
        client_id, _, index = row.recipients[0].partition("#")
        client = self.config.client(client_id)
        if client is None or not index.isdigit() or int(index) >= len(client.webhooks):
            raise PermanentFailure(f"webhook {row.recipients[0]} is no longer configured")
        hook = client.webhooks[int(index)]
        payload = signed(hook.kind, body, hook.secret.reveal() if hook.secret else None,
                         datetime.now(UTC))  # the vendor checks it against its own clock
        timeout = self.config.smtp.timeout if self.config.smtp else 30.0
        return post_webhook(hook.kind, hook.url.reveal(), payload.query, payload.body,
                            timeout=timeout)

    def apply(self, session: Session, row: Outbound, attempt: Attempt) -> Stage:
        now = self.clock()
        audit = AuditLog(session)
        if attempt.receipt is not None:
            receipt = attempt.receipt
            session.add(Receipt(outbound_id=row.id, code=receipt.code, text=receipt.text,
                                queue_id=receipt.queue_id, refused=receipt.refused,
                                at=receipt.at))
            row.sent_at, row.error, row.next_try_at = now, None, None
            audit.record(ACTOR, "sent", row.message_id, outbound=row.id, code=receipt.code,
                         queue_id=receipt.queue_id, refused=receipt.refused)
            log.info("sent outbound=%d kind=%s to=%s code=%d queue_id=%s attempt=%d", row.id,
                     row.kind, ",".join(row.recipients), receipt.code, receipt.queue_id,
                     row.attempts)
            return self._refused(session, row, receipt.refused, now)
        failure = attempt.failure
        assert failure is not None
        row.error = f"{type(failure).__name__}: {failure}"
        if failure.code is not None:
            session.add(Receipt(outbound_id=row.id, code=failure.code, text=failure.text or "",
                                queue_id=None, refused=failure.refused, at=now))
        if isinstance(failure, PermanentFailure) or row.attempts >= MAX_ATTEMPTS:
            audit.record(ACTOR, "send_failed", row.message_id, outbound=row.id,
                         error=row.error, attempts=row.attempts)
            log.error("send failed for good outbound=%d error=%s", row.id, row.error)
            self._alert_operator(session, row, now)
            return Stage.FAILED
        row.next_try_at = now + retry_delay(row.attempts)
        audit.record(ACTOR, "send_deferred", row.message_id, outbound=row.id, error=row.error,
                     attempts=row.attempts, next_try_at=row.next_try_at.isoformat())
        log.warning("send deferred outbound=%d attempt=%d retry_at=%s error=%s", row.id,
                    row.attempts, row.next_try_at.isoformat(), row.error)
        return Stage.QUEUED

    def reset(self, session: Session, row: Any) -> None:
        """Nothing to undo: a failed row keeps its receipts."""

    def _refused(self, session: Session, row: Outbound, refused: dict[str, str],
                 now: datetime) -> Stage:
        """After a hand-over, the recipients the server refused one by one (replies are
        ``"450 4.2.0 …"``, code first). Those refused for now stay on the row, which waits for
        its retry (the others have the message and must not get it again); those refused for
        good, or for now once too often, are reported to the operator."""
        later = [address for address, reply in refused.items() if reply.startswith("4")]
        if row.attempts >= MAX_ATTEMPTS:
            later = []
        lost = {address: reply for address, reply in refused.items() if address not in later}
        if lost:
            row.error = "refused: " + "; ".join(f"{a} ({reply})" for a, reply in lost.items())
            self._alert_operator(session, row, now)
        if not later:
            return Stage.SENT
        row.recipients = later
        row.next_try_at = now + retry_delay(row.attempts)
        AuditLog(session).record(ACTOR, "send_deferred", row.message_id, outbound=row.id,
                                 to=later, attempts=row.attempts,
                                 next_try_at=row.next_try_at.isoformat())
        log.warning("send deferred outbound=%d to=%s attempt=%d retry_at=%s (refused for now)",
                    row.id, ",".join(later), row.attempts, row.next_try_at.isoformat())
        return Stage.QUEUED

    def _alert_operator(self, session: Session, row: Outbound, now: datetime) -> None:
        settings = self.config.smtp
        if settings is None or row.kind == "operator_alert":
            return
        details = {"message": row.message_id, "to": ", ".join(row.recipients),
                   "error": row.error or "", "attempts": str(row.attempts)}
        alert_operator(session, self.store, settings.operator, settings.from_address,
                       lambda message_id: compose_operator_alert(
                           "send_failure", details, from_address=settings.from_address,
                           to=list(settings.operator), message_id=message_id, now=now),
                       label=f"send-failure.{row.id}", now=now, case_id=row.case_id,
                       actor=ACTOR)
