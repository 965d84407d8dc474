#!/usr/bin/env python3
"""Ingest benchmark: maild backfill from a real Dovecot vs mbsync, same mailbox, same machine.

    .venv/bin/python bench/ingest.py [--count 10000] [--batch-size 200] [--skip-postgres]
                                     [--skip-mbsync] [--profile]

1. Builds N messages from the real-world corpora in ``../shared/corpora/{ham,malformed,phishing}``
   (cycling through them; each made unique by one prepended ``X-Bench-Seq:`` header line, the
   rest of the bytes untouched, broken ones included) and APPENDs them into the INBOX of a
   private Dovecot on 127.0.0.1 (``tests.support.DovecotServer``).
2. Backfills that INBOX with maild's real code path, ``python maild.py --config X run --once``,
   into an empty SQLite store and an empty PostgreSQL database (throw-away). Each run is its own
   subprocess, so its peak RSS (``ru_maxrss`` from ``os.wait4``) is the ingest's alone. The schema
   is migrated beforehand (``maild db upgrade``, not timed).
3. Times ``mbsync`` (isync) pulling the same INBOX into a Maildir with ``FSync yes`` (its
   default, set explicitly), counts the files it wrote and the messages it skipped.
4. Prints the machine facts and one table; ``--profile`` adds an in-process cProfile of
   ``FolderWorker.run_once`` on SQLite with a per-section time split.

Only loopback addresses are used. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CORPORA = REPO / ".." / "shared" / "corpora"
CORPUS_DIRS = ("ham", "malformed", "phishing")
PASSWORD_ENV = "MAILD_BENCH_IMAP_PASSWORD"
TARGET_RATE = 1000.0
TARGET_RSS_MB = 200.0


# --------------------------------------------------------------------------- messages

def corpus_files() -> list[Path]:
    root = CORPORA.resolve()
    files = sorted(p for d in CORPUS_DIRS for p in (root / d).glob("*.eml"))
    if not files:
        sys.exit(f"bench/ingest.py: no corpus found: expected .eml files in "
                 f"{root}/{{{','.join(CORPUS_DIRS)}}}/ (the shared real-world corpora)")
    return files


def unique_message(raw: bytes, seq: int) -> bytes:
    """``raw`` with one ``X-Bench-Seq`` line in front, in the line ending of its first line."""
    first = raw.split(b"\n", 1)[0]
    eol = b"\r\n" if first.endswith(b"\r") else b"\n"
    return b"X-Bench-Seq: %d" % seq + eol + raw


def messages(files: list[Path], count: int) -> Iterator[bytes]:
    """N unique messages, cycling through the corpus, read one at a time (streamed)."""
    for seq in range(count):
        yield unique_message(files[seq % len(files)].read_bytes(), seq)


# --------------------------------------------------------------------------- machine facts

def machine_facts() -> list[tuple[str, str]]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    tmp = tempfile.gettempdir()
    fs = "unknown"
    try:
        done = subprocess.run(["df", "--output=source,fstype", tmp], capture_output=True,
                              text=True, check=False)
        fs = " ".join(done.stdout.splitlines()[-1].split())
    except OSError:
        pass

    def version(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return "not found"
        return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or
                                                                        done.stderr) else "?"

    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("CPU", model),
        ("memory", mem),
        ("kernel", platform.release()),
        ("Python", platform.python_version()),
        ("temp dir", f"{tmp} ({fs})"),
        ("loadavg", loadavg()),
        ("maild", git_state()),
        ("dovecot", version(["dovecot", "--version"])),
        ("mbsync", version(["mbsync", "--version"])),
    ]


def git_state() -> str:
    """The commit measured, and whether maild/ has uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "maild"],
                               capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return f"{REPO} (not a git checkout)"
    if not head:
        return f"{REPO} (not a git checkout)"
    return f"{REPO} at {head}" + (" + uncommitted changes in maild/" if dirty else "")


def loadavg() -> str:
    """1/5/15-minute load: other work on the machine (e.g. a test suite) skews the figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------- results

@dataclass
class Result:
    name: str
    wall: float | None = None          # whole process, start to exit
    window: float | None = None        # sync only (from the log), when known
    count: int | None = None           # messages archived / copied
    nbytes: int | None = None
    rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)

    def rate(self, n: int | None = None, seconds: float | None = None) -> float | None:
        n = self.count if n is None else n
        seconds = seconds if seconds is not None else self.wall
        return n / seconds if n and seconds else None


def wait_rusage(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    """Wait for ``proc`` with ``os.wait4``: (exit code, peak RSS in MB of that process)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # tell Popen the child is reaped
    return code, usage.ru_maxrss / 1024  # Linux: KiB


# --------------------------------------------------------------------------- maild

def write_config(work: Path, database: str, port: int, user: str, batch_size: int) -> Path:
    path = work / "maild.toml"
    path.write_text(
        f'[maild]\ndatabase = "{database}"\narchive_dir = "{work / "archive"}"\n'
        f'log_level = "INFO"\n\n'
        f'[[imap]]\nname = "bench"\nhost = "127.0.0.1"\nport = {port}\ntls = "plain"\n'
        f'username = "{user}"\npassword_env = "{PASSWORD_ENV}"\nfolders = ["INBOX"]\n'
        f'batch_size = {batch_size}\n', encoding="utf-8")
    return path


_LOG_TS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def _log_window(text: str) -> float | None:
    """Seconds from the process's first log line to the end of the INBOX sync (ingest only)."""
    stamps = []
    end = None
    for line in text.splitlines():
        match = _LOG_TS.match(line)
        if not match:
            continue
        at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
        stamps.append(at)
        if " finished worker=bench/INBOX" in line or " synced mailbox=bench/INBOX" in line:
            end = at
    if not stamps or end is None:
        return None
    return (end - stamps[0]).total_seconds()


def run_maild(name: str, database: str, server: object, work: Path, batch_size: int,
              uids: list[int], timeout: float, cli: bool = False) -> Result:
    from sqlalchemy import func, select

    from maild.db import make_engine, upgrade
    from maild.models import Message

    result = Result(name)
    config = write_config(work, database, server.port, server.user, batch_size)
    env = dict(os.environ, **{PASSWORD_ENV: server.password, "PYTHONUNBUFFERED": "1"})
    upgrade(database)  # `maild run` upgrades too; doing it first keeps migration out of the time
    if cli:  # the whole `maild run --once`: sources, then the parse stage
        entry = [sys.executable, str(REPO / "maild.py"), "--config", str(config), "run",
                 "--once"]
    else:  # ingest only: the same build_workers / FolderWorker.run_once, no parse stage
        entry = [sys.executable, str(Path(__file__).resolve()), "--child-ingest", str(config)]
    log_path = work / "maild.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(entry, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=work)
        code, result.rss_mb = wait_rusage(proc, timeout)
        result.wall = time.perf_counter() - started
    text = log_path.read_text(errors="replace")
    result.window = _log_window(text)
    if code != 0:
        errors = [line for line in text.splitlines() if " ERROR " in line][-3:]
        tail = "\n".join(line[:300] for line in (errors or text.splitlines()[-5:]))
        result.notes.append(f"exit code {code}; last error line(s), cut at 300 chars:\n{tail}")
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            result.count = conn.scalar(select(func.count()).select_from(Message))
            result.nbytes = int(conn.scalar(select(func.coalesce(func.sum(Message.size), 0))))
            archived = set(conn.scalars(select(Message.uid)))
    finally:
        engine.dispose()
    missing = sorted(set(uids) - archived)
    if missing:
        result.notes.append(f"{len(missing)} UID(s) NOT archived, first: {missing[:10]}")
    files = sum(1 for d in (work / "archive").glob("[0-9a-f][0-9a-f]") for _ in d.iterdir())
    if files != result.count:
        result.notes.append(f"archive holds {files} files for {result.count} rows")
    return result


# --------------------------------------------------------------------------- mbsync

MBSYNC_RC = """\
# Generated by bench/ingest.py (MAILSTACK.md: SSLType None, AuthMechs LOGIN, Sync Pull, Create Near)
FSync yes

IMAPAccount bench
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path {maildir}/
Inbox {maildir}/INBOX

Channel bench
Far :bench-far:
Near :bench-near:
Patterns INBOX
Sync Pull
Create Near
SyncState *
"""


def run_mbsync(server: object, work: Path, timeout: float) -> Result:
    result = Result("mbsync (isync)")
    binary = shutil.which("mbsync")
    if not binary:
        result.notes.append("mbsync not found (Debian package isync)")
        return result
    maildir = work / "maildir"
    maildir.mkdir()
    rc = work / "mbsyncrc"
    rc.write_text(MBSYNC_RC.format(port=server.port, user=server.user, password=server.password,
                                   maildir=maildir))
    rc.chmod(0o600)
    if "FSync yes" not in rc.read_text():
        result.notes.append("FSync yes missing from the rc")
    log_path = work / "mbsync.log"
    env = dict(os.environ, HOME=str(work))
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen([binary, "-c", str(rc), "bench"], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        code, result.rss_mb = wait_rusage(proc, timeout)
        result.wall = time.perf_counter() - started
    text = log_path.read_text(errors="replace")
    files = [p for sub in ("cur", "new") for p in (maildir / "INBOX" / sub).glob("*")
             if p.is_file()]
    result.count = len(files)
    result.nbytes = sum(p.stat().st_size for p in files)
    skipped = len(re.findall(r"incomplete header", text, re.IGNORECASE))
    result.notes.append(f"'FSync yes' set; exit code {code}; "
                        f"{skipped} 'incomplete header' warning(s) in its output")
    if code != 0:
        result.notes.append("log tail:\n" + "\n".join(text.splitlines()[-10:]))
    return result


# --------------------------------------------------------------------------- profile

def profile_in_process(server: object, work: Path, batch_size: int) -> str:
    """cProfile ``FolderWorker.run_once`` on a fresh SQLite store, with a per-section split."""
    from imapclient import IMAPClient

    from maild import archive as archive_mod
    from maild import audit as audit_mod
    from maild import ingest as ingest_mod
    from maild.config import load_config
    from maild.db import make_engine, session_factory, upgrade
    from maild.ingest import Ingestor
    from maild.sources.imap import FolderWorker

    database = f"sqlite:///{work / 'maild.sqlite3'}"
    config = load_config(write_config(work, database, server.port, server.user, batch_size))
    os.environ[PASSWORD_ENV] = server.password
    upgrade(database)
    engine = make_engine(database)
    ingestor = Ingestor(archive_mod.RawStore(config.archive_dir), session_factory(engine),
                        actor="maild")
    worker = FolderWorker(config.imap[0], "INBOX", ingestor, threading.Event())

    sections: dict[str, list[float]] = {}
    patched: list[tuple[object, str, object]] = []

    def timed(owner: object, attr: str, label: str) -> None:
        original = getattr(owner, attr)

        def wrapper(*args: object, **kwargs: object) -> object:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                entry = sections.setdefault(label, [0.0, 0])
                entry[0] += time.perf_counter() - t0
                entry[1] += 1

        patched.append((owner, attr, original))
        setattr(owner, attr, wrapper)

    order = [
        "IMAP FETCH (network + imapclient parse)",
        "archive put_many (total)",
        "  of which os.fsync (files + dirs; archive_sync=fsync)",
        "  of which writing + renaming the files",
        "  of which the batch's syncfs (archive_sync=syncfs)",
        "DB transaction _commit (total)",
        "  of which header_message_id",
        "  of which audit event_hash",
        "hashlib.sha256 calls (archive + audit)",
    ]
    timed(IMAPClient, "fetch", order[0])
    timed(archive_mod.RawStore, "put_many", order[1])
    timed(archive_mod.os, "fsync", order[2])
    timed(archive_mod.RawStore, "_write", order[3])
    if archive_mod._SYNCFS is not None:
        timed(archive_mod, "_SYNCFS", order[4])
    timed(ingest_mod.Ingestor, "_commit", order[5])
    timed(ingest_mod, "header_message_id", order[6])
    timed(audit_mod, "event_hash", order[7])
    timed(archive_mod.hashlib, "sha256", order[8])
    profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        profiler.enable()
        new = worker.run_once()
        profiler.disable()
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)
        engine.dispose()
    total = time.perf_counter() - started
    out = io.StringIO()
    out.write(f"in-process FolderWorker.run_once: {new} messages in {total:.2f} s "
              f"({new / total:.0f} msg/s, under cProfile, which slows Python code)\n")
    out.write(f"{'section':<46}{'seconds':>9}{'share':>8}{'calls':>8}\n")
    for label in order:
        seconds, calls = sections.get(label, (0.0, 0))
        out.write(f"{label:<46}{seconds:9.2f}{seconds / total:8.0%}{calls:8d}\n")
    out.write("\ncProfile, top 25 by cumulative time:\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    out.write("\ncProfile, top 20 by own time:\n")
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


# --------------------------------------------------------------------------- child

def child_ingest(config_path: str) -> int:
    """The measured process: exactly what ``maild run --once`` does for its IMAP sources.

    ``maild run --once`` now also runs the parse stage after the sources; ingest is fetch +
    durable archive + DB row + checkpoint, so this child runs the same ``build_workers`` and
    the same ``FolderWorker.run_once`` but stops before the parse worker.
    """
    import logging

    from maild.bell import Bell
    from maild.config import load_config
    from maild.daemon import build_workers
    from maild.logs import setup_logging
    from maild.sources.imap import FolderWorker
    from maild.sources.lease import node_owner

    config = load_config(Path(config_path))
    setup_logging(config.log_format, config.log_level)
    log = logging.getLogger("bench")
    from maild.db import make_engine

    workers = build_workers(config, threading.Event(), node_owner(),
                            make_engine(config.database), Bell())
    log.info("bench child start")
    failures = 0
    for worker in workers:
        if isinstance(worker, FolderWorker):
            try:
                count = worker.run_once()
            except Exception as exc:  # noqa: BLE001 - reported by the parent
                failures += 1
                log.error("sync failed mailbox=%s error=%s: %s", worker.label,
                          type(exc).__name__, exc)
            else:
                log.info("finished worker=%s count=%d", worker.label, count)
    return 1 if failures else 0


# --------------------------------------------------------------------------- main

def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages (default 10000)")
    parser.add_argument("--batch-size", type=int, default=200,
                        help="maild [[imap]] batch_size (default 200, maild's default)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite store only")
    parser.add_argument("--skip-mbsync", action="store_true", help="no mbsync comparison")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile an in-process FolderWorker.run_once on SQLite")
    parser.add_argument("--cli-run", action="store_true",
                        help="also time the whole `maild.py run --once` per store (ingest, then "
                             "the parse stage)")
    parser.add_argument("--timeout", type=float, default=3600, help="per run, seconds")
    parser.add_argument("--child-ingest", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_ingest:
        return child_ingest(args.child_ingest)
    if args.count <= 0 or args.batch_size <= 0:
        parser.error("--count and --batch-size must be positive")

    files = corpus_files()  # exits with a clear message when the corpora are absent
    from tests.support import DovecotServer, PostgresDatabase, PostgresUnavailable

    print("machine (figures below are from this machine):")
    for key, value in machine_facts():
        print(f"  {key:<9} {value}")
    print(f"corpus: {len(files)} .eml files in {CORPORA.resolve()}, cycled to {args.count} "
          f"unique messages; maild batch_size={args.batch_size}")
    sys.stdout.flush()

    results: list[Result] = []
    profile_text = ""
    with DovecotServer(lmtp=False) as server, \
            tempfile.TemporaryDirectory(prefix="maild-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        uids = server.append_many(messages(files, args.count), batch=200)
        append_s = time.perf_counter() - started
        with server.client() as imap:
            imap.select_folder("INBOX", readonly=True)
            on_server = imap.search("ALL")
            sizes = imap.fetch(on_server, [b"RFC822.SIZE"]) if on_server else {}
        total_bytes = sum(int(d[b"RFC822.SIZE"]) for d in sizes.values())
        print(f"dovecot: APPENDed {len(uids)} messages ({total_bytes / 1e6:.1f} MB as the server "
              f"reports them) in {append_s:.1f} s; INBOX holds {len(on_server)}")
        sys.stdout.flush()

        def stage(name: str, run: Callable[[Path], Result]) -> None:
            sub = work / re.sub(r"\W+", "-", name).strip("-")
            sub.mkdir()
            # Every contender starts on a clean page cache: the mail Dovecot just stored (the
            # test server does not fsync) and the previous contender's files are flushed now,
            # not inside the next one's fsyncs or syncfs.
            os.sync()
            print(f"running {name} ...", flush=True)
            results.append(run(sub))

        modes = [(False, "maild ingest")] + ([(True, "maild run --once")] if args.cli_run
                                              else [])
        for cli, label in modes:
            name = f"{label} -> SQLite"
            stage(name, lambda d, name=name, cli=cli: run_maild(
                name, f"sqlite:///{d / 'maild.sqlite3'}", server, d, args.batch_size, uids,
                args.timeout, cli))
            if args.skip_postgres:
                continue
            name = f"{label} -> PostgreSQL"
            try:
                pg = PostgresDatabase()
            except PostgresUnavailable as exc:
                results.append(Result(name, notes=[f"skipped: {exc}"]))
                continue
            try:
                stage(name, lambda d, name=name, cli=cli, url=pg.url: run_maild(
                    name, url, server, d, args.batch_size, uids, args.timeout, cli))
            finally:
                pg.drop()
        if not args.skip_mbsync:
            stage("mbsync", lambda d: run_mbsync(server, d, args.timeout))
        if args.profile:
            sub = work / "profile"
            sub.mkdir()
            print("profiling in-process FolderWorker.run_once on SQLite ...", flush=True)
            try:
                profile_text = profile_in_process(server, sub, args.batch_size)
            except Exception as exc:  # noqa: BLE001 - the table above still stands
                profile_text = f"profile failed: {type(exc).__name__}: {exc}"

    n = args.count
    print()
    print(f"{'run':<34}{'archived':>10}{'wall s':>9}{'msg/s':>9}{'MB/s':>8}"
          f"{'sync s':>9}{'sync msg/s':>12}{'peak RSS MB':>13}")
    for r in results:
        mb = r.nbytes / 1e6 if r.nbytes else None
        print(f"{r.name:<34}{fmt(r.count, 'd'):>10}{fmt(r.wall, '.2f'):>9}"
              f"{fmt(r.rate(), ',.0f'):>9}{fmt(mb / r.wall if mb and r.wall else None, '.1f'):>8}"
              f"{fmt(r.window, '.2f'):>9}{fmt(r.rate(seconds=r.window), ',.0f'):>12}"
              f"{fmt(r.rss_mb, '.1f'):>13}")
    print("wall = whole process (interpreter start to exit); sync = maild's own log, from its "
          "first line to the end of the INBOX sync (excludes Python start-up and imports; for "
          "`run --once` also the parse stage)")
    mbsync = next((r for r in results if r.name.startswith("mbsync")), None)
    for r in results:
        if r.name.startswith("maild") and r.count is not None:
            verdict = "OK" if r.count == n else f"MISSING {n - r.count}"
            print(f"{r.name}: archived {r.count} of {n} -> {verdict}")
        if mbsync and mbsync.rate() and r.name.startswith("maild") and r.rate():
            print(f"{r.name}: maild/mbsync ratio {r.rate() / mbsync.rate():.2f} (wall), "
                  f"{(r.rate(seconds=r.window) or 0) / mbsync.rate():.2f} (sync)")
        for note in r.notes:
            print(f"{r.name}: {note}")
    if mbsync and mbsync.count is not None:
        print(f"mbsync: copied {mbsync.count} of {n}, skipped {n - mbsync.count}")
    print(f"targets: maild >= mbsync and >= {TARGET_RATE:,.0f} msg/s; peak RSS < "
          f"{TARGET_RSS_MB:.0f} MB")
    for r in results:
        if r.name.startswith("maild") and r.rate():
            ok = (r.rate() >= TARGET_RATE and (not mbsync or not mbsync.rate()
                                               or r.rate() >= mbsync.rate()))
            print(f"  {r.name}: speed {'met' if ok else 'NOT met'}, RSS "
                  f"{'met' if (r.rss_mb or 0) < TARGET_RSS_MB else 'NOT met'}")
    print(f"loadavg at the end: {loadavg()} (nproc {len(os.sched_getaffinity(0))}; a load "
          "near nproc from other work makes every figure lower)")
    if profile_text:
        print()
        print(profile_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
