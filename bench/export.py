#!/usr/bin/env python3
"""Export benchmark (issue 11): ``maild export`` of 10,000 messages to a Maildir, an mbox and a
private Dovecot, against ``maild ingest`` of the same messages on the same machine.

    .venv/bin/python bench/export.py [--count 10000] [--cases 100] [--skip-imap]

1. Builds N messages from the real-world corpora in ``../shared/corpora/{ham,malformed,
   phishing}`` exactly as ``bench/ingest.py`` does (one ``X-Bench-Seq:`` line prepended, the
   rest untouched: CRLF and LF files, broken ones included) and writes them as ``.eml`` files.
2. ``maild ingest DIR`` archives them into an empty SQLite store (a subprocess; the schema is
   migrated first, not timed): the ingest rate to beat.
3. Links them to ``--cases`` cases of client ``bench`` (SQL, as routing would; not timed).
4. ``maild export --client bench --all`` into a Maildir, an mbox and (unless ``--skip-imap``) a
   second account of a private Dovecot on 127.0.0.1 (``tests.support.DovecotServer``; it does
   not fsync), each a subprocess after an ``os.sync()``; then a second run of each (it must add
   nothing) and ``maild export verify`` of each. For scale, the same messages MULTIAPPENDed by
   a bare imapclient loop into another account of that Dovecot: the server's own ceiling.

Every row is one process: wall time from start to exit (interpreter start, ~1 s, included),
the command's own rate where it prints one (``exported … (S s, R messages/s)``) and its peak RSS
(``ru_maxrss`` of that child from ``os.wait4``, the ``resource.getrusage`` figure of the
child alone). Figures are printed, never asserted; other work on the machine lowers them (the
load average is printed at the start and the end).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest import (  # noqa: E402  (bench/ingest.py, beside this file)
    corpus_files,
    git_state,
    loadavg,
    messages,
    wait_rusage,
)

# `maild export` registers itself when maild.cli_export is imported; this entry imports it, so
# the bench runs whether or not maild/cli.py imports it yet.
ENTRY = ("import sys, maild.cli_export; from maild.cli import main; "
         "sys.exit(main(prog_name='maild'))")
PASSWORD_ENV = "MAILD_EXPORT_PASSWORD"
_RATE = re.compile(r"\(([\d.]+) s, (\d+) messages/s\)")


@dataclass
class Row:
    name: str
    count: int = 0
    wall: float = 0.0
    own_rate: float | None = None
    rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0


def timed(name: str, argv: list[str], count: int, logs: Path,
          env: dict[str, str] | None = None, timeout: float = 3600.0) -> Row:
    """Run one child after flushing dirty pages (so nobody pays for another's); its wall time,
    the rate it prints and its peak RSS. Output goes to files (a full pipe would stall it)."""
    os.sync()
    row = Row(name, count)
    number = len(list(logs.glob("*.out")))
    out_path, err_path = logs / f"{number:02d}.out", logs / f"{number:02d}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=dict(os.environ, **(env or {})), cwd=REPO,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        code, row.rss_mb = wait_rusage(proc, timeout)
        row.wall = time.perf_counter() - started
    text = out_path.read_text(errors="replace")
    match = _RATE.search(text)
    if match:
        row.own_rate = float(match.group(2))
    if code != 0:
        said = (text + err_path.read_text(errors="replace"))[-500:]
        row.notes.append(f"exit code {code}: {said}")
    else:
        row.notes.extend(line[:200] for line in text.splitlines()
                         if " added, " in line or line.startswith("export verify"))
    return row


def maild(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", ENTRY, "--config", str(config), *args]


def link_cases(database: str, count: int, cases: int) -> None:
    """Spread the archived messages over ``cases`` cases of client ``bench``, in id order."""
    from sqlalchemy import update

    from maild.audit import AuditLog
    from maild.db import make_engine, session_factory
    from maild.models import Case, Message

    engine = make_engine(database)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    per_case = -(-count // cases)
    try:
        with session_factory(engine).begin() as session:
            for number in range(1, cases + 1):
                case = Case(ticket=f"MD-2026-{number:06d}", client_id="bench", platform="amazon",
                            category="other", priority="P3", state="triaged",
                            subject_key=f"bench {number}", opened_at=at, updated_at=at)
                session.add(case)
                session.flush()
                session.execute(update(Message).where(Message.id > (number - 1) * per_case,
                                                      Message.id <= number * per_case)
                                .values(case_id=case.id))
                AuditLog(session).record("bench", "case_opened", case.ticket)
    finally:
        engine.dispose()


def raw_append(server: object, inbox: Path, count: int, cases: int) -> Row:
    """The same messages, in the form the export stores (``imap_form``: CRLF line ends) and
    with an INTERNALDATE, MULTIAPPENDed by a bare imapclient loop into a fresh account, one
    folder per case: what the server alone takes (no archive, no database, no manifest).
    Dovecot stores LF ends, so CRLF input costs it a conversion: sending the LF files as they
    are would flatter the server."""
    from maild.export_imap import imap_form

    row = Row("Dovecot MULTIAPPEND alone (server ceiling)", count)
    files = sorted(inbox.iterdir())
    per_case = -(-count // cases)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    os.sync()
    with server.client("raw") as imap:  # type: ignore[attr-defined]
        started = time.perf_counter()
        for number in range(cases):
            folder = f"Raw/{number:03d}"
            imap.create_folder(folder)
            imap.multiappend(folder, [
                {"msg": imap_form(path.read_bytes())[0], "flags": (b"\\Seen",), "date": when}
                for path in files[number * per_case:(number + 1) * per_case]])
        row.wall = time.perf_counter() - started
    row.notes.append("in this process; wall time of the loop only")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--skip-imap", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    options = parser.parse_args()

    from maild.db import upgrade

    print(f"bench/export.py: {options.count} messages in {options.cases} cases; "
          f"nproc {len(os.sched_getaffinity(0))}; loadavg {loadavg()}; {git_state()}")
    work = Path(tempfile.mkdtemp(prefix="maild-bench-export-"))
    rows: list[Row] = []
    server = None
    try:
        inbox = work / "in"
        inbox.mkdir()
        total = 0
        for seq, raw in enumerate(messages(corpus_files(), options.count)):
            (inbox / f"{seq:06d}.eml").write_bytes(raw)
            total += len(raw)
        print(f"messages: {options.count}, {total / 1e6:.1f} MB "
              f"(mean {total / options.count / 1024:.1f} KiB)")
        database = f"sqlite:///{work}/maild.db"
        config = work / "maild.toml"
        config.write_text(f'[maild]\ndatabase = "{database}"\n'
                          f'archive_dir = "{work}/archive"\n', encoding="utf-8")
        upgrade(database)
        logs = work / "logs"
        logs.mkdir()
        ingest = timed("maild ingest (files -> SQLite)", maild(config, "ingest", str(inbox)),
                       options.count, logs)
        rows.append(ingest)
        link_cases(database, options.count, options.cases)

        targets = [("Maildir", f"maildir:{work}/out-maildir"), ("mbox", f"mbox:{work}/out-mbox")]
        env: dict[str, str] = {}
        if not options.skip_imap:
            from tests.support import DovecotServer

            server = DovecotServer(users={"auditor": "bench-pw", "raw": "bench-pw"},
                                   lmtp=False)
            server.start()
            targets.append(("IMAP (Dovecot)",
                            f"imap://auditor@127.0.0.1:{server.port}/Export?tls=plain"))
            env = {PASSWORD_ENV: "bench-pw"}
        export = ["export", "--client", "bench", "--all", "--to"]
        for name, url in targets:
            rows.append(timed(f"export -> {name}", maild(config, *export, url), options.count,
                              logs, env))
        if server is not None:
            rows.append(raw_append(server, inbox, options.count, options.cases))
        for name, url in targets:
            rows.append(timed(f"export again -> {name} (adds nothing)",
                              maild(config, *export, url), options.count, logs, env))
        for name, url in targets:
            rows.append(timed(f"export verify {name}",
                              [sys.executable, "-c", ENTRY, "export", "verify", url],
                              options.count, logs, env))
    finally:
        if server is not None:
            server.close()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'':44} {'msgs':>6} {'wall s':>7} {'msg/s':>7} {'own msg/s':>9} {'RSS MB':>7}")
    for row in rows:
        own = f"{row.own_rate:9.0f}" if row.own_rate is not None else f"{'-':>9}"
        rss = f"{row.rss_mb:7.1f}" if row.rss_mb else f"{'-':>7}"
        print(f"{row.name:44} {row.count:6d} {row.wall:7.2f} {row.rate:7.0f} {own} {rss}")
        for note in row.notes:
            print(f"{'':46}{note}")
    for row in rows:
        if row.name.startswith("export -> "):
            own = (f", {row.own_rate / ingest.rate:.2f}x by its own rate"
                   if row.own_rate else "")
            print(f"{row.name}: {row.rate / ingest.rate:.2f}x the ingest rate (wall){own}")
    print(f"loadavg at the end: {loadavg()}")


if __name__ == "__main__":
    main()
