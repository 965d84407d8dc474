"""The parse step: archived platform mail becomes a notice row.

Rows move ``archived -> parsed``, or ``-> quarantined`` when the parser could not read the
message (the notice keeps its error) or its archive file is missing; the raw bytes stay in the
archive, so nothing is lost and ``maild requeue --stage parse`` replays it after a fix.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from maild import __version__
from maild.archive import RawStore
from maild.db import storable
from maild.models import Message, Notice
from maild.parsers import Notice as ParsedNotice
from maild.parsers import parse_message
from maild.parsers.isolated import IsolatedParser, ParseInterrupted
from maild.stages import Interrupted, MessageStep, Stage

log = logging.getLogger("maild.stages")


def notice_row(message: Message, parsed: ParsedNotice) -> Notice:
    """The database row of a parsed notice; all text made storable (no NUL characters)."""

    def optional(value: str | None) -> str | None:
        return None if value is None else storable(value)

    return Notice(
        message_id=message.id, platform=storable(parsed.platform),
        marketplace=optional(parsed.marketplace), category=storable(parsed.category),
        priority=storable(parsed.priority), deadline=parsed.deadline,
        deadline_text=optional(parsed.deadline_text), effective_date=parsed.effective_date,
        identifiers={key: [storable(v) for v in values]
                     for key, values in parsed.identifiers.items()},
        language=storable(parsed.language), sender_verified=parsed.sender_verified,
        action_required=parsed.action_required, subject=storable(parsed.subject),
        sent_at=parsed.sent_at, summary_zh=storable(parsed.summary_zh),
        summary_en=storable(parsed.summary_en), parser=storable(parsed.parser),
        version=__version__, error=optional(parsed.error), parsed_at=datetime.now(UTC),
        metrics=dict(parsed.metrics))


class ParseStep(MessageStep):
    """Reads each archived message's bytes and parses them into a notice.

    The daemon parses through an :class:`IsolatedParser` (a worker process with a time
    budget), so one pathological message is quarantined with a clear error instead of freezing
    every thread; without one (tests, ``maild requeue``) it parses in this process.
    """

    name: ClassVar[str] = "parse"
    takes: ClassVar[Stage] = Stage.ARCHIVED

    def __init__(self, store: RawStore, parser: IsolatedParser | None = None) -> None:
        self.store = store
        self.parser = parser

    def prepare(self, message: Message) -> ParsedNotice:
        raw = self.store.get(message.sha256)
        if self.parser is None:
            return parse_message(raw)
        try:
            return self.parser.parse(raw)
        except ParseInterrupted as exc:  # shutting down: the row stays archived
            raise Interrupted(str(exc)) from exc

    def apply(self, session: Session, message: Message, result: ParsedNotice) -> Stage:
        session.add(notice_row(message, result))
        if result.error:
            message.error = storable(result.error)
            log.warning("quarantined message=%d error=%s", message.id, result.error)
            return Stage.QUARANTINED
        log.info("parsed message=%d %s", message.id, result.describe(message.origin))
        return Stage.PARSED

    def reset(self, session: Session, message: Message) -> None:
        """A replayed parse replaces the notice an earlier run stored with its error."""
        if message.notice is not None:
            session.delete(message.notice)
            session.flush()
