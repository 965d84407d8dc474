"""`maild ingest` within bounds: memory by bytes, not by message count (issue 7.8)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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
