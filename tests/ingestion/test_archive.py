"""Raw archive and audit chain: durable, content-addressed, and tamper-evident."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import SYNC_MODES, RawStore
from maild.audit import AuditLog, verify_chain
from maild.errors import ArchiveError
from maild.ingest import Incoming, Ingestor
from maild.integrity import verify_archive
from maild.models import AuditEvent


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
    stale = tmp_path / "tmp" / f"{sha}.{os.getpid()}.{threading.get_ident()}"
    stale.write_bytes(b"Subject: cr")
    stale.chmod(0o440)
    assert store.put(raw).new
    assert store.get(sha) == raw
    assert not stale.exists()
