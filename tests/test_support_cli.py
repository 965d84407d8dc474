"""``run_maild`` and ``maild_process`` run the real command line in a subprocess."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from tests.support import run_maild


def test_run_maild_returns_exit_code_and_output() -> None:
    """GIVEN the maild command line
    WHEN run_maild runs --help and an unknown command
    THEN it returns exit 0 with the usage text, then exit 2 (bad usage) with the error."""
    ok = run_maild(["--help"])
    bad = run_maild(["no-such-command"])

    assert ok.returncode == 0, ok.stderr
    assert "Usage:" in ok.stdout
    assert bad.returncode == 2
    assert "no-such-command" in bad.stderr


def test_maild_process_stops_what_it_started(
    maild_process: Callable[..., subprocess.Popen[bytes]],
) -> None:
    """GIVEN a maild process started in the background
    WHEN it finishes
    THEN its output is readable from the returned process."""
    proc = maild_process(["--version"])

    output, _ = proc.communicate(timeout=60)

    assert proc.returncode == 0
    assert b"version" in output
