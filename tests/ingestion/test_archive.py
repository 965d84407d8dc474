"""Raw archive and audit chain: durable, content-addressed, and tamper-evident: edits and
deletions of message rows and of the chain's end are found too (issue 7.3)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from socket import gethostname

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import SYNC_MODES, RawStore
from maild.audit import AuditLog, verify_chain
from maild.audit_head import chain_head, head_file, read_heads
from maild.db import make_engine, session_factory, upgrade
from maild.errors import ArchiveError
from maild.ingest import Incoming, Ingestor
from maild.integrity import verify_archive, verify_archived_events
from maild.models import AuditEvent, Message
from tests.ingestion.conftest import notice
from tests.support import run_maild


def test_put_stores_bytes_under_their_hash_once(tmp_path: Path) -> None:
    """GIVEN the same bytes twice WHEN stored THEN one read-only file named by its SHA-256."""
    store = RawStore(tmp_path)
    raw = b"Subject: x\r\n\r\nbody\x00\xff"
    first, second = store.put(raw), store.put(raw)
    assert first.sha256 == hashlib.sha256(raw).hexdigest()
    assert first.new and not second.new
    assert store.get(first.sha256) == raw
    assert list(store.names_by_folder()) == [(first.sha256[:2], [first.sha256])]
    assert not os.access(store.path_for(first.sha256), os.W_OK) or os.geteuid() == 0
    assert not list((tmp_path / "tmp").iterdir()), "no temp files are left behind"


def test_verify_detects_flipped_byte_and_edited_audit_row(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN archived messages WHEN one file byte flips or an audit row is edited
    THEN verify names each problem; before that it finds none."""
    store = RawStore(tmp_path / "archive")
    ingestor = Ingestor(store, migrated_sessions, actor="test")
    ingestor.ingest([Incoming(raw=f"Subject: {i}\r\n\r\nhello {i}\r\n".encode(),
                              origin=f"test:{i}") for i in range(5)])
    with migrated_sessions() as session:
        assert list(verify_archive(session, store)) == []

    victim = next(iter(store.names_by_folder()))[1][0]
    path = store.path_for(victim)
    path.chmod(0o640)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    with migrated_sessions.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2)
                        .values(subject="0" * 64))
    with migrated_sessions() as session:
        problems = list(verify_archive(session, store))
    assert any(f"archive file {path} was altered" in p for p in problems)
    assert any(p.startswith("audit event 2") for p in problems)


def test_audit_chain_links_each_event_to_the_previous(
        migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN events recorded in two transactions THEN each prev_hash is its predecessor's hash
    and deleting a middle event breaks the chain."""
    with migrated_sessions.begin() as session:
        AuditLog(session).record("test", "first", "x")
    with migrated_sessions.begin() as session:
        log = AuditLog(session)
        log.record("test", "second", "y")
        log.record("test", "third", "z")
    with migrated_sessions() as session:
        assert list(verify_chain(session)) == []
        rows = session.query(AuditEvent).order_by(AuditEvent.seq).all()
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    with migrated_sessions.begin() as session:
        session.delete(session.get(AuditEvent, 2))
    with migrated_sessions() as session:
        assert any("prev_hash" in p for p in verify_chain(session))


def test_two_writers_and_a_rolled_back_savepoint_in_one_transaction_keep_one_chain(
        migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN one transaction where two AuditLogs take turns and a savepoint holding an event
    rolls back WHEN it commits THEN the chain has no fork and no link to a vanished event."""
    with migrated_sessions.begin() as session:
        first, second = AuditLog(session), AuditLog(session)
        first.record("test", "a", "1")
        second.record("test", "b", "2")
        first.record("test", "c", "3")
        savepoint = session.begin_nested()
        first.record("test", "undone", "4")
        savepoint.rollback()
        first.record("test", "d", "5")
    with migrated_sessions() as session:
        assert list(verify_chain(session)) == []
        assert [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))] \
            == ["a", "b", "c", "d"]


@pytest.mark.parametrize("mode", SYNC_MODES)
def test_both_durability_modes_store_the_same_files(tmp_path: Path, mode: str) -> None:
    """GIVEN a batch with a repeat WHEN stored with syncfs or with per-file fsyncs THEN the same
    files exist, each named by its hash, and only the first copy counts as new."""
    store = RawStore(tmp_path / mode, sync_mode=mode)
    raws = [b"a", b"b\x00", b"a", b""]
    stored = store.put_many(raws)
    assert [s.new for s in stored] == [True, True, False, True]
    assert sorted(n for _, names in store.names_by_folder() for n in names) == sorted(
        {hashlib.sha256(r).hexdigest() for r in raws})
    assert all(store.get(s.sha256) == r for s, r in zip(stored, raws, strict=True))


def test_unknown_archive_sync_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="archive_sync 'sometimes'"):
        RawStore(tmp_path, sync_mode="sometimes")


def test_a_temp_file_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    """GIVEN a half-written, read-only temp file under the name this thread would use (a crash
    mid-write) WHEN the same message is stored THEN the full bytes land in the archive."""
    store = RawStore(tmp_path, sync_mode="syncfs")  # writes in the calling thread
    raw = b"Subject: crash\r\n\r\n" + b"x" * 1000
    sha = hashlib.sha256(raw).hexdigest()
    (tmp_path / "tmp").mkdir()
    stale = tmp_path / "tmp" / f"{sha}.{os.getpid()}.{threading.get_ident()}.{gethostname()}"
    stale.write_bytes(b"Subject: cr")
    stale.chmod(0o440)
    assert store.put(raw).new
    assert store.get(sha) == raw
    assert not stale.exists()


# --------------------------------------------------------------------------- tampering (issue 7.3)

BATCHES = 3
PER_BATCH = 4


@pytest.fixture
def anchored(db_url: str, tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session], RawStore]]:
    """A migrated database and an archive whose sessions anchor the audit head, as the daemon
    and the CLI build them; three committed batches of IMAP-like messages (uids 1..12)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    store = RawStore(tmp_path / "archive")
    sessions = session_factory(engine, archive_dir=store.root)
    ingestor = Ingestor(store, sessions, actor="test")
    for b in range(BATCHES):
        ingestor.ingest([Incoming(raw=notice(uid), origin=f"imap:platform/INBOX/{uid}", uid=uid)
                         for uid in range(b * PER_BATCH + 1, (b + 1) * PER_BATCH + 1)])
    try:
        yield db_url, sessions, store
    finally:
        engine.dispose()


def _delete_last_audit_rows(sessions: sessionmaker[Session], store: RawStore) -> None:
    with sessions.begin() as session:
        last = session.scalar(select(func.max(AuditEvent.seq)))
        session.execute(delete(AuditEvent).where(AuditEvent.seq > last - PER_BATCH))


def _delete_message_with_its_file(sessions: sessionmaker[Session], store: RawStore) -> None:
    with sessions.begin() as session:
        victim = session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert victim is not None
        session.delete(victim)
    store.path_for(victim.sha256).unlink()


def _edit_uid(sessions: sessionmaker[Session], store: RawStore) -> None:
    with sessions.begin() as session:
        session.execute(update(Message).where(Message.uid == 5).values(uid=2000))


def _edit_origin(sessions: sessionmaker[Session], store: RawStore) -> None:
    with sessions.begin() as session:
        session.execute(update(Message).where(Message.uid == 6)
                        .values(origin="imap:platform/INBOX/600"))


TAMPERING = {
    "last audit rows deleted": (_delete_last_audit_rows,
                                r"audit event \d+ anchored in .*audit-head.log line 3 is missing"),
    "message row and file deleted": (_delete_message_with_its_file,
                                     r"audit event \d+: archived message \w+\.\.\. has no "
                                     r"message row"),
    "uid edited": (_edit_uid, r"message 5 \(\w+\.\.\.\): uid is 2000 in the database but 5 in "
                              r"its archived audit event \d+"),
    "origin edited": (_edit_origin, r"origin is 'imap:platform/INBOX/600' in the database but "
                                    r"'imap:platform/INBOX/6' in its archived audit event"),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_verify_detects_deleted_and_edited_rows(
        case: str, anchored: tuple[str, sessionmaker[Session], RawStore],
        write_config: Callable[..., Path]) -> None:
    """GIVEN an archive that verifies clean (SQLite, then PostgreSQL)
    WHEN the last audit rows are deleted, or a message row with its file, or a row's uid or
    origin is edited
    THEN `maild archive verify` exits 1 with a line naming that problem."""
    url, sessions, store = anchored
    with sessions() as session:
        assert list(verify_archive(session, store)) == []
    tamper, expected = TAMPERING[case]
    tamper(sessions, store)

    result = run_maild(["--config", write_config("", database=url), "archive", "verify"])

    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(expected, result.stdout), result.stdout
    assert "archive verify found" in result.stderr


def test_a_head_file_one_commit_behind_is_no_alarm(
        anchored: tuple[str, sessionmaker[Session], RawStore]) -> None:
    """GIVEN a crash between a commit and its head line (the file one head behind)
    WHEN verify runs THEN it finds nothing: the chain may run past the file's last head."""
    _, sessions, store = anchored
    path = head_file(store.root)
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == BATCHES
    path.write_text("".join(lines[:-1]))
    with sessions() as session:
        assert list(verify_archive(session, store)) == []


def test_the_head_is_anchored_only_for_what_commits(
        sqlite_url: str, tmp_path: Path) -> None:
    """GIVEN sessions that anchor the head WHEN a transaction with an event rolls back, and a
    committed one rolled back a savepoint holding another event
    THEN the file holds one line, naming the event that committed."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine, archive_dir=tmp_path)
    try:
        with pytest.raises(RuntimeError), sessions.begin() as session:
            AuditLog(session).record("test", "rolled-back", "x")
            raise RuntimeError("abort")
        assert not head_file(tmp_path).exists()
        with sessions.begin() as session:
            AuditLog(session).record("test", "kept", "y")
            savepoint = session.begin_nested()
            AuditLog(session).record("test", "undone", "z")
            savepoint.rollback()
        with sessions() as session:
            head = chain_head(session)
            assert head is not None
            assert session.scalar(select(AuditEvent.action)
                                  .where(AuditEvent.seq == head.seq)) == "kept"
        assert [h for _, h in read_heads(head_file(tmp_path))] == [head]
    finally:
        engine.dispose()


def test_an_operator_recorded_head_catches_a_rewritten_file(
        anchored: tuple[str, sessionmaker[Session], RawStore],
        write_config: Callable[..., Path]) -> None:
    """GIVEN `maild archive head` recorded elsewhere WHEN the last audit rows and the head file
    are both removed THEN `maild archive verify --head HASH` exits 1 naming the head."""
    url, sessions, store = anchored
    config = write_config("", database=url)
    printed = run_maild(["--config", config, "archive", "head"])
    assert printed.returncode == 0, printed.stderr
    recorded = re.fullmatch(r"seq (\d+) hash ([0-9a-f]{64}) at \S+\n", printed.stdout)
    assert recorded, printed.stdout
    _delete_last_audit_rows(sessions, store)
    head_file(store.root).unlink()

    result = run_maild(["--config", config, "archive", "verify", "--head", recorded[2]])

    assert result.returncode == 1
    assert f"audit head {recorded[2][:12]}... is not in the chain" in result.stdout


def test_events_recorded_before_the_detail_held_every_field_still_verify(
        migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a message archived by an older maild, whose event recorded only origin and size
    WHEN verify cross-checks it THEN it finds no problem, and still sees an edited origin."""
    sha = "ab" * 32
    with migrated_sessions.begin() as session:
        session.add(Message(sha256=sha, size=10, origin="file:x\ufffd.eml", stage="archived",
                            received_at=datetime.now(UTC)))
        session.flush()
        AuditLog(session).record("cli", "archived", sha, origin="file:x\x00.eml", size=10)
    with migrated_sessions() as session:
        assert list(verify_archived_events(session)) == []
    with migrated_sessions.begin() as session:
        session.execute(update(Message).values(origin="file:y.eml"))
    with migrated_sessions() as session:
        assert [p for p in verify_archived_events(session) if "origin is 'file:y.eml'" in p]


@pytest.mark.postgres
def test_daemons_sharing_postgresql_anchor_heads_the_chain_has(
        postgres_url: str, tmp_path: Path) -> None:
    """GIVEN two daemons' session factories on one PostgreSQL database and one archive
    WHEN both ingest batches at the same time THEN every anchored head is in the chain and
    verify finds nothing."""
    upgrade(postgres_url)
    engines = [make_engine(postgres_url) for _ in range(2)]
    store = RawStore(tmp_path / "archive")
    try:
        ingestors = [Ingestor(store, session_factory(e, archive_dir=store.root), actor=f"d{n}")
                     for n, e in enumerate(engines)]

        def feed(n: int) -> None:
            for b in range(10):
                ingestors[n].ingest([Incoming(raw=notice(1000 * n + 10 * b + i),
                                              origin=f"test:{n}") for i in range(3)])

        threads = [threading.Thread(target=feed, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(list(read_heads(head_file(store.root)))) == 20
        with session_factory(engines[0])() as session:
            assert list(verify_archive(session, store)) == []
    finally:
        for engine in engines:
            engine.dispose()
