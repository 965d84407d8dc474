"""Read raw messages from paths on disk: ``.eml`` files, directories, mbox files and Maildirs.

Shared by ``maild parse`` (no database) and ``maild ingest`` (backfills), so both see the same
messages under the same labels. Messages are yielded one at a time and never all held in memory.

Only regular files are read. A path named on the command line is the operator's choice and is
followed if it is a symbolic link (``~/mail`` -> ``/data/mail`` works); nothing found *inside* a
directory, mbox or Maildir is followed: a symbolic link there, a FIFO, a socket or a device is
passed to ``on_skip`` with the reason, and the walk goes on. That keeps a walk inside the tree it
was given (no loop repeating one message, no ``-> /etc`` read as mail) and means a FIFO can never
block it. Every file is opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` on the
open descriptor, so an entry swapped between the listing and the open is still refused.
"""

from __future__ import annotations

import errno
import mailbox
import os
import stat
from collections.abc import Callable, Iterator
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
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
_LINK_HINT = " (not followed inside a directory; name its target to read it)"

#: Called with each path or entry that could not be read; the walk then goes on.
OnSkip = Callable[[SourceError], None]


@dataclass(frozen=True)
class RawMessage:
    """One message as found on disk: where it came from and its exact bytes."""

    source: str
    raw: bytes


def file_kind(mode: int) -> str:
    """What a directory entry that is not a regular file is, for a message saying why it was
    skipped or refused (``a FIFO``, ``a symbolic link`` ...)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _skipped(path: Path, mode: int) -> SourceError:
    hint = _LINK_HINT if stat.S_ISLNK(mode) else ""
    return SourceError(f"{path}: {file_kind(mode)}{hint}, skipped")


def _unreadable(path: Path, exc: OSError) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"{path}: no such file or directory")
    return SourceError(f"{path}: cannot read ({exc.strerror or exc})")


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def is_maildir(path: Path) -> bool:
    """A Maildir is a directory holding ``cur`` and ``new`` (``tmp`` is optional when copied);
    ``cur`` and ``new`` must be real directories, not links."""
    return path.is_dir() and _is_real_dir(path / "cur") and _is_real_dir(path / "new")


def _open_regular(path: Path, *, follow: bool) -> int:
    """A read descriptor on ``path``, which must be a regular file (checked on the descriptor).

    ``O_NONBLOCK`` keeps the open of a FIFO swapped in after the listing from blocking; on a
    regular file it changes nothing.
    """
    fd = os.open(path, _READ_FLAGS if follow else _READ_FLAGS | os.O_NOFOLLOW)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _skipped(path, mode)
    return fd


def iter_maildir(path: Path, on_skip: OnSkip) -> Iterator[RawMessage]:
    """Yield the messages of a Maildir, ``new`` then ``cur``, in file-name (delivery) order."""
    for sub in ("new", "cur"):
        folder = path / sub
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            on_skip(_unreadable(folder, exc))
            continue
        for name in names:
            if not name.startswith("."):
                yield from _iter_entry(folder / name, on_skip, follow=False, in_maildir=True)


def iter_mbox(path: Path, fd: int) -> Iterator[RawMessage]:
    """Yield the messages of the mbox open at ``fd`` as ``path#n`` (1-based), without the
    ``From `` line.

    ``mailbox.mbox`` opens by name; on Linux the name of the descriptor itself is given, so the
    file read is the one already checked, even if ``path`` is swapped in the meantime.
    """
    by_descriptor = f"/proc/self/fd/{fd}"
    box = mailbox.mbox(by_descriptor if os.path.exists(by_descriptor) else str(path),
                       create=False)
    try:
        for index, key in enumerate(box.iterkeys(), start=1):
            yield RawMessage(f"{path}#{index}", box.get_bytes(key))
    finally:
        box.close()


def iter_directory(path: Path, on_skip: OnSkip) -> Iterator[RawMessage]:
    """Yield every message below a plain directory, recursing, in sorted path order.

    Files named on the command line are always read; inside a directory, labels and documents
    (``.json``, ``.md``, ``.csv`` …) are passed over, so a folder of ``.eml`` files with ``.json``
    labels beside them parses as just its messages. Nothing inside is followed (module doc).
    """
    try:
        entries = sorted(path.iterdir())
    except OSError as exc:
        on_skip(_unreadable(path, exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.suffix.lower() in _NOT_MAIL_SUFFIXES and not _is_real_dir(entry):
            continue
        yield from _iter_entry(entry, on_skip, follow=False)


def iter_path(path: Path, on_skip: OnSkip) -> Iterator[RawMessage]:
    """Yield the messages found at one path named by the operator, whatever kind of container.

    Nothing is raised for what cannot be read: the path itself (missing, unreadable, a FIFO) or
    any entry below it goes to ``on_skip`` with the reason, and the rest is still read.
    """
    yield from _iter_entry(path, on_skip, follow=True)


def _iter_entry(path: Path, on_skip: OnSkip, *, follow: bool,
                in_maildir: bool = False) -> Iterator[RawMessage]:
    """Dispatch on what ``path`` is; in a Maildir's ``new``/``cur`` every entry is one message
    file, never a folder or an mbox."""
    try:
        mode = (os.stat(path) if follow else os.lstat(path)).st_mode
    except OSError as exc:
        on_skip(_unreadable(path, exc))
        return
    if stat.S_ISDIR(mode) and not in_maildir:
        yield from (iter_maildir(path, on_skip) if is_maildir(path)
                    else iter_directory(path, on_skip))
    elif stat.S_ISREG(mode):
        yield from _iter_file(path, on_skip, follow=follow, mbox=not in_maildir)
    else:
        on_skip(_skipped(path, mode))


def _iter_file(path: Path, on_skip: OnSkip, *, follow: bool,
               mbox: bool) -> Iterator[RawMessage]:
    """One file: a single message, or (when ``mbox`` allows and it starts with a ``From ``
    envelope line, and is not named ``.eml``/``.msg``/``.txt``) an mbox of several."""
    try:
        fd = _open_regular(path, follow=follow)
    except SourceError as exc:
        on_skip(exc)
        return
    except OSError as exc:
        link = exc.errno == errno.ELOOP and not follow  # a link swapped in after the listing
        on_skip(_skipped(path, stat.S_IFLNK) if link else _unreadable(path, exc))
        return
    try:
        with os.fdopen(fd, "rb") as handle:
            if (mbox and path.suffix.lower() not in _SINGLE_MESSAGE_SUFFIXES
                    and os.pread(fd, 5, 0) == b"From "):
                yield from iter_mbox(path, fd)
                return
            raw = handle.read()
    except OSError as exc:
        on_skip(_unreadable(path, exc))
        return
    yield RawMessage(str(path), raw)
