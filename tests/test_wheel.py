"""maild installed as a wheel works: migrations, templates and the triage table are package data,
never read from a checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHECK = r"""
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import maild
from maild.db import upgrade
from maild.parsers import parse_message
from maild.routing.compose import compose_ack
from maild.routing.triage import load_rules

site = Path(sys.argv[1])
assert Path(maild.__file__).is_relative_to(site), maild.__file__
upgrade(f"sqlite:///{sys.argv[2]}")
notice = parse_message(b"From: Amazon <seller-performance@amazon.com>\r\n"
                       b"Subject: Your Amazon selling account has been deactivated\r\n\r\n"
                       b"We have deactivated your selling account.\r\n")
assert notice.category == "suspension" and notice.summary_zh and notice.summary_en, notice
assert load_rules().priority("suspension", None, None) == "P0"
ack = compose_ack("MD-2026-000001", urgent=True, original_subject="[URGENT] store down",
                  languages=["zh", "en"], zone=ZoneInfo("Asia/Shanghai"),
                  now=datetime.now(UTC), from_address="desk@example.test",
                  to=["boss@example.test"], reply_to=None, message_id="<a@example.test>")
assert b"URGENT-MD-2026-000001" in ack
print("wheel ok")
"""


@pytest.mark.slow
def test_the_installed_wheel_migrates_parses_and_renders_without_the_checkout(
        tmp_path: Path) -> None:
    """GIVEN maild built as a wheel and unpacked away from the checkout WHEN it upgrades a
    database, parses a notice (summaries from templates) and renders an acknowledgement THEN all
    of it works from the wheel's own files."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(REPO)],
        capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "dist").glob("maild-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    for needed in ("maild/migrations/env.py", "maild/migrations/versions/0001_ingestion.py",
                   "maild/templates/summary/zh.txt.j2", "maild/routing/triage.toml",
                   "maild/outbound/platform_rules.toml"):
        assert needed in names, f"{needed} is not in the wheel"
    env = {**os.environ, "PYTHONPATH": str(site)}
    ran = subprocess.run([sys.executable, "-P", "-c", CHECK, str(site), str(tmp_path / "db")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert ran.returncode == 0 and "wheel ok" in ran.stdout, ran.stdout + ran.stderr
