"""Maildir / drop-folder source: watchdog reports new files, which are archived, then moved.

Maildir: delivery agents write into ``tmp/`` and rename into ``new/``; maild archives each file
in ``new/`` and only after the commit moves it to ``cur/`` (flag ``S``), the Maildir way of saying
"seen by a reader".
Drop folder: people or scripts copy ``.eml`` files into a plain directory. A file counts once it
is closed after writing (inotify's close-write, or unchanged for a few seconds on a rescan), so a
half-copied file is never archived; after the commit it moves to ``archived/``.
Either way a crash between the commit and the move leaves the file in place; it is archived again
on the next scan and deduplicated by content. A periodic rescan covers events watchdog missed.

Whoever can write into the folder is not trusted. The configured path is the operator's and may
be a symbolic link; nothing inside it is followed. Only regular files are read (opened with
``O_NOFOLLOW | O_NONBLOCK`` and checked on the descriptor); a link, FIFO, socket or device is
refused, logged, recorded on the mailbox row and left where it is. A ``tmp/``, ``new/``,
``cur/`` or ``archived/`` that is a link refuses the whole source until it is a real directory
again, and the move goes through descriptors of the folders opened without following links
(renameat), so it can never write outside the folder.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from maild.config import MaildirSource
from maild.errors import SourceError
from maild.ingest import Incoming, Ingestor
from maild.sources import checkpoints
from maild.sources.files import file_kind
from maild.stages import first_stage

log = logging.getLogger("maild.maildir")

RESCAN_SECONDS = 30.0
STOP_CHECK_SECONDS = 0.5
SETTLE_SECONDS = 2.0
_PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", "~")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class RefusedEntry(SourceError):
    """An entry waiting in the folder that is not a regular file; it is left where it is."""


@dataclass(frozen=True)
class _Folders:
    """Descriptors of the folder mail waits in and the folder it moves to once archived."""

    waiting: int
    done: int


def _open_subdir(root: int, name: str, where: Path) -> int:
    """Open ``name`` below ``root`` as a directory, refusing a link or anything else."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=root)
    except OSError as exc:
        if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise
        kind = file_kind(os.stat(name, dir_fd=root, follow_symlinks=False).st_mode)
        raise SourceError(f"{where / name} is {kind}, not a directory: refusing to take mail "
                          f"from or move mail into it; make it a real directory") from exc


def _read_regular(folder: int, path: Path) -> bytes | None:
    """The bytes of ``path`` (in the open ``folder``) if it is a regular file; None when it
    vanished or is a directory; RefusedEntry for anything else, which is never opened for
    reading (a device) nor blocked on (a FIFO)."""
    try:
        mode = os.stat(path.name, dir_fd=folder, follow_symlinks=False).st_mode
        if stat.S_ISREG(mode):
            fd = os.open(path.name, _FILE_FLAGS, dir_fd=folder)
            with os.fdopen(fd, "rb") as handle:
                mode = os.fstat(fd).st_mode  # what was opened, should the entry have changed
                if stat.S_ISREG(mode):
                    return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        mode = stat.S_IFLNK  # it became a link between the stat and the open
    if stat.S_ISDIR(mode):
        return None
    raise RefusedEntry(f"{path} is {file_kind(mode)}, not a regular file: refused, left in place")


def seen_name(name: str) -> str:
    """The ``cur/`` name of a delivered file: its info part gets the Seen flag (``:2,S``)."""
    base, _, info = name.partition(":2,")
    flags = set(info) | {"S"}
    return f"{base}:2,{''.join(sorted(flags))}"


class _NewFileHandler(FileSystemEventHandler):
    """Queues files as they become complete: created in ``new/`` (a Maildir delivery is an
    atomic rename) or closed after writing (a drop folder), or moved in."""

    def __init__(self, inbox: queue.Queue[Path], *, drop: bool) -> None:
        self.inbox = inbox
        self.drop = drop

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory and not self.drop:
            self.inbox.put(Path(str(event.src_path)))

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory and self.drop:
            self.inbox.put(Path(str(event.src_path)))

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.inbox.put(Path(str(event.dest_path)))


def _modified_after(path: Path, moment: float) -> bool:
    try:
        return path.lstat().st_mtime > moment
    except FileNotFoundError:
        return True


class MaildirWorker:
    """Keeps one Maildir or drop folder archived; ``run`` watches until ``stop`` is set."""

    def __init__(self, source: MaildirSource, ingestor: Ingestor,
                 stop: threading.Event) -> None:
        self.source = source
        self.ingestor = ingestor
        self.stop = stop
        self.drop = source.kind == "drop"
        self.label = f"{source.name}/INBOX"
        self.subdirs = ("archived",) if self.drop else ("tmp", "new", "cur")
        for sub in self.subdirs:
            if not os.path.lexists(source.path / sub):  # a link there is refused by each scan
                (source.path / sub).mkdir(parents=True, exist_ok=True)
        # A Maildir's top level is its INBOX (Maildir++), which is how status names it.
        self.mailbox_id = checkpoints.get_or_create(ingestor.sessions, source.name, "INBOX").id

    @property
    def new_dir(self) -> Path:
        return self.source.path if self.drop else self.source.path / "new"

    def done_name(self, name: str) -> str:
        return name if self.drop else seen_name(name)

    @contextlib.contextmanager
    def _folders(self) -> Iterator[_Folders]:
        """The source's folders, open; SourceError when one of them is a link (module doc)."""
        with contextlib.ExitStack() as stack:
            root = os.open(self.source.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            stack.callback(os.close, root)
            opened = {}
            for sub in self.subdirs:
                opened[sub] = _open_subdir(root, sub, self.source.path)
                stack.callback(os.close, opened[sub])
            if self.drop:
                yield _Folders(waiting=root, done=opened["archived"])
            else:
                yield _Folders(waiting=opened["new"], done=opened["cur"])

    def run_once(self) -> int:
        """Archive every complete file now waiting; returns how many were new content.

        Entries that are not regular files are refused one by one (logged, left in place) and
        the scan goes on; the mailbox row shows them until they are gone.
        """
        count = 0
        refused: list[str] = []
        settled_before = time.time() - SETTLE_SECONDS
        with self._folders() as folders:
            names = sorted(os.listdir(folders.waiting))
        for name in names:
            if self.stop.is_set():
                break
            path = self.new_dir / name
            if self.drop and _modified_after(path, settled_before):
                continue  # still being copied: its close event or the next scan takes it
            try:
                count += self._archive(path)
            except RefusedEntry as exc:
                log.warning("refused mailbox=%s error=%s", self.label, exc)
                refused.append(str(exc))
        checkpoints.record_sync(self.ingestor.sessions, self.mailbox_id,
                                error="; ".join(refused) or None)
        return count

    def archive_file(self, path: Path) -> int:
        """Archive one delivered file and move it to ``cur/`` (``archived/``); a vanished file
        is skipped. An entry that is not a regular file is refused: logged, recorded on the
        mailbox row and left in place. SourceError when a folder of the source is a link."""
        try:
            return self._archive(path)
        except RefusedEntry as exc:
            log.warning("refused mailbox=%s error=%s", self.label, exc)
            checkpoints.record_error_safely(self.ingestor.sessions, self.mailbox_id, str(exc))
            return 0

    def _archive(self, path: Path) -> int:
        if (path.parent != self.new_dir or path.name.startswith(".")
                or path.name.endswith(_PARTIAL_SUFFIXES)):
            return 0
        with self._folders() as folders:
            raw = _read_regular(folders.waiting, path)
            if raw is None:
                return 0
            result = self.ingestor.ingest([Incoming(raw=raw, origin=f"maildir:{path}",
                                                    stage=first_stage(self.source.role))],
                                          mailbox_id=self.mailbox_id)
            os.replace(path.name, self.done_name(path.name), src_dir_fd=folders.waiting,
                       dst_dir_fd=folders.done)
        log.info("archived mailbox=%s file=%s new=%d", self.label, path.name, result.new)
        return result.new

    def run(self) -> None:
        """Scan, then archive files as watchdog reports them, rescanning now and then."""
        inbox: queue.Queue[Path] = queue.Queue()
        observer = Observer()
        observer.schedule(_NewFileHandler(inbox, drop=self.drop), str(self.new_dir),
                          recursive=False)
        observer.start()
        try:
            self._guarded(self.run_once)
            next_scan = time.monotonic() + RESCAN_SECONDS
            while not self.stop.is_set():
                try:
                    path = inbox.get(timeout=STOP_CHECK_SECONDS)
                except queue.Empty:
                    if time.monotonic() >= next_scan:
                        self._guarded(self.run_once)
                        next_scan = time.monotonic() + RESCAN_SECONDS
                    continue
                self._guarded(functools.partial(self.archive_file, path))
        finally:
            observer.stop()
            observer.join()

    def _guarded(self, work: Callable[[], object]) -> None:
        """Run one unit of work; a failure is recorded on the mailbox row and the watch goes on."""
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - recorded on the mailbox row
            text = f"{type(exc).__name__}: {exc}"
            log.error("mailbox error mailbox=%s error=%s", self.label, text)
            checkpoints.record_error_safely(self.ingestor.sessions, self.mailbox_id, text)
            self.stop.wait(1.0)
