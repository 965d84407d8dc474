"""Mailbox rows: the per-folder checkpoint and health that ``maild status`` reports.

Sources call these between batches; each call is its own short transaction so a failing
mailbox records its error without touching anyone else's.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from maild.audit import AuditLog
from maild.db import storable
from maild.models import Mailbox

log = logging.getLogger("maild.checkpoints")


def get_or_create(sessions: sessionmaker[Session], source: str, folder: str) -> Mailbox:
    """The row for (source, folder), created on first sight; safe against a concurrent create."""
    query = select(Mailbox).where(Mailbox.source == source, Mailbox.folder == folder)
    with sessions() as session:
        row = session.scalars(query).first()
        if row is not None:
            return row
        session.add(Mailbox(source=source, folder=folder, last_uid=0))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        return session.scalars(query).one()


def record_error(sessions: sessionmaker[Session], mailbox_id: int, error: str) -> None:
    with sessions.begin() as session:
        row = session.get_one(Mailbox, mailbox_id)
        row.last_error = storable(error)[:2000]
        row.last_error_at = datetime.now(UTC)


def record_error_safely(sessions: sessionmaker[Session], mailbox_id: int, error: str) -> None:
    """Record an error even while the database itself is the problem: then it is only logged,
    and the source's retry loop goes on instead of dying."""
    try:
        record_error(sessions, mailbox_id, error)
    except SQLAlchemyError as exc:
        log.error("cannot record the error of mailbox %d (database: %s)", mailbox_id,
                  type(exc).__name__)


def record_sync(sessions: sessionmaker[Session], mailbox_id: int,
                uidnext: int | None = None, error: str | None = None) -> None:
    """A sync finished: stamp it, remember how far the server is, and replace the last error
    (cleared, or a problem the sync worked around, such as a message the server refused)."""
    with sessions.begin() as session:
        row = session.get_one(Mailbox, mailbox_id)
        row.last_sync = datetime.now(UTC)
        row.last_error = storable(error)[:2000] if error else None
        if error is not None:
            row.last_error_at = row.last_sync
        if uidnext is not None:
            row.server_uidnext = uidnext


def adopt_uidvalidity(sessions: sessionmaker[Session], mailbox_id: int, uidvalidity: int,
                      actor: str) -> Mailbox:
    """Record the folder's UIDVALIDITY; when it changed, restart the checkpoint from zero.

    RFC 3501 §2.3.1.1: a new UIDVALIDITY means old UIDs mean nothing any more. Everything is
    fetched again and content dedup (sha256) keeps what was already archived from repeating.
    """
    with sessions.begin() as session:
        row = session.get_one(Mailbox, mailbox_id)
        if row.uidvalidity is not None and row.uidvalidity != uidvalidity:
            AuditLog(session).record(actor, "uidvalidity_changed", row.label,
                                     old=row.uidvalidity, new=uidvalidity,
                                     old_last_uid=row.last_uid)
            row.last_uid = 0
        row.uidvalidity = uidvalidity
        return row
