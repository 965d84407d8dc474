"""Mailbox leases: one daemon per mailbox, and a dead daemon's mailboxes move on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.config import load_config
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Ingestor
from maild.models import Mailbox, Message
from maild.sources import checkpoints
from maild.sources.imap import FolderWorker
from maild.sources.lease import Lease, LeaseLost
from tests.support import DovecotServer

from .conftest import IMAP_PASSWORD_ENV, imap_table, notice, wait_until


def test_lease_is_exclusive_until_it_expires(migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN two owners WHEN the first holds the lease THEN the second cannot take it until it
    expires, and the first then learns it lost it."""
    box = checkpoints.get_or_create(migrated_sessions, "acct", "INBOX")
    first = Lease(migrated_sessions, box.id, "node-a", ttl=0.6)
    second = Lease(migrated_sessions, box.id, "node-b", ttl=0.6)
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire(), "the holder renews its own lease"
    time.sleep(0.8)
    assert second.acquire()
    with pytest.raises(LeaseLost):
        first.hold()
    second.release()
    assert first.acquire()


def test_run_once_leaves_a_leased_mailbox_alone(
        dovecot: DovecotServer, write_config: Callable[..., Path], tmp_path: Path,
        migrated_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a mailbox leased by another live daemon WHEN run once THEN nothing is fetched;
    once the lease is released THEN the mail is archived."""
    dovecot.append(notice(1))
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    account = load_config(write_config(imap_table(dovecot))).imap[0]
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")
    worker = FolderWorker(account, "INBOX", ingestor, threading.Event(), owner="me")
    other = Lease(migrated_sessions, worker.mailbox_id, "other-node", ttl=60)
    assert other.acquire()
    assert worker.run_once() == 0
    other.release()
    assert worker.run_once() == 1


def lease_owner(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        return session.scalar(select(Mailbox.lease_owner))


def message_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(Message.id)).all())



@pytest.mark.slow
def test_fleet_on_postgres_fails_over_when_the_lease_holder_dies(
        dovecot: DovecotServer, write_config: Callable[..., Path], postgres_url: str,
        maild_process: Callable[..., subprocess.Popen[bytes]]) -> None:
    """GIVEN two daemons sharing PostgreSQL and one mailbox WHEN mail arrives THEN exactly one
    archives it; WHEN that daemon is killed -9 THEN the other takes over after the lease expires
    and archives what arrives next, with nothing twice."""
    config = write_config(imap_table(dovecot), database=postgres_url)
    config.write_text(config.read_text().replace('log_level = "DEBUG"',
                                                 'log_level = "DEBUG"\nlease_seconds = 2'))
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    sessions = session_factory(engine)
    env = {IMAP_PASSWORD_ENV: dovecot.password}
    try:
        daemons = [maild_process(["--config", config, "run"], env, stdout=subprocess.DEVNULL)
                   for _ in range(2)]
        dovecot.append(notice(1))
        assert wait_until(lambda: message_count(sessions) == 1, 20)
        owner = lease_owner(sessions)
        assert owner is not None
        holder = next(p for p in daemons if f":{p.pid}:" in owner)
        survivor = next(p for p in daemons if p is not holder)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        dovecot.append_many([notice(2), notice(3)])
        assert wait_until(lambda: message_count(sessions) == 3, 30), "no failover"
        assert f":{survivor.pid}:" in (lease_owner(sessions) or "")
    finally:
        engine.dispose()


def test_a_dead_local_owners_lease_is_taken_at_once(
        migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a lease held by a process of this host that has exited WHEN another owner asks
    THEN it gets the lease without waiting for the expiry; a live local owner keeps it."""
    box = checkpoints.get_or_create(migrated_sessions, "acct", "INBOX")
    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    assert Lease(migrated_sessions, box.id, f"{host}:{gone.pid}:abc", ttl=60).acquire()
    assert Lease(migrated_sessions, box.id, f"{host}:{os.getpid()}:new", ttl=60).acquire()
    assert not Lease(migrated_sessions, box.id, f"{host}:1:other", ttl=60).acquire()
