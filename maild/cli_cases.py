"""``maild cases``, ``maild case MD-…`` and ``maild outbox``: what advisors look at on a terminal.

Thin adapters over :mod:`maild.routing.casebook`; times are shown in the client's zone with the
time left, since that is when the client's people will act.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import click

from maild.cli import Context, _sessions, fail, main
from maild.models import Case, Clock
from maild.routing.cases import STATES
from maild.stages import Stage

_OUTBOX_STAGES = [Stage.QUEUED, Stage.SENDING, Stage.UNCERTAIN, Stage.SENT, Stage.FAILED,
                  Stage.BOUNCED]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(_ctx: click.Context, _param: click.Parameter,
                   value: str | None) -> timedelta | None:
    """``90m``, ``24h``, ``3d``, ``1w`` (or combined: ``1d12h``)."""
    if value is None:
        return None
    parts = _DURATION.findall(value.lower())
    if not parts or _DURATION.sub("", value.lower()).strip():
        raise click.BadParameter(f"{value!r}: use a duration such as 90m, 24h, 3d or 1w")
    return timedelta(seconds=sum(float(n) * _UNITS[unit] for n, unit in parts))


def time_left(due: datetime, now: datetime) -> str:
    """``in 1d 4h``, ``in 35m`` or ``OVERDUE by 2h 5m``."""
    seconds = int((due - now).total_seconds())
    words: list[str] = []
    rest = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size or (unit == "m" and not words):
            words.append(f"{rest // size}{unit}")
            rest %= size
    text = " ".join(words[:2])
    return f"in {text}" if seconds >= 0 else f"OVERDUE by {text}"


def _zone(obj: Context, case: Case) -> ZoneInfo:
    client = obj.config.client(case.client_id) if case.client_id else None
    return ZoneInfo(client.timezone) if client else ZoneInfo("UTC")


def _due(obj: Context, case: Case, now: datetime) -> str:
    if case.deadline is None:
        return "no deadline"
    zone = _zone(obj, case)
    local = case.deadline.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return f"due {local} {zone.key} ({time_left(case.deadline, now)})"


def _sla(obj: Context, clock: Clock | None, case: Case, now: datetime) -> str:
    """The SLA clock as a reader wants it: when the first draft is due and how long is left."""
    if clock is None:
        return "no SLA clock"
    if clock.stopped_at is not None:
        return "SLA met" if clock.stopped_at <= clock.due_at else "SLA missed"
    zone = _zone(obj, case)
    local = clock.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return f"SLA {local} ({time_left(clock.due_at, now)})"


def _case_json(obj: Context, case: Case, sla: Clock | None,
               now: datetime) -> dict[str, object]:
    running = sla is not None and sla.stopped_at is None
    return {"ticket": case.ticket, "client": case.client_id, "store": case.store_name,
            "platform": case.platform, "marketplace": case.marketplace,
            "category": case.category, "priority": case.priority, "state": case.state,
            "deadline": case.deadline.isoformat() if case.deadline else None,
            "seconds_left": (case.deadline - now).total_seconds() if case.deadline else None,
            "sla_due": sla.due_at.isoformat() if sla else None,
            "sla_seconds_left": (sla.due_at - now).total_seconds() if sla and running else None,
            "opened_at": case.opened_at.isoformat()}


@main.command()
@click.option("--client", help="Only this client id.")
@click.option("--state", type=click.Choice(STATES), help="Only cases in this state.")
@click.option("--priority", type=click.Choice(["P0", "P1", "P2", "P3"]))
@click.option("--due-within", callback=parse_duration, metavar="DURATION",
              help="Only open cases due within this time (e.g. 24h), overdue ones included.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def cases(obj: Context, client: str | None, state: str | None, priority: str | None,
          due_within: timedelta | None, as_json: bool) -> None:
    """List cases, the nearest deadline first."""
    from maild.routing.casebook import find_cases
    from maild.routing.clocks import clocks_of

    now = datetime.now(UTC)
    with _sessions(obj.config)() as session:
        rows = find_cases(session, client=client, state=state, priority=priority,
                          due_within=due_within, now=now)
        slas = {c.id: clocks_of(session, c.id).get("sla") for c in rows}
        if as_json:
            click.echo(json.dumps([_case_json(obj, c, slas[c.id], now) for c in rows],
                                  ensure_ascii=False))
            return
        if not rows:
            click.echo("no cases")
        for c in rows:
            where = c.marketplace or c.platform
            click.echo(f"{c.ticket}  {c.priority}  {c.client_id or '(unmatched)'}  {where}  "
                       f"{c.category}  {c.state}  {_due(obj, c, now)}  "
                       f"{_sla(obj, slas[c.id], c, now)}")


@main.command("case")
@click.argument("ticket")
@click.pass_obj
def case_command(obj: Context, ticket: str) -> None:
    """Show one case and its whole history: notices, summaries, receipts, audit events."""
    from maild.routing.casebook import case_history
    from maild.routing.clocks import clocks_of

    now = datetime.now(UTC)
    with _sessions(obj.config)() as session:
        found = case_history(session, ticket.upper())
        if found is None:
            fail(f"no case {ticket}")
            return
        case, lines = found
        zone = _zone(obj, case)
        click.echo(f"{case.ticket} [{case.priority}] {case.platform} "
                   f"{case.marketplace or ''} {case.category} — {case.state}")
        click.echo(f"client: {case.client_id or '(unmatched)'}  store: {case.store_name or '-'}")
        clocks = clocks_of(session, case.id)
        platform = clocks.get("platform")
        click.echo(f"platform deadline: {_due(obj, case, now)}"
                   + (f"  [{platform.source}]" if platform else ""))
        click.echo(f"first draft (SLA): {_sla(obj, clocks.get('sla'), case, now)}")
        for line in lines:
            at = line.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"  {at}  {line.kind:<8} {line.text}")


@main.group(invoke_without_command=True)
@click.option("--state", type=click.Choice([stage.value for stage in _OUTBOX_STAGES]))
@click.pass_context
def outbox(ctx: click.Context, state: str | None) -> None:
    """What waits to be sent, what was sent with its receipt, what failed and why (and, as
    subcommands, what to do with a platform reply held as uncertain)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    from maild.routing.casebook import outbox as outbox_rows

    with _sessions(obj.config)() as session:
        rows = outbox_rows(session, state)
        if not rows:
            click.echo("outbox is empty" if state is None else f"nothing {state}")
        for row in rows:
            receipt = row.receipts[-1] if row.receipts else None
            said = f"  {receipt.code} {receipt.text}" if receipt else ""
            retry = (f"  next try {row.next_try_at:%Y-%m-%d %H:%M:%S}Z"
                     if row.stage == "queued" and row.next_try_at else "")
            error = f"  error: {row.error}" if row.error and row.stage != "sent" else ""
            click.echo(f"{row.id}  {row.stage:<7} {row.kind}  to {', '.join(row.recipients)}  "
                       f"attempts {row.attempts}{retry}{said}{error}")
