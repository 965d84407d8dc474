"""The reply path on a terminal: ``maild drafts``, ``draft``, ``approve``, ``reject`` and
``outbox release`` / ``mark-sent`` run as real subprocesses on a database that the daemon's own
steps filled in process (a routed buyer message and an advisor's two draft versions), with the
same config file, against both databases. A decision taken here carries the operator's user and
host as its evidence, exactly once; a refused command changes nothing and says why in one line.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from maild.models import AuditEvent, Case, Decision, Draft, Outbound
from tests.outbound.reply_layouts import Attached
from tests.outbound.test_reply_path import (
    BUYER,
    DRAFT,
    PDF,
    SECRET,
    Desk,
    advisor_reply,
    buyer_message,
    files_of,
    mails_to,
    open_desk,
    platform_replies,
    text_of,
)
from tests.routing.test_route_and_send import SECRET_ENV
from tests.support import SmtpSink, run_maild

OPERATOR = f"cli:{getpass.getuser()}@{socket.gethostname()}"
FIRST = "First try."
UNKNOWN = "MD-2026-999999"


@dataclass
class Terminal:
    """The desk that fills the database in process, and the command line on its config."""

    desk: Desk
    config: Path

    def maild(self, *args: str) -> tuple[int, str, str]:
        done = run_maild(["--config", self.config, *args], {SECRET_ENV: SECRET})
        return done.returncode, done.stdout, done.stderr

    @property
    def ticket(self) -> str:
        return self.desk.case().ticket

    def draft(self, version: int) -> Draft:
        found = self.desk.one(Draft, Draft.version == version)
        assert isinstance(found, Draft)
        return found

    def platform_row(self) -> Outbound:
        found = self.desk.one(Outbound, Outbound.kind == "platform_reply")
        assert isinstance(found, Outbound)
        return found

    def audit(self, action: str) -> list[dict[str, Any]]:
        """The details of the audit events ``action``, oldest first."""
        with self.desk.sessions() as session:
            return [json.loads(e.detail) | {"actor": e.actor, "subject": e.subject}
                    for e in session.scalars(select(AuditEvent)
                                             .where(AuditEvent.action == action)
                                             .order_by(AuditEvent.seq))]

    def snapshot(self) -> tuple[object, ...]:
        """Everything a decision or an outbox command could change."""
        with self.desk.sessions() as session:
            return (
                [(d.version, d.state, d.decided_at) for d in
                 session.scalars(select(Draft).order_by(Draft.version))],
                [(d.id, d.decision) for d in session.scalars(select(Decision))],
                [(o.id, o.kind, o.stage, o.error, o.sent_at) for o in
                 session.scalars(select(Outbound).order_by(Outbound.id))],
                session.scalar(select(func.max(AuditEvent.seq))),
                [(c.state, c.updated_at) for c in session.scalars(select(Case))],
            )


def one_line(stderr: str) -> str:
    """A refusal is one clear line (DESIGN 4.4), no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("maild: "), stderr
    return lines[0]


@pytest.fixture
def terminal(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Terminal]:
    """A buyer's message routed to Acme (the summaries are out), on the wall clock: the CLI
    decides at the real time, so the desk's steps run at it too. SQLite only: each command is a
    process of its own (about a second), and the decisions' database work is tested on both
    databases in test_reply_path."""
    with open_desk(sqlite_url, tmp_path, smtp_sink, monkeypatch) as desk:
        desk.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        desk.notice(buyer_message().replace(b"Tue, 10 Mar 2026 08:00:00 +0000",
                                            format_datetime(desk.now).encode()))
        assert mails_to(smtp_sink, "anna@advisor.example"), "the advisors got no summary"
        yield Terminal(desk, tmp_path / "maild.toml")


@pytest.fixture
def versions(terminal: Terminal) -> Terminal:
    """v1 (superseded) and v2 (pending, with a PDF) of the reply to the buyer."""
    desk = terminal.desk
    desk.answer(advisor_reply(desk, FIRST, n=1))
    desk.now += timedelta(minutes=10)
    desk.answer(advisor_reply(desk, DRAFT, n=2, attachments=(
        Attached("tracking.pdf", "application/pdf", PDF),)))
    assert [(d.version, d.state) for d in desk.all(Draft)] == [(1, "superseded"),
                                                               (2, "pending")]
    desk.now = datetime.now(UTC)
    return terminal


@pytest.fixture
def held(versions: Terminal) -> Terminal:
    """v2 approved from the terminal, its platform reply then cut off mid-send with no proof
    either way: the send step left it ``uncertain`` (set here directly, as the crash would)."""
    code, _out, err = versions.maild("approve", versions.ticket, "--version", "2")
    assert code == 0, err
    with versions.desk.sessions.begin() as session:
        row = session.scalars(select(Outbound).where(Outbound.kind == "platform_reply")).one()
        row.stage, row.attempts = "uncertain", 1
        row.error = (f"uncertain: the send was interrupted; `maild outbox release {row.id}` "
                     f"sends it, `maild outbox mark-sent {row.id}` records it as sent")
    versions.desk.work()  # nothing is due: the held reply stays held
    assert not platform_replies(versions.desk.sink)
    return versions


def test_drafts_lists_each_version_with_its_state_and_decisions_as_text_and_json(
        versions: Terminal) -> None:
    """GIVEN v1 superseded and v2 pending with a PDF WHEN ``maild drafts`` runs THEN each
    version is one line with its state, author, size and attachments, and ``--json`` gives the
    same with no decisions; WHEN v2 is approved THEN both show the decision, by the operator,
    via the CLI, first pass."""
    ticket = versions.ticket
    first, second = versions.draft(1), versions.draft(2)
    code, out, err = versions.maild("drafts", ticket)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[0].startswith(f"{ticket} v1  superseded by anna@advisor.example  ")
    assert lines[0].endswith(f"Z  {len(first.body)} chars")
    assert lines[1].startswith(f"{ticket} v2  pending    by anna@advisor.example  ")
    assert lines[1].endswith(f"Z  {len(second.body)} chars, 1 attachment(s)")

    code, out, err = versions.maild("drafts", ticket.lower(), "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [(d["version"], d["state"], d["author"], d["platform_to"], d["attachments"],
             d["blocked_by"], d["decisions"]) for d in listed] == [
        (1, "superseded", "anna@advisor.example", BUYER, [], [], []),
        (2, "pending", "anna@advisor.example", BUYER, ["tracking.pdf"], [], [])]

    code, _out, err = versions.maild("approve", ticket, "--version", "2")
    assert code == 0, err
    code, out, err = versions.maild("drafts", ticket)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith(f"{ticket} v2  approved ")
    assert lines[2].startswith(f"    approved by {OPERATOR} (cli) ") and len(lines) == 3, out
    code, out, err = versions.maild("drafts", ticket, "--json")
    assert code == 0, err
    (decision,) = json.loads(out)[1]["decisions"]
    assert datetime.fromisoformat(decision.pop("at")) > versions.draft(2).created_at
    assert decision == {"decision": "approved", "by": OPERATOR, "via": "cli", "reason": None,
                        "first_pass": True}


def test_draft_shows_a_version_in_full(versions: Terminal) -> None:
    """GIVEN v1 and v2 WHEN ``maild draft`` runs THEN it shows the newest version: state,
    author, platform address, the attachment with its size, the body; ``--version 1`` shows v1;
    a version that does not exist, alone or in ``--diff``, exits 1 in one line."""
    ticket = versions.ticket
    code, out, err = versions.maild("draft", ticket)
    assert code == 0, err
    head, _, body = out.partition("\n\n")
    assert head.splitlines() == [
        f"{ticket} v2 (pending) by anna@advisor.example to {BUYER}",
        f"attachment: tracking.pdf ({len(PDF)} bytes)"]
    assert body.rstrip("\n") == DRAFT

    code, out, err = versions.maild("draft", ticket, "--version", "1")
    assert code == 0, err
    assert out == f"{ticket} v1 (superseded) by anna@advisor.example to {BUYER}\n\n{FIRST}\n"

    for args in (("--version", "3"), ("--diff", "2", "7")):
        code, out, err = versions.maild("draft", ticket, *args)
        assert (code, out) == (1, ""), args
        assert one_line(err) == f"maild: {ticket} has no draft version {args[-1]}"


def test_draft_diff_is_a_unified_diff_line_by_line(versions: Terminal) -> None:
    """GIVEN v1 and v2 (bodies as advisors write them: no newline at the end) WHEN ``maild
    draft --diff 1 2`` runs THEN it prints a unified diff from v1 to v2, one changed line per
    line, ending with a newline; the same version twice has ``no changes``."""
    ticket = versions.ticket
    code, out, err = versions.maild("draft", ticket, "--diff", "2", "2")
    assert (code, out) == (0, "no changes"), err

    code, out, err = versions.maild("draft", ticket, "--diff", "1", "2")
    assert code == 0, err
    assert out.startswith("--- v1\n+++ v2\n@@ "), out
    changed = [line for line in out.splitlines()[2:] if not line.startswith("@@")]
    assert changed == [f"-{FIRST}"] + [f"+{line}" for line in DRAFT.splitlines()]
    assert out.endswith("\n")


def test_approve_records_the_operator_as_evidence_and_the_reply_goes_to_the_platform_once(
        versions: Terminal) -> None:
    """GIVEN v2 pending WHEN ``maild approve --version 2`` runs THEN a Decision by
    ``cli:user@host`` via ``cli`` with that evidence is recorded and audited, the platform reply
    (kind ``platform_reply``, from the store's sender to the buyer, tied to v2) is queued and
    not yet sent; WHEN the send step runs THEN the platform gets v2 and its PDF once, and the
    draft and the case are ``sent``."""
    desk, ticket = versions.desk, versions.ticket
    code, out, err = versions.maild("approve", ticket, "--version", "2")
    assert code == 0, err
    assert out == f"{ticket} v2 approved by {OPERATOR}; the reply to the platform is queued\n"

    decision = desk.one(Decision)
    assert isinstance(decision, Decision)
    assert (decision.decision, decision.by, decision.via, decision.evidence,
            decision.evidence_id, decision.reason, decision.first_pass) == (
        "approved", OPERATOR, "cli", OPERATOR, None, None, True)
    assert decision.draft_id == versions.draft(2).id
    (event,) = versions.audit("draft_approved")
    assert (event["actor"], event["subject"], event["version"], event["by"], event["via"],
            event["evidence"]) == ("cli", ticket, 2, OPERATOR, "cli", OPERATOR)
    row = versions.platform_row()
    assert (row.stage, row.draft_id, row.sender, row.recipients) == (
        "queued", versions.draft(2).id, "amazon-eu@acme.example", [BUYER])
    assert versions.draft(2).state == "approved"
    assert not platform_replies(desk.sink)

    desk.work()
    (sent,) = platform_replies(desk.sink)
    assert text_of(sent).replace("\r\n", "\n").strip() == DRAFT
    assert files_of(sent) == {"tracking.pdf": PDF}
    assert sent["Message-ID"] == row.message_id
    assert versions.platform_row().stage == "sent"
    assert versions.draft(2).state == "sent" and desk.case().state == "sent"
    desk.work()
    assert len(platform_replies(desk.sink)) == 1


def test_an_older_or_already_decided_version_is_refused_and_nothing_changes(
        versions: Terminal) -> None:
    """GIVEN v1 superseded by v2 WHEN v1 is approved THEN exit 1 with one line saying v2
    replaced it, and nothing changed; GIVEN v2 approved WHEN it is approved or rejected again
    THEN exit 1 saying it is approved, nothing changed, one platform reply queued; a version
    that does not exist exits 1 too."""
    ticket = versions.ticket
    before = versions.snapshot()
    code, out, err = versions.maild("approve", ticket, "--version", "1")
    assert (code, out) == (1, "")
    assert one_line(err) == (f"maild: {ticket} v1 was replaced by v2; only the newest version "
                             f"can be decided")
    code, out, err = versions.maild("approve", ticket, "--version", "9")
    assert (code, out) == (1, "")
    assert one_line(err) == f"maild: {ticket} has no draft version 9"
    assert versions.snapshot() == before

    code, _out, err = versions.maild("approve", ticket, "--version", "2")
    assert code == 0, err
    after = versions.snapshot()
    assert after != before
    for again in (("approve", ticket, "--version", "2"),
                  ("reject", ticket, "--version", "2", "--reason", "too late")):
        code, out, err = versions.maild(*again)
        assert (code, out) == (1, ""), again
        assert one_line(err) == f"maild: {ticket} v2 is approved, not waiting for a decision"
    assert versions.snapshot() == after
    assert len(versions.desk.all(Outbound, Outbound.kind == "platform_reply")) == 1
    assert len(versions.audit("draft_approved")) == 1 and not versions.audit("draft_rejected")


def test_reject_records_the_reason_and_the_advisors_hear_it(versions: Terminal) -> None:
    """GIVEN v2 pending WHEN ``maild reject --version 2 --reason …`` runs THEN a rejection by the
    operator via the CLI with the reason is recorded and audited, v2 is rejected, the case is
    back to drafting, nothing is queued for the platform, and the advisors get the reason."""
    desk, ticket = versions.desk, versions.ticket
    reason = "不要承诺周五送达 (do not promise Friday)"
    code, out, err = versions.maild("reject", ticket, "--version", "2", "--reason", reason,
                                    "--evidence", "phone call 14:05")
    assert code == 0, err
    assert out == f"{ticket} v2 rejected by {OPERATOR}\n"

    said = f"{OPERATOR}: phone call 14:05"
    decision = desk.one(Decision)
    assert isinstance(decision, Decision)
    assert (decision.decision, decision.by, decision.via, decision.evidence, decision.reason,
            decision.first_pass) == ("rejected", OPERATOR, "cli", said, reason, False)
    (event,) = versions.audit("draft_rejected")
    assert (event["actor"], event["subject"], event["version"], event["by"], event["via"],
            event["evidence"], event["reason"]) == ("cli", ticket, 2, OPERATOR, "cli",
                                                    said, reason)
    assert versions.draft(2).state == "rejected" and desk.case().state == "drafting"
    assert not desk.all(Outbound, Outbound.kind == "platform_reply")

    desk.work()
    told = [m for m in mails_to(desk.sink, "anna@advisor.example")
            if m["X-Maild-Kind"] == "rejected"]
    assert len(told) == 1 and reason in text_of(told[0])
    assert not platform_replies(desk.sink)

    code, _out, err = versions.maild("reject", ticket, "--version", "2")
    assert code == 2 and "--reason" in err  # a rejection without a reason is bad usage


def test_an_unknown_ticket_exits_1_with_one_line_and_changes_nothing(
        versions: Terminal) -> None:
    """GIVEN a case with drafts WHEN each reply-path command names a ticket that does not exist
    THEN it exits 1 with ``no case …`` and nothing changed."""
    before = versions.snapshot()
    for args in (("drafts", UNKNOWN), ("drafts", UNKNOWN, "--json"), ("draft", UNKNOWN),
                 ("draft", UNKNOWN, "--diff", "1", "2"),
                 ("approve", UNKNOWN, "--version", "2"),
                 ("reject", UNKNOWN, "--version", "2", "--reason", "no")):
        code, out, err = versions.maild(*args)
        assert (code, out) == (1, ""), args
        assert one_line(err) == f"maild: no case {UNKNOWN}", args
    assert versions.snapshot() == before


def test_outbox_lists_the_held_reply_and_release_sends_it(held: Terminal) -> None:
    """GIVEN the platform reply held as ``uncertain`` WHEN ``maild outbox`` runs THEN it lists
    every row, the held one with its stage (``--state uncertain`` only that one); WHEN
    ``outbox release ID`` runs THEN the row is queued again and audited with the operator; both
    commands now refuse it (it is no longer uncertain); the send step sends it once."""
    desk = held.desk
    row = held.platform_row()
    code, out, err = held.maild("outbox")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(desk.all(Outbound)) >= 2
    (shown,) = [line for line in lines if line.startswith(f"{row.id}  ")]
    assert shown.startswith(f"{row.id}  uncertain platform_reply  to {BUYER}  attempts 1  "
                            f"error: uncertain: ")
    code, out, err = held.maild("outbox", "--state", "uncertain")
    assert code == 0, err
    assert [line.split()[:3] for line in out.splitlines()] == [
        [str(row.id), "uncertain", "platform_reply"]]

    code, out, err = held.maild("outbox", "release", str(row.id))
    assert code == 0, err
    assert out == f"outbound {row.id} released: the daemon sends it\n"
    released = held.platform_row()
    assert (released.stage, released.error, released.next_try_at) == ("queued", None, None)
    (event,) = held.audit("released")
    assert (event["actor"], event["subject"], event["outbound"], event["by"]) == (
        "cli", row.message_id, row.id, OPERATOR)

    before = held.snapshot()
    for command in ("release", "mark-sent"):  # queued now: neither applies
        code, out, err = held.maild("outbox", command, str(row.id))
        assert (code, out) == (1, ""), command
        assert one_line(err) == f"maild: outbound {row.id} is not held as uncertain"
    assert held.snapshot() == before

    desk.work()
    (sent,) = platform_replies(desk.sink)
    assert sent["Message-ID"] == row.message_id
    assert held.platform_row().stage == "sent" and desk.case().state == "sent"


def test_mark_sent_records_the_held_reply_as_sent_without_sending_it(held: Terminal) -> None:
    """GIVEN the platform reply held as ``uncertain`` WHEN ``outbox mark-sent ID`` runs THEN the
    row is sent (not sent again), audited with the operator, the draft and the case are
    ``sent``, and the client and the advisors get the confirmation; the row is then refused by
    both commands, as is an id that does not exist."""
    desk = held.desk
    row = held.platform_row()
    assert held.draft(2).state == "approved" and desk.case().state != "sent"
    code, out, err = held.maild("outbox", "mark-sent", str(row.id))
    assert code == 0, err
    assert out == f"outbound {row.id} recorded as sent\n"
    marked = held.platform_row()
    assert (marked.stage, marked.error) == ("sent", None) and marked.sent_at is not None
    assert held.draft(2).state == "sent" and desk.case().state == "sent"
    (event,) = held.audit("marked_sent")
    assert (event["actor"], event["subject"], event["outbound"], event["by"]) == (
        "cli", row.message_id, row.id, OPERATOR)

    desk.work()
    assert not platform_replies(desk.sink)
    for who in ("ops@acme.example", "anna@advisor.example"):
        assert [m for m in mails_to(desk.sink, who) if m["X-Maild-Kind"] == "sent"], who

    before = held.snapshot()
    for command in ("release", "mark-sent"):
        for target in (row.id, 999999):
            code, out, err = held.maild("outbox", command, str(target))
            assert (code, out) == (1, ""), (command, target)
            assert one_line(err) == f"maild: outbound {target} is not held as uncertain"
    assert held.snapshot() == before
