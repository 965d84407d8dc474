"""Maildir / drop-folder source: watchdog reports new files, which are archived, then moved.

Maildir: delivery agents write into ``tmp/`` and rename into ``new/``; maild archives each file
in ``new/`` and only after the commit moves it to ``cur/`` (flag ``S``), the Maildir way of saying
"seen by a reader".
Drop folder: people or scripts copy ``.eml`` files into a plain directory. A file counts once it
is closed after writing (inotify's close-write, or unchanged for a few seconds on a rescan), so a
half-copied file is never archived; after the commit it moves to ``archived/``.
Either way a crash between the commit and the move leaves the file in place; it is archived again
on the next scan and deduplicated by content. A periodic rescan covers events watchdog missed.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from maild.config import MaildirSource
from maild.ingest import Incoming, Ingestor
from maild.sources import checkpoints
from maild.stages import first_stage

log = logging.getLogger("maild.maildir")

RESCAN_SECONDS = 30.0
STOP_CHECK_SECONDS = 0.5
SETTLE_SECONDS = 2.0
_PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", "~")


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
        return path.stat().st_mtime > moment
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
        subdirs = ("archived",) if self.drop else ("tmp", "new", "cur")
        for sub in subdirs:
            (source.path / sub).mkdir(parents=True, exist_ok=True)
        # A Maildir's top level is its INBOX (Maildir++), which is how status names it.
        self.mailbox_id = checkpoints.get_or_create(ingestor.sessions, source.name, "INBOX").id

    @property
    def new_dir(self) -> Path:
        return self.source.path if self.drop else self.source.path / "new"

    def done_path(self, path: Path) -> Path:
        if self.drop:
            return self.source.path / "archived" / path.name
        return self.source.path / "cur" / seen_name(path.name)

    def run_once(self) -> int:
        """Archive every complete file now waiting; returns how many were new content."""
        count = 0
        settled_before = time.time() - SETTLE_SECONDS
        for path in sorted(self.new_dir.iterdir()):
            if self.stop.is_set():
                break
            if self.drop and _modified_after(path, settled_before):
                continue  # still being copied: its close event or the next scan takes it
            count += self.archive_file(path)
        checkpoints.record_sync(self.ingestor.sessions, self.mailbox_id)
        return count

    def archive_file(self, path: Path) -> int:
        """Archive one delivered file and move it to ``cur/``; a vanished file is skipped."""
        if (path.parent != self.new_dir or path.name.startswith(".")
                or path.name.endswith(_PARTIAL_SUFFIXES) or not path.is_file()):
            return 0
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return 0
        result = self.ingestor.ingest([Incoming(raw=raw, origin=f"maildir:{path}",
                                                stage=first_stage(self.source.role))],
                                      mailbox_id=self.mailbox_id)
        path.replace(self.done_path(path))
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
