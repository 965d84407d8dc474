"""The house rules that a machine can check: ruff on the code and the tests, mypy on maild/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)


def test_ruff_finds_nothing() -> None:
    """GIVEN the repository WHEN ruff checks code, tests, benchmarks and migrations
    THEN it reports no problem."""
    result = run("ruff", "check", "maild", "tests", "bench", "maild.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    """GIVEN the package WHEN mypy checks maild/ THEN it reports no error."""
    result = run("mypy", "maild")
    assert result.returncode == 0, result.stdout + result.stderr
