"""Files holding mail are the service user's alone: maild runs with umask 077 (issue 7.9)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import run_maild

from .conftest import notice, wait_until


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Start maild from a shell with the common umask 022, as a login shell or a bare unit
    would: any private mode then comes from maild itself."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def shared_with_others(root: Path) -> list[str]:
    """Every file and folder below ``root`` (itself included) that group or others may use."""
    paths = [root, *root.rglob("*")]
    return [f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p}" for p in paths
            if p.lstat().st_mode & 0o077]


def private_config(tmp_path: Path, body: str = "") -> Path:
    config = tmp_path / "maild.toml"
    config.write_text(f'[maild]\ndatabase = "sqlite:///{tmp_path}/var/maild.db"\n'
                      f'archive_dir = "{tmp_path}/var/archive"\n\n{body}', encoding="utf-8")
    return config


@pytest.mark.usefixtures("open_umask")
def test_ingest_creates_database_and_archive_for_the_owner_only(tmp_path: Path) -> None:
    """GIVEN a fresh SQLite database and archive under var/, and a shell umask of 022
    WHEN `maild ingest` archives a message
    THEN var/, the database, its lock, the archive's folders and files are all mode 0?00."""
    (tmp_path / "a.eml").write_bytes(notice(1))
    result = run_maild(["--config", private_config(tmp_path), "ingest", tmp_path / "a.eml"])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "maild.db").exists()
    assert len(list((tmp_path / "var" / "archive").glob("??/*"))) == 1
    assert shared_with_others(tmp_path / "var") == []


@pytest.mark.usefixtures("open_umask")
def test_running_daemon_keeps_its_wal_and_shm_private(
        tmp_path: Path, maild_process: Callable[..., subprocess.Popen[bytes]]) -> None:
    """GIVEN `maild run` watching a Maildir, started with umask 022
    WHEN it has archived a delivered message (its SQLite connection open: -wal and -shm exist)
    THEN the database, -wal, -shm and the archive are not readable by group or others."""
    maildir = tmp_path / "inbox"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(notice(1))
    config = private_config(tmp_path, f'[[maildir]]\nname = "demo"\npath = "{maildir}"\n')
    log = tmp_path / "maild.log"
    with log.open("wb") as out:
        maild_process(["--config", config, "run"], stdout=out)
    var = tmp_path / "var"
    assert wait_until(lambda: any((maildir / "cur").iterdir()), 60), log.read_text()[-3000:]
    assert wait_until(lambda: (var / "maild.db-wal").exists() and (var / "maild.db-shm").exists(),
                      10)
    assert shared_with_others(var) == []
