"""The mbox target of an export (``mbox:PATH``): a directory holding one mboxrd file per folder
(``<ticket>.mbox``, ``unmatched.mbox``) beside ``manifest.jsonl`` and ``audit.jsonl``.

mboxrd, written and read here rather than with :mod:`mailbox`: the standard library writes
mboxo, which turns a body line ``>From `` and a line ``From `` into the same bytes, so the
original cannot be recovered and its SHA-256 not checked. mboxrd quotes every line that matches
``>*From `` by one more ``>`` and the reader takes exactly one away, which is reversible. Each
message is ``From MAILER-DAEMON <asctime of INTERNALDATE>\\n``, the quoted bytes, then one
``\\n``; the reader drops that last ``\\n`` and nothing else, so messages keep their own line
endings (CRLF or LF) and a missing final newline. Lines are split at ``\\n`` only, by writer and
reader alike.

A resumed run reads each folder's file and hashes its messages; a last message cut short by a
crash (its bytes hash to no message of the folder) is cut off before more are appended. Each
folder's file is fsynced when the folder is done.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from maild.export_targets import Copy, ExportError, FileExport, FolderWriter, Found

log = logging.getLogger("maild.export")

FROM_QUOTED = re.compile(rb"^(>*From )", re.MULTILINE)
_MBOX = ".mbox"


def from_line(when: datetime) -> bytes:
    """The separator line of one message: ``From MAILER-DAEMON Tue Mar 10 09:00:00 2026``."""
    return b"From MAILER-DAEMON " + when.astimezone(UTC).ctime().encode("ascii") + b"\n"


def mboxrd_entry(data: bytes, when: datetime) -> bytes:
    """One message as mboxrd stores it (module docstring)."""
    return from_line(when) + FROM_QUOTED.sub(rb">\1", data) + b"\n"


@dataclass(frozen=True)
class MboxMessage:
    """A message read from an mbox: its number (from 1), where its From line starts, its
    bytes."""

    number: int
    offset: int
    data: bytes


def read_mbox(path: Path) -> Iterator[MboxMessage]:
    """Every message of an mboxrd file, one at a time; the inverse of :func:`mboxrd_entry`.

    Raises ExportError when the file does not start with a From line (not an mbox).
    """
    with path.open("rb") as handle:
        number = offset = start = 0
        parts: list[bytes] | None = None
        pending = False  # a line's "\n", held back: it is the separator if a From line follows
        for line in handle:
            length = len(line)
            if line.startswith(b"From "):
                if parts is not None:
                    yield MboxMessage(number, start, b"".join(parts))
                number, start, parts, pending = number + 1, offset, [], False
            elif parts is None:
                raise ExportError(f"{path} is not an mbox: it does not start with a From line")
            else:
                if pending:
                    parts.append(b"\n")
                if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                    line = line[1:]
                pending = line.endswith(b"\n")
                parts.append(line[:-1] if pending else line)
            offset += length
        if parts is not None:
            yield MboxMessage(number, start, b"".join(parts))


class MboxFolder:
    def __init__(self, path: Path, dry_run: bool) -> None:
        self.path = path
        self.dry_run = dry_run
        self._file: IO[bytes] | None = None

    def open(self, expected: Mapping[str, int]) -> set[str]:
        present: set[str] = set()
        if not self.path.exists():
            return present
        last: tuple[int, str] | None = None
        for message in read_mbox(self.path):
            sha = hashlib.sha256(message.data).hexdigest()
            present.add(sha)
            last = (message.offset, sha)
        if last is not None and (last[1] not in expected or not _ends_in_newline(self.path)):
            # The last message hashes to none of the folder's, or its separator line never
            # came: a write cut short (kill -9, power cut). Cut it off, so the messages
            # appended next start on a clean line (a message without a final newline would
            # otherwise run into the next "From " line).
            present.discard(last[1])
            if not self.dry_run:
                log.warning("export %s: the last message (from byte %d) is incomplete; "
                            "removing it", self.path, last[0])
                with self.path.open("r+b") as handle:
                    handle.truncate(last[0])
                    os.fsync(handle.fileno())
        return present

    def add(self, copies: Sequence[Copy]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
        for copy in copies:
            self._file.write(mboxrd_entry(copy.data, copy.when))

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


class MboxExport(FileExport):
    """``mbox:PATH``: a directory holding one mboxrd file per folder."""

    def folder(self, name: str) -> FolderWriter:
        return MboxFolder(self.root / f"{name}{_MBOX}", self.dry_run)

    def folders(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name[: -len(_MBOX)] for p in self.root.glob(f"*{_MBOX}")
                      if p.is_file())

    def messages(self, folder: str) -> Iterator[Found]:
        path = self.root / f"{folder}{_MBOX}"
        for message in read_mbox(path):
            yield Found(f"message {message.number} of {path.name} (byte {message.offset})",
                        message.data)


def _ends_in_newline(path: Path) -> bool:
    """Whether the mbox file ends with the newline every message's separator adds."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
