"""`maild ingest` of a folder on disk: memory bounded by bytes, not by message count (issue
7.8), and a bad entry skipped and reported while the rest is archived (issue 7.4)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from maild.archive import RawStore
from maild.ingest import batched
from tests.support.cli import maild_command

from .conftest import notice

MB = 1024 * 1024


# Started from the test process, a child's ru_maxrss would include the test process's own RSS
# (Linux keeps the high-water mark across fork and exec), so a small Python forks maild and
# reports what wait4 says of that child alone.
_MEASURE = ("import os, subprocess, sys\n"
            "child = subprocess.Popen(sys.argv[1:])\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, file=sys.stderr)\n")


def peak_rss_mb(args: list[str | os.PathLike[str]]) -> float:
    """Run ``maild ARGS`` to completion (it must succeed) and return its peak RSS in MB."""
    result = subprocess.run([sys.executable, "-c", _MEASURE, *maild_command(args)],
                            capture_output=True, text=True, timeout=300, check=False)
    code, kilobytes = result.stderr.split()[-2:]
    assert code == "0", result.stdout + result.stderr
    return int(kilobytes) / 1024


def test_ingest_memory_is_bounded_by_the_largest_message_not_the_folder(
        tmp_path: Path, write_config: Callable[..., Path]) -> None:
    """GIVEN a folder of six 40 MB messages (240 MB, well under the 100-message count limit)
    WHEN `maild ingest` archives it
    THEN its peak RSS stays within about two messages of the RSS of ingesting one small
    message: batches are cut by bytes, and a batch is freed before the next is read."""
    config = write_config("")
    small = tmp_path / "small"
    small.mkdir()
    (small / "0.eml").write_bytes(notice(0))
    baseline = peak_rss_mb(["--config", config, "ingest", small])
    big = tmp_path / "big"
    big.mkdir()
    for i in range(1, 7):
        (big / f"{i}.eml").write_bytes(notice(i, size=40 * MB))
    peak = peak_rss_mb(["--config", config, "ingest", big])
    assert peak - baseline < 2.5 * 40, f"peak {peak:.0f} MB, baseline {baseline:.0f} MB"


def test_batches_are_cut_by_count_and_by_bytes_in_order() -> None:
    """GIVEN sizes with one item over the byte budget WHEN batched THEN order is kept, no batch
    passes either limit, and the big item travels alone."""
    sizes = [10, 20, 30, 100, 5, 5, 5]
    assert list(batched(sizes, lambda s: s, max_count=2, max_bytes=50)) == [
        [10, 20], [30], [100], [5, 5], [5]]
    assert list(batched(iter([]), len, max_count=2, max_bytes=50)) == []


def test_ingest_skips_bad_entries_archives_the_rest_and_exits_1(
        tmp_path: Path, write_config: Callable[..., Path]) -> None:
    """GIVEN a backfill folder whose entries sort as a FIFO named .eml, a link to a file outside,
    a link to the folder itself (a loop), then two messages
    WHEN `maild ingest` archives it
    THEN both messages are archived once, the secret behind the link is not, stderr names each
    bad entry with what it is, and the exit code is 1."""
    folder = tmp_path / "backfill"
    folder.mkdir()
    os.mkfifo(folder / "a.eml")
    (tmp_path / "secret").write_bytes(b"root:only-maild-can-read-this\n")
    (folder / "b.eml").symlink_to(tmp_path / "secret")
    (folder / "c-loop").symlink_to(folder)
    for i in (4, 5):
        (folder / f"z{i}.eml").write_bytes(notice(i))
    result = subprocess.run(maild_command(["--config", write_config(""), "ingest", folder]),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    assert "archived 2 new message(s), 0 already archived" in result.stdout
    link = "a symbolic link (not followed inside a directory; name its target to read it)"
    assert [line.rsplit(": ", 1) for line in result.stderr.splitlines()] == [
        [f"maild ingest: {folder / 'a.eml'}", "a FIFO, skipped"],
        [f"maild ingest: {folder / 'b.eml'}", f"{link}, skipped"],
        [f"maild ingest: {folder / 'c-loop'}", f"{link}, skipped"],
        [f"maild ingest: {folder}", "2 new, 0 already archived"]]  # the path's closing line
    archived = {name for _, names in RawStore(tmp_path / "archive").names_by_folder()
                for name in names}
    assert archived == {hashlib.sha256(notice(i)).hexdigest() for i in (4, 5)}
