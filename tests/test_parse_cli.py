"""`maild parse`: the DESIGN 4.1 contract as outside tools see it (JSON Lines, keys, exit codes)."""

from __future__ import annotations

import json
import mailbox
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from click.testing import CliRunner

from maild.cli import main
from tests.support import maild_command

KEYS = [
    "source",
    "message_id",
    "platform",
    "marketplace",
    "category",
    "priority",
    "deadline",
    "deadline_text",
    "identifiers",
    "language",
    "sender_verified",
    "action_required",
    "summary_zh",
    "summary_en",
]
NOTICE = (
    b"From: Amazon.de <seller-performance@amazon.de>\r\n"
    b"To: shop@example.cn\r\n"
    b"Subject: Ihre Verkaufsberechtigung wurde deaktiviert\r\n"
    b"Date: Mon, 16 Mar 2026 09:00:00 +0100\r\n"
    b"Message-ID: <cli-1@amazon.de>\r\n"
    b"Authentication-Results: mx.example; dkim=pass header.d=amazon.de\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Guten Tag,\r\n\r\nwir haben Ihre Verkaufsberechtigung deaktiviert. Bitte reichen Sie "
    b"innerhalb von 17 Tagen einen Aktionsplan ein.\r\nASIN: B0ABCDEF12\r\n"
)


def _run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["parse", *args])
    return result.exit_code, result.stdout.splitlines()


def test_json_lines_follow_the_contract(tmp_path: Path) -> None:
    """GIVEN one genuine Amazon.de suspension notice
    WHEN `maild parse --json` reads it
    THEN one line holds exactly the contract keys in order with the parsed values."""
    path = tmp_path / "notice.eml"
    path.write_bytes(NOTICE)
    code, lines = _run("--json", str(path))
    assert code == 0 and len(lines) == 1
    record = json.loads(lines[0])
    assert list(record) == KEYS
    assert record["platform"] == "amazon" and record["marketplace"] == "amazon.de"
    assert record["category"] == "suspension" and record["priority"] == "P0"
    assert record["deadline"] == "2026-04-02T08:00:00Z"
    assert record["deadline_text"] == "innerhalb von 17 Tagen"
    assert record["identifiers"]["asin"] == ["B0ABCDEF12"]
    assert record["sender_verified"] is True and record["language"] == "de"


def test_mbox_directory_and_order(tmp_path: Path) -> None:
    """GIVEN an mbox of two messages and a directory with one .eml
    WHEN both paths are parsed
    THEN lines come in input order, mbox messages labelled `path#n`."""
    box_path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(box_path))
    box.add(NOTICE)
    box.add(NOTICE.replace(b"cli-1", b"cli-2"))
    box.close()
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "a.eml").write_bytes(NOTICE.replace(b"cli-1", b"cli-3"))
    code, lines = _run("--json", str(box_path), str(folder))
    sources = [json.loads(line)["source"] for line in lines]
    assert code == 0
    assert sources == [f"{box_path}#1", f"{box_path}#2", str(folder / "a.eml")]


def test_unparseable_input_still_gives_a_line(tmp_path: Path) -> None:
    """GIVEN a file of binary junk
    WHEN parsed
    THEN it yields one `other` line and the exit code stays 0."""
    path = tmp_path / "junk.eml"
    path.write_bytes(bytes(range(256)) * 10)
    code, lines = _run("--json", str(path))
    assert code == 0 and len(lines) == 1
    assert json.loads(lines[0])["category"] == "other"


def test_missing_path_exits_1_and_says_which(tmp_path: Path) -> None:
    """GIVEN a path that does not exist
    WHEN parsed
    THEN the exit code is 1 and stderr names the path."""
    missing = tmp_path / "nope.eml"
    result = CliRunner().invoke(main, ["parse", "--json", str(missing)])
    assert result.exit_code == 1
    assert str(missing) in result.stderr


def test_plain_output_is_one_readable_line(tmp_path: Path) -> None:
    """GIVEN the notice
    WHEN parsed without --json
    THEN one line shows priority, marketplace, category and due date."""
    path = tmp_path / "notice.eml"
    path.write_bytes(NOTICE)
    code, lines = _run(str(path))
    assert code == 0 and len(lines) == 1
    assert "[P0][amazon.de][suspension] due 2026-04-02T08:00:00Z" in lines[0]


def test_a_bad_entry_is_reported_and_the_rest_of_the_directory_parsed(tmp_path: Path) -> None:
    """GIVEN a directory with a FIFO named .eml and a link to a directory outside, sorted
    before a good notice
    WHEN parsed
    THEN the notice still gives its line, stderr names each bad entry with what it is, and the
    exit code is 1 (part of what was asked for could not be read)."""
    folder = tmp_path / "dir"
    folder.mkdir()
    os.mkfifo(folder / "a.eml")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.eml").write_bytes(NOTICE.replace(b"cli-1", b"cli-x"))
    (folder / "b-link").symlink_to(outside)
    (folder / "c.eml").write_bytes(NOTICE)
    result = CliRunner().invoke(main, ["parse", "--json", str(folder)])
    assert result.exit_code == 1
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == [
        str(folder / "c.eml")]
    assert result.stderr.splitlines() == [
        f"maild parse: {folder / 'a.eml'}: a FIFO, skipped",
        f"maild parse: {folder / 'b-link'}: a symbolic link (not followed inside a directory; "
        f"name its target to read it), skipped"]


def test_an_unreadable_file_is_reported_and_the_rest_of_the_directory_parsed() -> None:
    """GIVEN a directory whose first file the reading user may not read (mode 000)
    WHEN `maild parse` reads the directory as an unprivileged user (root reads anything, so
    a root test run drops to nobody)
    THEN stderr names the file and why, the next file still gives its line, and the exit code
    is 1."""
    # Beside, not under, tmp_path: its parents are private to the user running the tests.
    folder = Path(tempfile.mkdtemp(prefix="maild-unreadable-"))
    try:
        folder.chmod(0o755)
        (folder / "a.eml").write_bytes(NOTICE)
        (folder / "a.eml").chmod(0)
        (folder / "b.eml").write_bytes(NOTICE.replace(b"cli-1", b"cli-2"))
        argv = maild_command(["parse", "--json", folder])
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    finally:
        shutil.rmtree(folder)
    assert result.returncode == 1, result.stderr
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == [
        str(folder / "b.eml")]
    assert result.stderr.splitlines() == [
        f"maild parse: {folder / 'a.eml'}: cannot read (Permission denied)"]
