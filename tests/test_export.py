"""``maild export`` (issue 11): a client's whole record — notices, summaries, the advisor's
draft, the approval request and decision, the platform reply, a bounce, a digest — to a second
Dovecot account, an mbox and a Maildir, byte for byte; ``maild export verify`` passes on each and
names an altered byte, a deleted message and an edited manifest line precisely; a second run
adds nothing; a run killed -9 halfway ends complete with no duplicate on the next run."""

from __future__ import annotations

import email
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.db import make_engine, session_factory, upgrade
from maild.export import Selection, export
from maild.export_imap import MANIFEST_HEADER, imap_form, manifest_message
from maild.export_manifest import GENESIS, dumps, line_hash, parse_line
from maild.export_mbox import mboxrd_entry, read_mbox
from maild.export_targets import MaildirExport, TargetUrl, parse_target
from maild.export_verify import Verification
from maild.ingest import Incoming, Ingestor
from maild.models import AuditEvent, Case, Message, Outbound
from maild.outbound.outbox import new_message_id, queue
from tests.outbound.test_reply_path import (
    DRAFT,
    Desk,
    advisor_reply,
    buyer_message,
    decision_reply,
    open_desk,
)
from tests.routing.test_route_and_send import SECRET_ENV, notice, pipeline_for
from tests.support import REPO_ROOT, DovecotServer, SmtpSink
from tests.support.proxy import SilentRelay

# `maild export` registers itself when maild.cli_export is imported (as cli_cases does); this
# entry imports it explicitly, so the tests run the real command line whether or not maild/cli.py
# imports it yet.
ENTRY = ("import sys, maild.cli_export; from maild.cli import main; "
         "sys.exit(main(prog_name='maild'))")
SECRET = "export-test-secret"
DESK = "Advisor Desk <desk@advisor.example>"
AUDITOR = "auditor"
AUDITOR_PASSWORD = "audit-pw"
FOLDERS = ["MD-2026-000001", "MD-2026-000002", "unmatched"]


def argv(args: list[str | os.PathLike[str]]) -> list[str]:
    """``maild ARGS`` through ``ENTRY``."""
    return [sys.executable, "-c", ENTRY, *(os.fspath(a) for a in args)]


def run(args: list[str | os.PathLike[str]], env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv(args), cwd=REPO_ROOT, env=os.environ | (env or {}),
                          capture_output=True, text=True, timeout=timeout, check=False)


def spawn(args: list[str | os.PathLike[str]], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv(args), cwd=REPO_ROOT, env=os.environ | env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``maild export verify ARGS`` run in this process: the command's own code (it needs no
    config and no database), without an interpreter start for each of the many checks."""
    from maild.cli import main
    from maild.cli_export import export_verify

    del export_verify  # imported so that `maild export` is registered
    result = CliRunner(env=env).invoke(main, ["export", "verify", *args])
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class History:
    """A maild database and archive holding Acme's record (and a little of Beta's)."""

    root: Path
    config: Path
    database: str

    def maild(self, *args: str | os.PathLike[str],
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run(["--config", self.config, *args], {SECRET_ENV: SECRET, **(env or {})})

    def export(self, target: str, *args: str,
               env: dict[str, str] | None = None) -> tuple[str, str]:
        """Run ``maild export --client acme --all --to target``; (stdout, the head)."""
        done = self.maild("export", "--client", "acme", *(args or ("--all",)), "--to", target,
                          env=env)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout, head_in(done.stdout)

    def messages(self, client: str = "acme") -> dict[str, dict[str, bytes]]:
        """folder -> {sha256: bytes} of every message the client's export must hold."""
        store = RawStore(self.root / "archive")
        engine = make_engine(self.database)
        try:
            with session_factory(engine)() as session:
                rows = session.execute(select(Case.ticket, Message.sha256).join(
                    Message, Message.case_id == Case.id).where(Case.client_id == client)).all()
                digests = session.scalars(select(Message.sha256).join(
                    Outbound, Outbound.archived_id == Message.id).where(
                    Outbound.message_id.like(f"<digest.{client}.%"))).all()
        finally:
            engine.dispose()
        found: dict[str, dict[str, bytes]] = {}
        for folder, sha in [*rows, *(("unmatched", sha) for sha in digests)]:
            found.setdefault(folder, {})[sha] = store.get(sha)
        return found


def head_in(stdout: str) -> str:
    (line,) = [line for line in stdout.splitlines() if line.startswith("manifest head: ")]
    return line.split()[2]


def bounce_of(message_id: str) -> bytes:
    """An RFC 3464 report saying the message ``message_id`` could not be delivered."""
    return ("From: MAILER-DAEMON@mx.acme.example\r\nTo: desk@advisor.example\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Date: Tue, 10 Mar 2026 12:00:00 +0000\r\nMessage-ID: <bounce-1@mx.acme.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain\r\n\r\nThe mailbox is full.\r\n"
            "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.acme.example\r\n\r\n"
            "Final-Recipient: rfc822; ops@acme.example\r\nAction: failed\r\n"
            "Status: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n"
            "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: {DESK}\r\nMessage-ID: {message_id}\r\nSubject: summary\r\n"
            "--b1--\r\n").encode()


def digest_for(desk: Desk, client: str, to: str) -> None:
    """Queue a digest of ``client`` as the digest step does (no case; its Message-ID says
    whose it is)."""
    message_id = new_message_id(DESK, f"digest.{client}.client")
    raw = (f"From: {DESK}\r\nTo: {to}\r\nSubject: [Digest] 3 notices\r\n"
           f"Date: Fri, 13 Mar 2026 01:00:00 +0000\r\nMessage-ID: {message_id}\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           f"Three notices today.\r\n").encode()
    with desk.sessions.begin() as session:
        queue(session, desk.store, kind="digest:client", sender=DESK, recipients=[to], raw=raw,
              message_id=message_id, now=desk.now)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """MD-2026-000001 (Acme, 2026-03-10): a buyer's question, its summaries, the advisor's
    draft, the approval request, the decision-maker's approval, the platform reply with its
    receipt, the confirmations, a bounce of the client's summary and the operator's alert.
    MD-2026-000002 (Acme, three days later): an IP complaint and a follow-up with LF line ends,
    ``From `` lines and no final newline. MD-2026-000003: Beta's. Plus a digest each for Acme
    and Beta (no case)."""
    root = tmp_path_factory.mktemp("export")
    database = f"sqlite:///{root}/maild.db"
    with SmtpSink() as sink, pytest.MonkeyPatch.context() as patch, \
            open_desk(database, root, sink, patch) as desk:
        desk.notice(buyer_message())
        desk.answer(advisor_reply(desk, DRAFT))
        desk.now += timedelta(hours=2)
        desk.answer(decision_reply(desk, "同意", 1))
        summary = desk.one(Outbound, Outbound.kind == "summary:client")
        desk.answer(bounce_of(summary.message_id))  # type: ignore[attr-defined]
        desk.now += timedelta(days=3)
        desk.notice(notice("acme@inbox.advisor.example", n=2, complaint="222"))
        awkward = notice("acme@inbox.advisor.example", n=4, complaint="222").replace(
            b"Please respond", b"From the rights owner's report:\r\n>From an earlier "
                               b"notice\r\nPlease respond")
        desk.notice(awkward.replace(b"\r\n", b"\n").rstrip(b"\n"))
        desk.notice(notice("beta@inbox.advisor.example", n=3, complaint="333"))
        digest_for(desk, "acme", "ops@acme.example")
        digest_for(desk, "beta", "team@beta.example")
        desk.work()
        assert [c.ticket for c in desk.all(Case)] == ["MD-2026-000001", "MD-2026-000002",
                                                      "MD-2026-000003"]
    yield History(root, root / "maild.toml", database)


def read_export(kind: str, path: Path) -> dict[str, list[bytes]]:
    """folder -> the bytes of each message, read back from a Maildir or mbox export."""
    url = parse_target(f"{kind}:{path}")
    found: dict[str, list[bytes]] = {}
    if kind == "mbox":
        for file in sorted(path.glob("*.mbox")):
            found[file.stem] = [m.data for m in read_mbox(file)]
    else:
        target = MaildirExport(url)
        for folder in target.folders():
            found[folder] = [f.data for f in target.messages(folder)]
    return found


def manifest_records(path: Path) -> list[dict[str, object]]:
    return [parse_line(line) or {} for line in path.read_bytes().splitlines()]


def snapshot(path: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in path.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def file_exports(history: History) -> dict[str, tuple[Path, str]]:
    """Acme's whole record exported once to a Maildir and once to an mbox: kind -> (path,
    head). Tests that change an export work on a copy."""
    done = {}
    for kind in ("maildir", "mbox"):
        path = history.root / f"pristine-{kind}"
        _out, head = history.export(f"{kind}:{path}")
        done[kind] = (path, head)
    return done


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_a_file_export_holds_every_message_byte_for_byte_and_verifies(
        history: History, file_exports: dict[str, tuple[Path, str]], kind: str) -> None:
    """GIVEN Acme's record WHEN exported with --all to a Maildir / an mbox THEN there is one
    folder per case and ``unmatched`` (the digest), nothing of Beta's, every message byte for
    byte (LF ends, ``From `` lines and a missing final newline included); the manifest lists
    each with its kind and the platform reply's SMTP receipt; the audit extract holds the
    cases' events; ``export verify --head`` passes; a second run adds nothing and changes no
    file; the export is itself an audit event naming the head."""
    path, head = file_exports[kind]
    expected = history.messages()
    found = read_export(kind, path)
    assert sorted(found) == FOLDERS
    for folder in FOLDERS:
        assert sorted(found[folder]) == sorted(expected[folder].values()), folder
    assert any(raw.endswith(b"Please respond within 72 hours.") and b"\n>From an" in raw
               for raw in found["MD-2026-000002"])

    records = manifest_records(path / "manifest.jsonl")
    assert records[0]["type"] == "export" and records[0]["client"] == "acme"
    kinds = {(r["folder"], r["kind"]) for r in records if r["type"] == "message"}
    for pair in [("MD-2026-000001", "notice"), ("MD-2026-000001", "draft"),
                 ("MD-2026-000001", "decision"), ("MD-2026-000001", "bounce"),
                 ("MD-2026-000001", "summary:client"), ("MD-2026-000001", "approval_request"),
                 ("MD-2026-000001", "platform_reply"), ("MD-2026-000001", "operator_alert"),
                 ("MD-2026-000002", "notice"), ("unmatched", "digest:client")]:
        assert pair in kinds
    (reply,) = [r for r in records if r.get("kind") == "platform_reply"]
    assert reply["direction"] == "out" and reply["receipts"][0]["code"] == 250  # type: ignore[index]
    audit = manifest_records(path / "audit.jsonl")
    assert {"case_opened", "archived", "queued", "sent"} <= {e["action"] for e in audit}
    assert records[-1]["audit_events"] == len(audit)

    done = verify(f"{kind}:{path}", "--head", head)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "export verify: ok" in done.stdout and f"{len(records) - 2} message(s)" in done.stdout

    before = snapshot(path)
    out, again = history.export(f"{kind}:{path}")
    assert again == head and "0 added" in out and "(unchanged)" in out
    assert snapshot(path) == before

    engine = make_engine(history.database)
    try:
        with session_factory(engine)() as session:
            events = session.scalars(select(AuditEvent).where(
                AuditEvent.action == "exported", AuditEvent.subject == f"{kind}:{path}")).all()
    finally:
        engine.dispose()
    assert len(events) == 2 and all(head in e.detail for e in events)


def rewrite(path: Path, drop: str) -> None:
    """Rewrite a manifest without the message ``drop``, chained and counted anew: what someone
    who removed a message would do to cover it up."""
    records = [r for r in manifest_records(path / "manifest.jsonl") if r.get("sha256") != drop]
    records[-1]["messages"] = len(records) - 2
    prev, lines = GENESIS, []
    for record in records:
        line = dumps({**record, "prev": prev})
        lines.append(line)
        prev = line_hash(line)
    (path / "manifest.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def tamper(kind: str, path: Path, how: str) -> str:
    """Change a copy of an export; return what verify must name."""
    if how == "rewritten":
        if kind == "maildir":
            victim = sorted((path / "MD-2026-000002" / "cur").iterdir())[0]
            victim.unlink()
            rewrite(path, victim.name[:64])
        else:
            mbox = path / "MD-2026-000002.mbox"
            head, *tail = read_mbox(mbox)
            when = datetime(2026, 3, 13, tzinfo=UTC)
            mbox.write_bytes(b"".join(mboxrd_entry(m.data, when) for m in tail))
            rewrite(path, hashlib.sha256(head.data).hexdigest())
        return "manifest.jsonl: its head (SHA-256 of the last line) is "
    if how == "manifest":
        manifest = path / "manifest.jsonl"
        lines = manifest.read_bytes().split(b"\n")
        lines[3] = lines[3].replace(b'"direction":"', b'"direction":"x', 1)
        manifest.write_bytes(b"\n".join(lines))
        return "manifest.jsonl line 4 was altered, or a line was removed or inserted there"
    if kind == "maildir":
        victim = sorted((path / "MD-2026-000002" / "cur").iterdir())[0]
        if how == "duplicated":
            shutil.copy(victim, path / "MD-2026-000002" / "new" / "copy")
            return "file MD-2026-000002/new/copy is a second copy of message "
        if how == "deleted":
            victim.unlink()
            return f"is missing: expected sha256 {victim.name[:64]}, found no message with it"
        data = bytearray(victim.read_bytes())
        data[-3] ^= 0x01
        victim.write_bytes(bytes(data))
        return f"was altered: expected sha256 {victim.name[:64]}, found "
    mbox = path / "MD-2026-000002.mbox"
    messages = list(read_mbox(mbox))
    first = messages[0]
    sha = hashlib.sha256(first.data).hexdigest()
    rest = b"".join(mboxrd_entry(m.data, datetime(2026, 3, 13, tzinfo=UTC)) for m in messages[1:])
    if how == "duplicated":
        with mbox.open("ab") as handle:
            handle.write(mboxrd_entry(first.data, datetime(2026, 3, 13, tzinfo=UTC)))
        return f"message {len(messages) + 1} of MD-2026-000002.mbox"
    if how == "deleted":
        mbox.write_bytes(rest)
        return f"is missing: expected sha256 {sha}, found no message with it"
    data = bytearray(first.data)
    data[-3] ^= 0x01
    altered = hashlib.sha256(bytes(data)).hexdigest()
    mbox.write_bytes(mboxrd_entry(bytes(data), datetime(2026, 3, 13, tzinfo=UTC)) + rest)
    return (f"was altered: expected sha256 {sha}, found {altered} (message 1 of "
            f"MD-2026-000002.mbox")


@pytest.mark.parametrize("how", ["altered", "deleted", "duplicated", "manifest", "rewritten"])
@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_verify_names_an_altered_byte_a_deleted_message_and_an_edited_manifest_line(
        file_exports: dict[str, tuple[Path, str]], tmp_path: Path, kind: str, how: str) -> None:
    """GIVEN a copy of a verified export WHEN one byte of a message is changed, one message
    deleted, or one manifest line edited THEN verify exits 1 and its first line names the
    folder, the message (manifest line) and the expected and found hashes, or the manifest
    line; WHEN a message is there twice THEN verify names the second copy; WHEN a message is
    deleted and the manifest rewritten to match, chain and all, THEN only the head given with
    --head tells, and verify names it."""
    pristine, head = file_exports[kind]
    copy = tmp_path / kind
    shutil.copytree(pristine, copy)
    named = tamper(kind, copy, how)
    done = verify(f"{kind}:{copy}", "--head", head)
    assert done.returncode == 1, done.stdout
    first = done.stdout.splitlines()[0]
    assert named in first, done.stdout
    if how == "rewritten":
        assert verify(f"{kind}:{copy}").returncode == 0
    elif how == "duplicated":
        assert "is a second copy of message <" in first and "(manifest line " in first
    elif how != "manifest":
        assert first.startswith("folder MD-2026-000002: message <") and "(manifest line " in first
    assert "export verify: 1 problem(s)" in done.stderr


def test_a_torn_mbox_tail_is_cut_off_and_the_export_completed(
        history: History, file_exports: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    """GIVEN an mbox export whose last message was cut short mid-write (kill -9, power cut)
    WHEN the export runs again THEN the torn message is removed and written whole, and verify
    passes with the same head: no duplicate, nothing lost."""
    pristine, head = file_exports["mbox"]
    copy = tmp_path / "mbox"
    shutil.copytree(pristine, copy)
    mbox = copy / "MD-2026-000002.mbox"
    mbox.write_bytes(mbox.read_bytes()[:-200])
    out, again = history.export(f"mbox:{copy}")
    assert "1 added" in out and again == head
    done = verify(f"mbox:{copy}", "--head", head)
    assert done.returncode == 0, done.stdout


def test_a_lost_separator_after_a_message_without_a_final_newline_is_repaired(
        history: History, file_exports: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    """GIVEN an mbox export whose last message has no final newline and whose separator newline
    was never written (the message itself hashes right) WHEN the export runs again THEN that
    message is written again on a clean line instead of the next From line running into it,
    and verify passes with the same head."""
    pristine, head = file_exports["mbox"]
    copy = tmp_path / "mbox"
    shutil.copytree(pristine, copy)
    for path in sorted(copy.glob("*.mbox")):
        messages = [m.data for m in read_mbox(path)]
        unended = [data for data in messages if not data.endswith(b"\n")]
        if unended:  # that message last, its separator newline lost
            when = datetime(2026, 3, 10, tzinfo=UTC)
            rest = [data for data in messages if data is not unended[0]]
            path.write_bytes(b"".join(mboxrd_entry(data, when) for data in
                                      [*rest, unended[0]])[:-1])
            break
    else:
        raise AssertionError("the history has no message without a final newline")
    out, again = history.export(f"mbox:{copy}")
    assert "1 added" in out and again == head
    done = verify(f"mbox:{copy}", "--head", head)
    assert done.returncode == 0, done.stdout


def test_a_range_exports_only_its_messages_and_a_target_keeps_its_selection(
        history: History, tmp_path: Path) -> None:
    """GIVEN Acme's record over four days WHEN exported --since 2026-03-12 THEN only the later
    case and the digest are in it and verify passes; WHEN the whole record is exported into the
    same target THEN that is refused (exit 1) naming the selection it holds."""
    target = f"maildir:{tmp_path / 'march'}"
    _out, head = history.export(target, "--since", "2026-03-12", "--until", "2026-04-01")
    found = read_export("maildir", tmp_path / "march")
    assert sorted(found) == ["MD-2026-000002", "unmatched"]
    assert verify(target, "--head", head).returncode == 0
    done = history.maild("export", "--client", "acme", "--all", "--to", target)
    assert done.returncode == 1 and "holds an export of another selection" in done.stderr


def test_status_says_what_a_handover_still_lacks(
        history: History, file_exports: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    """GIVEN a handover export with one message deleted WHEN ``export status`` THEN it names the
    case and the count missing (exit 0, nothing written); after a run it says complete."""
    copy = tmp_path / "handover"
    shutil.copytree(file_exports["maildir"][0], copy)
    next((copy / "MD-2026-000001" / "cur").iterdir()).unlink()
    done = history.maild("export", "status", "--client", "acme", "--to", f"maildir:{copy}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MD-2026-000001: 1 of ") and "incomplete: 1 of " in done.stdout
    history.export(f"maildir:{copy}")
    done = history.maild("export", "status", "--client", "acme", "--to", f"maildir:{copy}")
    assert done.stdout.startswith("complete: all "), done.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["--client", "acme", "--all", "--to", "ftp://x"], "expected imap://"),
    (["--client", "acme", "--all", "--to", "imap://a@mail.example/Export?tls=plain"],
     "loopback"),
    (["--client", "acme", "--all", "--to", "imap://a:secret@127.0.0.1/Export"], "password"),
    (["--client", "acme", "--to", "mbox:/tmp/x"], "--all"),
    (["--client", "acme", "--all", "--since", "2026-01-01", "--to", "mbox:/tmp/x"], "--all"),
    (["verify", "mbox:/tmp/x", "--head", "abc"], "64 hex"),
])
def test_bad_usage_exits_2_saying_what_is_wrong(args: list[str], says: str) -> None:
    """GIVEN a bad target, a missing selection or a malformed head WHEN the command runs THEN
    it exits 2 with a line saying what is wrong (before any database or server is touched)."""
    from maild.cli import main
    from maild.cli_export import export_command

    del export_command  # imported so that `maild export` is registered
    result = CliRunner().invoke(main, ["export", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_an_unknown_client_or_a_missing_imap_password_is_bad_usage(history: History) -> None:
    """GIVEN no client ``acmee`` WHEN exporting it THEN exit 2 naming it; GIVEN an IMAP target
    and no password THEN exit 2 saying where the password goes."""
    done = history.maild("export", "--client", "acmee", "--all", "--to", "mbox:/tmp/never")
    assert done.returncode == 2 and "no client 'acmee'" in done.stderr
    env = {k: v for k, v in os.environ.items() if k != "MAILD_EXPORT_PASSWORD"}
    done = subprocess.run(argv(["--config", history.config, "export", "--client", "acme",
                                "--all", "--to", "imap://a@127.0.0.1/Export?tls=plain"]),
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2 and "MAILD_EXPORT_PASSWORD" in done.stderr


# --------------------------------------------------------------------------- IMAP


def imap_url(server: DovecotServer, folder: str = "Export", port: int | None = None) -> str:
    return f"imap://{AUDITOR}@127.0.0.1:{port or server.port}/{folder}?tls=plain"


PASSWORD = {"MAILD_EXPORT_PASSWORD": AUDITOR_PASSWORD}


def test_an_imap_export_to_a_second_account_verifies_resumes_and_names_tampering(
        history: History, dovecot_factory: Callable[..., DovecotServer]) -> None:
    """GIVEN a second Dovecot with an ``auditor`` account WHEN Acme's record is exported there
    THEN each case is a folder below ``Export`` holding every message (the LF one as CRLF, as
    IMAP stores it, and so marked in the manifest), seen, with its original INTERNALDATE; the
    manifest message is in ``Export``; verify --head passes and a second run adds nothing.
    WHEN one message is replaced by a copy with one byte changed THEN verify names it
    (altered, expected and found hash, UID); WHEN it is deleted THEN verify names it missing,
    and a run puts it back; WHEN a manifest line is edited THEN verify names the line."""
    server = dovecot_factory(users={AUDITOR: AUDITOR_PASSWORD}, lmtp=False)
    url = imap_url(server)
    _out, head = history.export(url, env=PASSWORD)
    expected = history.messages()
    names = server.folders()
    assert sorted(names) == ["Export", *[f"Export/{f}" for f in FOLDERS], "INBOX"]
    for folder in FOLDERS:
        stored = sorted(server.fetch_all(f"Export/{folder}", user=AUDITOR).values())
        assert stored == sorted(imap_form(raw)[0] for raw in expected[folder].values())
    with server.client(AUDITOR) as imap:
        imap.select_folder("Export/MD-2026-000001", readonly=True)
        dates = imap.fetch(imap.search("ALL"), ["INTERNALDATE", "FLAGS"])
        imap.select_folder("Export", readonly=True)
        (manifest_uid,) = imap.search(["HEADER", MANIFEST_HEADER, head])
    assert all(b"\\Seen" in d[b"FLAGS"] for d in dates.values())
    assert {d[b"INTERNALDATE"].date().isoformat() for d in dates.values()} == {"2026-03-10"}
    assert verify(url, "--head", head, env=PASSWORD).returncode == 0

    uids = {f: server.uids(f"Export/{f}") for f in FOLDERS}
    out, again = history.export(url, env=PASSWORD)
    assert "0 added" in out and again == head
    assert {f: server.uids(f"Export/{f}") for f in FOLDERS} == uids

    folder = "Export/MD-2026-000002"
    with server.client(AUDITOR) as imap:
        imap.select_folder(folder)
        uid = min(imap.search("ALL"))
        original = bytes(imap.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"])
        changed = original.replace(b"infringes", b"infringeS")
        imap.append(folder, changed, flags=(b"\\Seen",))
        imap.add_flags([uid], [b"\\Deleted"])
        imap.expunge()
    want, got = (hashlib.sha256(b).hexdigest() for b in (original, changed))
    done = verify(url, env=PASSWORD)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(
        "folder MD-2026-000002: message <ip-2@amazon.de> (manifest line ")
    assert f"was altered: expected sha256 {want}, found {got} (UID " in done.stdout

    with server.client(AUDITOR) as imap:
        imap.select_folder(folder)
        imap.add_flags(imap.search(["HEADER", "Message-ID", "<ip-2@amazon.de>"]), [b"\\Deleted"])
        imap.expunge()
    done = verify(url, env=PASSWORD)
    assert done.returncode == 1
    assert ("message <ip-2@amazon.de> (manifest line " in done.stdout
            and f"is missing: expected sha256 {want}" in done.stdout)
    out, again = history.export(url, env=PASSWORD)
    assert "1 added" in out and again == head
    assert verify(url, "--head", head, env=PASSWORD).returncode == 0

    with server.client(AUDITOR) as imap:
        imap.select_folder("Export", readonly=True)
        raw = bytes(imap.fetch([manifest_uid], ["BODY.PEEK[]"])[manifest_uid][b"BODY[]"])
    files = {str(part.get_filename()): cast(bytes, part.get_payload(decode=True))
             for part in email.message_from_bytes(raw).walk() if part.get_filename()}
    awkward = [r for r in map(parse_line, files["manifest.jsonl"].split(b"\n"))
               if r and r.get("message_id") == "<ip-4@amazon.de>"]
    assert [(r["stored_as"], r["folder"]) for r in awkward] == [("crlf", "MD-2026-000002")]
    lines = files["manifest.jsonl"].split(b"\n")
    lines[2] = lines[2].replace(b'"kind":"', b'"kind":"x', 1)
    server.append(manifest_message(b"\n".join(lines), files["audit.jsonl"], head, url, "Export"),
                  "Export")  # the newest manifest message is the one read
    done = verify(url, "--head", head, env=PASSWORD)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(
        "manifest.jsonl line 3 was altered, or a line was removed or inserted there")


# --------------------------------------------------------------------------- kill -9


BULK_CONFIG = '[maild]\ndatabase = "{database}"\narchive_dir = "{root}/archive"\n'


def bulk_history(root: Path, cases: int, per_case: int) -> Path:
    """``cases`` cases of client ``bulk`` with ``per_case`` archived notices each (the real
    Ingestor, then linked to their cases); returns the config file."""
    database = f"sqlite:///{root}/maild.db"
    config = root / "maild.toml"
    config.write_text(BULK_CONFIG.format(database=database, root=root), encoding="utf-8")
    upgrade(database)
    engine = make_engine(database)
    try:
        sessions = session_factory(engine)
        at = datetime(2026, 3, 1, tzinfo=UTC)
        ingestor = Ingestor(RawStore(root / "archive"), sessions, actor="test",
                            clock=lambda: at)
        ingestor.ingest([Incoming(raw=notice("bulk@inbox.advisor.example", n=i,
                                             complaint=str(i)), origin=f"test:{i}")
                         for i in range(cases * per_case)])
        with sessions.begin() as session:
            for number in range(1, cases + 1):
                case = Case(ticket=f"MD-2026-{number:06d}", client_id="bulk", platform="amazon",
                            category="ip_complaint", priority="P1", state="triaged",
                            subject_key=f"bulk {number}", opened_at=at, updated_at=at)
                session.add(case)
                session.flush()
                low, high = (number - 1) * per_case, number * per_case
                session.execute(update(Message).where(Message.id > low, Message.id <= high)
                                .values(case_id=case.id))
                AuditLog(session).record("test", "case_opened", case.ticket)
    finally:
        engine.dispose()
    return config


def on_disk(server: DovecotServer) -> int:
    """Messages Dovecot has committed below ``Bulk`` (its Maildir files)."""
    home = server.maildir_of(AUDITOR)
    return sum(1 for folder in home.glob(".Bulk.*") for sub in ("cur", "new")
               for _ in (folder / sub).glob("*"))


@pytest.mark.slow
def test_an_imap_export_killed_halfway_completes_on_the_next_run_without_a_duplicate(
        tmp_path: Path, dovecot_factory: Callable[..., DovecotServer]) -> None:
    """GIVEN 1,000 messages in 20 cases WHEN the export to IMAP is killed with SIGKILL once
    the server holds 100 or more of them (its connection frozen first, so an APPEND may be in
    flight) THEN ``export status`` names what is missing; WHEN the export runs again THEN it
    ends with all 1,000, verify passes (it would name any second copy), and status says
    complete."""
    config = bulk_history(tmp_path, cases=20, per_case=50)
    server = dovecot_factory(users={AUDITOR: AUDITOR_PASSWORD}, lmtp=False)
    with SilentRelay(server.port) as relay:
        proc = spawn(["--config", config, "export", "--client", "bulk", "--all", "--to",
                      imap_url(server, "Bulk", relay.port)], PASSWORD)
        deadline = time.monotonic() + 60
        while on_disk(server) < 100 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        relay.freeze()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    interrupted = on_disk(server)
    assert proc.returncode == -signal.SIGKILL and 100 <= interrupted < 1000

    url = imap_url(server, "Bulk")
    maild: list[str | os.PathLike[str]] = ["--config", config, "export"]
    done = run([*maild, "status", "--client", "bulk", "--to", url], PASSWORD)
    assert done.returncode == 0 and f"incomplete: {1000 - interrupted} of 1000" in done.stdout
    done = run([*maild, "--client", "bulk", "--all", "--to", url], PASSWORD)
    assert done.returncode == 0, done.stderr
    assert f"{1000 - interrupted} added, {interrupted} already there" in done.stdout
    head = head_in(done.stdout)
    assert on_disk(server) == 1000
    done = verify(url, "--head", head, env=PASSWORD)
    assert done.returncode == 0, done.stdout
    done = run([*maild, "status", "--client", "bulk", "--to", url], PASSWORD)
    assert done.stdout.startswith("complete: all 1000 message(s) of bulk in 20 folder(s)")


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("raw", [
    b"From: a\r\n\r\nFrom here\r\n>From there\r\n>>From far\r\n",
    b"From x\nSubject: lf only\n\nbody without final newline",
    b"Subject: ends in blank lines\r\n\r\nbody\r\n\r\n\r\n",
    b"Subject: bare cr\r\n\r\na\rFrom b\r\n",
    b"",
    b"\n",
    b"From \n",
])
def test_mboxrd_gives_back_every_byte(tmp_path: Path, raw: bytes) -> None:
    """GIVEN a message with ``From `` and ``>From `` lines, LF or bare CR ends, no final
    newline, or nothing at all WHEN written to an mbox between two others and read back THEN
    each comes back byte for byte (mboxrd is reversible; the stdlib's mboxo is not)."""
    when = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    messages = [b"Subject: one\r\n\r\n1\r\n", raw, b"Subject: three\n\n3\n"]
    path = tmp_path / "x.mbox"
    path.write_bytes(b"".join(mboxrd_entry(m, when) for m in messages))
    assert [m.data for m in read_mbox(path)] == messages


@pytest.mark.parametrize(("raw", "form", "stored"), [
    (b"A: b\r\n\r\nc\r\n", None, b"A: b\r\n\r\nc\r\n"),
    (b"A: b\n\nc", "crlf", b"A: b\r\n\r\nc"),
    (b"A: b\r\n\nc\r", "canonical", b"A: b\r\n\r\nc\r\n"),
    (b"A: b\r\n\r\nc\0d\r\n", "canonical", b"A: b\r\n\r\nc\x80d\r\n"),
])
def test_imap_form_is_what_dovecot_gives_back(
        dovecot_factory: Callable[..., DovecotServer], raw: bytes, form: str | None,
        stored: bytes) -> None:
    """GIVEN a message with CRLF, LF-only, mixed or NUL bytes WHEN APPENDed to a real Dovecot
    and fetched THEN the server gives back exactly what ``imap_form`` predicts, so the
    manifest's ``stored_sha256`` matches."""
    assert imap_form(raw) == (stored, form)
    server = dovecot_factory(lmtp=False)
    server.append(raw)
    assert list(server.fetch_all().values()) == [stored]


def test_a_postgresql_export_verifies(postgres_url: str, tmp_path: Path, smtp_sink: SmtpSink,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a notice routed on PostgreSQL WHEN Acme's record is exported to a Maildir (the
    library call the command uses) THEN verify finds the notice and both summaries, each hash
    as the manifest says."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with pipeline_for(postgres_url, tmp_path, smtp_sink.port) as pipeline:
        pipeline.deliver(notice("acme@inbox.advisor.example"))
        url = TargetUrl(kind="maildir", path=tmp_path / "out")
        report = export(pipeline.sessions, pipeline.store, MaildirExport(url),
                        Selection(client="acme"))
    assert report.messages == 3 and report.added == 3
    check = Verification(MaildirExport(url), report.head)
    assert list(check.problems()) == [] and check.messages == 3
