"""``maild drafts``, ``maild draft``, ``maild approve``, ``maild reject`` and the outbox's
``release`` / ``mark-sent``: the reply path on a terminal.

Thin adapters over :mod:`maild.outbound.drafts` and :mod:`maild.outbound.approvals`. A decision
taken here is recorded with the operator's user and host as its evidence, exactly like one taken
by mail is recorded with the archived mail.
"""

from __future__ import annotations

import getpass
import json
import socket
from datetime import UTC, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.audit import AuditLog
from maild.bell import Bell
from maild.cli import Context, _sessions, fail, main
from maild.cli_cases import outbox
from maild.models import Case, Draft, Outbound
from maild.stages import Stage

ACTOR = "cli"


def _case(session: Session, ticket: str) -> Case:
    case = session.scalars(select(Case).where(Case.ticket == ticket.upper())).first()
    if case is None:
        fail(f"no case {ticket}")
    assert case is not None
    return case


def _drafts(session: Session, case: Case) -> list[Draft]:
    return list(session.scalars(select(Draft).where(Draft.case_id == case.id)
                                .order_by(Draft.version)))


def operator() -> str:
    """Who runs this command, as evidence: ``cli:user@host``."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


@main.command()
@click.argument("ticket")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def drafts(obj: Context, ticket: str, as_json: bool) -> None:
    """List the draft versions of a case with their state and decisions."""
    with _sessions(obj.config)() as session:
        case = _case(session, ticket)
        rows = _drafts(session, case)
        if as_json:
            click.echo(json.dumps([{
                "version": d.version, "state": d.state, "author": d.author,
                "created_at": d.created_at.isoformat(), "platform_to": d.platform_to,
                "attachments": [a["filename"] for a in d.attachments],
                "blocked_by": d.blocked_by or [],
                "decisions": [{"decision": x.decision, "by": x.by, "via": x.via,
                               "at": x.at.isoformat(), "reason": x.reason,
                               "first_pass": x.first_pass} for x in d.decisions]}
                for d in rows], ensure_ascii=False))
            return
        if not rows:
            click.echo(f"{case.ticket}: no drafts yet")
        for d in rows:
            files = f", {len(d.attachments)} attachment(s)" if d.attachments else ""
            click.echo(f"{case.ticket} v{d.version}  {d.state:<10} by {d.author}  "
                       f"{d.created_at:%Y-%m-%d %H:%M}Z  {len(d.body)} chars{files}")
            for reason in d.blocked_by or []:
                click.echo(f"    blocked: {reason}")
            for x in d.decisions:
                why = f": {x.reason}" if x.reason else ""
                click.echo(f"    {x.decision} by {x.by} ({x.via}) {x.at:%Y-%m-%d %H:%M}Z{why}")


@main.command()
@click.argument("ticket")
@click.option("--version", "version", type=int, help="The version to show (default: newest).")
@click.option("--diff", nargs=2, type=int, metavar="OLD NEW",
              help="Show what changed between two versions.")
@click.pass_obj
def draft(obj: Context, ticket: str, version: int | None,
          diff: tuple[int, int] | None) -> None:
    """Show a draft in full, or the difference between two versions."""
    from maild.outbound.drafts import diff_text

    with _sessions(obj.config)() as session:
        case = _case(session, ticket)
        by_version = {d.version: d for d in _drafts(session, case)}
        if not by_version:
            fail(f"{case.ticket} has no drafts yet")
        wanted = list(diff) if diff else [version if version is not None else max(by_version)]
        missing = [v for v in wanted if v not in by_version]
        if missing:
            fail(f"{case.ticket} has no draft version {missing[0]}")
        if diff:
            click.echo(diff_text(by_version[diff[0]], by_version[diff[1]]) or "no changes",
                       nl=False)
            return
        d = by_version[wanted[0]]
        click.echo(f"{case.ticket} v{d.version} ({d.state}) by {d.author} to "
                   f"{d.platform_to or '(no platform address)'}")
        for a in d.attachments:
            click.echo(f"attachment: {a['filename']} ({a['size']} bytes)")
        click.echo("")
        click.echo(d.body)


def _decide(obj: Context, ticket: str, version: int, decision: str, reason: str,
            said: str | None) -> None:
    from maild.outbound.approvals import DecisionRefused, decide

    who = operator()
    evidence = f"{who}: {said}" if said else who
    store = obj.config.raw_store()
    bell = Bell()
    with _sessions(obj.config)() as session, session.begin():
        case = _case(session, ticket)
        try:
            decide(session, store, obj.config, case, version, decision=decision, by=who,
                   via="cli", evidence=evidence, evidence_message=None,
                   now=datetime.now(UTC), actor=ACTOR, reason=reason)
        except DecisionRefused as exc:
            fail(str(exc))
        bell.announce(session, [Stage.QUEUED])  # on PostgreSQL, NOTIFY wakes the daemons
    click.echo(f"{case.ticket} v{version} {decision} by {who}"
               + ("; the reply to the platform is queued" if decision == "approved" else ""))


@main.command()
@click.argument("ticket")
@click.option("--version", "version", type=int, required=True,
              help="The draft version approved (only that version is ever sent).")
@click.option("--evidence", "said", metavar="TEXT",
              help="How the decision-maker said so (a call, a chat message): kept with it.")
@click.pass_obj
def approve(obj: Context, ticket: str, version: int, said: str | None) -> None:
    """Approve a draft version for the decision-maker; its reply goes to the platform."""
    _decide(obj, ticket, version, "approved", "", said)


@main.command()
@click.argument("ticket")
@click.option("--version", "version", type=int, required=True)
@click.option("--reason", required=True, help="Why: the advisors read it.")
@click.option("--evidence", "said", metavar="TEXT",
              help="How the decision-maker said so (a call, a chat message): kept with it.")
@click.pass_obj
def reject(obj: Context, ticket: str, version: int, reason: str, said: str | None) -> None:
    """Reject a draft version, with the reason for the advisors."""
    _decide(obj, ticket, version, "rejected", reason, said)


def _uncertain(session: Session, outbound_id: int) -> Outbound:
    """The held row, locked: a release and a mark-sent at the same moment cannot both win."""
    row = session.scalars(select(Outbound).where(Outbound.id == outbound_id)
                          .with_for_update()).first()
    if row is None or row.stage != Stage.UNCERTAIN:
        fail(f"outbound {outbound_id} is not held as uncertain")
    assert row is not None
    return row


@outbox.command()
@click.argument("outbound_id", type=int)
@click.pass_obj
def release(obj: Context, outbound_id: int) -> None:
    """Send a held platform reply after all (checked: the platform does not have it)."""
    with _sessions(obj.config)() as session, session.begin():
        row = _uncertain(session, outbound_id)
        row.stage, row.error, row.next_try_at = Stage.QUEUED.value, None, None
        AuditLog(session).record(ACTOR, "released", row.message_id, outbound=row.id,
                                 by=operator())
        Bell().announce(session, [Stage.QUEUED])
    click.echo(f"outbound {outbound_id} released: the daemon sends it")


@outbox.command("mark-sent")
@click.argument("outbound_id", type=int)
@click.pass_obj
def mark_sent(obj: Context, outbound_id: int) -> None:
    """Record a held platform reply as sent (checked: the platform has it)."""
    from maild.outbound.approvals import reply_sent

    now = datetime.now(UTC)
    with _sessions(obj.config)() as session, session.begin():
        row = _uncertain(session, outbound_id)
        row.stage, row.error, row.sent_at = Stage.SENT.value, None, now
        who = operator()
        AuditLog(session).record(ACTOR, "marked_sent", row.message_id, outbound=row.id, by=who)
        reply_sent(session, obj.config.raw_store(), obj.config, row, None, now, ACTOR,
                   marked_by=who)
    click.echo(f"outbound {outbound_id} recorded as sent")
