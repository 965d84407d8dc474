"""Maildir / drop-folder source: watchdog reports new files, which are archived, then moved.

Delivery agents write into ``tmp/`` and rename into ``new/``; maild archives each file in
``new/`` and only after the commit moves it to ``cur/`` (flag ``S``), the Maildir way of saying
"seen by a reader". A crash between the two leaves the file in ``new/``; it is archived again on
the next scan and deduplicated by content. A periodic rescan covers events watchdog missed.
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

log = logging.getLogger("maild.maildir")

RESCAN_SECONDS = 30.0
STOP_CHECK_SECONDS = 0.5


def seen_name(name: str) -> str:
    """The ``cur/`` name of a delivered file: its info part gets the Seen flag (``:2,S``)."""
    base, _, info = name.partition(":2,")
    flags = set(info) | {"S"}
    return f"{base}:2,{''.join(sorted(flags))}"


class _NewFileHandler(FileSystemEventHandler):
    def __init__(self, inbox: queue.Queue[Path]) -> None:
        self.inbox = inbox

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.inbox.put(Path(str(event.src_path)))

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.inbox.put(Path(str(event.dest_path)))


class MaildirWorker:
    """Keeps one Maildir archived; ``run`` watches until ``stop`` is set."""

    def __init__(self, source: MaildirSource, ingestor: Ingestor,
                 stop: threading.Event) -> None:
        self.source = source
        self.ingestor = ingestor
        self.stop = stop
        self.label = f"{source.name}/INBOX"
        for sub in ("tmp", "new", "cur"):
            (source.path / sub).mkdir(parents=True, exist_ok=True)
        # A Maildir's top level is its INBOX (Maildir++), which is how status names it.
        self.mailbox_id = checkpoints.get_or_create(ingestor.sessions, source.name, "INBOX").id

    @property
    def new_dir(self) -> Path:
        return self.source.path / "new"

    def run_once(self) -> int:
        """Archive every file now in ``new/``; returns how many were new content."""
        count = 0
        for path in sorted(self.new_dir.iterdir()):
            if self.stop.is_set():
                break
            count += self.archive_file(path)
        checkpoints.record_sync(self.ingestor.sessions, self.mailbox_id)
        return count

    def archive_file(self, path: Path) -> int:
        """Archive one delivered file and move it to ``cur/``; a vanished file is skipped."""
        if path.parent != self.new_dir or path.name.startswith(".") or not path.is_file():
            return 0
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return 0
        result = self.ingestor.ingest([Incoming(raw=raw, origin=f"maildir:{path}")],
                                      mailbox_id=self.mailbox_id)
        path.replace(self.source.path / "cur" / seen_name(path.name))
        log.info("archived mailbox=%s file=%s new=%d", self.label, path.name, result.new)
        return result.new

    def run(self) -> None:
        """Scan, then archive files as watchdog reports them, rescanning now and then."""
        inbox: queue.Queue[Path] = queue.Queue()
        observer = Observer()
        observer.schedule(_NewFileHandler(inbox), str(self.new_dir), recursive=False)
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
            checkpoints.record_error(self.ingestor.sessions, self.mailbox_id, text)
            self.stop.wait(1.0)
