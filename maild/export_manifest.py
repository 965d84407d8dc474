"""The two files that make an export checkable without maild: ``manifest.jsonl`` and
``audit.jsonl`` (issue 11).

``manifest.jsonl`` is JSON Lines, one object per line, keys sorted, UTF-8:

- line 1, ``{"type": "export", "format": "maild-export/1", "client", "case", "since",
  "until"}``: what was selected (the same selection may be exported again into the same target;
  another one may not, see :mod:`maild.export`);
- one ``{"type": "message", "folder", "case", "direction", "kind", "time", "internal_date",
  "sha256", "size", "message_id", "receipts"}`` line per exported message, folder by folder in
  export order; over IMAP a message whose bytes IMAP cannot carry unchanged also has
  ``"stored_as"`` and ``"stored_sha256"`` (see :func:`maild.export_imap.imap_form`);
- a last ``{"type": "end", "messages", "audit_events", "audit_sha256"}`` line that seals the
  audit extract into the manifest.

Every line also carries ``"prev"``: the SHA-256 of the line before it (the bytes between the
newlines; 64 zeros for the first line). So an edited, removed or inserted line breaks the chain
at that line, and the SHA-256 of the last line, the **head**, stands for the whole manifest and
through it for every message hash and the audit extract. The exporter prints the head and
records it in maild's own audit log (event ``exported``); ``maild export verify TARGET --head
HASH`` checks that the manifest is the one the exporter wrote.

``audit.jsonl`` holds the audit events about the exported cases and messages, each with the
fields of :class:`maild.models.AuditEvent` as stored (``detail`` is the stored JSON text, since
the hash covers that text), so each event's hash can be recomputed with
:func:`maild.audit.event_hash`, and consecutive events link by ``prev_hash`` as in the full
chain; an event's ``hash`` can be looked up in the full chain (``maild case``, ``maild archive
verify``).

Written once, streamed to a file (never held in memory), synced, then moved into place by the
target.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from maild.models import AuditEvent

FORMAT = "maild-export/1"
GENESIS = "0" * 64
MANIFEST = "manifest.jsonl"
AUDIT = "audit.jsonl"


def dumps(record: dict[str, Any]) -> bytes:
    """One manifest or audit line: compact JSON, keys sorted, UTF-8 (no newline)."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def line_hash(line: bytes) -> str:
    """The chain's hash of one line (without its newline)."""
    return hashlib.sha256(line).hexdigest()


def stamp(at: datetime) -> str:
    """A time as the files write it: ISO 8601 in UTC, microseconds kept (``event_hash`` needs
    them)."""
    utc = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return utc.isoformat(timespec="microseconds")


def _sync_close(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


class ManifestWriter:
    """Writes ``manifest.jsonl`` to ``path`` line by line, chaining each line to the one before.

    ``end`` seals it and returns the head; the file is synced before ``end`` returns.
    """

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.messages = 0
        self._prev = GENESIS
        self._file: IO[bytes] = path.open("wb")
        self._write({"type": "export", "format": FORMAT, **header})

    def add(self, record: dict[str, Any]) -> None:
        """One message line (``type`` is set here)."""
        self.messages += 1
        self._write({"type": "message", **record})

    def end(self, audit_sha256: str, audit_events: int) -> str:
        """Write the end line, sync and close the file; return the manifest's head."""
        self._write({"type": "end", "messages": self.messages, "audit_events": audit_events,
                     "audit_sha256": audit_sha256})
        _sync_close(self._file)
        return self._prev

    def discard(self) -> None:
        """Close and remove an unfinished manifest (the export failed)."""
        self._file.close()
        self.path.unlink(missing_ok=True)

    def _write(self, record: dict[str, Any]) -> None:
        line = dumps({**record, "prev": self._prev})
        self._file.write(line + b"\n")
        self._prev = line_hash(line)


class AuditWriter:
    """Writes ``audit.jsonl``: one line per audit event, in chain order, hashing as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events = 0
        self._digest = hashlib.sha256()
        self._file: IO[bytes] = path.open("wb")

    def add(self, event: AuditEvent) -> None:
        line = dumps({"seq": event.seq, "at": stamp(event.at), "actor": event.actor,
                      "action": event.action, "subject": event.subject,
                      "detail": event.detail, "prev_hash": event.prev_hash,
                      "hash": event.hash}) + b"\n"
        self._file.write(line)
        self._digest.update(line)
        self.events += 1

    def close(self) -> str:
        """Sync and close; return the SHA-256 of the whole file."""
        _sync_close(self._file)
        return self._digest.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, line without its newline)`` for every line of a JSON Lines file,
    streamed."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            yield number, line.rstrip(b"\n")


def parse_line(line: bytes) -> dict[str, Any] | None:
    """The JSON object of one line, or None when the line is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def head_of(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The header record and the head (hash of the last line) of a manifest file, or
    ``(None, None)`` when there is none."""
    if not path.exists():
        return None, None
    header = last = None
    for number, line in read_lines(path):
        if number == 1:
            header = parse_line(line)
        last = line
    return header, (line_hash(last) if last is not None else None)
