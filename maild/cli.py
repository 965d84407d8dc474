"""Command line: click commands that load config, open the store and call into the package.

No business logic lives here; each command is a thin adapter with the exit codes of DESIGN 4.4:
0 success, 1 runtime failure, 2 bad usage or invalid config.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat as stat_module
import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from maild.config import Config, load_config
from maild.errors import ConfigError, MaildError, SourceError
from maild.sources.files import iter_path

EXIT_FAILURE = 1
EXIT_USAGE = 2
PRIVATE_UMASK = 0o077
INGEST_BATCH = 100
INGEST_BATCH_BYTES = 32 * 1024 * 1024  # as an IMAP account's batch_bytes: RSS stays bounded


class Context:
    """What the click root hands to commands: the config, loaded on first use."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                click.echo(f"maild: invalid config: {exc}", err=True)
                sys.exit(EXIT_USAGE)
        return self._config


class _Unreadable:
    """Reports each path or directory entry ``parse``/``ingest`` could not read on stderr, and
    counts them: the command reads the rest, then exits 1 (DESIGN 4.1)."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.count = 0

    def __call__(self, problem: SourceError) -> None:
        self.count += 1
        click.echo(f"maild {self.command}: {problem}", err=True)


def fail(message: str) -> None:
    click.echo(f"maild: {message}", err=True)
    sys.exit(EXIT_FAILURE)


class _Commands(click.Group):
    """Turns an expected runtime failure (database away, archive unwritable, bad mailbox) into
    the one clear line and exit code 1 of DESIGN 4.4 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except (MaildError, SQLAlchemyError, OSError) as exc:
            lines = str(exc).strip().splitlines()
            fail(f"{type(exc).__name__}: {lines[0] if lines else 'failed'}")
            raise  # unreachable: fail() exits


@click.group(cls=_Commands)
@click.version_option(package_name="maild")
@click.option("--config", "config_path", type=click.Path(path_type=Path), envvar="MAILD_CONFIG",
              help="TOML config file (env MAILD_CONFIG); default: embedded SQLite under var/.")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """maild: watch platform mailboxes, archive, parse, triage, route and reply."""
    ctx.obj = Context(config_path)
    # Every file maild creates (database, WAL, archive, locks) holds mail: the service user's
    # alone. Set here so each command and the daemon's threads inherit it; restored when the
    # command ends, for callers that run commands in process (CliRunner).
    previous = os.umask(PRIVATE_UMASK)
    ctx.call_on_close(lambda: os.umask(previous))


def _sessions(config: Config) -> sessionmaker[Session]:
    """Sessions on the configured database, its schema brought to the newest revision first."""
    from maild.db import make_engine, session_factory, upgrade

    upgrade(config.database)
    return session_factory(make_engine(config.database), archive_dir=config.archive_dir)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(obj: Context, revision: str) -> None:
    """Create or upgrade the schema (alembic) of the configured database."""
    from sqlalchemy.exc import SQLAlchemyError

    from maild.db import upgrade

    try:
        upgrade(obj.config.database, revision)
    except (SQLAlchemyError, MaildError) as exc:
        fail(f"db upgrade failed: {exc}")
    click.echo(f"database at revision {revision}")


@main.group()
def archive() -> None:
    """Archive commands."""


def _audit_hash(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (len(value) != 64 or value.strip("0123456789abcdef")):
        raise click.BadParameter("expected the 64 hex digits `maild archive head` printed")
    return value


@archive.command("verify")
@click.option("--head", "expected_head", metavar="HASH", callback=_audit_hash,
              help="An audit head recorded earlier (`maild archive head`): it must still be in "
                   "the chain.")
@click.pass_obj
def archive_verify(obj: Context, expected_head: str | None) -> None:
    """Check every archive file against its SHA-256, the audit hash chain against its anchored
    heads, and every message row against its audit event."""
    from maild.audit_head import chain_head, head_file
    from maild.integrity import files_without_rows, verify_archive

    problems = orphans = 0
    example = None
    store = obj.config.raw_store()
    with _sessions(obj.config)() as session:
        for line in verify_archive(session, store, expected_head=expected_head):
            problems += 1
            click.echo(line)
        for sha in files_without_rows(session, store):
            orphans += 1
            example = example or store.path_for(sha)
        unanchored = chain_head(session) is not None and not head_file(store.root).exists()
    if orphans:
        click.echo(f"note: {orphans} archive file(s) have no database row (a crash before "
                   f"commit, or a database restored from an older backup); `maild ingest` on "
                   f"them re-adds them, e.g. {example}")
    if unanchored:
        click.echo(f"note: no {head_file(store.root)} yet, so the end of the audit chain is not "
                   f"anchored outside the database; the next commit that records an event "
                   f"writes it")
    if problems:
        fail(f"archive verify found {problems} problem(s)")
    click.echo("archive verify: ok")


@archive.command("head")
@click.pass_obj
def archive_head(obj: Context) -> None:
    """Print the audit chain's newest event (seq, hash, time), to record outside this machine
    and check later with `maild archive verify --head HASH`."""
    from maild.audit_head import chain_head

    with _sessions(obj.config)() as session:
        head = chain_head(session)
    if head is None:
        click.echo("the audit log is empty")
        return
    seq, digest, at = head.line().split(" ")
    click.echo(f"seq {seq} hash {digest} at {at}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...]) -> None:
    """Archive .eml files, directories, mbox files or Maildirs (backfills, the demo)."""
    from maild.ingest import Incoming, Ingestor, batched

    ingestor = Ingestor(obj.config.raw_store(), _sessions(obj.config), actor="cli")
    new = duplicates = 0
    unreadable = _Unreadable("ingest")
    terminal = sys.stderr.isatty()
    for path in paths:
        items = (Incoming(raw=m.raw, origin=f"file:{m.source}")
                 for m in iter_path(path, unreadable))
        path_new = path_duplicates = 0
        # On a terminal a bar over the bytes of the path (a big mbox takes minutes); in a log,
        # one line per path when it is done.
        shown = (click.progressbar(length=_bytes_under(path), label=f"ingest {path}",
                                   file=sys.stderr) if terminal else contextlib.nullcontext())
        with shown as bar:
            for batch in batched(items, lambda item: len(item.raw), INGEST_BATCH,
                                 INGEST_BATCH_BYTES):
                result = ingestor.ingest(batch)
                path_new, path_duplicates = (path_new + result.new,
                                             path_duplicates + result.duplicates)
                if bar is not None:
                    bar.update(sum(len(item.raw) for item in batch))
                del batch  # archived: free it before the next batch is read
            if bar is not None:  # the bytes an mbox spends on separators: the path is done
                bar.update(max(0, (bar.length or 0) - bar.pos))
        if not terminal:
            click.echo(f"maild ingest: {path}: {path_new} new, {path_duplicates} already "
                       f"archived", err=True)
        new, duplicates = new + path_new, duplicates + path_duplicates
    click.echo(f"archived {new} new message(s), {duplicates} already archived")
    if unreadable.count:
        sys.exit(EXIT_FAILURE)


def _bytes_under(path: Path) -> int:
    """The size of a file, or of the regular files under a folder (links not followed): the
    length of ``ingest``'s progress bar."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                stat = os.lstat(os.path.join(folder, name))
                total += stat.st_size if stat_module.S_ISREG(stat.st_mode) else 0
    return total


@main.command()
@click.option("--once", is_flag=True, help="Sync every source once, finish pending work, exit.")
@click.pass_obj
def run(obj: Context, once: bool) -> None:
    """Run the daemon: watch every configured source until SIGTERM/SIGINT."""
    from maild.daemon import Daemon, run_once
    from maild.db import upgrade
    from maild.logs import setup_logging

    config = obj.config
    setup_logging(config.log_format, config.log_level)
    upgrade(config.database)
    if once:
        failures = run_once(config)
        sys.exit(EXIT_FAILURE if failures else 0)
    daemon = Daemon(config)
    daemon.install_signals()
    daemon.run()


@main.command()
@click.option("--stage", "step_name", type=click.Choice(["parse", "route"]), default="parse",
              show_default=True, help="The step to replay the rows it quarantined into.")
@click.option("--id", "ids", type=int, multiple=True,
              help="Only this message id (repeatable); default: every row the step quarantined.")
@click.pass_obj
def requeue(obj: Context, step_name: str, ids: tuple[int, ...]) -> None:
    """Send quarantined messages back to the step that failed them (after a fix)."""
    from maild.bell import Bell
    from maild.parse_stage import ParseStep
    from maild.routing.route_step import RouteStep
    from maild.stages import MessageStep, RequeueError
    from maild.stages import requeue as requeue_step

    store = obj.config.raw_store()
    step: MessageStep = (ParseStep(store) if step_name == "parse"
                         else RouteStep(obj.config, store))
    try:
        count = requeue_step(_sessions(obj.config), step, actor="cli", ids=ids,
                             bell=Bell())  # on PostgreSQL, NOTIFY wakes the daemons
    except RequeueError as exc:
        fail(str(exc))
    click.echo(f"requeued {count} quarantined message(s) to the {step_name} step; the daemon "
               f"works them next")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Per mailbox: last sync, last UID, messages archived, lag, last error; then the checks of
    /healthz, the outbox, the queue depths and the approvals waiting."""
    from datetime import UTC, datetime

    from maild.health import check_health, status_lines
    from maild.status import mailbox_status

    sessions = _sessions(obj.config)
    with sessions() as session:
        rows = mailbox_status(session)
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("no mailboxes yet")
    for row in rows:
        sync = row.last_sync.strftime("%Y-%m-%d %H:%M:%S") if row.last_sync else "never"
        lag = "?" if row.lag_messages is None else str(row.lag_messages)
        error = f", ERROR {row.last_error}" if row.last_error else ""
        error += f", worked by {row.leased_by}" if row.leased_by else ""
        click.echo(f"{row.mailbox}: last sync {sync}, last uid {row.last_uid}, "
                   f"{row.archived} archived, lag {lag} msg{error}")
    now = datetime.now(UTC)
    for line in status_lines(check_health(sessions, obj.config, obj.config.http, now, now)):
        click.echo(line)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as /healthz does.")
@click.pass_obj
def health(obj: Context, as_json: bool) -> None:
    """The checks of /healthz (database, mailboxes synced, outbox moving); exit 1 when one
    fails, for cron and monitoring."""
    from datetime import UTC, datetime

    from maild.health import check_health, status_lines

    now = datetime.now(UTC)
    report = check_health(_sessions(obj.config), obj.config, obj.config.http, now, now)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for line in status_lines(report):
            click.echo(line)
    if not report.ok:
        sys.exit(EXIT_FAILURE)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message (JSONL).")
def parse(paths: tuple[Path, ...], as_json: bool) -> None:
    """Parse .eml files, directories, mbox files or Maildirs; needs no config and no database."""
    from maild.parsers import parse_message

    unreadable = _Unreadable("parse")
    for path in paths:
        for message in iter_path(path, unreadable):
            notice = parse_message(message.raw)
            record = notice.to_contract(message.source)
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                click.echo(notice.describe(message.source))
    sys.exit(1 if unreadable.count else 0)


# Commands kept in their own modules register themselves on ``main`` when imported.
from maild import cli_cases, cli_drafts, cli_export, cli_report  # noqa: E402, F401
