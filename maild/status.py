"""What ``maild status`` reports per mailbox: checkpoint, volume, lag and health."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maild.models import Mailbox, Message


@dataclass(frozen=True)
class MailboxStatus:
    mailbox: str
    uidvalidity: int | None
    last_uid: int
    last_sync: datetime | None
    archived: int
    lag_messages: int | None
    lag_seconds: float | None
    last_error: str | None
    leased_by: str | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_sync"] = self.last_sync.isoformat() if self.last_sync else None
        return data


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _live_lease(box: Mailbox, now: datetime) -> str | None:
    expires = _aware(box.lease_expires)
    return box.lease_owner if expires is not None and expires > now else None


def mailbox_status(session: Session, now: datetime | None = None) -> list[MailboxStatus]:
    """One row per known mailbox. ``lag_messages`` counts UIDs the server had at the last look
    that are not archived yet; ``lag_seconds`` is the age of the last successful sync."""
    now = now or datetime.now(UTC)
    counts = dict(session.execute(
        select(Message.mailbox_id, func.count()).group_by(Message.mailbox_id)).all())
    rows = []
    for box in session.scalars(select(Mailbox).order_by(Mailbox.source, Mailbox.folder)):
        last_sync = _aware(box.last_sync)
        lag = None
        if box.server_uidnext:
            lag = max(0, box.server_uidnext - 1 - box.last_uid)
        rows.append(MailboxStatus(
            mailbox=box.label, uidvalidity=box.uidvalidity, last_uid=box.last_uid,
            last_sync=last_sync, archived=counts.get(box.id, 0), lag_messages=lag,
            lag_seconds=round((now - last_sync).total_seconds(), 1) if last_sync else None,
            last_error=box.last_error, leased_by=_live_lease(box, now)))
    return rows
