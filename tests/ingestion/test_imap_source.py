"""IMAP source against a real Dovecot: checkpoints, post-archive actions, UIDVALIDITY, IDLE,
and reconnects. The worker runs in-process here; test_daemon.py drives the real process."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.config import ImapAccount, load_config
from maild.ingest import BatchResult, Incoming, Ingestor
from maild.models import AuditEvent, Mailbox, Message
from maild.sources.imap import FolderWorker, batches
from tests.support import DovecotServer

from .conftest import IMAP_PASSWORD_ENV, imap_table, notice, wait_until


@pytest.fixture
def account_for(dovecot: DovecotServer, write_config: Callable[..., Path],
                monkeypatch: pytest.MonkeyPatch) -> Callable[..., ImapAccount]:
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)

    def build(folders: tuple[str, ...] = ("INBOX",), extra: str = "") -> ImapAccount:
        config = load_config(write_config(imap_table(dovecot, folders=folders, extra=extra)))
        return config.imap[0]

    return build


@pytest.fixture
def ingestor(tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> Ingestor:
    return Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")


def archived_hashes(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Message.sha256)))


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_sync_archives_everything_once_and_keeps_flags(
        dovecot: DovecotServer, account_for: Callable[..., ImapAccount],
        ingestor: Ingestor) -> None:
    """GIVEN read and unread mail WHEN synced twice with after_archive=keep
    THEN each message is archived exactly once, byte for byte, and no flag changed."""
    raws = [notice(i) for i in range(7)]
    dovecot.append_many(raws[:4])
    dovecot.append_many(raws[4:], flags=[b"\\Seen"])
    before = dovecot.flags()
    worker = FolderWorker(account_for(extra="batch_size = 3"), "INBOX", ingestor,
                          threading.Event())
    assert worker.run_once() == 7
    dovecot.append(notice(99))
    assert worker.run_once() == 1
    assert sorted(archived_hashes(ingestor.sessions)) == sorted(map(sha, raws + [notice(99)]))
    after = dovecot.flags()
    assert {uid: after[uid] for uid in before} == before
    for digest in archived_hashes(ingestor.sessions):
        assert hashlib.sha256(ingestor.store.get(digest)).hexdigest() == digest
    with ingestor.sessions() as session:
        box = session.scalars(select(Mailbox)).one()
        assert (box.last_uid, box.last_error) == (8, None)


def test_flag_mode_sets_keyword_after_archiving(
        dovecot: DovecotServer, account_for: Callable[..., ImapAccount],
        ingestor: Ingestor) -> None:
    """GIVEN after_archive=flag WHEN synced THEN every archived message has the keyword."""
    dovecot.append_many([notice(i) for i in range(3)])
    account = account_for(extra='after_archive = "flag"\nflag_keyword = "$Archived"')
    FolderWorker(account, "INBOX", ingestor, threading.Event()).run_once()
    flags = dovecot.flags()
    assert len(flags) == 3
    assert all(b"$Archived" in f for f in flags.values())


def test_move_mode_moves_archived_mail(dovecot: DovecotServer,
                                       account_for: Callable[..., ImapAccount],
                                       ingestor: Ingestor) -> None:
    """GIVEN after_archive=move WHEN synced THEN the INBOX is empty and the target holds it all."""
    raws = [notice(i) for i in range(4)]
    dovecot.append_many(raws)
    account = account_for(extra='after_archive = "move"\nmove_to = "Archive/maild"')
    FolderWorker(account, "INBOX", ingestor, threading.Event()).run_once()
    assert dovecot.uids("INBOX") == []
    assert sorted(dovecot.fetch_all("Archive/maild").values()) == sorted(raws)
    assert len(archived_hashes(ingestor.sessions)) == 4


def test_uidvalidity_change_loses_and_duplicates_nothing(
        dovecot: DovecotServer, account_for: Callable[..., ImapAccount],
        ingestor: Ingestor) -> None:
    """GIVEN an archived folder WHEN it is deleted and recreated with old and new messages
    THEN only the new ones are added, and the change is in the audit log."""
    dovecot.create_folder("Amazon")
    old = [notice(i) for i in range(5)]
    dovecot.append_many(old, folder="Amazon")
    account = account_for(folders=("Amazon",))
    worker = FolderWorker(account, "Amazon", ingestor, threading.Event())
    worker.run_once()
    first_validity = dovecot.uidvalidity("Amazon")

    dovecot.delete_folder("Amazon")
    dovecot.create_folder("Amazon")
    new = [notice(i) for i in range(100, 103)]
    dovecot.append_many(old[2:] + new, folder="Amazon")
    assert dovecot.uidvalidity("Amazon") != first_validity
    worker.run_once()

    assert sorted(archived_hashes(ingestor.sessions)) == sorted(map(sha, old + new))
    with ingestor.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
        box = session.scalars(select(Mailbox)).one()
    assert actions.count("uidvalidity_changed") == 1
    assert box.uidvalidity == dovecot.uidvalidity("Amazon")
    assert box.last_uid == 6


@pytest.fixture
def running_worker(account_for: Callable[..., ImapAccount],
                   ingestor: Ingestor) -> Iterator[Callable[..., FolderWorker]]:
    """Run a FolderWorker's ``run`` loop in a thread; stopped and joined at teardown."""
    started: list[tuple[threading.Event, threading.Thread]] = []

    def start(extra: str = "") -> FolderWorker:
        stop = threading.Event()
        worker = FolderWorker(account_for(extra=extra), "INBOX", ingestor, stop)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        started.append((stop, thread))
        return worker

    yield start
    for stop, thread in started:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "worker did not stop within 15 s of the stop event"



def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def synced(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return session.scalar(select(Mailbox.last_sync)) is not None


def last_error(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        return session.scalar(select(Mailbox.last_error))


def test_idle_push_archives_new_mail_within_two_seconds(
        dovecot: DovecotServer, running_worker: Callable[..., FolderWorker],
        ingestor: Ingestor) -> None:
    """GIVEN a worker idling (NOOP polling only every 10 minutes) WHEN mail is APPENDed
    THEN it is archived within 2 s, which only IDLE's push can do."""
    client = dovecot.client()
    assert client.has_capability("IDLE")
    client.logout()
    running_worker(extra="poll_seconds = 600")
    assert wait_until(lambda: synced(ingestor.sessions), 10)
    time.sleep(0.5)  # let the worker enter IDLE
    for i in range(3):
        dovecot.append(notice(i))
        assert wait_until(lambda n=i: count(ingestor.sessions) == n + 1, 2.0), \
            f"message {i} was not archived within 2 s of APPEND"


def test_reconnects_after_server_restart_and_fetches_what_arrived(
        dovecot: DovecotServer, running_worker: Callable[..., FolderWorker],
        ingestor: Ingestor) -> None:
    """GIVEN a worker in IDLE WHEN the server dies and comes back with new mail
    THEN the worker reconnects, archives the new mail, and records then clears the error."""
    dovecot.append(notice(1))
    running_worker()
    assert wait_until(lambda: count(ingestor.sessions) == 1, 10)
    dovecot.stop()
    assert wait_until(lambda: last_error(ingestor.sessions) is not None, 10)
    dovecot.start()
    dovecot.append_many([notice(2), notice(3)])
    assert wait_until(lambda: count(ingestor.sessions) == 3, 20)
    assert sorted(archived_hashes(ingestor.sessions)) == sorted(
        map(sha, [notice(1), notice(2), notice(3)]))
    assert wait_until(lambda: last_error(ingestor.sessions) is None, 5)


def test_batches_respect_count_and_byte_budget() -> None:
    """GIVEN sizes WHEN batched THEN no batch exceeds either budget, except a lone big message."""
    sizes = {1: 10, 2: 10, 3: 100, 4: 10, 5: 10, 6: 10}
    assert list(batches(sizes, max_count=2, max_bytes=50)) == [[1, 2], [3], [4, 5], [6]]


def test_a_message_the_server_cannot_read_does_not_block_the_folder(
        dovecot: DovecotServer, account_for: Callable[..., ImapAccount],
        ingestor: Ingestor) -> None:
    """GIVEN one message whose file the server cannot read WHEN synced THEN the others are
    archived, the refused UID is audited and shown as the mailbox's error."""
    uids = dovecot.append_many([notice(i) for i in range(4)])
    files = sorted((dovecot.maildir_root / "cur").iterdir()) + sorted(
        (dovecot.maildir_root / "new").iterdir())
    assert len(files) == 4
    victim = files[1]
    victim.chmod(0)
    try:
        FolderWorker(account_for(), "INBOX", ingestor, threading.Event()).run_once()
    finally:
        victim.chmod(0o600)
    assert len(archived_hashes(ingestor.sessions)) == 3
    with ingestor.sessions() as session:
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "fetch_refused")).all()
        box = session.scalars(select(Mailbox)).one()
    assert len(refused) == 1
    assert box.last_uid == uids[-1]
    assert box.last_error is not None and "refused UID" in box.last_error


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    folder.chmod(0o755)
    key.chmod(0o644)  # read by Dovecot's unprivileged login process in this test only
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_verifies_the_server_certificate(
        dovecot_factory: Callable[..., DovecotServer], write_config: Callable[..., Path],
        migrated_sessions: sessionmaker[Session], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """GIVEN a server with a private certificate WHEN maild connects with STARTTLS or implicit
    TLS THEN it fails without the CA and archives the mail once the CA is its ca_file."""
    folder = Path(tempfile.mkdtemp(prefix="maild-tls-"))
    try:
        cert, key = make_certificate(folder)
        server = dovecot_factory(
            imaps=mode == "implicit",
            extra_config=f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n")
        server.append(notice(1))
        monkeypatch.setenv(IMAP_PASSWORD_ENV, server.password)
        ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")
        table = imap_table(server).replace('tls = "plain"', f'tls = "{mode}"')
        if mode == "implicit":
            table = table.replace(f"port = {server.port}", f"port = {server.imaps_port}")
        untrusted = load_config(write_config(table)).imap[0]
        with pytest.raises(ssl.SSLCertVerificationError):
            FolderWorker(untrusted, "INBOX", ingestor, threading.Event()).run_once()
        trusted = load_config(write_config(table + f'ca_file = "{cert}"\n')).imap[0]
        assert FolderWorker(trusted, "INBOX", ingestor, threading.Event()).run_once() == 1
    finally:
        shutil.rmtree(folder)


@pytest.mark.slow
def test_a_50_mb_message_is_fetched_alone_and_archived_exactly(
        dovecot: DovecotServer, account_for: Callable[..., ImapAccount],
        ingestor: Ingestor) -> None:
    """GIVEN a 50 MB message between small ones WHEN synced with a 32 MB batch budget THEN it
    is fetched in a batch of its own and archived byte for byte with the others."""
    big = notice(1, size=50 * 1024 * 1024)
    raws = [notice(0), big, notice(2)]
    for raw in raws:
        dovecot.append(raw)
    batches_seen: list[list[int]] = []
    real_ingest = ingestor.ingest

    def recording_ingest(items: list[Incoming], *args: object, **kwargs: object) -> BatchResult:
        batches_seen.append([len(item.raw) for item in items])
        return real_ingest(items, *args, **kwargs)  # type: ignore[arg-type]

    ingestor.ingest = recording_ingest  # type: ignore[method-assign]
    worker = FolderWorker(account_for(), "INBOX", ingestor, threading.Event())
    assert worker.run_once() == 3
    assert batches_seen == [[len(raws[0])], [len(big)], [len(raws[2])]], \
        "the 50 MB message must travel in a FETCH batch of its own"
    assert ingestor.store.get(sha(big)) == big
    assert sorted(archived_hashes(ingestor.sessions)) == sorted(map(sha, raws))
