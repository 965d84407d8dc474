"""Command line: click commands that load config, open the store and call into the package.

No business logic lives here; each command is a thin adapter with the exit codes of DESIGN 4.4:
0 success, 1 runtime failure, 2 bad usage or invalid config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from maild.errors import SourceError
from maild.parsers import parse_message
from maild.sources.files import iter_path


@click.group()
@click.version_option(package_name="maild")
def main() -> None:
    """maild: watch platform mailboxes, archive, parse, triage, route and reply."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message (JSONL).")
def parse(paths: tuple[Path, ...], as_json: bool) -> None:
    """Parse .eml files, directories, mbox files or Maildirs; needs no config and no database."""
    unreadable = 0
    for path in paths:
        try:
            for message in iter_path(path):
                notice = parse_message(message.raw)
                record = notice.to_contract(message.source)
                if as_json:
                    click.echo(json.dumps(record, ensure_ascii=False))
                else:
                    click.echo(notice.describe(message.source))
        except SourceError as exc:
            unreadable += 1
            click.echo(f"maild parse: {exc}", err=True)
    sys.exit(1 if unreadable else 0)
