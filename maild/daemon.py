"""The daemon: starts one worker thread per source, handles signals and config reloads.

SIGTERM/SIGINT set the stop event: each worker finishes the batch in hand (already committed or
about to be), leaves IDLE, logs out, and the process exits 0. SIGHUP, or a change to the config
file, loads the file again; an invalid new config is logged and the running one stays.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol

from sqlalchemy import Engine

from maild.config import Config, load_config
from maild.db import make_engine, session_factory
from maild.errors import MaildError
from maild.ingest import Ingestor
from maild.sources.imap import FolderWorker
from maild.sources.lease import node_owner
from maild.sources.maildir import MaildirWorker
from maild.stages import ParseWorker

log = logging.getLogger("maild.daemon")

CONFIG_POLL_SECONDS = 1.0


class Worker(Protocol):
    label: str

    def run(self) -> None: ...

    def run_once(self) -> int: ...


def build_workers(config: Config, stop: threading.Event, owner: str,
                  engine: Engine) -> list[Worker]:
    """One worker per IMAP folder and per Maildir, then the parse stage; all share one engine
    and archive. ``run_once`` relies on the order: sources first, then their parsing."""
    ingestor = Ingestor(config.raw_store(), session_factory(engine, archive_dir=config.archive_dir),
                        actor="maild")
    workers: list[Worker] = []
    for account in config.imap:
        workers += [FolderWorker(account, folder, ingestor, stop, owner=owner,
                                 lease_seconds=config.lease_seconds)
                    for folder in account.folders]
    workers += [MaildirWorker(source, ingestor, stop) for source in config.maildirs]
    workers.append(ParseWorker(ingestor.sessions, ingestor.store, stop))
    return workers


def run_once(config: Config) -> int:
    """Sync every source once. Returns the number of sources that failed (each is logged)."""
    failures = 0
    engine = make_engine(config.database)
    try:
        for worker in build_workers(config, threading.Event(), node_owner(), engine):
            try:
                count = worker.run_once()
                log.info("finished worker=%s count=%d", worker.label, count)
            except Exception as exc:  # noqa: BLE001 - recorded on the mailbox row by the worker
                failures += 1
                log.error("sync failed mailbox=%s error=%s: %s", worker.label,
                          type(exc).__name__, exc)
    finally:
        engine.dispose()
    return failures


@dataclass
class _Generation:
    """The workers started from one config, stopped together on reload or shutdown."""

    config: Config
    stop: threading.Event
    threads: list[threading.Thread]
    engine: Engine

    def halt(self, timeout: float = 60.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)
        self.engine.dispose()


def _start(config: Config, owner: str) -> _Generation:
    stop = threading.Event()
    threads = []
    engine = make_engine(config.database)
    for worker in build_workers(config, stop, owner, engine):
        thread = threading.Thread(target=worker.run, name=worker.label, daemon=True)
        thread.start()
        threads.append(thread)
    log.info("started sources=%d", len(threads))
    return _Generation(config, stop, threads, engine)


def _mtime(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime if path else None
    except OSError:
        return None


class Daemon:
    """Runs until told to stop; reloads its config on SIGHUP or when the file changes."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.owner = node_owner()
        self.shutdown = threading.Event()
        self.reload_requested = threading.Event()

    def install_signals(self) -> None:
        def on_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal=%s stopping", signal.Signals(signum).name)
            self.shutdown.set()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            self.reload_requested.set()

        handlers: dict[signal.Signals, Callable[[int, FrameType | None], None]] = {
            signal.SIGTERM: on_stop, signal.SIGINT: on_stop, signal.SIGHUP: on_hup}
        for signum, handler in handlers.items():
            signal.signal(signum, handler)

    def reload(self, current: _Generation) -> _Generation:
        """Load the config again; keep the running one if the new file is invalid."""
        try:
            config = load_config(self.config.path)
        except MaildError as exc:
            log.error("config reload rejected, keeping the running config: %s", exc)
            return current
        log.info("config reloaded path=%s", config.path)
        current.halt()
        self.config = config
        return _start(config, self.owner)

    def run(self) -> None:
        generation = _start(self.config, self.owner)
        seen_mtime = _mtime(self.config.path)
        try:
            while not self.shutdown.wait(CONFIG_POLL_SECONDS):
                mtime = _mtime(self.config.path)
                if self.reload_requested.is_set() or mtime != seen_mtime:
                    self.reload_requested.clear()
                    seen_mtime = mtime
                    generation = self.reload(generation)
        finally:
            generation.halt()
            log.info("stopped")
