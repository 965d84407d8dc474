"""``maild export``, ``maild export verify`` and ``maild export status``: a client's record out
of maild, and the one-line check an auditor runs on it (issue 11).

Thin adapters over :mod:`maild.export` (what is exported, how runs resume),
:mod:`maild.export_targets` / :mod:`maild.export_imap` (where it goes) and
:mod:`maild.export_verify` (the check). ``verify`` needs neither a config nor the database.
Exit codes as DESIGN 4.4: 0 ok, 1 a failed check or a runtime failure, 2 bad usage (a bad
target URL, an unknown client or case, a missing password).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.cli import EXIT_USAGE, Context, _sessions, fail, main
from maild.config_table import Secret
from maild.export import ExportReport, FolderReport, Selection, export
from maild.export_imap import ImapExport
from maild.export_mbox import MboxExport
from maild.export_targets import MaildirExport, TargetUrl, parse_target
from maild.export_verify import Verification
from maild.models import Case

PASSWORD_ENV = "MAILD_EXPORT_PASSWORD"


def _target(_ctx: click.Context, _param: click.Parameter, value: str | None) -> TargetUrl | None:
    if value is None:
        return None
    try:
        return parse_target(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """``2026-03-01`` (00:00 UTC) or an ISO 8601 time; without a zone, UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use a date such as 2026-03-01 or a time such as "
                                 f"2026-03-01T08:00+08:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _hash(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (len(value) != 64 or value.strip("0123456789abcdef")):
        raise click.BadParameter("expected the 64 hex digits `maild export` printed")
    return value


def _usage(message: str) -> NoReturn:
    click.echo(f"maild export: {message}", err=True)
    sys.exit(EXIT_USAGE)


Export = ImapExport | MboxExport | MaildirExport


def open_export(url: TargetUrl, password_file: Path | None, ca_file: Path | None, *,
                dry_run: bool = False) -> Export:
    """The target for ``url`` (it both writes and reads an export)."""
    if url.kind == "mbox":
        return MboxExport(url, dry_run=dry_run)
    if url.kind == "maildir":
        return MaildirExport(url, dry_run=dry_run)
    if password_file is not None:
        password = Secret(file=password_file)
    elif os.environ.get(PASSWORD_ENV):
        password = Secret(env=PASSWORD_ENV)
    else:
        _usage(f"{url.label} needs a password: set {PASSWORD_ENV} or use --password-file")
    return ImapExport(url, password, ca_file=ca_file, dry_run=dry_run)


_password_file = click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False),
                              help=f"IMAP: read the password from this file (default: the "
                                   f"environment variable {PASSWORD_ENV}).")
_ca_file = click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                        help="IMAP: trust this CA (a private one) besides the system's.")


class _Lines:
    """No terminal: one line per folder on stderr."""

    def start(self, folders: int, messages: int) -> None:
        click.echo(f"maild export: {messages} message(s) in {folders} folder(s)", err=True)

    def message(self) -> None:
        """Counted per folder."""

    def folder(self, report: FolderReport) -> None:
        click.echo(f"maild export: {report.name}: {report.messages} message(s), "
                   f"{report.added} added, {report.present} already there", err=True)


class _Bar:
    """A terminal: a progress bar over every message."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, folders: int, messages: int) -> None:
        self._bar = click.progressbar(length=messages, label=f"exporting {folders} folder(s)",
                                      file=sys.stderr)
        self._bar.__enter__()

    def message(self) -> None:
        self._bar.update(1)

    def folder(self, report: FolderReport) -> None:
        """The bar says it."""

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _check_selection(obj: Context, sessions: sessionmaker[Session], client: str,
                     ticket: str | None) -> None:
    """An unknown client or a case of another client is a usage error (exit 2), so a typo
    never produces an empty export that looks complete."""
    with sessions() as session:
        if ticket is not None:
            owner = session.scalars(select(Case.client_id).where(Case.ticket == ticket)).first()
            if owner != client:
                _usage(f"no case {ticket} of client {client}")
        elif obj.config.client(client) is None and session.scalars(
                select(Case.id).where(Case.client_id == client).limit(1)).first() is None:
            _usage(f"no client {client!r} (not in the config, and no cases in the database)")


@main.group("export", invoke_without_command=True)
@click.option("--client", "client", metavar="ID", help="The client whose record to export.")
@click.option("--case", "ticket", metavar="MD-YYYY-NNNNNN", help="Only this case.")
@click.option("--since", callback=_moment, metavar="DATE",
              help="Messages received at or after this date/time (UTC unless it says).")
@click.option("--until", callback=_moment, metavar="DATE",
              help="Messages received before this date/time.")
@click.option("--all", "everything", is_flag=True,
              help="Everything the client ever had (a handover); not with --since/--until.")
@click.option("--to", "url", callback=_target, metavar="TARGET",
              help="imap://user@host[:port]/Folder[?tls=implicit|starttls|plain], mbox:DIR "
                   "or maildir:DIR.")
@_password_file
@_ca_file
@click.pass_context
def export_command(ctx: click.Context, client: str | None, ticket: str | None,
                   since: datetime | None, until: datetime | None, everything: bool,
                   url: TargetUrl | None, password_file: Path | None,
                   ca_file: Path | None) -> None:
    """Export a client's messages byte for byte, one folder per case, with a manifest and the
    audit-log extract; resumable, and a second run adds nothing. Subcommands check an export
    (verify) and say what a handover still lacks (status)."""
    if ctx.invoked_subcommand is not None:
        return
    if client is None or url is None:
        _usage("give --client ID and --to TARGET (or a subcommand: verify, status)")
    if everything and (since or until):
        _usage("--all exports everything: leave out --since/--until")
    if not (everything or since or until or ticket):
        _usage("say what to export: --since/--until, --case, or --all for everything")
    if since and until and since >= until:
        _usage("--since must be before --until")
    obj: Context = ctx.obj
    ticket = ticket.upper() if ticket else None
    sessions = _sessions(obj.config)
    _check_selection(obj, sessions, client, ticket)
    selection = Selection(client=client, ticket=ticket, since=since, until=until)
    target = open_export(url, password_file, ca_file)
    progress = _Bar() if sys.stderr.isatty() else _Lines()
    try:
        report = export(sessions, obj.config.raw_store(), target, selection,
                        progress=progress)
    finally:
        if isinstance(progress, _Bar):
            progress.close()
        target.close()
    _print_report(report, client)


def _print_report(report: ExportReport, client: str) -> None:
    rate = report.messages / report.seconds if report.seconds else 0.0
    click.echo(f"exported {report.messages} message(s) of {client} in {len(report.folders)} "
               f"folder(s) to {report.target}: {report.added} added, "
               f"{report.messages - report.added} already there, {report.audit_events} audit "
               f"event(s) ({report.seconds:.1f} s, {rate:.0f} messages/s)")
    click.echo(f"manifest head: {report.head}"
               + ("" if report.manifest_changed else " (unchanged)"))
    click.echo(f"check it with: maild export verify '{report.target}' --head {report.head}")


@export_command.command("verify")
@click.argument("url", metavar="TARGET", callback=_target)
@click.option("--head", "expected_head", metavar="HASH", callback=_hash,
              help="The manifest head `maild export` printed: the manifest must end in it.")
@_password_file
@_ca_file
def export_verify(url: TargetUrl, expected_head: str | None, password_file: Path | None,
                  ca_file: Path | None) -> None:
    """Re-read an export and check every message's SHA-256 against the manifest, that the
    manifest lists every message, the manifest's chain and the audit extract; name each
    discrepancy and exit 1 if there is one. Needs no config and no database."""
    source = open_export(url, password_file, ca_file, dry_run=True)
    check = Verification(source, expected_head)
    problems = 0
    try:
        for line in check.problems():
            problems += 1
            click.echo(line)
    finally:
        source.close()
    if problems:
        fail(f"export verify: {problems} problem(s) in {url.label}")
    anchor = ("the --head given" if expected_head else
              "compare it with the head `maild export` printed")
    click.echo(f"export verify: ok: {check.messages} message(s) in {check.folders} folder(s) "
               f"match the manifest, {check.audit_events} audit event(s) hash as recorded; "
               f"manifest head {check.head} ({anchor})")


@export_command.command("status")
@click.option("--client", "client", metavar="ID", required=True)
@click.option("--to", "url", callback=_target, metavar="TARGET", required=True,
              help="The handover target to compare with the client's whole record.")
@_password_file
@_ca_file
@click.pass_obj
def export_status(obj: Context, client: str, url: TargetUrl, password_file: Path | None,
                  ca_file: Path | None) -> None:
    """What of the client's whole record (as `--all` exports it) the target does not hold yet,
    per case, and whether its manifest is current. Writes nothing; exits 0 either way (1 when
    the target cannot be read or holds another selection)."""
    sessions = _sessions(obj.config)
    _check_selection(obj, sessions, client, None)
    target = open_export(url, password_file, ca_file, dry_run=True)
    try:
        report = export(sessions, obj.config.raw_store(), target, Selection(client=client),
                        dry_run=True)
    finally:
        target.close()
    lacking = [f for f in report.folders if f.missing]
    for folder in lacking:
        click.echo(f"{folder.name}: {folder.missing} of {folder.messages} message(s) missing")
    missing = sum(f.missing for f in lacking)
    manifest = ("the manifest is current" if not report.manifest_changed
                else "the manifest is missing or out of date")
    if not missing and not report.manifest_changed:
        click.echo(f"complete: all {report.messages} message(s) of {client} in "
                   f"{len(report.folders)} folder(s) are in {url.label}, {manifest}")
        return
    click.echo(f"incomplete: {missing} of {report.messages} message(s) of {client} missing in "
               f"{len(lacking)} folder(s), {manifest}; `maild export --client {client} --all "
               f"--to '{url.label}'` adds them")
