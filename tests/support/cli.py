"""Run the ``maild`` command line as a real subprocess, the way users and scripts do.

``python maild.py ARGS`` is the same program as the ``maild`` console script (DESIGN 1); going
through the file at the repository root needs no installed entry point and uses the interpreter
running the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MAILD_ENTRY = REPO_ROOT / "maild.py"


def maild_command(args: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The argv that runs ``maild ARGS`` with this interpreter."""
    return [sys.executable, str(MAILD_ENTRY), *(os.fspath(a) for a in args)]


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(os.environ)
    merged["PYTHONUNBUFFERED"] = "1"  # log lines reach pipes at once (daemon tests read them)
    if env:
        merged.update(env)
    return merged


def run_maild(
    args: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    *,
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``maild ARGS`` to completion; return the result with text ``stdout``/``stderr``.

    ``env`` entries are added to (and override) the current environment. The exit code is not
    checked: tests assert on ``returncode`` themselves (0, 1 or 2 per DESIGN 4.4).
    """
    return subprocess.run(
        maild_command(args),
        env=_environment(env),
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_maild(
    args: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.STDOUT,
) -> subprocess.Popen[bytes]:
    """Start ``maild ARGS`` in the background (e.g. ``run``) and return the process.

    The caller stops it (``send_signal``/``kill``) and waits for it; the ``maild_process``
    fixture does both at teardown for processes it started.
    """
    return subprocess.Popen(
        maild_command(args),
        env=_environment(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
    )
