"""The send step: queued outbound messages are delivered once, with their receipts kept.

``queued -> sending -> sent`` (or ``failed``), on the generic runner's two-transaction mode:
the row is marked ``sending`` and committed before the network call, then the outcome is
committed. So:
- a 4xx reply or a network failure puts the row back to ``queued`` with ``next_try_at`` after an
  exponential backoff (``MAX_ATTEMPTS`` in all);
- a 5xx reply marks it ``failed`` and queues an alert to the operator (never for an alert that
  itself failed: no loops);
- a crash between the server's 250 and the commit leaves the row ``sending``; once its claim
  expires (at once when the claimer was a dead process of this host) it is reconciled before
  anything is sent again: the receipt journal (:mod:`maild.outbound.receipt_journal`, written
  the moment the server accepted) proves it sent; for a platform reply the store's Sent folder
  may prove it too. Without proof a summary is sent again with the same Message-ID and bytes;
  a platform reply is never sent twice, so it waits at ``uncertain`` for the operator — as it
  does when the connection drops or times out after its data went out (``MaybeDelivered``)
  (``maild outbox release ID`` or ``maild outbox mark-sent ID``). The log says what was decided.

A platform reply goes from the store's registered sender through the store's own SMTP account
when it has one; once sent, it is filed in the store's Sent folder (where configured), its
draft and case move to ``sent``, and the client and the advisors get a confirmation.
The receipt is the server's reply code and text, the queue id where the server gives one, the
time, and the recipients it refused one by one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Config
from maild.config_clients import Store
from maild.errors import (
    ArchiveError,
    ConfigError,
    DeliveryError,
    MaybeDelivered,
    PermanentFailure,
    TemporaryFailure,
)
from maild.models import Case, Draft, Message, Outbound, Receipt
from maild.outbound import receipt_journal as journal
from maild.outbound.approvals import PLATFORM_REPLY, reply_sent
from maild.outbound.drafts import draft_facts, notify, store_of
from maild.outbound.maildir_transport import transport_send
from maild.outbound.outbox import alert_operator
from maild.outbound.receipt_journal import JOURNAL_NAME
from maild.outbound.receipts import Receipt as ServerReceipt
from maild.outbound.sent_folder import append_once, find_message_id
from maild.outbound.webhooks import post_webhook, signed
from maild.routing.compose import compose_operator_alert
from maild.sources.lease import dead_local_owner
from maild.stages import INTERRUPTED, Stage

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
    """What happened when a row was handed to the server (or what reconciling found)."""

    receipt: ServerReceipt | None
    failure: DeliveryError | None
    reconciled: str | None = None  # where the proof of an interrupted send was found
    uncertain: str | None = None  # an interrupted platform reply without proof either way
    filed: str | None = None  # what became of the copy for the store's Sent folder


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
        store = self._store(row)
        if row.error and row.error.startswith(INTERRUPTED):
            found = self._reconcile(row, store)
            if found is not None:
                return self._file(row, store, raw, found)
        try:
            if row.kind.startswith("webhook:"):
                return Attempt(self._post_webhook(row, raw), None)
            assert settings is not None
            account = store.smtp if store is not None and store.smtp is not None else settings
            receipt = transport_send(account, row.sender, row.recipients, raw)
        except MaybeDelivered as exc:
            if row.kind == PLATFORM_REPLY:  # sent again, it could reach the platform twice
                log.error("outbound=%d platform reply held: %s", row.id, exc)
                return Attempt(None, None, uncertain=str(exc))
            return Attempt(None, exc)
        except DeliveryError as exc:
            return Attempt(None, exc)
        except ConfigError as exc:  # e.g. the password's file is unreadable: fixable, so retried
            return Attempt(None, TemporaryFailure(f"cannot send: {exc}"))
        except ValueError as exc:  # nothing that a retry could fix (no recipients, no host)
            return Attempt(None, PermanentFailure(f"cannot send: {exc}"))
        try:  # the journal backs up the commit that follows; it must not undo the send
            journal.record(self.journal, journal.JournalEntry(
                outbound_id=row.id, message_id=row.message_id, code=receipt.code,
                text=receipt.text, queue_id=receipt.queue_id, at=receipt.at))
        except ArchiveError as exc:
            log.error("outbound=%d sent, but not written to the receipt log: %s", row.id, exc)
        return self._file(row, store, raw, Attempt(receipt, None))

    @property
    def journal(self) -> Path:
        return self.config.archive_dir / JOURNAL_NAME

    def _store(self, row: Outbound) -> Store | None:
        """The store a platform reply goes out for (None for every other kind)."""
        if row.kind != PLATFORM_REPLY or row.case_id is None:
            return None
        with self.sessions() as session:
            case = session.get_one(Case, row.case_id)
            return store_of(self.config, case)[1]

    def _reconcile(self, row: Outbound, store: Store | None) -> Attempt | None:
        """An interrupted send: did the server take it? The receipt journal, then (platform
        replies) the Sent folder; a platform reply without proof is uncertain, anything else
        is sent again (None)."""
        entry = journal.find(self.journal, row.message_id)
        if entry is not None:
            log.warning("outbound=%d was interrupted after the server took it (receipt log: "
                        "%d %s): recorded as sent, not sent again", row.id, entry.code,
                        entry.text)
            return Attempt(ServerReceipt(code=entry.code, text=entry.text,
                                         queue_id=entry.queue_id, at=entry.at), None,
                           reconciled="receipt log")
        if row.kind != PLATFORM_REPLY:
            log.warning("outbound=%d was interrupted with no receipt on record: sending it "
                        "again with the same Message-ID", row.id)
            return None
        if store is not None and store.sent is not None:
            try:
                present = find_message_id(store.sent, row.message_id)
            except DeliveryError as exc:
                return Attempt(None, None, uncertain=f"the Sent folder could not be searched "
                                                     f"({exc}); not sent again")
            if present:
                log.warning("outbound=%d was interrupted; its Message-ID is in the Sent folder: "
                            "recorded as sent, not sent again", row.id)
                return Attempt(ServerReceipt(code=250, text=f"found in the Sent folder "
                                             f"{store.sent.folder} after an interrupted send",
                                             queue_id=None, at=self.clock()), None,
                               reconciled="Sent folder")
        reason = ("the send was interrupted and neither the receipt log nor the Sent folder "
                  "shows whether the server took it")
        log.error("outbound=%d platform reply held: %s; not sent again (at most once)",
                  row.id, reason)
        return Attempt(None, None, uncertain=reason)

    def _file(self, row: Outbound, store: Store | None, raw: bytes, attempt: Attempt) -> Attempt:
        """File a sent platform reply in the store's Sent folder (once: a copy already there
        is not appended again); a failure is recorded, never undoes the send."""
        if attempt.receipt is None or store is None or store.sent is None:
            return attempt
        try:
            appended = append_once(store.sent, raw, row.message_id, attempt.receipt.at)
        except (DeliveryError, ValueError) as exc:
            log.error("outbound=%d sent, but not filed in the Sent folder: %s", row.id, exc)
            return replace(attempt, filed=f"not filed: {exc}")
        return replace(attempt, filed=f"filed in {store.sent.folder}" if appended
                       else f"already in {store.sent.folder}")

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
        if attempt.uncertain is not None:
            row.error = (f"uncertain: {attempt.uncertain}; check with the platform, then "
                         f"`maild outbox release {row.id}` sends it, `maild outbox mark-sent "
                         f"{row.id}` records it as sent")
            audit.record(ACTOR, "send_uncertain", row.message_id, outbound=row.id,
                         reason=attempt.uncertain)
            self._hold_notice(session, row, attempt.uncertain, now)
            return Stage.UNCERTAIN
        if attempt.receipt is not None:
            receipt = attempt.receipt
            session.add(Receipt(outbound_id=row.id, code=receipt.code, text=receipt.text,
                                queue_id=receipt.queue_id, refused=receipt.refused,
                                at=receipt.at))
            row.sent_at, row.error, row.next_try_at = now, None, None
            audit.record(ACTOR, "sent", row.message_id, outbound=row.id, code=receipt.code,
                         queue_id=receipt.queue_id, refused=receipt.refused,
                         reconciled=attempt.reconciled, sent_copy=attempt.filed)
            log.info("sent outbound=%d kind=%s to=%s code=%d queue_id=%s attempt=%d%s", row.id,
                     row.kind, ",".join(row.recipients), receipt.code, receipt.queue_id,
                     row.attempts, f" (reconciled from the {attempt.reconciled})"
                     if attempt.reconciled else "")
            if row.kind == PLATFORM_REPLY:
                reply_sent(session, self.store, self.config, row, receipt, now, ACTOR)
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

    def _hold_notice(self, session: Session, row: Outbound, reason: str, now: datetime) -> None:
        """A held platform reply: the operator hears what is unknown and the two ways out
        (``send_held``), not a send failure that would say to requeue it."""
        settings = self.config.smtp
        if settings is None or row.draft_id is None or row.case_id is None:
            return
        case, draft = session.get_one(Case, row.case_id), session.get_one(Draft, row.draft_id)
        client, store = store_of(self.config, case)
        notify(session, self.store, self.config, case, client, "send_held",
               draft_facts(session, case, draft, client, store),
               recipients=settings.operator, audience="operator",
               details={"reason": reason, "outbox_id": str(row.id),
                        "to": ", ".join(row.recipients), "message_id": row.message_id},
               now=now, actor=ACTOR, reply_scope=None)

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
