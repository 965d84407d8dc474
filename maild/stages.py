"""The parse stage: archived messages become notices, one short transaction per batch.

Rows move ``archived -> parsed`` (or ``-> quarantined`` when the parser could not read the
message: the error is kept on the row and the raw bytes stay in the archive, so nothing is lost
and ``maild requeue`` can replay it after a fix). Claims use ``FOR UPDATE SKIP LOCKED`` so several
daemons sharing PostgreSQL never parse the same row twice; SQLite has a single writer anyway.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild import __version__
from maild.archive import RawStore
from maild.audit import AuditLog
from maild.db import storable
from maild.errors import ArchiveError
from maild.models import Message, Notice
from maild.parsers import Notice as ParsedNotice
from maild.parsers import parse_message

log = logging.getLogger("maild.stages")

PARSE_BATCH = 50
IDLE_SECONDS = 0.5


def notice_row(message: Message, parsed: ParsedNotice) -> Notice:
    """The database row of a parsed notice; all text made storable (no NUL characters)."""

    def text(value: str) -> str:
        return storable(value)

    def optional(value: str | None) -> str | None:
        return None if value is None else storable(value)

    return Notice(
        message_id=message.id, platform=text(parsed.platform),
        marketplace=optional(parsed.marketplace), category=text(parsed.category),
        priority=text(parsed.priority), deadline=parsed.deadline,
        deadline_text=optional(parsed.deadline_text), effective_date=parsed.effective_date,
        identifiers={key: [storable(v) for v in values]
                     for key, values in parsed.identifiers.items()},
        language=text(parsed.language), sender_verified=parsed.sender_verified,
        action_required=parsed.action_required, subject=text(parsed.subject),
        sent_at=parsed.sent_at, summary_zh=text(parsed.summary_zh),
        summary_en=text(parsed.summary_en), parser=text(parsed.parser), version=__version__,
        error=optional(parsed.error), parsed_at=datetime.now(UTC))


def parse_batch(sessions: sessionmaker[Session], store: RawStore,
                limit: int = PARSE_BATCH) -> int:
    """Parse up to ``limit`` archived inbound messages; returns how many were handled."""
    with sessions.begin() as session:
        claimed = session.scalars(
            select(Message).where(Message.stage == "archived", Message.direction == "in")
            .order_by(Message.id).limit(limit).with_for_update(skip_locked=True)).all()
        for message in claimed:
            try:
                parsed = parse_message(store.get(message.sha256))
            except ArchiveError as exc:
                message.stage, message.error = "quarantined", storable(str(exc))
                log.error("quarantined message=%d error=%s", message.id, exc)
                continue
            session.add(notice_row(message, parsed))
            if parsed.error:
                message.stage, message.error = "quarantined", storable(parsed.error)
                log.warning("quarantined message=%d error=%s", message.id, parsed.error)
            else:
                message.stage = "parsed"
                log.info("parsed message=%d %s", message.id, parsed.describe(message.origin))
        return len(claimed)


def parse_pending(sessions: sessionmaker[Session], store: RawStore) -> int:
    """Parse until nothing archived is left (``maild run --once``)."""
    total = 0
    while count := parse_batch(sessions, store):
        total += count
    return total


class ParseWorker:
    """Runs the parse stage in the daemon: drains archived rows, then checks twice a second."""

    label = "parse-stage"

    def __init__(self, sessions: sessionmaker[Session], store: RawStore,
                 stop: threading.Event) -> None:
        self.sessions = sessions
        self.store = store
        self.stop = stop

    def run_once(self) -> int:
        return parse_pending(self.sessions, self.store)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                if parse_batch(self.sessions, self.store):
                    continue
            except Exception:  # noqa: BLE001 - the rows stay 'archived' and are retried
                log.exception("parse stage failed; retrying")
                self.stop.wait(5.0)
            self.stop.wait(IDLE_SECONDS)


def requeue(sessions: sessionmaker[Session], actor: str) -> int:
    """Send every quarantined message back to the parse stage, e.g. after a parser fix or a
    restored archive file; their old notices are dropped and the replay is audited."""
    with sessions.begin() as session:
        rows = session.scalars(select(Message).where(Message.stage == "quarantined")).all()
        for message in rows:
            if message.notice is not None:
                session.delete(message.notice)
            message.stage, message.error = "archived", None
        if rows:
            AuditLog(session).record(actor, "requeued", f"{len(rows)} message(s)",
                                     ids=[m.id for m in rows])
        return len(rows)
