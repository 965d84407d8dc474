"""``maild report``: a client's monthly communication report as HTML, CSV or JSON, and with
``--send`` as a mail through the outbox (the daemon's send step delivers it).

A span of months (``--from 2026-01 --to 2026-12``) reads the database once and writes one
report per month; on a terminal a progress bar shows how far it got, otherwise (a cron job, a
pipe) each month is one plain line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from maild.cli import Context, _sessions, main
from maild.config_clients import Client
from maild.report import Month, months_between

FORMATS = ("csv", "html", "json")


def _month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Month | None:
    if value is None:
        return None
    try:
        return Month.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--client", "client_id", required=True, help="The client id of the config.")
@click.option("--month", callback=_month, metavar="YYYY-MM",
              help="The month, in the client's time zone (default: the last complete one).")
@click.option("--from", "first", callback=_month, metavar="YYYY-MM",
              help="First month of a span (with --to): one report per month.")
@click.option("--to", "last", callback=_month, metavar="YYYY-MM", help="Last month of a span.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path),
              help="Write to this file (one month) or folder (a span); default: stdout.")
@click.option("--send", is_flag=True,
              help="Queue the report mail to the decision-maker and summary recipients (a "
                   "month still running goes as it stands; its final report still goes out "
                   "on the 1st).")
@click.option("--again", is_flag=True, help="With --send: send a month that was sent before.")
@click.pass_obj
def report(obj: Context, client_id: str, month: Month | None, first: Month | None,
           last: Month | None, fmt: str, out: Path | None, send: bool, again: bool) -> None:
    """A client's monthly communication-effectiveness report."""
    # Imported here: drawing charts loads matplotlib, which no other command needs.
    from maild.report import report_from, triage_of
    from maild.report_facts import load_facts
    from maild.report_render import html_file, render_csv, render_json

    renderers = {"html": html_file, "csv": render_csv, "json": render_json}
    client = obj.config.client(client_id)
    if client is None:
        raise click.BadParameter(f"no client {client_id!r} in the config", param_hint="--client")
    now = datetime.now(UTC)
    months = _months(client, month, first, last, now)
    if len(months) > 1 and out is None and not send:
        raise click.UsageError("a span of months needs --out FOLDER (one file per month)")
    if again and not send:
        raise click.UsageError("--again goes with --send")
    sessions = _sessions(obj.config)
    with sessions() as session:
        facts = load_facts(session, client.id, triage_of(client), months[-1].end(client.zone))
    bar = len(months) > 1 and sys.stderr.isatty()
    for each in _progress(months, f"report {client.id}", bar):
        done = []
        if out is not None or not send:
            text = renderers[fmt](report_from(facts, client, each, now))
            done.append(_write(text, _target(out, client, each, fmt, len(months))))
        if send:
            done.append(_send(obj, sessions, client, each, now, again))
        if not bar:
            click.echo(f"maild report: {client.id} {each}: {'; '.join(done)}", err=True)
    if bar:
        where = f" into {out}" if out is not None else ""
        click.echo(f"maild report: {client.id} {months[0]}..{months[-1]}: {len(months)} "
                   f"months done{where}", err=True)


def _progress(months: list[Month], label: str, bar: bool) -> Iterator[Month]:
    """The months, under a progress bar on stderr when ``bar``."""
    if not bar:
        yield from months
        return
    with click.progressbar(months, label=label, file=sys.stderr,
                           item_show_func=lambda m: str(m) if m else None) as shown:
        yield from shown


def _months(client: Client, month: Month | None, first: Month | None, last: Month | None,
            now: datetime) -> list[Month]:
    if month is not None and (first or last):
        raise click.UsageError("give --month, or --from and --to, not both")
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together")
    if first is not None and last is not None:
        if last < first:
            raise click.BadParameter(f"{last} comes before {first}", param_hint="--to")
        return months_between(first, last)
    return [month or Month.of(now, client.zone).previous()]


def _target(out: Path | None, client: Client, month: Month, fmt: str,
            count: int) -> Path | None:
    """Where a month's report goes: stdout (None), the file given, or a file in the folder."""
    if out is None:
        return None
    if count > 1 or out.is_dir():
        out.mkdir(parents=True, exist_ok=True)
        return out / f"report-{client.id}-{month}.{fmt}"
    return out


def _write(text: str, target: Path | None) -> str:
    if target is None:
        click.echo(text, nl=False)
        return "written to stdout"
    target.write_text(text, encoding="utf-8", newline="")
    return f"written to {target}"


def _send(obj: Context, sessions: sessionmaker[Session], client: Client, month: Month,
          now: datetime, again: bool) -> str:
    from maild.report_step import send_report

    with sessions.begin() as session:
        row = send_report(session, obj.config.raw_store(), obj.config, client, month, now,
                          again=again, actor="cli")
        return f"queued as outbound {row.id} to {', '.join(row.recipients)}"
