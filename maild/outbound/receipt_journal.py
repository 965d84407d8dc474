"""The receipt journal: an append-only, fsync'd record of every message an SMTP server accepted.

The send step commits a row ``sent`` only after the server's 250 reply; a daemon killed between
that reply and the commit would leave the row ``sending`` and send it again on restart. So the
moment the server accepts, before the database commit, the send step appends one line here
(``<archive_dir>/receipts.log``). A restarted daemon looks up each ``sending`` row's Message-ID
with :func:`find` and, when the server's receipt is there, marks the row sent instead.

One JSON object per line (JSON Lines), ASCII only, newline-terminated::

    {"outbound_id":7,"message_id":"<...>","code":250,"text":"2.0.0 Ok: queued as 4XyZ",
     "queue_id":"4XyZ","at":"2026-03-10T08:15:42.123456+00:00"}

Lines from several processes never interleave: each line is one ``write(2)`` on a descriptor
opened with ``O_APPEND``, and on Linux a write to a regular file on a local filesystem (ext4,
xfs, btrfs, tmpfs) runs under the inode's lock, so the append position and the whole buffer go
in as one, at any size that fits one call. That does not hold on NFS: keep ``archive_dir``
local. A crash in the middle of a line leaves it torn; :func:`find` passes over it, and the
next :func:`record` starts on a fresh line (writers take an ``flock`` for that check, and it
is released when the descriptor closes, also by a killed process).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from maild.errors import ArchiveError

log = logging.getLogger("maild.outbound")

JOURNAL_NAME = "receipts.log"
_FLAGS = os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class JournalEntry:
    """One server acceptance: which outbound row, which message, the reply and its time."""

    outbound_id: int
    message_id: str
    code: int
    text: str
    queue_id: str | None
    at: datetime


def record(path: Path, entry: JournalEntry) -> None:
    """Append ``entry`` as one line and fsync it (and the directory when this call created the
    file, so the file's name survives a power cut too). The file is created mode 0600: reply
    texts name recipients. When this returns, the line is on disk.

    Raises:
        ValueError: ``entry.at`` is naive (a time read back must be unambiguous).
        ArchiveError: the journal cannot be opened or written (names the file).
    """
    if entry.at.tzinfo is None or entry.at.utcoffset() is None:
        raise ValueError("a journal entry's time must be timezone-aware")
    line = (json.dumps({"outbound_id": entry.outbound_id, "message_id": entry.message_id,
                        "code": entry.code, "text": entry.text, "queue_id": entry.queue_id,
                        "at": entry.at.isoformat()}, separators=(",", ":"))
            + "\n").encode("ascii")
    try:
        fd, created = _open(path)
        try:
            # The lock makes "does the file end mid-line?" and the write one step: a writer
            # that looked while another's long line was half copied would see it unfinished.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _ends_torn(fd):  # a crash left half a line: this one must not stick to it
                line = b"\n" + line
            if os.write(fd, line) != len(line):
                raise OSError(0, "short write (disk full?)")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)
    except OSError as exc:
        raise ArchiveError(f"cannot write the receipt journal {path}: "
                           f"{exc.strerror or exc}") from exc


def find(path: Path, message_id: str) -> JournalEntry | None:
    """The last entry recorded for ``message_id``, or None (no such entry, or no journal yet).

    Reads the whole file: it is consulted only for rows a crash left ``sending``. Lines that do
    not parse (a line torn by a crash) are passed over, and logged.

    Raises:
        ArchiveError: the journal exists but cannot be read.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArchiveError(f"cannot read the receipt journal {path}: {exc.strerror}") from exc
    found: JournalEntry | None = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            if fields["message_id"] != message_id:
                continue
            found = _entry(fields)
        except (ValueError, KeyError, TypeError):
            log.warning("skipped torn or damaged line journal=%s line=%d", path, number)
    return found


def _entry(fields: dict[str, object]) -> JournalEntry:
    """A JournalEntry from one decoded line, every field of its type (else ValueError)."""
    outbound_id, code, text, queue_id, at = (fields[k] for k in (
        "outbound_id", "code", "text", "queue_id", "at"))
    if not (isinstance(outbound_id, int) and isinstance(code, int) and isinstance(text, str)
            and (queue_id is None or isinstance(queue_id, str)) and isinstance(at, str)):
        raise ValueError("a field of the wrong type")
    return JournalEntry(outbound_id=outbound_id, message_id=str(fields["message_id"]),
                        code=code, text=text, queue_id=queue_id,
                        at=datetime.fromisoformat(at))


def _open(path: Path) -> tuple[int, bool]:
    """Open for appending; True when this call created the file (mode 0600)."""
    try:
        return os.open(path, _FLAGS | os.O_CREAT | os.O_EXCL, 0o600), True
    except FileExistsError:
        return os.open(path, _FLAGS), False


def _ends_torn(fd: int) -> bool:
    """True when the file does not end with a newline (a crash came mid-line)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
