"""The daemon: one worker thread per source and per pipeline step, signals and config reloads.

SIGTERM/SIGINT set the stop event: each worker finishes the batch in hand (already committed or
about to be), leaves IDLE, logs out, and the process exits 0. SIGHUP, or a change to the config
file or to a file of its ``clients.d`` folder, loads it again. The new generation of workers is
built (database rows, folders) before the running one is stopped, so a config that is invalid,
or valid but unable to start (an impossible Maildir path, the database away), is logged and the
running one stays.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from maild.bell import Bell, NotifyListener
from maild.config import Config, load_config
from maild.db import make_engine, session_factory
from maild.errors import MaildError
from maild.ingest import Ingestor
from maild.outbound.bounce_step import BounceStep
from maild.outbound.intake_step import IntakeStep
from maild.outbound.send_step import SendStep
from maild.parse_stage import ParseStep
from maild.parsers.isolated import IsolatedParser
from maild.report_step import ReportStep
from maild.routing.digests import DigestStep
from maild.routing.route_step import RouteStep, summary_facts
from maild.routing.ticket_step import TicketStep
from maild.routing.timer_step import TimerStep
from maild.sources.imap import FolderWorker
from maild.sources.lease import node_owner
from maild.sources.maildir import MaildirWorker
from maild.stages import StepRunner, StepWorker
from maild.stale_watch import StaleMailboxWatch
from maild.web import WebService

log = logging.getLogger("maild.daemon")

CONFIG_POLL_SECONDS = 1.0
# The parse worker's address space: a message bomb is quarantined instead of exhausting the
# machine (a 100 MB message parses in about 150 MB).
PARSE_MEMORY_LIMIT = 1024 * 1024 * 1024


class Worker(Protocol):
    label: str

    def run(self) -> None: ...

    def run_once(self) -> int: ...


def build_workers(config: Config, stop: threading.Event, owner: str, engine: Engine,
                  bell: Bell, parser: IsolatedParser | None = None) -> list[Worker]:
    """One worker per IMAP folder and per Maildir, the stale-mailbox watch, then one per
    pipeline step; all share one engine, archive and bell. ``run_once`` relies on the order:
    sources first (the watch sees their syncs), then steps (they send its alert).

    Building touches the database (mailbox rows) and the file system (Maildir folders), so a
    config that validates but cannot start fails here, before any running worker is stopped.
    """
    sessions = session_factory(engine, archive_dir=config.archive_dir)
    ingestor = Ingestor(config.raw_store(), sessions, actor="maild", bell=bell)
    workers: list[Worker] = []
    for account in config.imap:
        workers += [FolderWorker(account, folder, ingestor, stop, owner=owner,
                                 lease_seconds=config.lease_seconds)
                    for folder in account.folders]
    workers += [MaildirWorker(source, ingestor, stop) for source in config.maildirs]
    store = ingestor.store
    workers.append(StaleMailboxWatch(config, config.http, store, sessions, stop, bell=bell))
    send = SendStep(config, store, sessions)
    send.release_dead_claims()
    runners = [StepRunner(ParseStep(store, parser), sessions, bell),
               StepRunner(RouteStep(config, store), sessions, bell),
               StepRunner(TicketStep(config, store), sessions, bell),
               StepRunner(BounceStep(config, store), sessions, bell),
               StepRunner(IntakeStep(config, store), sessions, bell),
               StepRunner(DigestStep(config, store, summary_facts), sessions, bell),
               StepRunner(TimerStep(config, store), sessions, bell),
               StepRunner(ReportStep(config, store, sessions), sessions, bell),
               StepRunner(send, sessions, bell, owner=owner)]
    workers += [StepWorker(runner, stop, config.stage_poll_seconds) for runner in runners]
    return workers


@contextlib.contextmanager
def sole_daemon(database: str) -> Iterator[None]:
    """Hold the one-daemon lock of a SQLite database for as long as the daemon runs.

    A SQLite file has one writer at a time and no ``SKIP LOCKED``: two daemons on it would claim
    the same rows. The second one is refused with a clear error instead (a fleet shares
    PostgreSQL). The lock is an ``flock`` beside the database, released by the kernel when the
    process ends however it ends, so a kill -9 never leaves it behind.
    """
    url = make_url(database)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return
    path = Path(f"{url.database}.daemon.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise MaildError(f"another maild daemon ({holder}) is running on the SQLite database "
                             f"{url.database}; SQLite serves one daemon, use PostgreSQL to run "
                             f"several") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield


def parse_worker(config: Config) -> IsolatedParser:
    """The parse worker of one config generation (started at its first parse)."""
    return IsolatedParser(timeout_seconds=config.parse_timeout_seconds,
                          memory_limit_bytes=PARSE_MEMORY_LIMIT)


def run_once(config: Config) -> int:
    """Sync every source once. Returns the number of sources that failed (each is logged)."""
    failures = 0
    engine = make_engine(config.database)
    parser = parse_worker(config)
    try:
        with sole_daemon(config.database):
            for worker in build_workers(config, threading.Event(), node_owner(), engine,
                                        Bell(), parser):
                try:
                    count = worker.run_once()
                    log.info("finished worker=%s count=%d", worker.label, count)
                except Exception as exc:  # noqa: BLE001 - recorded on the mailbox row
                    failures += 1
                    log.error("sync failed mailbox=%s error=%s: %s", worker.label,
                              type(exc).__name__, exc)
    finally:
        parser.close()
        engine.dispose()
    return failures


@dataclass
class _Generation:
    """The workers built from one config, started and stopped together."""

    config: Config
    stop: threading.Event
    bell: Bell
    workers: list[Worker]
    engine: Engine
    parser: IsolatedParser
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        runners: list[Callable[[], None]] = [worker.run for worker in self.workers]
        labels = [worker.label for worker in self.workers]
        if self.engine.dialect.name == "postgresql":
            listener = NotifyListener(self.config.database, self.bell, self.stop)
            runners.append(listener.run)
            labels.append(listener.label)
        for run, label in zip(runners, labels, strict=True):
            thread = threading.Thread(target=run, name=label, daemon=True)
            thread.start()
            self.threads.append(thread)
        log.info("started workers=%d", len(self.threads))

    def halt(self, timeout: float = 60.0) -> None:
        self.stop.set()
        self.bell.ring_all()
        self.parser.close()  # a parse in progress is abandoned; its row stays archived
        for thread in self.threads:
            thread.join(timeout)
        self.engine.dispose()


def _build(config: Config, owner: str) -> _Generation:
    """Everything a config needs to run, built but not started; raises when it cannot start."""
    stop = threading.Event()
    bell = Bell()
    engine = make_engine(config.database)
    parser = parse_worker(config)
    try:
        workers = build_workers(config, stop, owner, engine, bell, parser)
    except BaseException:
        parser.close()
        engine.dispose()
        raise
    return _Generation(config, stop, bell, workers, engine, parser)


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
        try:
            new = _build(config, self.owner)
        except (MaildError, SQLAlchemyError, OSError) as exc:
            log.error("config reload rejected, keeping the running config: cannot start %s: "
                      "%s: %s", config.path, type(exc).__name__, exc)
            return current
        log.info("config reloaded path=%s", config.path)
        current.halt()
        self.config = config
        new.start()
        return new

    def run(self) -> None:
        with sole_daemon(self.config.database):
            generation = _build(self.config, self.owner)
            web = WebService()
            web.follow(self.config.http, self.config, generation.engine, generation.workers)
            generation.start()
            seen = self.config.files_stamp()
            try:
                while not self.shutdown.wait(CONFIG_POLL_SECONDS):
                    stamp = self.config.files_stamp()  # the file and its clients.d files
                    if self.reload_requested.is_set() or stamp != seen:
                        self.reload_requested.clear()
                        seen = stamp
                        generation = self.reload(generation)
                        web.follow(generation.config.http, generation.config,
                                   generation.engine, generation.workers)
            finally:
                generation.halt()
                web.close()
                log.info("stopped")
