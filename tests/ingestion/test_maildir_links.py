"""Watched Maildirs and drop folders follow no link and read only regular files (issue 7.2).

Whoever can write into a watched folder must not make maild read a file it can read (a link in
``new/``) nor overwrite one (a linked ``archived/`` or ``cur/``): the source refuses, says so in
the log and on its mailbox row, and the daemon goes on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.config import MaildirSource
from maild.errors import SourceError
from maild.ingest import BatchResult, Ingestor
from maild.models import Mailbox, Message
from maild.sources import maildir as maildir_source
from maild.sources.maildir import MaildirWorker, seen_name

from .conftest import notice, wait_until

SECRET = b"root:only-maild-can-read-this:0:0\n"


def hashes(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Message.sha256)))


def last_error(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        return session.scalars(select(Mailbox.last_error)).one() or ""


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture
def running() -> Iterator[list[tuple[threading.Thread, threading.Event]]]:
    """Worker threads started by a test; each is stopped and must have ended at teardown."""
    started: list[tuple[threading.Thread, threading.Event]] = []
    yield started
    for thread, stop in started:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def start(worker: MaildirWorker, running: list[tuple[threading.Thread, threading.Event]],
          ) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    running.append((thread, worker.stop))
    return thread


def test_links_and_fifos_in_new_are_refused_and_regular_mail_still_archived(
        tmp_path: Path, migrated_sessions: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture,
        running: list[tuple[threading.Thread, threading.Event]]) -> None:
    """GIVEN a watched Maildir whose new/ holds a link to a file only maild can read, a FIFO
    and a real message
    WHEN the daemon's worker scans it, and later a message is delivered
    THEN both messages are archived and moved to cur/, the secret is not in the archive, the
    link and the FIFO stay in new/, the log and the mailbox row name each refusal, and the
    worker keeps running."""
    (tmp_path / "secret").write_bytes(SECRET)
    maildir = tmp_path / "inbox"
    worker = MaildirWorker(MaildirSource("demo", maildir),
                           Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, "test"),
                           threading.Event())
    (maildir / "new" / "1.link").symlink_to(tmp_path / "secret")
    os.mkfifo(maildir / "new" / "2.fifo")
    (maildir / "new" / "3.host").write_bytes(notice(3))
    caplog.set_level(logging.WARNING, logger="maild.maildir")
    thread = start(worker, running)
    assert wait_until(lambda: (maildir / "cur" / seen_name("3.host")).exists(), 10)
    (maildir / "new" / "4.host").write_bytes(notice(4))
    assert wait_until(lambda: (maildir / "cur" / seen_name("4.host")).exists(), 10)
    assert thread.is_alive()
    assert hashes(migrated_sessions) == {sha(notice(3)), sha(notice(4))}
    assert sorted(p.name for p in (maildir / "new").iterdir()) == ["1.link", "2.fifo"]
    error = last_error(migrated_sessions)
    assert f"{maildir / 'new' / '1.link'} is a symbolic link, not a regular file" in error
    assert f"{maildir / 'new' / '2.fifo'} is a FIFO, not a regular file" in error
    assert "1.link is a symbolic link" in caplog.text and "2.fifo is a FIFO" in caplog.text


def test_a_linked_archived_folder_is_refused_and_nothing_is_overwritten(
        tmp_path: Path, migrated_sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch,
        running: list[tuple[threading.Thread, threading.Event]]) -> None:
    """GIVEN a watched drop folder whose archived/ was replaced by a link to the folder of
    maild's database, and a dropped file named like the database
    WHEN the worker runs
    THEN the database file is untouched, the dropped file stays, nothing is archived, the
    mailbox row names archived/ as a link; once archived/ is a real folder again the next scan
    archives and moves the file, the worker having kept running."""
    monkeypatch.setattr(maildir_source, "RESCAN_SECONDS", 0.2)
    victim = tmp_path / "var"
    victim.mkdir()
    (victim / "maild.db").write_bytes(b"precious database")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "archived").symlink_to(victim)
    dropped = notice(1)
    (drop / "maild.db").write_bytes(dropped)
    long_ago = time.time() - 60
    os.utime(drop / "maild.db", (long_ago, long_ago))  # fully written: the scan takes it
    worker = MaildirWorker(MaildirSource("drop", drop, kind="drop"),
                           Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, "test"),
                           threading.Event())
    thread = start(worker, running)
    expected = f"{drop / 'archived'} is a symbolic link, not a directory"
    assert wait_until(lambda: expected in last_error(migrated_sessions), 10)
    assert (victim / "maild.db").read_bytes() == b"precious database"
    assert (drop / "maild.db").read_bytes() == dropped
    assert hashes(migrated_sessions) == set()

    (drop / "archived").unlink()
    (drop / "archived").mkdir()
    assert wait_until(lambda: (drop / "archived" / "maild.db").exists(), 10)
    assert thread.is_alive()
    assert hashes(migrated_sessions) == {sha(dropped)}
    assert (victim / "maild.db").read_bytes() == b"precious database"


@pytest.mark.parametrize("linked", ["tmp", "new", "cur"])
def test_a_maildir_with_a_linked_folder_is_refused(
        tmp_path: Path, migrated_sessions: sessionmaker[Session], linked: str) -> None:
    """GIVEN a Maildir whose tmp/, new/ or cur/ is a link to a folder elsewhere, with a message
    waiting in new/ WHEN scanned THEN the scan refuses with an error naming that folder, nothing
    is archived and the message is not moved."""
    maildir = tmp_path / "inbox"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (maildir / linked).rmdir()
    (maildir / linked).symlink_to(tmp_path / "elsewhere")
    (maildir / "new" / "1.host").write_bytes(notice(1))
    worker = MaildirWorker(MaildirSource("demo", maildir),
                           Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, "test"),
                           threading.Event())
    with pytest.raises(SourceError, match=f"{maildir / linked} is a symbolic link, not a dir"):
        worker.run_once()
    assert hashes(migrated_sessions) == set()
    assert [p.name for p in (maildir / "new").iterdir()] == ["1.host"]


class _SwapCurWhileArchiving(Ingestor):
    """Replaces the Maildir's cur/ by a link to another folder once the message is archived and
    before it is moved: the race an attacker would run against the move step."""

    def __init__(self, ingestor: Ingestor, maildir: Path, target: Path) -> None:
        super().__init__(ingestor.store, ingestor.sessions, ingestor.actor)
        self.maildir, self.target = maildir, target

    def ingest(self, *args: Any, **kwargs: Any) -> BatchResult:
        result = super().ingest(*args, **kwargs)
        (self.maildir / "cur").rename(self.maildir / "cur.real")
        (self.maildir / "cur").symlink_to(self.target)
        return result


def test_the_move_does_not_follow_a_folder_swapped_for_a_link_after_the_check(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a message in new/, and cur/ swapped for a link to another folder while the message
    is being archived WHEN the message is moved THEN it lands in the real cur/ (renamed away),
    through the descriptor opened before, and nothing is written into the link's target."""
    maildir = tmp_path / "inbox"
    victim = tmp_path / "var"
    victim.mkdir()
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, "test")
    worker = MaildirWorker(MaildirSource("demo", maildir),
                           _SwapCurWhileArchiving(ingestor, maildir, victim), threading.Event())
    (maildir / "new" / "1.host").write_bytes(notice(1))
    assert worker.archive_file(maildir / "new" / "1.host") == 1
    assert list(victim.iterdir()) == []
    assert [p.name for p in (maildir / "cur.real").iterdir()] == [seen_name("1.host")]
