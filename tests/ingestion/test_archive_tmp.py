"""What a killed writer leaves in ``archive/tmp`` is swept at start, and only that (issue 7.12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from socket import gethostname

import pytest

from maild.archive import STALE_TMP_SECONDS, RawStore
from tests.support import run_maild

from .conftest import notice

SHA = "ab" * 32
# A writer as RawStore._write is one: it opens its temp file under its own pid, writes half a
# message and stays in the middle of the write until it is killed.
_WRITER = ("import os, sys, threading, time\n"
           "name = f'{sys.argv[2]}.{os.getpid()}.{threading.get_ident()}.{sys.argv[3]}'\n"
           "with open(os.path.join(sys.argv[1], name), 'wb') as handle:\n"
           "    handle.write(b'Subject: half a mess')\n"
           "    handle.flush()\n"
           "    print(name, flush=True)\n"
           "    time.sleep(600)\n")


@pytest.fixture
def start_writer() -> Iterator[Callable[[Path, str], tuple[subprocess.Popen[str], str]]]:
    """Start writer processes caught mid-write; each is killed at teardown if still alive."""
    started: list[subprocess.Popen[str]] = []

    def start(folder: Path, host: str) -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen([sys.executable, "-c", _WRITER, str(folder), SHA, host],
                                   stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None
        return process, process.stdout.readline().strip()

    yield start
    for process in started:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_ingest_sweeps_what_a_killed_writer_left_and_keeps_a_live_writers_file(
        tmp_path: Path, write_config: Callable[..., Path],
        start_writer: Callable[[Path, str], tuple[subprocess.Popen[str], str]]) -> None:
    """GIVEN archive/tmp holding the half-written file of a writer killed with SIGKILL and the
    file of a writer still mid-write (another daemon on this host sharing the archive)
    WHEN `maild ingest` starts writing
    THEN the dead writer's file is gone, the live writer's file is untouched, and the new
    message is archived."""
    tmp = tmp_path / "archive" / "tmp"
    tmp.mkdir(parents=True)
    killed, killed_name = start_writer(tmp, gethostname())
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    _, live_name = start_writer(tmp, gethostname())
    (tmp_path / "a.eml").write_bytes(notice(1))
    result = run_maild(["--config", write_config(""), "ingest", tmp_path / "a.eml"])
    assert result.returncode == 0, result.stderr
    assert "archived 1 new message(s)" in result.stdout
    assert sorted(p.name for p in tmp.iterdir()) == [live_name]
    assert killed_name != live_name


def test_only_files_no_live_writer_can_own_are_swept(
        tmp_path: Path,
        start_writer: Callable[[Path, str], tuple[subprocess.Popen[str], str]]) -> None:
    """GIVEN temp files of a live writer of this host, of a writer of another host (whose pid
    means nothing here), in the old name format without a host, and old copies of the last two
    WHEN a store first writes
    THEN only the files untouched for longer than STALE_TMP_SECONDS go; a second write sweeps
    no more (the sweep runs once per store)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _, live = start_writer(tmp, gethostname())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    other_host = f"{SHA}.{gone}.1.other-host.example"
    old_format = f"{SHA}.{gone}.1"
    old_other_host, old_old_format = f"cd{other_host}", f"cd{old_format}"
    for name in (other_host, old_format, old_other_host, old_old_format):
        (tmp / name).write_bytes(b"partial")
    long_ago = time.time() - STALE_TMP_SECONDS - 60
    for name in (old_other_host, old_old_format):
        os.utime(tmp / name, (long_ago, long_ago))
    store = RawStore(tmp_path)
    store.put(b"Subject: first\r\n\r\n")
    kept = sorted([live, other_host, old_format])
    assert sorted(p.name for p in tmp.iterdir()) == kept
    os.utime(tmp / other_host, (long_ago, long_ago))
    store.put(b"Subject: second\r\n\r\n")
    assert sorted(p.name for p in tmp.iterdir()) == kept
