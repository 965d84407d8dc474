"""Read raw messages from paths on disk: ``.eml`` files, directories, mbox files and Maildirs.

Shared by ``maild parse`` (no database) and ``maild ingest`` (backfills), so both see the same
messages under the same labels. Messages are yielded one at a time and never all held in memory.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from maild.errors import SourceError

_SINGLE_MESSAGE_SUFFIXES = {".eml", ".msg", ".txt"}
# Inside a directory, files with these suffixes are labels, notes, scripts or documents lying
# beside the mail, not mail. (An allow-list cannot work: Maildir names such as
# "1700000000.M1P2.host:2,S" have any suffix at all.)
_NOT_MAIL_SUFFIXES = {".json", ".jsonl", ".md", ".rst", ".py", ".toml", ".yaml", ".yml", ".csv",
                      ".tsv", ".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".zip",
                      ".gz", ".log", ".sh"}


@dataclass(frozen=True)
class RawMessage:
    """One message as found on disk: where it came from and its exact bytes."""

    source: str
    raw: bytes


def is_maildir(path: Path) -> bool:
    """A Maildir is a directory holding ``cur`` and ``new`` (``tmp`` is optional when copied)."""
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def looks_like_mbox(path: Path) -> bool:
    """An mbox file starts with a ``From `` envelope line; a lone ``.eml`` never counts as one."""
    if path.suffix.lower() in _SINGLE_MESSAGE_SUFFIXES:
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def iter_maildir(path: Path) -> Iterator[RawMessage]:
    """Yield the messages of a Maildir, ``new`` then ``cur``, in file-name (delivery) order."""
    for sub in ("new", "cur"):
        folder = path / sub
        for name in sorted(os.listdir(folder)):
            if name.startswith("."):
                continue
            file_path = folder / name
            if file_path.is_file():
                yield RawMessage(str(file_path), file_path.read_bytes())


def iter_mbox(path: Path) -> Iterator[RawMessage]:
    """Yield the messages of an mbox file as ``path#n`` (1-based), without the ``From `` line."""
    box = mailbox.mbox(str(path), create=False)
    try:
        for index, key in enumerate(box.iterkeys(), start=1):
            yield RawMessage(f"{path}#{index}", box.get_bytes(key))
    finally:
        box.close()


def iter_directory(path: Path) -> Iterator[RawMessage]:
    """Yield every message below a plain directory, recursing, in sorted path order.

    Files named on the command line are always read; inside a directory, labels and documents
    (``.json``, ``.md``, ``.csv`` …) are passed over, so a folder of ``.eml`` files with ``.json``
    labels beside them parses as just its messages.
    """
    for entry in sorted(path.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in _NOT_MAIL_SUFFIXES:
            continue
        yield from iter_path(entry)


def iter_path(path: Path) -> Iterator[RawMessage]:
    """Yield the messages found at one path, whatever kind of container it is.

    Raises SourceError when the path does not exist or cannot be read.
    """
    try:
        if is_maildir(path):
            yield from iter_maildir(path)
        elif path.is_dir():
            yield from iter_directory(path)
        elif looks_like_mbox(path):
            yield from iter_mbox(path)
        elif path.is_file():
            yield RawMessage(str(path), path.read_bytes())
        else:
            raise SourceError(f"{path}: no such file or directory")
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
