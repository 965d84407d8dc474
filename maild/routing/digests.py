"""Daily digests: notices of the priorities a client does not want one by one (by default P3)
wait for the client's ``digest_at`` local time and go out together in one mail.

The route step files such a notice under the next digest of its client and audience
(:func:`hold`); the digest step (:class:`DigestStep`) claims a digest once it is due, composes
it with every waiting notice and queues it in the outbox. Digests are rows, so a restart or a
fleet changes nothing: each digest is claimed once and sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client, Config
from maild.models import Case, Digest, DigestEntry, Message
from maild.outbound.outbox import new_message_id, queue
from maild.routing.compose import Audience, compose_digest
from maild.stages import Stage

log = logging.getLogger("maild.routing")

ACTOR = "maild:digest"
HELD = Stage.HELD
DIGESTED = Stage.DIGESTED


def next_digest_time(client: Client, now: datetime) -> datetime:
    """The next ``digest_at`` in the client's zone after ``now``, in UTC (DST-safe: the local
    wall-clock time is kept across a change of offset)."""
    zone = client.zone
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), client.digest_at, tzinfo=zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), client.digest_at, tzinfo=zone)
    return due.astimezone(UTC)


def hold(session: Session, client: Client, audience: str, case_id: int, message_id: int,
         now: datetime) -> Digest:
    """File a notice under the client's next digest for ``audience``."""
    due = next_digest_time(client, now)
    query = select(Digest).where(Digest.client_id == client.id, Digest.audience == audience,
                                 Digest.due_at == due)
    digest = session.scalars(query).first()
    if digest is None:
        try:
            with session.begin_nested():
                digest = Digest(client_id=client.id, audience=audience, due_at=due,
                                stage=HELD.value,
                                attempts=0, created_at=now)
                session.add(digest)
        except IntegrityError:  # another daemon opened the same digest first
            digest = session.scalars(query).one()
    session.add(DigestEntry(digest_id=digest.id, case_id=case_id, message_id=message_id))
    session.flush()
    return digest


class DigestStep:
    """Turns each due digest into one outbound message."""

    name: ClassVar[str] = "digest"
    takes: ClassVar[Stage] = HELD
    failed: ClassVar[Stage] = Stage.FAILED
    working: ClassVar[Stage | None] = None
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED,)

    def __init__(self, config: Config, store: RawStore,
                 summary_facts: Callable[..., Any],
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.summary_facts = summary_facts
        self.clock = clock or (lambda: datetime.now(UTC))

    def claim(self, now: datetime) -> Select[Any]:
        return (select(Digest).where(Digest.stage == HELD, Digest.due_at <= now)
                .order_by(Digest.due_at, Digest.id))

    def next_due(self, session: Session) -> datetime | None:
        return session.scalar(select(func.min(Digest.due_at)).where(Digest.stage == HELD))

    def prepare(self, row: Digest) -> None:
        """Nothing slow: the digest is composed from rows inside its savepoint."""

    def apply(self, session: Session, row: Digest, _result: None) -> Stage:
        client = self.config.client(row.client_id)
        smtp = self.config.smtp
        if client is None or smtp is None:
            AuditLog(session).record(ACTOR, "digest_dropped", row.client_id,
                                     reason="client no longer configured" if client is None
                                     else "no [smtp] configured")
            return DIGESTED
        entries = session.scalars(select(DigestEntry).where(DigestEntry.digest_id == row.id)
                                  .order_by(DigestEntry.id)).all()
        items = []
        originals: list[bytes] = []
        for entry in entries:
            message = session.get_one(Message, entry.message_id)
            case = session.get_one(Case, entry.case_id)
            if message.notice is None:
                continue
            items.append(self.summary_facts(message.notice, case, client))
            originals.append(self.store.get(message.sha256))
        recipients = self._recipients(client, row.audience)
        if items and recipients:
            now = self.clock()
            message_id = new_message_id(smtp.from_address, f"digest.{client.id}.{row.audience}")
            audience: Audience = "advisor" if row.audience == "advisor" else "client"
            raw = compose_digest(items, languages=client.languages, zone=client.zone, now=now,
                                 from_address=smtp.from_address, to=list(recipients),
                                 message_id=message_id, originals=originals,
                                 audience=audience)
            queue(session, self.store, kind=f"digest:{row.audience}", sender=smtp.from_address,
                  recipients=recipients, raw=raw, message_id=message_id, now=now, actor=ACTOR)
            log.info("digest client=%s audience=%s notices=%d", client.id, row.audience,
                     len(items))
        return DIGESTED

    def reset(self, session: Session, row: Any) -> None:
        """Nothing to undo."""

    @staticmethod
    def _recipients(client: Client, audience: str) -> Sequence[str]:
        if audience == "advisor":
            return client.advisors
        return client.summary_recipients
