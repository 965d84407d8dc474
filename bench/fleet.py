#!/usr/bin/env python3
"""Fleet benchmark (issue 13): 1, 2 and 3 ``maild run`` daemons sharing PostgreSQL, one backlog.

    .venv/bin/python bench/fleet.py [--count 2000] [--daemons 1,2,3] [--mailboxes 200]
                                    [--clients 1] [--timeout 1800]

1. Builds a backlog of ``--count`` notices from ``tests/corpus`` (cycled, each with a fresh
   ``Message-ID`` as ``bench/latency.py`` makes them) as ``.eml`` files, each with the
   ``Delivered-To: boxNNN@example.test`` line Dovecot's LMTP would have added (round-robin over
   ``--mailboxes`` addresses), so routing finds the client by address as it does for mail
   fetched over IMAP.
2. Starts a private Dovecot (the client's inbox ``ops`` and the advisor ``anna``) and a private
   Postfix delivering into it over LMTP (``tests.support``), shared by every configuration.
3. For each daemon count: a fresh PostgreSQL database (127.0.0.1:5432, dropped after) and
   archive; ``maild ingest`` of the backlog (the archive path; not timed); ``os.sync()``; then
   that many ``python maild.py run`` processes on it, with no sources, only the steps (parse,
   route, send to the private Postfix; ``bench/_stack.py`` has the config). The clock runs
   from their start until every notice is routed (or quarantined) and every outbound row sent
   (or failed).
4. Meanwhile it samples every 0.5 s the rows at each stage, and every second the CPU seconds
   of each daemon, its parse worker, the PostgreSQL backends of the run's database (and the
   rest of the server), Postfix, Dovecot, this script, and the whole machine (``/proc``).

It prints per configuration: wall time and notices/s; each stage's window and rate from the
rows' own timestamps (``notice.parsed_at``, the ``routed`` audit events, ``outbound.sent_at``);
when each stage's queue drained; the rows waiting at each stage over the run (the stage where
rows pile up is the one holding the rest back); CPU seconds per component and per notice, and
the share of the two cores that was busy (and how much of it was other work on the machine);
each daemon's share of the parses, routes and sends (from its log) and its peak RSS.

Only loopback addresses are used. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from _stack import (  # noqa: E402  (bench/_stack.py, beside this file)
    ADVISOR_USER,
    SUMMARY_USER,
    CpuTracker,
    ProcStat,
    address_of,
    children,
    daemon,
    log_problems,
    machine_busy_seconds,
    mailbox_users,
    status_kib,
    thread_cpu,
    write_config,
)
from ingest import git_state, loadavg  # noqa: E402
from latency import log_tail, unique_notices  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from maild.db import make_engine, upgrade  # noqa: E402
from maild.models import AuditEvent, Message, Notice, Outbound  # noqa: E402
from tests.support import (  # noqa: E402
    DovecotServer,
    PostfixServer,
    PostgresDatabase,
    run_maild,
)

SAMPLE_SECONDS = 0.5
CPU_EVERY = 2  # samples: the CPU scan reads every process of the machine
TIMELINE_POINTS = 10
OPEN_OUTBOUND = ("queued", "sending")
AUDIT_CHAIN_LOCK = 7301001  # maild.audit: pg_advisory_xact_lock of every audited transaction
_SESSIONS = """
SELECT a.state, a.wait_event_type, a.wait_event,
       EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'
               AND l.classid = 0 AND l.objid = %s AND l.granted)
FROM pg_stat_activity a WHERE a.datname = %s AND a.state <> 'idle'
"""


@dataclass
class Point:
    """Rows at each stage at one moment (seconds since the daemons started)."""

    at: float
    archived: int
    parsed: int
    routed: int
    quarantined: int
    outbox: int  # queued or being sent
    sent: int


@dataclass
class Config:
    """One measured configuration."""

    daemons: int
    count: int
    ingest_seconds: float = 0.0
    wall: float = 0.0
    finished: bool = False
    timeline: list[Point] = field(default_factory=list)
    drained: dict[str, float] = field(default_factory=dict)  # stage -> seconds after start
    windows: dict[str, tuple[int, float]] = field(default_factory=dict)  # stage -> (rows, s)
    first_parse: float = 0.0  # seconds after start: the daemons' own startup
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    shares: list[Counter[str]] = field(default_factory=list)  # per daemon: log line counts
    rss_mb: list[float] = field(default_factory=list)  # per daemon: main VmHWM, worker VmHWM
    worker_rss_mb: list[float] = field(default_factory=list)
    threads: list[dict[str, float]] = field(default_factory=list)  # per daemon: name -> CPU s
    outbound_stages: dict[str, int] = field(default_factory=dict)
    sessions: Counter[str] = field(default_factory=Counter)  # summed over samples
    chain_held: int = 0  # samples in which a session held the audit chain's lock
    problems: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # quarantined / failed rows' errors
    log_lines: Counter[str] = field(default_factory=Counter)  # ERROR/WARNING lines, all daemons


# --------------------------------------------------------------------------- the backlog

def delivered_to(raw: bytes, address: str) -> bytes:
    """``raw`` with a ``Delivered-To`` line in front, in the line ending of its first line."""
    eol = b"\r\n" if raw.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    return b"Delivered-To: " + address.encode() + eol + raw


def write_backlog(folder: Path, count: int, addresses: Sequence[str]) -> None:
    folder.mkdir()
    tag = secrets.token_hex(4)
    for n, (_message_id, raw) in enumerate(unique_notices(count, tag)):
        (folder / f"{n:06d}.eml").write_bytes(delivered_to(raw, addresses[n % len(addresses)]))


# --------------------------------------------------------------------------- watching

def point(engine: Engine, at: float) -> Point:
    with engine.connect() as conn:
        inbound = dict(conn.execute(
            select(Message.stage, func.count()).where(Message.direction == "in")
            .group_by(Message.stage)).all())
        outbound = dict(conn.execute(
            select(Outbound.stage, func.count()).group_by(Outbound.stage)).all())
    return Point(at, inbound.get("archived", 0), inbound.get("parsed", 0),
                 inbound.get("routed", 0), inbound.get("quarantined", 0),
                 sum(outbound.get(s, 0) for s in OPEN_OUTBOUND), outbound.get("sent", 0))


def stage_windows(engine: Engine) -> tuple[dict[str, tuple[int, float]], datetime | None]:
    """Rows and seconds from the first to the last of each stage, from the rows' timestamps;
    and when the first notice was parsed."""
    with engine.connect() as conn:
        parse = conn.execute(select(func.count(), func.min(Notice.parsed_at),
                                    func.max(Notice.parsed_at))).one()
        route = conn.execute(select(func.count(), func.min(AuditEvent.at),
                                    func.max(AuditEvent.at))
                             .where(AuditEvent.action == "routed")).one()
        send = conn.execute(select(func.count(), func.min(Outbound.sent_at),
                                   func.max(Outbound.sent_at))
                            .where(Outbound.sent_at.is_not(None))).one()
    windows = {}
    for name, (rows, first, last) in (("parse", parse), ("route", route), ("send", send)):
        windows[name] = (rows, (last - first).total_seconds() if first and last else 0.0)
    return windows, parse[1]


def failures(engine: Engine) -> Counter[str]:
    """The errors of quarantined inbound rows and failed outbound rows, digits masked."""
    found: Counter[str] = Counter()
    with engine.connect() as conn:
        rows = list(conn.execute(select(Message.failed_step, Message.error)
                                 .where(Message.stage == "quarantined")))
        rows += conn.execute(select(Outbound.kind, Outbound.error)
                             .where(Outbound.stage == "failed"))
    for where, error in rows:
        text = re.sub(r"[0-9]+", "N", " ".join(str(error or "").split()))[:200]
        found[f"{where}: {text}"] += 1
    return found


def outbound_stages(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {str(stage): n for stage, n in conn.execute(
            select(Outbound.stage, func.count()).group_by(Outbound.stage))}


class Labels:
    """Which component a process belongs to, for :class:`CpuTracker`."""

    def __init__(self, postfix_group: int, dovecot_group: int) -> None:
        self.postfix_group = postfix_group
        self.dovecot_group = dovecot_group
        self.daemons: dict[int, int] = {}  # pid -> daemon number
        self.backends: set[int] = set()  # PostgreSQL backends serving the run's database

    def __call__(self, stat: ProcStat) -> str | None:
        if stat.pid in self.daemons:
            return f"maild {self.daemons[stat.pid]} (steps)"
        if stat.ppid in self.daemons:
            return f"maild {self.daemons[stat.ppid]} parse worker"
        if stat.pid in self.backends:
            return "postgresql: this database's backends"
        if stat.comm == "postgres" or stat.comm.startswith("postgres:"):
            return "postgresql: rest of the server"
        if stat.pgrp == self.postfix_group:
            return "postfix"
        if stat.pgrp == self.dovecot_group:
            return "dovecot (LMTP delivery)"
        if stat.pid == os.getpid():
            return "this script"
        return None


def backends(admin: psycopg.Connection[tuple[object, ...]], name: str) -> set[int]:
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
    return {int(str(pid)) for (pid,) in rows.fetchall()}


def sessions(admin: psycopg.Connection[tuple[object, ...]], name: str) -> tuple[Counter[str],
                                                                                 bool]:
    """What the run database's busy sessions are doing now, and whether one of them holds the
    audit chain's lock (every audited write of the fleet waits for it)."""
    kinds: Counter[str] = Counter()
    held = False
    for state, wait_type, wait, holds in admin.execute(_SESSIONS,
                                                       (AUDIT_CHAIN_LOCK, name)).fetchall():
        in_python = str(state).startswith("idle in transaction")
        if holds:
            held = True
            kinds["holds the audit chain lock, " + ("daemon in Python (idle in transaction)"
                                                    if in_python else "running SQL")] += 1
        elif wait_type == "Lock":
            kinds["waits for the audit chain lock" if wait == "advisory"
                  else f"waits for a lock ({wait})"] += 1
        elif in_python:
            kinds["in a transaction, daemon in Python (idle in transaction)"] += 1
        elif wait_type == "IO":
            kinds[f"I/O ({wait})"] += 1
        else:
            kinds["running SQL"] += 1
    return kinds, held


def named_threads(pid: int) -> dict[str, float]:
    """CPU seconds of a daemon's live threads since it started, by thread name (the main
    thread is ``python``); threads that ended (the archive's fsync pools) are not counted."""
    named: dict[str, float] = {}
    for name, cpu in thread_cpu(pid):
        named[name] = named.get(name, 0.0) + cpu
    return named


def log_shares(path: Path) -> Counter[str]:
    """How many parses, routes and sends this daemon logged."""
    shares: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        for word, stage in ((" parsed message=", "parse"), (" routed message=", "route"),
                            (" sent outbound=", "send")):
            if word in line:
                shares[stage] += 1
        if " ERROR " in line:
            shares["ERROR lines"] += 1
    return shares


# --------------------------------------------------------------------------- one run

def measure(daemons: int, count: int, backlog: Path, addresses: Sequence[str], clients: int,
            postfix: PostfixServer, dovecot: DovecotServer, work: Path,
            timeout: float) -> Config:
    result = Config(daemons, count)
    with ExitStack() as stack:
        pg = stack.enter_context(PostgresDatabase())
        upgrade(pg.url)
        engine = make_engine(pg.url)
        stack.callback(engine.dispose)
        config = write_config(
            work / f"fleet-{daemons}.toml", database=pg.url,
            archive_dir=work / f"archive-{daemons}", smtp_host=postfix.host,
            smtp_port=postfix.port, addresses=addresses, clients=clients)
        started = time.perf_counter()
        done = run_maild(["--config", config, "ingest", backlog], timeout=timeout)
        result.ingest_seconds = time.perf_counter() - started
        archived = point(engine, 0.0).archived
        if done.returncode != 0 or archived != count:
            sys.exit(f"bench/fleet.py: maild ingest exited {done.returncode} with {archived} of "
                     f"{count} notices archived: {(done.stdout + done.stderr)[-800:]}")
        os.sync()  # the daemons must not pay for the ingest's dirty pages

        admin = psycopg.connect(host="127.0.0.1", port=5432, user=pg.role, dbname="postgres",
                                autocommit=True)
        stack.callback(admin.close)
        dovecot_pid = int((dovecot.root / "run" / "master.pid").read_text().split()[0])
        labels = Labels(postfix.master_pid or -1, dovecot_pid)
        tracker = CpuTracker(labels)
        tracker.start()
        busy_before, _total = machine_busy_seconds()
        logs = [work / f"fleet-{daemons}-maild-{n + 1}.log" for n in range(daemons)]
        t0 = time.time()
        procs = [stack.enter_context(daemon(config, "", log)) for log in logs]
        for n, proc in enumerate(procs):
            labels.daemons[proc.pid] = n + 1
        sample = 0
        while True:
            now = time.time() - t0
            result.timeline.append(here := point(engine, now))
            busy, held = sessions(admin, pg.name)
            result.sessions.update(busy)
            result.chain_held += held
            if sample % CPU_EVERY == 0:
                labels.backends = backends(admin, pg.name)
                tracker.scan()
            sample += 1
            if here.archived == 0:
                result.drained.setdefault("parse", now)
                if here.parsed == 0:
                    result.drained.setdefault("route", now)
            if ("route" in result.drained and here.outbox == 0
                    and here.routed + here.quarantined == count):
                result.drained["send"] = now
                result.finished = True
                break
            if now > timeout or any(p.poll() is not None for p in procs):
                gone = [n + 1 for n, p in enumerate(procs) if p.poll() is not None]
                result.problems.append(
                    f"stopped after {now:.0f} s: " + (f"daemon(s) {gone} exited; log tail:\n"
                                                      f"{log_tail(logs[gone[0] - 1])}"
                                                      if gone else "timeout"))
                break
            time.sleep(SAMPLE_SECONDS)
        result.wall = time.time() - t0
        labels.backends |= backends(admin, pg.name)
        tracker.scan()
        busy_after, _total = machine_busy_seconds()
        result.machine_busy = busy_after - busy_before
        result.cpu = tracker.seconds()
        for proc in procs:
            result.threads.append(named_threads(proc.pid))
            result.rss_mb.append(status_kib(proc.pid).get("VmHWM", 0) / 1024)
            workers = [status_kib(child).get("VmHWM", 0) for child in children(proc.pid)]
            result.worker_rss_mb.append(max(workers, default=0) / 1024)
        result.windows, first = stage_windows(engine)
        if first is not None:
            result.first_parse = first.timestamp() - t0
        result.outbound_stages = outbound_stages(engine)
        result.failures = failures(engine)
    result.shares = [log_shares(log) for log in logs]  # after the daemons stopped
    for log in logs:
        result.log_lines.update(log_problems(log))
    return result


# --------------------------------------------------------------------------- figures

def report(results: Sequence[Config], cores: int) -> None:
    print(f"\n{'daemons':>7} {'wall s':>7} {'notices/s':>9} {'sends/s':>7} "
          f"{'1st parse s':>11} | {'parse /s':>8} {'route /s':>8} {'send /s':>8} | "
          f"{'drained: parse':>14} {'route':>6} {'send':>6} | {'busy %':>6} {'other %':>7}")
    base = results[0].count / results[0].wall if results and results[0].wall else 0.0
    for r in results:
        rate = r.count / r.wall if r.wall else 0.0
        sends = r.windows.get("send", (0, 0.0))[0]

        def per_second(stage: str, r: Config = r) -> str:
            rows, seconds = r.windows.get(stage, (0, 0.0))
            return f"{rows / seconds:8.1f}" if seconds else f"{'-':>8}"

        ours = sum(r.cpu.values()) - r.cpu.get("postgresql: rest of the server", 0.0)
        busy = r.machine_busy / (cores * r.wall) * 100 if r.wall else 0.0
        other = max(0.0, r.machine_busy - ours) / (cores * r.wall) * 100 if r.wall else 0.0
        drained = " ".join(f"{r.drained[s]:6.1f}" if s in r.drained else f"{'-':>6}"
                           for s in ("parse", "route", "send"))
        print(f"{r.daemons:>7} {r.wall:7.1f} {rate:9.1f} {sends / r.wall if r.wall else 0:7.1f} "
              f"{r.first_parse:11.1f} | {per_second('parse')} {per_second('route')} "
              f"{per_second('send')} | {'':>8}{drained} | {busy:6.0f} {other:7.0f}"
              + ("" if r.finished else "  (NOT finished)"))
    for r in results[1:]:
        if base and r.wall:
            print(f"{r.daemons} daemons: {r.count / r.wall / base:.2f}x the throughput of "
                  f"{results[0].daemons}")

    for r in results:
        print(f"\n{r.daemons} daemon(s): backlog of {r.count} ingested in {r.ingest_seconds:.1f} "
              f"s (not timed); outbound rows by stage at the end: {r.outbound_stages}")
        print("  rows waiting at each stage (s after start: archived -> parse, parsed -> route,"
              " outbox -> send; routed, sent):")
        step = max(1, len(r.timeline) // TIMELINE_POINTS)
        for p in r.timeline[::step] + r.timeline[-1:]:
            print(f"    {p.at:6.1f} s: archived {p.archived:>5}  parsed {p.parsed:>5}  "
                  f"outbox {p.outbox:>5} | routed {p.routed:>5}  quarantined "
                  f"{p.quarantined:>3}  sent {p.sent:>5}")
        print(f"  CPU seconds over the {r.wall:.1f} s ({cores} cores = {cores * r.wall:.0f} "
              f"CPU s available; machine busy {r.machine_busy:.1f} s), per notice in ms:")
        for label, seconds in sorted(r.cpu.items(), key=lambda kv: -kv[1]):
            print(f"    {label:<40} {seconds:7.1f} s {seconds / r.count * 1000:7.1f} ms")
        ours = sum(v for k, v in r.cpu.items() if k != "postgresql: rest of the server")
        if ours:
            print(f"    {'all of the above but the rest of PG':<40} {ours:7.1f} s "
                  f"{ours / r.count * 1000:7.1f} ms -> at most {cores * r.count / ours:.0f} "
                  f"notices/s on {cores} cores if nothing else ran")
        samples = len(r.timeline)
        print(f"  PostgreSQL sessions of the run's database, sampled every {SAMPLE_SECONDS} s "
              f"({samples} samples): the audit chain's lock was held in "
              f"{r.chain_held / samples * 100:.0f}% of them; sessions on average:")
        for kind, total in r.sessions.most_common():
            print(f"    {total / samples:5.2f}  {kind}")
        for n, (shares, rss, worker, threads) in enumerate(zip(
                r.shares, r.rss_mb, r.worker_rss_mb, r.threads, strict=True)):
            busiest = ", ".join(f"{name} {cpu:.1f}" for name, cpu in
                                sorted(threads.items(), key=lambda kv: -kv[1]) if cpu >= 0.1)
            print(f"  maild {n + 1}: parsed {shares['parse']}, routed {shares['route']}, "
                  f"sent {shares['send']}, ERROR lines {shares['ERROR lines']}; VmHWM "
                  f"{rss:.0f} MB, parse worker {worker:.0f} MB; CPU s by thread since its "
                  f"start: {busiest}")
        for problem in r.problems:
            print(f"  PROBLEM: {problem}")
        for text, times in r.failures.most_common(5):
            print(f"  quarantined/failed {times:>3} x {text}")
        for text, times in r.log_lines.most_common(8):
            print(f"  daemon log {times:>4} x {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="notices in the backlog (2000)")
    parser.add_argument("--daemons", default="1,2,3", help="daemon counts to run (1,2,3)")
    parser.add_argument("--mailboxes", type=int, default=200,
                        help="Delivered-To addresses the notices are spread over (200)")
    parser.add_argument("--clients", type=int, default=1,
                        help="clients the addresses are spread over (1; see bench/_stack.py)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds one configuration may take (1800)")
    args = parser.parse_args()
    counts = [int(n) for n in args.daemons.split(",") if n.strip()]
    if args.count < 1 or not counts or min(counts) < 1 or \
            not 1 <= args.clients <= args.mailboxes:
        parser.error("--count and each --daemons entry must be at least 1, "
                     "1 <= --clients <= --mailboxes")
    cores = len(os.sched_getaffinity(0))
    addresses = [address_of(user) for user in mailbox_users(args.mailboxes)]
    print(f"maild fleet: a backlog of {args.count} notices (parse + route + send to the local "
          f"Postfix -> Dovecot), {', '.join(map(str, counts))} daemon(s) on one PostgreSQL "
          f"database, {args.clients} client(s), {args.mailboxes} addresses")
    print(f"machine: {cores} cores (nproc) for the daemons, their parse workers, PostgreSQL, "
          f"Postfix, Dovecot and this script; loadavg at start: {loadavg()}")
    print(f"maild: {git_state()}")
    results = []
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maild-fleet-")))
        work.chmod(0o755)
        backlog = work / "backlog"
        write_backlog(backlog, args.count, addresses)
        dovecot = stack.enter_context(DovecotServer(
            users={SUMMARY_USER: "ops-bench-pw", ADVISOR_USER: "anna-bench-pw"}))
        assert dovecot.lmtp_port is not None
        postfix = stack.enter_context(PostfixServer(lmtp_port=dovecot.lmtp_port))
        for daemons in counts:
            results.append(measure(daemons, args.count, backlog, addresses, args.clients,
                                   postfix, dovecot, work, args.timeout))
            print(f"  {daemons} daemon(s): {results[-1].wall:.1f} s; loadavg {loadavg()}",
                  flush=True)
    report(results, cores)
    print(f"\nloadavg at end: {loadavg()}")


if __name__ == "__main__":
    main()
