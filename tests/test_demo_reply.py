"""The README's demo shows the reply path with no servers: ``./scripts/run-demo.sh --once`` routes
the samples, plays the advisor answering one summary into the replies Maildir, and the daemon run
turns the answer into draft v1 with an approval request to the decision-maker; a second run
changes nothing of it.

The demo runs in a copy of what it reads (config/demo.toml and its key, scripts/, the corpus
samples), so every path of the demo config is in ``tmp_path``, never the checkout's ``var/``. Its
``.venv`` is two wrappers around the interpreter running the tests (no venv is created, nothing
is installed) with the script's "installed" stamp.
"""

from __future__ import annotations

import email
import json
import re
import shlex
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest

from tests.support.cli import maild_command, run_maild

REPO = Path(__file__).resolve().parents[1]
DECIDER_OUTBOX = Path("var/demo/outbox/zhangwei@example-shop.cn/new")


def _wrapper(path: Path, argv: list[str]) -> None:
    path.write_text(f'#!/bin/sh\nexec {shlex.join(argv)} "$@"\n', encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A project directory holding what run-demo.sh reads, with a ready "venv"."""
    root = tmp_path / "project"
    for name in ("config/demo.toml", "config/demo.secret", "scripts/run-demo.sh",
                 "scripts/demo_advisor_reply.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    for sample in REPO.glob("tests/corpus/*/*.eml"):
        target = root / sample.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, target)
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python, entry = maild_command([])
    _wrapper(bin_dir / "python", [python])
    _wrapper(bin_dir / "maild", [python, entry])
    (root / ".venv" / ".maild-installed").touch()
    return root


def run_demo(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(root / "scripts" / "run-demo.sh"), "--once"], cwd=root,
                          capture_output=True, text=True, timeout=240, check=False)


def demo_maild(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_maild(["--config", root / "config" / "demo.toml", *args], cwd=root)
    assert result.returncode == 0, result.stderr
    return result


def approval_requests(root: Path) -> list[str]:
    """The X-Maild-Draft header of every approval request the decision-maker got."""
    found = []
    for path in sorted((root / DECIDER_OUTBOX).iterdir()):
        with path.open("rb") as handle:
            message = email.message_from_binary_file(handle, policy=policy.default)
        if message["X-Maild-Draft"] is not None:
            found.append(str(message["X-Maild-Draft"]))
    return found


@pytest.mark.slow
def test_demo_drafts_once_and_asks_the_decision_maker(demo: Path) -> None:
    """GIVEN a fresh copy of the demo WHEN ./scripts/run-demo.sh --once runs THEN it prints the
    case the advisor answered and the `maild drafts` command, the case has draft v1 by the
    advisor (pending, not blocked, only the new text: no signature, no quote) and the
    decision-maker's Maildir holds its approval request; WHEN it runs again THEN it succeeds and
    still shows one draft and one approval request."""
    first = run_demo(demo)
    assert first.returncode == 0, first.stderr[-3000:]
    found = re.search(r"maild --config config/demo\.toml drafts (MD-\d{4}-\d{6})\n", first.stdout)
    assert found, first.stdout
    ticket = found.group(1)
    assert f"draft {ticket}" in first.stdout
    assert (demo / "var" / "maild.db").is_file()

    (draft,) = json.loads(demo_maild(demo, "drafts", ticket, "--json").stdout)
    assert (draft["version"], draft["state"], draft["author"], draft["blocked_by"]) == (
        1, "pending", "anna@advisor.example", [])
    text = demo_maild(demo, "draft", ticket).stdout
    assert "Dear customer" in text and "Example Shop" in text
    assert "-- " not in text and "Anna" not in text and "\n>" not in text
    assert approval_requests(demo) == [f"{ticket} v1"]

    second = run_demo(demo)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"drafts {ticket}\n" in second.stdout
    assert [d["version"] for d in json.loads(
        demo_maild(demo, "drafts", ticket, "--json").stdout)] == [1]
    assert approval_requests(demo) == [f"{ticket} v1"]
