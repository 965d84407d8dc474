"""Local sources: ``maild ingest`` for .eml/mbox/Maildir, the watched Maildir, bad input."""

from __future__ import annotations

import hashlib
import mailbox
import os
import pty
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.config import MaildirSource
from maild.db import make_engine, session_factory
from maild.ingest import Ingestor
from maild.models import Message
from maild.sources.maildir import MaildirWorker, seen_name
from tests.support import run_maild
from tests.support.cli import maild_command

from .conftest import notice, wait_until


def hashes_in(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(Message.sha256)))
    finally:
        engine.dispose()


def deliver(maildir: Path, name: str, raw: bytes) -> Path:
    """Deliver the Maildir way: write into tmp/, then rename into new/."""
    (maildir / "tmp" / name).write_bytes(raw)
    target = maildir / "new" / name
    (maildir / "tmp" / name).rename(target)
    return target


def test_ingest_reads_eml_mbox_and_maildir_and_dedupes(tmp_path: Path,
                                                       write_config: Callable[..., Path]) -> None:
    """GIVEN the same messages as .eml files, an mbox and a Maildir WHEN ingested
    THEN each distinct message is archived once and a second run adds nothing."""
    raws = [notice(i) for i in range(6)]
    eml_dir = tmp_path / "emls"
    eml_dir.mkdir()
    for i, raw in enumerate(raws[:3]):
        (eml_dir / f"{i}.eml").write_bytes(raw)
    box = mailbox.mbox(str(tmp_path / "backfill.mbox"))
    for raw in raws[2:5]:
        box.add(raw)
    box.close()
    md = mailbox.Maildir(str(tmp_path / "md"))
    md.add(raws[5])
    md.close()
    config = write_config("")
    paths = [eml_dir, tmp_path / "backfill.mbox", tmp_path / "md"]
    first = run_maild(["--config", config, "ingest", *paths])
    assert first.returncode == 0, first.stderr
    assert "archived 6 new message(s), 1 already archived" in first.stdout
    assert [line for line in first.stderr.splitlines() if "maild ingest:" in line] == [
        f"maild ingest: {eml_dir}: 3 new, 0 already archived",
        f"maild ingest: {tmp_path / 'backfill.mbox'}: 2 new, 1 already archived",
        f"maild ingest: {tmp_path / 'md'}: 1 new, 0 already archived"]  # a log: a line a path
    again = run_maild(["--config", config, "ingest", *paths])
    assert "archived 0 new message(s), 7 already archived" in again.stdout
    url = f"sqlite:///{tmp_path / 'maild.sqlite3'}"
    assert sorted(hashes_in(url)) == sorted(hashlib.sha256(r).hexdigest() for r in raws)


def test_ingest_of_missing_path_exits_1_and_keeps_the_rest(
        tmp_path: Path, write_config: Callable[..., Path]) -> None:
    """GIVEN one readable and one missing path WHEN ingested THEN the readable one is archived,
    the missing one named on stderr, and the exit code is 1."""
    (tmp_path / "a.eml").write_bytes(notice(1))
    result = run_maild(["--config", write_config(""), "ingest", tmp_path / "a.eml",
                        tmp_path / "missing.eml"])
    assert result.returncode == 1
    assert "missing.eml: no such file or directory" in result.stderr
    assert "archived 1 new message(s)" in result.stdout


def test_bad_input_is_archived_byte_for_byte(tmp_path: Path,
                                             write_config: Callable[..., Path]) -> None:
    """GIVEN a 50 MB message, NUL bytes, 8-bit garbage headers and no headers at all
    WHEN ingested THEN each is archived exactly as it was."""
    big = notice(1, size=50 * 1024 * 1024)
    odd = [b"\x00\x01\x02 not a message at all \xff\xfe",
           b"Subject: \xe4\xf6\xfc caf\xe9 \x81\x82\r\nFrom: \xff@\xfe\r\n\r\nbody\x00with NUL\r\n",
           b"", b"\r\n\r\n\r\n", big]
    for i, raw in enumerate(odd):
        (tmp_path / f"odd{i}.eml").write_bytes(raw)
    config = write_config("")
    result = run_maild(["--config", config, "ingest", *[tmp_path / f"odd{i}.eml"
                                                         for i in range(len(odd))]])
    assert result.returncode == 0, result.stderr
    store = RawStore(tmp_path / "archive")
    for raw in odd:
        assert store.get(hashlib.sha256(raw).hexdigest()) == raw


def test_every_malformed_real_world_message_is_archived_exactly(
        tmp_path: Path, write_config: Callable[..., Path],
        shared_corpora: Path) -> None:
    """GIVEN every message of corpora/malformed WHEN ingested THEN each distinct file is in the
    archive byte for byte, and verify finds nothing wrong."""
    files = sorted((shared_corpora / "malformed").iterdir())
    config = write_config("")
    result = run_maild(["--config", config, "ingest", shared_corpora / "malformed"], timeout=300)
    assert result.returncode == 0, result.stderr
    store = RawStore(tmp_path / "archive")
    expected = {hashlib.sha256(f.read_bytes()).hexdigest(): f for f in files}
    archived = set(hashes_in(f"sqlite:///{tmp_path / 'maild.sqlite3'}"))
    assert archived == set(expected)
    for digest, path in expected.items():
        assert store.get(digest) == path.read_bytes(), path.name
    assert run_maild(["--config", config, "archive", "verify"]).returncode == 0


def test_watched_maildir_archives_new_files_and_marks_them_seen(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a watched Maildir WHEN files are delivered into new/ THEN watchdog's event gets
    them archived and moved to cur/ with the Seen flag."""
    maildir = tmp_path / "inbox"
    stop = threading.Event()
    ingestor = Ingestor(RawStore(tmp_path / "archive"), migrated_sessions, actor="test")
    deliver_before = notice(0)
    worker = MaildirWorker(MaildirSource("demo", maildir), ingestor, stop)
    deliver(maildir, "1700000000.1.host", deliver_before)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        for i in range(1, 4):
            deliver(maildir, f"17000000{i:02d}.{i}.host", notice(i))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(list((maildir / "cur").iterdir())) < 4:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == sorted(
        seen_name(f"17000000{i:02d}.{i}.host") if i else seen_name("1700000000.1.host")
        for i in range(4))
    assert list((maildir / "new").iterdir()) == []
    with migrated_sessions() as session:
        assert len(session.scalars(select(Message)).all()) == 4


def test_seen_name_adds_the_seen_flag_once() -> None:
    """GIVEN Maildir names with and without info WHEN marked seen THEN flags stay sorted."""
    assert seen_name("123.abc.host") == "123.abc.host:2,S"
    assert seen_name("123.abc.host:2,FR") == "123.abc.host:2,FRS"
    assert seen_name("123.abc.host:2,S") == "123.abc.host:2,S"


def test_every_real_world_message_is_archived_and_parsed_on_postgres(
        tmp_path: Path, postgres_url: str,
        shared_corpora: Path) -> None:
    """GIVEN all of corpora/ (ham, phishing, malformed) WHEN `run --once` ingests and parses
    them on PostgreSQL THEN every message reaches a final stage and none is lost."""
    config = tmp_path / "pg.toml"
    config.write_text(f'[maild]\ndatabase = "{postgres_url}"\narchive_dir = "{tmp_path}/a"\n\n'
                      f'[[maildir]]\nname = "corpora"\npath = "{tmp_path}/md"\n')
    files = sorted(p for sub in ("ham", "phishing", "malformed")
                   for p in (shared_corpora / sub).iterdir())
    (tmp_path / "md" / "new").mkdir(parents=True)
    for i, path in enumerate(files):
        (tmp_path / "md" / "new" / f"{i}.corpus").write_bytes(path.read_bytes())
    result = run_maild(["--config", config, "run", "--once"], timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    engine = make_engine(postgres_url)
    try:
        with session_factory(engine)() as session:
            stages = list(session.scalars(select(Message.stage)))
    finally:
        engine.dispose()
    distinct = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert len(stages) == len(distinct)
    assert set(stages) <= {"parsed", "routed", "quarantined"}


def test_drop_folder_archives_files_only_once_fully_written(
        tmp_path: Path, migrated_sessions: sessionmaker[Session]) -> None:
    """GIVEN a watched drop folder WHEN a file is copied in slowly, in two writes THEN it is
    archived whole (not half), once, and moved to archived/; partial names are left alone."""
    folder = tmp_path / "drop"
    stop = threading.Event()
    store = RawStore(tmp_path / "archive")
    ingestor = Ingestor(store, migrated_sessions, actor="test")
    worker = MaildirWorker(MaildirSource("drop", folder, kind="drop"), ingestor, stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    raw = notice(7, size=200_000)
    try:
        time.sleep(0.3)
        (folder / "upload.eml.part").write_bytes(b"half")
        with (folder / "big.eml").open("wb") as handle:
            handle.write(raw[:1000])
            handle.flush()
            time.sleep(0.5)
            handle.write(raw[1000:])
        assert wait_until(lambda: (folder / "archived" / "big.eml").exists(), 10)
    finally:
        stop.set()
        thread.join(10)
    assert hashes_in_sessions(migrated_sessions) == [hashlib.sha256(raw).hexdigest()]
    assert store.get(hashlib.sha256(raw).hexdigest()) == raw
    assert (folder / "upload.eml.part").exists()


def hashes_in_sessions(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Message.sha256)))


def test_verify_counts_archive_files_without_rows(tmp_path: Path,
                                                  write_config: Callable[..., Path]) -> None:
    """GIVEN an archived message and a file the database has no row for (a crash before commit)
    WHEN verified THEN it passes, with a note naming the orphan and how to re-add it."""
    (tmp_path / "a.eml").write_bytes(notice(1))
    config = write_config("")
    assert run_maild(["--config", config, "ingest", tmp_path / "a.eml"]).returncode == 0
    orphan = RawStore(tmp_path / "archive").put(notice(2))
    result = run_maild(["--config", config, "archive", "verify"])
    assert result.returncode == 0, result.stdout
    assert "note: 1 archive file(s) have no database row" in result.stdout
    assert orphan.sha256 in result.stdout and "archive verify: ok" in result.stdout


def test_ingest_shows_a_progress_bar_on_a_terminal(tmp_path: Path,
                                                   write_config: Callable[..., Path]) -> None:
    """GIVEN an mbox WHEN ``maild ingest`` runs with stderr on a terminal THEN a progress bar
    labelled with the path is drawn there, to 100%, instead of the per-path log line."""
    box = mailbox.mbox(str(tmp_path / "big.mbox"))
    for i in range(40):
        box.add(notice(i))
    box.close()
    config = write_config("")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(maild_command(["--config", config, "ingest",
                                             tmp_path / "big.mbox"]),
                              stderr=follower, stdout=subprocess.PIPE, timeout=120, check=True)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side closed: all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert b"archived 40 new message(s)" in done.stdout
    assert f"ingest {tmp_path / 'big.mbox'}".encode() in shown and b"100%" in shown
    assert b"maild ingest:" not in shown
