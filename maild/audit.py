"""Hash-chained audit log: each event stores the previous event's hash, so an edited, removed or
reordered row breaks the chain and ``maild archive verify`` names the first broken link.

DESIGN §1 places this in ``archive.py``; it is its own module because the chain and the raw file
store change for different reasons.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from maild.models import AuditEvent

GENESIS = "0" * 64
#: Set in ``Session.info`` when events were appended in the session's current transaction, so
#: ``maild.audit_head`` knows to anchor the chain's new head once that transaction commits.
APPENDED = "maild.audit.appended"
#: The message-row fields an ``archived`` event carries in its detail, so that ``maild archive
#: verify`` can tell a deleted or edited message row from an intact one.
ARCHIVED_FIELDS = ("origin", "mailbox_id", "uidvalidity", "uid", "size", "message_id")


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str,
               detail: str) -> str:
    """The chain's hash of one event; ``at`` is normalised to UTC microseconds."""
    stamp = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    body = json.dumps([prev_hash, stamp.isoformat(timespec="microseconds"), actor, action,
                       subject, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialise appends across daemons sharing PostgreSQL; SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7301001)"))


def _tail_hash(session: Session) -> str:
    last = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    return last.first() or GENESIS


class AuditLog:
    """Appends events inside the caller's transaction, so an event commits with its change.

    Each append reads the chain's tail afresh rather than remembering its own last hash: another
    ``AuditLog`` on the same transaction may have appended since, or a savepoint holding this
    one's last event may have rolled back, and either would fork the chain.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, actor: str, action: str, subject: str, **detail: Any) -> None:
        self.record_many([(actor, action, subject, detail)])

    def record_many(self, events: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Append ``(actor, action, subject, detail)`` events, chained in order, in one insert."""
        if not events:
            return
        _lock_chain(self.session)  # re-entrant: PostgreSQL counts it, releases at commit
        prev = _tail_hash(self.session)
        at = datetime.now(UTC)
        rows = []
        for actor, action, subject, detail in events:
            detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
            digest = event_hash(prev, at, actor, action, subject, detail_json)
            rows.append({"at": at, "actor": actor, "action": action, "subject": subject,
                         "detail": detail_json, "prev_hash": prev, "hash": digest})
            prev = digest
        self.session.execute(insert(cast(Table, AuditEvent.__table__)), rows)
        self.session.info[APPENDED] = True


def verify_chain(session: Session, batch: int = 5000) -> Iterator[str]:
    """Yield one problem line per broken link; yields nothing for an intact chain."""
    prev = GENESIS
    last_seq = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last_seq)
                               .order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            if row.prev_hash != prev:
                yield f"audit event {row.seq}: prev_hash does not match event before it"
            expected = event_hash(row.prev_hash, row.at, row.actor, row.action, row.subject,
                                  row.detail)
            if expected != row.hash:
                yield f"audit event {row.seq} ({row.action} {row.subject}): content was altered"
            prev = row.hash
            last_seq = row.seq
        session.expunge_all()
