"""The audit chain's head, anchored outside the database in ``archive/audit-head.log``.

A hash chain proves that no event inside it was edited, but a chain with its last events
deleted is still a valid chain. So after every commit that appended audit events, the newest
event's ``seq hash time`` is appended as one line to a file in the archive directory; ``maild
archive verify`` then checks that every head in the file is in the chain, at that seq, with that
hash. Deleting the last rows, or rewriting the chain, needs the file changed as well.

Why session events: events are written by ``AuditLog`` inside whoever's transaction (ingest,
requeue, the IMAP source...), and the line may only be written once that transaction has
committed (a head the database does not have would be a false alarm). Hooks installed once on
the daemon's session factory cover every writer, present and future, without each remembering
a post-commit call. The head is read in ``before_commit``, inside the transaction, so it is
exactly what commits: on PostgreSQL the chain's advisory lock is held until the commit, and
SQLite has one writer; events in a rolled-back savepoint are not counted. A crash between the
commit and the write leaves the file one head behind, which verify accepts (the chain may run
past the file's last head, never the other way).

Each line is one ``O_APPEND`` write, so daemons sharing the archive directory never interleave
lines; the order of lines from different daemons may differ from seq order, which verify does
not rely on. One ``fdatasync`` per commit (ingest commits are batches) keeps the file at most
one power cut behind the database.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from maild.audit import APPENDED
from maild.models import AuditEvent

log = logging.getLogger("maild.audit")

HEAD_FILE = "audit-head.log"
_PENDING = "maild.audit.pending_head"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
_LINE = re.compile(r"(\d+) ([0-9a-f]{64}) (\S+)")


@dataclass(frozen=True)
class Head:
    """The newest event of the chain at one commit; ``at`` in UTC."""

    seq: int
    hash: str
    at: datetime

    def line(self) -> str:
        return f"{self.seq} {self.hash} {self.at.isoformat(timespec='microseconds')}"


def head_file(archive_dir: Path) -> Path:
    return archive_dir / HEAD_FILE


def chain_head(session: Session) -> Head | None:
    """The newest event of the chain as this session sees it, or None for an empty log."""
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash, AuditEvent.at)
                          .order_by(AuditEvent.seq.desc()).limit(1)).first()
    if row is None:
        return None
    at = row.at.astimezone(UTC) if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite: naive
    return Head(row.seq, row.hash, at)


def append_head(path: Path, head: Head) -> None:
    """Append ``head`` as one line with a single write, then flush it to disk."""
    fd = os.open(path, _FLAGS, 0o640)
    try:
        os.write(fd, (head.line() + "\n").encode("ascii"))
        os.fdatasync(fd)
    finally:
        os.close(fd)


def read_heads(path: Path) -> Iterator[tuple[int, Head | None]]:
    """``(line number, head)`` for every line of the file, streamed; ``None`` for a line that
    is not a head record."""
    with path.open("r", encoding="ascii", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            match = _LINE.fullmatch(line.rstrip("\n"))
            head = None
            if match:
                try:
                    head = Head(int(match[1]), match[2], datetime.fromisoformat(match[3]))
                except ValueError:
                    head = None
            yield number, head


def anchor_heads(sessions: sessionmaker[Session], archive_dir: Path) -> None:
    """Make every session of ``sessions`` append the chain's head to the archive's head file
    after each commit that appended audit events (see the module docstring)."""
    path = head_file(archive_dir)

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint: the outer transaction decides
        appended = session.info.pop(APPENDED, False)
        session.info[_PENDING] = chain_head(session) if appended else None

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        head = session.info.pop(_PENDING, None)
        if head is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            append_head(path, head)
        except OSError as exc:
            # The events are committed; raising here would make the caller think they were
            # not. The file stays a head behind, which verify accepts, and the log says why.
            log.error("cannot anchor audit head seq=%d in %s: %s", head.seq, path, exc)

    def after_rollback(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(APPENDED, None)
            session.info.pop(_PENDING, None)

    event.listen(sessions, "before_commit", before_commit)
    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
