"""The first stage of every message: bytes durably archived, then one transaction that adds the
message rows, their audit events and the advanced fetch checkpoint together.

Because the archive files are fsynced before that transaction and the checkpoint moves inside
it, a crash at any point either leaves the checkpoint behind (the messages are fetched again and
deduplicated by content) or has everything committed: nothing is lost and nothing duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore, Stored
from maild.audit import ARCHIVED_FIELDS, AuditLog
from maild.bell import Bell
from maild.db import storable
from maild.models import Mailbox, Message
from maild.stages import Stage

_HEADER_LIMIT = 256 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class Incoming:
    """One message as a source hands it over."""

    raw: bytes
    origin: str
    uid: int | None = None
    internal_date: datetime | None = None
    stage: Stage = Stage.ARCHIVED  # see maild.stages.first_stage


@dataclass(frozen=True)
class Checkpoint:
    """Where a source stands after a batch: the mailbox row and the highest UID now safe."""

    mailbox_id: int
    uidvalidity: int | None
    last_uid: int


@dataclass(frozen=True)
class BatchResult:
    new: int
    duplicates: int


def header_end(head: bytes) -> int:
    """Where the header block ends: the first empty line (CRLF or bare LF), else the end."""
    ends = [at for at in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if at >= 0]
    return min(ends) if ends else len(head)


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID header, read leniently from the raw header block (any bytes accepted).

    Plain byte searches rather than a multi-line regex: this runs for every archived message.
    """
    head = raw[:_HEADER_LIMIT]
    block = b"\n" + head[: header_end(head)]
    at = block.lower().find(b"\nmessage-id:")
    if at < 0:
        return None
    start = stop = at + len(b"\nmessage-id:")
    while (newline := block.find(b"\n", stop)) >= 0 and block[newline + 1:newline + 2] in (
            b" ", b"\t"):
        stop = newline + 1  # a folded continuation line belongs to the value
    value = b" ".join(block[start:newline if newline >= 0 else len(block)].split())
    return storable(value.decode("utf-8", "replace"))[:998] or None


def batched(items: Iterable[T], size: Callable[[T], int], max_count: int,
            max_bytes: int) -> Iterator[list[T]]:
    """Group ``items`` in order so each batch stays under a count and a byte budget.

    Items are drawn one at a time and a batch is handed on as soon as the next item would
    overflow it; an item bigger than the budget gets a batch of its own. So a source read
    lazily (IMAP sizes, files on disk) holds at most one batch and one item in memory, bounded
    by the budget and the largest message rather than by the mailbox.
    """
    batch: list[T] = []
    total = 0
    for item in items:
        weight = size(item)
        if batch and (len(batch) >= max_count or total + weight > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += weight
    if batch:
        yield batch


class Ingestor:
    """Archives batches of messages and commits them with their source's checkpoint."""

    def __init__(self, store: RawStore, sessions: sessionmaker[Session], actor: str,
                 bell: Bell | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.sessions = sessions
        self.actor = actor
        self.bell = bell or Bell()
        self.clock = clock or (lambda: datetime.now(UTC))  # received_at starts the SLA clock

    def ingest(self, items: Sequence[Incoming], checkpoint: Checkpoint | None = None,
               mailbox_id: int | None = None) -> BatchResult:
        """Archive ``items`` durably, then commit their rows and ``checkpoint`` atomically.

        A concurrent writer inserting the same content first is not an error: the transaction
        is retried once and that message then counts as a duplicate.
        """
        stored = self.store.put_many(item.raw for item in items)
        return self.commit(items, stored, checkpoint, mailbox_id)

    def commit(self, items: Sequence[Incoming], stored: Sequence[Stored],
               checkpoint: Checkpoint | None = None,
               mailbox_id: int | None = None) -> BatchResult:
        """Commit rows for ``items`` whose bytes ``stored`` already made durable (in order)."""
        for attempt in (1, 2):
            try:
                return self._commit(items, stored, checkpoint, mailbox_id)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _commit(self, items: Sequence[Incoming], stored: Sequence[Stored],
                checkpoint: Checkpoint | None, mailbox_id: int | None) -> BatchResult:
        now = self.clock()
        shas = [s.sha256 for s in stored]
        duplicates = 0
        with self.sessions.begin() as session:
            known = set(session.scalars(select(Message.sha256).where(Message.sha256.in_(shas))))
            rows: list[dict[str, object]] = []
            events = []
            for item, sha in zip(items, shas, strict=True):
                if sha in known:
                    duplicates += 1
                    continue
                known.add(sha)
                rows.append({
                    "sha256": sha, "size": len(item.raw),
                    "message_id": header_message_id(item.raw),
                    "mailbox_id": checkpoint.mailbox_id if checkpoint else mailbox_id,
                    "uidvalidity": checkpoint.uidvalidity if checkpoint else None,
                    "uid": item.uid, "origin": storable(item.origin)[:1000],
                    "internal_date": item.internal_date, "received_at": now,
                    "stage": item.stage.value, "direction": "in", "error": None,
                })
                events.append((self.actor, "archived", sha,
                               {key: rows[-1][key] for key in ARCHIVED_FIELDS}))
            reached = {str(row["stage"]) for row in rows}
            if rows:
                session.execute(insert(cast(Table, Message.__table__)), rows)
                AuditLog(session).record_many(events)
                self.bell.announce(session, reached)
            new = len(rows)
            if checkpoint is not None:
                mailbox = session.get_one(Mailbox, checkpoint.mailbox_id)
                # UIDs of another UIDVALIDITY mean nothing here (the folder was recreated while
                # this batch was in hand): the rows stand, the checkpoint stays.
                if mailbox.uidvalidity == checkpoint.uidvalidity:
                    mailbox.last_uid = max(mailbox.last_uid, checkpoint.last_uid)
                mailbox.last_sync = now
        if new:
            self.bell.ring(reached)  # the next step wakes now, not at its next poll
        return BatchResult(new=new, duplicates=duplicates)
