"""Real time: no lost IDLE wake-up, steps woken by events (in process and by NOTIFY), liveness.

Every test sets the IMAP poll, IDLE renewal and stage poll intervals to 10 minutes, so only a
push (IDLE, an EXISTS seen mid-sync, a bell, a NOTIFY) can explain a latency of seconds.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.bell import Bell
from maild.config import ImapAccount, load_config
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Incoming, Ingestor
from maild.models import Message
from maild.parse_stage import ParseStep
from maild.sources.imap import FolderWorker
from maild.stages import StepRunner, StepWorker
from tests.support import DovecotServer, run_maild
from tests.support.proxy import SilentRelay

from .conftest import IMAP_PASSWORD_ENV, imap_table, notice, wait_until

PARSED = ("parsed", "routed")  # the daemon routes what it parsed straight away
SLOW = "poll_seconds = 600\nidle_renew_seconds = 600\nkeepalive_seconds = 600\n"
Spawn = Callable[..., subprocess.Popen[bytes]]


def stages(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Message-ID -> stage of every archived row."""
    with sessions() as session:
        return {mid or "": stage for mid, stage in
                session.execute(select(Message.message_id, Message.stage))}


class _DeliversDuringSync(FolderWorker):
    """A worker whose first FETCH has a message delivered to the folder while it runs: the
    moment a server reports it with an EXISTS that no IDLE will repeat."""

    def __init__(self, *args: object, deliver: Callable[[], None], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.deliver: Callable[[], None] | None = deliver
        self.delivered_at = 0.0

    def _fetch(self, uids: list[int], *, retry: bool = True):  # type: ignore[no-untyped-def]
        if self.deliver is not None:
            deliver, self.deliver = self.deliver, None
            deliver()
            self.delivered_at = time.monotonic()
        return super()._fetch(uids, retry=retry)


class _DeliversBeforeIdle(FolderWorker):
    """A worker that has a message delivered after its sync and just before it waits: the
    moment no server push covers (Dovecot watches for changes only once IDLE has started)."""

    def __init__(self, *args: object, deliver: Callable[[], None], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.deliver: Callable[[], None] | None = deliver
        self.delivered_at = 0.0

    def wait_for_news(self) -> None:
        if self.deliver is not None:
            deliver, self.deliver = self.deliver, None
            deliver()
            self.delivered_at = time.monotonic()
        super().wait_for_news()


@pytest.fixture
def pipeline(tmp_path: Path, migrated_sessions: sessionmaker[Session]
             ) -> Iterator[Callable[[Callable[[Bell, threading.Event], object]], None]]:
    """Run workers in threads sharing one bell, as the daemon does; all stopped at teardown."""
    stop = threading.Event()
    bell = Bell()
    threads: list[threading.Thread] = []

    def start(build: Callable[[Bell, threading.Event], object]) -> None:
        worker = build(bell, stop)
        thread = threading.Thread(target=worker.run, daemon=True)  # type: ignore[attr-defined]
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    bell.ring_all()
    for thread in threads:
        thread.join(15)
        assert not thread.is_alive(), "a worker did not stop within 15 s"


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_mail_delivered_during_a_sync_is_archived_and_parsed_within_two_seconds(
        dovecot: DovecotServer, write_config: Callable[..., Path], tmp_path: Path,
        migrated_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
        pipeline: Callable[[Callable[[Bell, threading.Event], object]], None]) -> None:
    """GIVEN a worker syncing a backlog and a parse step, both polling only every 10 minutes,
    WHEN a message is delivered while the sync is fetching THEN it is archived and parsed within
    2 s: the EXISTS seen during the sync brings another sync before IDLE, and the commit rings
    the parse step's bell."""
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    account: ImapAccount = load_config(write_config(imap_table(dovecot, extra=SLOW))).imap[0]
    dovecot.append_many([notice(i) for i in range(3)])
    store = RawStore(tmp_path / "archive")
    workers: list[_DeliversDuringSync] = []

    def source(bell: Bell, stop: threading.Event) -> FolderWorker:
        ingestor = Ingestor(store, migrated_sessions, actor="test", bell=bell)
        worker = _DeliversDuringSync(account, "INBOX", ingestor, stop,
                                     deliver=lambda: dovecot.append(notice(99)))
        workers.append(worker)
        return worker

    pipeline(lambda bell, stop: StepWorker(
        StepRunner(ParseStep(store), migrated_sessions, bell), stop, poll_seconds=600))
    pipeline(source)
    late = "<notice-99@amazon.com>"
    assert wait_until(lambda: stages(migrated_sessions).get(late) == "parsed", 15), \
        f"the message delivered mid-sync was not parsed: {stages(migrated_sessions)}"
    took = time.monotonic() - workers[0].delivered_at
    assert took <= 2.0, f"delivered mid-sync, parsed only after {took:.1f} s"
    assert set(stages(migrated_sessions).values()) == {"parsed"}
    assert len(stages(migrated_sessions)) == 4


def test_mail_delivered_between_a_sync_and_idle_is_archived_within_two_seconds(
        dovecot: DovecotServer, write_config: Callable[..., Path], tmp_path: Path,
        migrated_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
        pipeline: Callable[[Callable[[Bell, threading.Event], object]], None]) -> None:
    """GIVEN a worker that finished a sync and is about to IDLE (everything else polling every
    10 minutes) WHEN a message is delivered in that moment THEN it is archived within 2 s: the
    NOOP before IDLE reports it, since the server would not push it during IDLE."""
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    account = load_config(write_config(imap_table(dovecot, extra=SLOW))).imap[0]
    store = RawStore(tmp_path / "archive")
    workers: list[_DeliversBeforeIdle] = []

    def source(bell: Bell, stop: threading.Event) -> FolderWorker:
        worker = _DeliversBeforeIdle(account, "INBOX",
                                     Ingestor(store, migrated_sessions, actor="test", bell=bell),
                                     stop, deliver=lambda: dovecot.append(notice(42)))
        workers.append(worker)
        return worker

    pipeline(source)
    assert wait_until(lambda: "<notice-42@amazon.com>" in stages(migrated_sessions), 15), \
        "the message delivered before IDLE was not archived"
    took = time.monotonic() - workers[0].delivered_at
    assert took <= 2.0, f"delivered before IDLE, archived only after {took:.1f} s"


def test_without_idle_only_noop_reports_new_mail(
        dovecot_factory: Callable[..., DovecotServer], write_config: Callable[..., Path],
        tmp_path: Path, migrated_sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch,
        pipeline: Callable[[Callable[[Bell, threading.Event], object]], None]) -> None:
    """GIVEN a server without IDLE and a worker polling with NOOP every second WHEN mail
    arrives THEN it is archived within a few seconds, because the NOOP's EXISTS triggers the
    sync (the worker does not SEARCH on every poll, so without NOOP nothing would come)."""
    server = dovecot_factory(extra_config="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS MOVE\n")
    monkeypatch.setenv(IMAP_PASSWORD_ENV, server.password)
    extra = "poll_seconds = 1\nidle_renew_seconds = 600\nkeepalive_seconds = 600\n"
    account = load_config(write_config(imap_table(server, extra=extra))).imap[0]
    store = RawStore(tmp_path / "archive")
    pipeline(lambda bell, stop: FolderWorker(
        account, "INBOX", Ingestor(store, migrated_sessions, actor="test", bell=bell), stop))
    assert wait_until(lambda: len(stages(migrated_sessions)) == 0, 1)
    time.sleep(0.5)  # the first sync is over; from now on only NOOP can report news
    server.append(notice(1))
    assert wait_until(lambda: len(stages(migrated_sessions)) == 1, 5)


def test_a_silently_dropped_connection_is_noticed_and_replaced(
        dovecot: DovecotServer, write_config: Callable[..., Path], tmp_path: Path,
        migrated_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
        pipeline: Callable[[Callable[[Bell, threading.Event], object]], None]) -> None:
    """GIVEN a worker in IDLE through a relay WHEN the relay goes silent without closing
    anything (a NAT box forgetting the connection) THEN the liveness check fails within
    keepalive_seconds plus the read timeout, the worker reconnects, and mail that arrived
    meanwhile is archived (with a 10-minute IDLE renewal it would wait 10 minutes)."""
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    with SilentRelay(dovecot.port) as relay:
        table = imap_table(dovecot, extra="poll_seconds = 600\nidle_renew_seconds = 600\n"
                                          "keepalive_seconds = 1\nconnect_timeout = 2\n")
        table = table.replace(f"port = {dovecot.port}", f"port = {relay.port}")
        account = load_config(write_config(table)).imap[0]
        store = RawStore(tmp_path / "archive")
        pipeline(lambda bell, stop: FolderWorker(
            account, "INBOX", Ingestor(store, migrated_sessions, actor="test", bell=bell), stop))
        dovecot.append(notice(1))
        assert wait_until(lambda: len(stages(migrated_sessions)) == 1, 10)
        relay.freeze()
        dovecot.append(notice(2))
        assert wait_until(lambda: len(stages(migrated_sessions)) == 2, 15), \
            "the silent connection was not noticed"


def test_a_non_ascii_password_logs_in_and_never_leaks(
        dovecot_factory: Callable[..., DovecotServer], write_config: Callable[..., Path],
        tmp_path: Path, migrated_sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an account whose password has non-ASCII letters WHEN synced THEN it logs in (SASL
    PLAIN in UTF-8) and archives; WHEN the password is wrong THEN the error names no part of
    it."""
    secret = "Pässwört-密码"
    server = dovecot_factory(users={"bob": secret})
    server.append(notice(1))
    account = load_config(write_config(imap_table(server))).imap[0]
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")
    monkeypatch.setenv(IMAP_PASSWORD_ENV, secret)
    assert FolderWorker(account, "INBOX", ingestor, threading.Event()).run_once() == 1

    monkeypatch.setenv(IMAP_PASSWORD_ENV, "wrong-äöü-Passwort")
    with pytest.raises(Exception) as failure:
        FolderWorker(account, "INBOX", ingestor, threading.Event()).run_once()
    with migrated_sessions() as session:
        from maild.models import Mailbox
        recorded = session.scalars(select(Mailbox.last_error)).one() or ""
    for text in (str(failure.value), recorded):
        assert text and not any(ch in text for ch in "äöü") and "Passwort" not in text


def test_a_second_daemon_on_postgresql_parses_when_notified(
        postgres_url: str, write_config: Callable[..., Path], tmp_path: Path,
        maild_process: Spawn) -> None:
    """GIVEN a daemon with no mailbox on PostgreSQL whose parse step polls every 10 minutes
    WHEN another process archives a message THEN the daemon parses it within 2 s, woken by
    NOTIFY."""
    config = write_config("", database=postgres_url)
    config.write_text(config.read_text().replace(
        'log_level = "DEBUG"', 'log_level = "DEBUG"\nstage_poll_seconds = 600'))
    upgrade(postgres_url)
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        maild_process(["--config", config, "run"], stdout=out, stderr=subprocess.STDOUT)
        assert wait_until(lambda: "listening for stage notifications" in log.read_text(), 20), \
            log.read_text()
        eml = tmp_path / "n.eml"
        eml.write_bytes(notice(7))
        result = run_maild(["--config", config, "ingest", eml])
        assert result.returncode == 0, result.stderr
        started = time.monotonic()  # the ingest committed just before its process ended
        engine = make_engine(postgres_url)
        try:
            assert wait_until(lambda: stages(session_factory(engine)).get(
                "<notice-7@amazon.com>") in PARSED, 10), log.read_text()
        finally:
            engine.dispose()
        took = time.monotonic() - started
        assert took <= 2.0, f"parsed {took:.1f} s after the ingest committed"


def test_a_second_daemon_on_one_sqlite_file_is_refused(
        write_config: Callable[..., Path], tmp_path: Path, maild_process: Spawn) -> None:
    """GIVEN a daemon running on a SQLite file WHEN a second one starts on the same file
    THEN it exits 1 with one line saying why and what to do, and the first keeps running."""
    config = write_config("")
    log = tmp_path / "first.log"
    with log.open("wb") as out:
        first = maild_process(["--config", config, "run"], stdout=out,
                              stderr=subprocess.STDOUT)
        assert wait_until(lambda: "started workers" in log.read_text(), 20), log.read_text()
        second = run_maild(["--config", config, "run"], timeout=30)
        once = run_maild(["--config", config, "run", "--once"], timeout=30)
    for result in (second, once):
        assert result.returncode == 1
        assert "another maild daemon" in result.stderr and "PostgreSQL" in result.stderr
    assert first.poll() is None


def test_reload_to_a_config_that_cannot_start_keeps_the_running_one(
        dovecot: DovecotServer, write_config: Callable[..., Path], tmp_path: Path,
        maild_process: Spawn) -> None:
    """GIVEN a running daemon WHEN its config gains a Maildir at an impossible path (valid
    TOML, valid keys) THEN the reload is rejected with the reason, the daemon keeps archiving
    with the old config, and it still exits 0 on SIGTERM."""
    config = write_config(imap_table(dovecot))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    log = tmp_path / "daemon.log"
    database = load_config(config).database
    upgrade(database)
    engine = make_engine(database)
    sessions = session_factory(engine)
    with log.open("wb") as out, contextlib.ExitStack() as cleanup:
        cleanup.callback(engine.dispose)
        proc = maild_process(["--config", config, "run"], {IMAP_PASSWORD_ENV: dovecot.password},
                             stdout=out, stderr=subprocess.STDOUT)
        dovecot.append(notice(1))
        assert wait_until(lambda: len(stages(sessions)) == 1, 20), log.read_text()
        config.write_text(config.read_text() +
                          f'\n[[maildir]]\nname = "local"\npath = "{blocker / "maildir"}"\n')
        assert wait_until(lambda: "config reload rejected" in log.read_text(), 10), \
            log.read_text()
        dovecot.append(notice(2))
        assert wait_until(lambda: len(stages(sessions)) == 2, 10), "the running config stopped"
        assert proc.poll() is None
        proc.send_signal(15)
        assert proc.wait(20) == 0
    assert "cannot start" in log.read_text()


def test_ingest_rings_the_bell_of_the_archived_stage(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a bell WHEN a batch with new content commits THEN the 'archived' bell rings;
    WHEN a batch holds only duplicates THEN it does not."""
    bell = Bell()
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="t", bell=bell)
    event = bell.event("archived")
    ingestor.ingest([Incoming(raw=notice(1), origin="a")])
    assert event.is_set()
    event.clear()
    ingestor.ingest([Incoming(raw=notice(1), origin="a")])
    assert not event.is_set()


def test_a_message_over_the_parse_budget_is_quarantined_and_the_daemon_goes_on(
        write_config: Callable[..., Path], tmp_path: Path, maild_process: Spawn) -> None:
    """GIVEN a daemon whose parse budget is 50 ms WHEN a large HTML-only message arrives
    between two normal ones THEN that message is quarantined with an error naming the budget,
    the others are parsed, and SIGTERM still stops the daemon at once."""
    inbox = tmp_path / "inbox"
    config = write_config(f'[[maildir]]\nname = "local"\npath = "{inbox}"\n')
    config.write_text(config.read_text().replace(
        'log_level = "DEBUG"', 'log_level = "DEBUG"\nparse_timeout_seconds = 0.05'))
    heavy = (b"From: seller-performance@amazon.com\r\nMessage-ID: <heavy@amazon.com>\r\n"
             b"Subject: Your listing\r\nContent-Type: text/html\r\n\r\n"
             + b"<div><p>Your listing <b>ASIN B0HEAVY001</b> was removed.</p></div>" * 150_000)
    database = load_config(config).database
    upgrade(database)
    engine = make_engine(database)
    log = tmp_path / "daemon.log"
    with log.open("wb") as out, contextlib.ExitStack() as cleanup:
        cleanup.callback(engine.dispose)
        proc = maild_process(["--config", config, "run"], stdout=out, stderr=subprocess.STDOUT)
        assert wait_until(lambda: "started workers" in log.read_text(), 20), log.read_text()
        for name, raw in (("1", notice(1)), ("2", heavy), ("3", notice(3))):
            (inbox / "tmp" / name).write_bytes(raw)
            (inbox / "tmp" / name).rename(inbox / "new" / name)
        sessions = session_factory(engine)
        assert wait_until(lambda: len(stages(sessions)) == 3 and "archived" not in
                          stages(sessions).values(), 30), stages(sessions)
        assert {k: v in PARSED for k, v in stages(sessions).items()} == {
            "<notice-1@amazon.com>": True, "<heavy@amazon.com>": False,
            "<notice-3@amazon.com>": True}
        assert stages(sessions)["<heavy@amazon.com>"] == "quarantined"
        with sessions() as session:
            error = session.scalar(select(Message.error).where(
                Message.message_id == "<heavy@amazon.com>"))
        assert error is not None and "time budget" in error
        stopping = time.monotonic()
        proc.send_signal(15)
        assert proc.wait(20) == 0
        assert time.monotonic() - stopping < 10
