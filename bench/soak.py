#!/usr/bin/env python3
"""Soak benchmark (issue 13): one ``maild run`` watching 200 IMAP mailboxes for 10 minutes.

    .venv/bin/python bench/soak.py [--minutes 10] [--mailboxes 200] [--rate 10]
                                   [--database sqlite|postgresql] [--clients 1]
                                   [--sample-seconds 5] [--drain-seconds 600] [--poll-ms 20]

1. Starts a private Dovecot (IMAP + LMTP) with one user per mailbox (``box000`` …) plus the
   client's inbox ``ops`` and the advisor ``anna``, and a private Postfix delivering
   ``example.test`` into it over LMTP (``tests.support``), all on random loopback ports.
2. Starts ``maild run`` (a subprocess, through ``bench/_stack.py``'s ``daemon``, which names
   its threads in ``/proc``; SQLite by default, or a throw-away PostgreSQL database) with one
   ``[[imap]]`` account per mailbox (INBOX, IDLE), ``[smtp]`` through that Postfix and
   ``[http]`` on a free loopback port (``bench/_stack.py`` has the config: one client by
   default, summaries to ``ops`` and ``anna``). Waits until every mailbox has synced once, and
   one warm-up notice has come out as a summary in ``ops``' INBOX.
3. Sends ``--rate`` notices per second for ``--minutes`` minutes through Postfix over one SMTP
   connection, round-robin across the mailboxes: corpus notices from ``tests/corpus`` (cycled,
   each with a fresh ``Message-ID``), exactly as ``bench/latency.py`` does, whose watchers
   record when each notice's ``message`` row (archived) and ``notice`` row (parsed) appear
   and when its summary reaches ``ops``' INBOX; here they poll every ``--poll-ms`` (20 ms, not
   latency.py's 5 ms: ten minutes of 5 ms polling would take a good part of one of the two
   cores from the daemon).
4. Every ``--sample-seconds`` reads the daemon's ``/proc`` (VmRSS, VmHWM, threads, CPU, sockets
   by peer: IMAP, SMTP, PostgreSQL, HTTP, Unix) and its parse worker's, and scrapes ``/metrics``
   (queue depths, the outbox, reconnects; the scrape's own time is printed too). The daemon's
   CPU seconds per thread (folder workers together, each step's thread) are read at the first
   send and at the end.
5. Prints a line per minute (latency, memory, sockets, queue depths: a leak or a growing queue
   shows as a trend), the run's percentiles in ``bench/latency.py``'s format, the peaks against
   the targets (under 300 MB RSS for one daemon; accept -> summary p99 <= 1.5 s, issue 8) and
   every error seen: notices not parsed or without a summary, quarantined rows, failed or
   retried sends, IMAP reconnects, ERROR and WARNING lines of the daemon's log.

Only loopback addresses are used. Figures are printed, never asserted. The machine has 2 cores
shared with other work; the load average is printed at the start, the end and every minute.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import secrets
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _stack import (  # noqa: E402  (bench/_stack.py, beside this file)
    ADVISOR_USER,
    SUMMARY_USER,
    Imap,
    address_of,
    children,
    daemon,
    log_problems,
    machine_busy_seconds,
    mailbox_users,
    proc_stat,
    socket_kinds,
    status_kib,
    thread_cpu,
    write_config,
)
from ingest import git_state, loadavg  # noqa: E402
from latency import (  # noqa: E402
    SENDER,
    SUMMARY_P50,
    SUMMARY_P99,
    TARGET_P50,
    TARGET_P99,
    InboxWatcher,
    Sample,
    Watcher,
    database,
    log_tail,
    percentile,
    row,
    since_accept,
    unique_notices,
)
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from maild.db import make_engine, upgrade  # noqa: E402
from maild.models import Mailbox, Message, Notice, Outbound  # noqa: E402
from tests.support import (  # noqa: E402
    DovecotServer,
    PostfixError,
    PostfixServer,
    free_port,
    submit,
)

TARGET_RSS_MB = 300.0
STARTUP_SECONDS = 300.0
WARM_UP_SECONDS = 60.0
SETTLE_SECONDS = 3.0  # after the outbox emptied: the last summaries' way through Postfix
BOX_PASSWORD = "box-bench-pw"
_SENT_LINE = re.compile(r" ([0-9A-Za-z]+): to=<([^>]*)>.*? delay=([0-9.]+),.*status=sent")


@dataclass
class Sent:
    """A notice handed to Postfix: its sample, the mailbox it went to, and how late it went."""

    sample: Sample
    mailbox: str
    late: float  # seconds behind its slot in the fixed-rate schedule


@dataclass
class Snapshot:
    """What one sampling round saw."""

    at: float
    rss_kib: int
    hwm_kib: int
    threads: int
    worker_rss_kib: int  # the parse worker(s), 0 while none runs
    worker_hwm_kib: int
    sockets: Counter[str]
    cpu: float  # CPU seconds of the daemon and its parse worker so far
    by_thread: dict[str, float]  # CPU seconds so far by thread group (thread_groups)
    metrics: dict[str, float]
    scrape_seconds: float | None
    load: str


@dataclass
class Run:
    """Everything measured in one soak."""

    kind: str
    mailboxes: int
    startup_seconds: float = 0.0
    startup_rss_kib: int = 0
    sent: list[Sent] = field(default_factory=list)
    send_errors: list[str] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    final_hwm_kib: int = 0
    final_worker_hwm_kib: int = 0
    delays: dict[str, float] = field(default_factory=dict)  # Postfix queue id -> delay=
    categories: dict[str, str] = field(default_factory=dict)  # <Message-ID> -> category
    missing: list[str] = field(default_factory=list)  # not parsed: Message-ID and fate
    log_problems: Counter[str] = field(default_factory=Counter)
    threads: dict[str, float] = field(default_factory=dict)  # group -> CPU s while sending
    machine_busy: float = 0.0  # CPU s of the whole machine while sending and draining
    window: float = 0.0  # seconds from the first send to the end of the drain
    drained: float | None = None  # seconds after the last send when no work was left
    exit_note: str = ""


# --------------------------------------------------------------------------- watching

class Arrivals(Watcher):
    """``latency.Watcher`` for a stream: a notice is looked for from the moment it was sent."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, [])

    def expect(self, sample: Sample) -> None:
        header = f"<{sample.message_id}>"
        self.by_header[header] = sample
        self.pending.add(header)


class Summaries(InboxWatcher):
    """``latency.InboxWatcher`` for a stream: summaries of notices sent so far."""

    def __init__(self, dovecot: DovecotServer) -> None:
        super().__init__(dovecot, SUMMARY_USER, [])

    def expect(self, sample: Sample) -> None:
        self.by_header[f"<{sample.message_id}>"] = sample


class Metrics:
    """Scrapes the daemon's ``/metrics`` (loopback, no proxy) into ``name{labels}`` -> value."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def scrape(self) -> tuple[dict[str, float], float | None]:
        started = time.perf_counter()
        try:
            with self.opener.open(self.url, timeout=30) as response:
                text = response.read().decode()
        except OSError:
            return {}, None
        took = time.perf_counter() - started
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return values, took


def summed(metrics: dict[str, float], prefix: str) -> float:
    """Sum of every series of a metric (``maild_imap_reconnects_total{...}`` over mailboxes)."""
    return sum(v for k, v in metrics.items() if k == prefix or k.startswith(prefix + "{"))


def largest(metrics: dict[str, float], prefix: str) -> float:
    return max((v for k, v in metrics.items() if k.startswith(prefix + "{")), default=0.0)


class Sampler(threading.Thread):
    """Reads the daemon's /proc and /metrics every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, ports: dict[int, str], http_port: int, metrics: Metrics,
                 interval: float, snapshots: list[Snapshot]) -> None:
        super().__init__(name="sampler", daemon=True)
        self.pid, self.ports, self.http_port = pid, ports, http_port
        self.metrics, self.interval, self.snapshots = metrics, interval, snapshots
        self.halt = threading.Event()

    def take(self) -> Snapshot:
        status = status_kib(self.pid)
        workers = [status_kib(child) for child in children(self.pid)]
        values, took = self.metrics.scrape()
        return Snapshot(
            at=time.time(), rss_kib=status.get("VmRSS", 0), hwm_kib=status.get("VmHWM", 0),
            threads=status.get("Threads", 0),
            worker_rss_kib=sum(w.get("VmRSS", 0) for w in workers),
            worker_hwm_kib=sum(w.get("VmHWM", 0) for w in workers),
            sockets=socket_kinds(self.pid, self.ports, {self.http_port: "http"}),
            cpu=sum(stat.cpu for pid in [self.pid, *children(self.pid)]
                    if (stat := proc_stat(pid)) is not None),
            by_thread=thread_groups(self.pid),
            metrics=values, scrape_seconds=took, load=loadavg())

    def run(self) -> None:
        while not self.halt.is_set():
            self.snapshots.append(self.take())
            self.halt.wait(self.interval)


# --------------------------------------------------------------------------- sending

def send_stream(postfix: PostfixServer, users: Sequence[str], count: int, rate: float,
                tag: str, out: queue.SimpleQueue[Sent], errors: list[str]) -> None:
    """Submit ``count`` notices at ``rate`` per second over one SMTP connection, round-robin
    across ``users``; a dropped connection is opened again (and the failure recorded)."""
    smtp = postfix.connect()
    try:
        start = time.monotonic()
        for n, (message_id, raw) in enumerate(unique_notices(count, tag)):
            due = start + n / rate
            if (pause := due - time.monotonic()) > 0:
                time.sleep(pause)  # pacing the sender, not waiting for a condition
            late = time.monotonic() - due
            sample, user = Sample(message_id), users[n % len(users)]
            try:
                sample.accepted = submit(smtp, raw, sender=SENDER, recipients=[address_of(user)])
            except (smtplib.SMTPException, OSError, PostfixError) as exc:
                errors.append(f"notice {n} to {user}: {type(exc).__name__}: {exc}")
                smtp.close()
                smtp = postfix.connect()
            out.put(Sent(sample, user, late))
    finally:
        smtp.close()


# --------------------------------------------------------------------------- the run

def wait_synced(engine: Engine, count: int, proc: subprocess.Popen[bytes],
                log_path: Path) -> float:
    """Seconds until every mailbox row has synced once (the daemon's startup)."""
    started = time.time()
    synced = 0
    while time.time() - started < STARTUP_SECONDS and proc.poll() is None:
        with engine.connect() as conn:
            synced = conn.scalar(select(func.count()).select_from(Mailbox)
                                 .where(Mailbox.last_sync.is_not(None))) or 0
        if synced >= count:
            return time.time() - started
        time.sleep(0.2)
    sys.exit(f"bench/soak.py: {synced} of {count} mailboxes synced within "
             f"{time.time() - started:.0f} s of the start; daemon log tail:\n"
             f"{log_tail(log_path)}")


def warm_up(engine: Engine, dovecot: DovecotServer, postfix: PostfixServer, user: str,
            tag: str, log_path: Path) -> None:
    """One notice all the way to a summary in ``ops``' INBOX: parse worker and SMTP warm."""
    message_id, raw = next(unique_notices(1, f"{tag}-warm-up"))
    sample = Sample(message_id)
    inbox = Summaries(dovecot)
    inbox.expect(sample)
    try:
        sample.accepted = postfix.send(raw, [address_of(user)], sender=SENDER)
        deadline = time.time() + WARM_UP_SECONDS
        if Watcher(engine, [sample]).wait_for(deadline):
            inbox.wait_for(deadline)
    finally:
        inbox.close()
    if sample.summarised is None:
        what = "was parsed but got no summary" if sample.parsed else "was not parsed"
        said = postfix.log_of(sample.accepted.queue_id) if sample.accepted else "-"
        sys.exit(f"bench/soak.py: the warm-up notice {what} within {WARM_UP_SECONDS:.0f} s; "
                 f"Postfix says {said}; daemon log tail:\n{log_tail(log_path)}")


def work_left(engine: Engine) -> int:
    """Inbound rows not routed yet and outbound rows not sent yet (retries included)."""
    with engine.connect() as conn:
        inbound = conn.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in", Message.stage.in_(("archived", "parsed")))) or 0
        outbound = conn.scalar(select(func.count()).select_from(Outbound).where(
            Outbound.stage.in_(("queued", "sending")))) or 0
    return inbound + outbound


def soak(kind: str, users: Sequence[str], clients: int, minutes: float, rate: float,
         sample_seconds: float, drain: float, poll: float) -> Run:
    run = Run(kind, len(users))
    tag = secrets.token_hex(4)
    count = max(1, round(minutes * 60 * rate))
    people = {user: BOX_PASSWORD for user in users}
    people |= {SUMMARY_USER: "ops-bench-pw", ADVISOR_USER: "anna-bench-pw"}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maild-soak-")))
        dovecot = stack.enter_context(DovecotServer(users=people))
        assert dovecot.lmtp_port is not None
        postfix = stack.enter_context(PostfixServer(lmtp_port=dovecot.lmtp_port))
        url = stack.enter_context(database(kind, work))
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        http_port = free_port()
        config = write_config(
            work / "maild.toml", database=url, archive_dir=work / "archive",
            smtp_host=postfix.host, smtp_port=postfix.port,
            addresses=[address_of(u) for u in users], clients=clients,
            imap=Imap(dovecot.host, dovecot.port, users), http_listen=f"127.0.0.1:{http_port}")
        log_path = work / "maild.log"
        proc = stack.enter_context(daemon(config, BOX_PASSWORD, log_path))

        run.startup_seconds = wait_synced(engine, len(users), proc, log_path)
        run.startup_rss_kib = status_kib(proc.pid).get("VmRSS", 0)
        warm_up(engine, dovecot, postfix, users[0], tag, log_path)

        ports = {dovecot.port: "imap", postfix.port: "smtp", 5432: "postgresql"}
        sampler = Sampler(proc.pid, ports, http_port, Metrics(http_port), sample_seconds,
                          run.snapshots)
        sampler.start()
        arrivals, summaries = Arrivals(engine), Summaries(dovecot)
        stack.callback(summaries.close)
        sent: queue.SimpleQueue[Sent] = queue.SimpleQueue()
        sender = threading.Thread(target=send_stream, name="smtp-sender", args=(
            postfix, users, count, rate, tag, sent, run.send_errors))
        threads_before = thread_groups(proc.pid)
        busy_before, _total = machine_busy_seconds()
        window_start = time.time()
        sender.start()

        def take_sent() -> None:
            while not sent.empty():
                item = sent.get()
                run.sent.append(item)
                arrivals.expect(item.sample)
                summaries.expect(item.sample)

        while sender.is_alive():
            take_sent()
            if arrivals.pending:
                arrivals.poll()
            summaries.poll()
            time.sleep(poll)
        sender.join()
        take_sent()
        sent_all = time.time()
        deadline = sent_all + drain
        quiet_since: float | None = None
        while time.time() < deadline:
            if arrivals.pending:
                arrivals.poll()
            summaries.poll()
            if not arrivals.pending and work_left(engine) == 0:
                quiet_since = quiet_since or time.time()
                run.drained = quiet_since - sent_all
                if time.time() - quiet_since >= SETTLE_SECONDS:
                    break
            else:
                quiet_since = run.drained = None
            time.sleep(poll)
        if arrivals.pending:
            arrivals.explain_missing()
            run.missing = [f"{s.message_id}: {s.fate}" for s in
                           (arrivals.by_header[h] for h in arrivals.pending)]
        run.window = time.time() - window_start
        run.machine_busy = machine_busy_seconds()[0] - busy_before
        after = thread_groups(proc.pid)
        run.threads = {group: cpu - threads_before.get(group, 0.0)
                       for group, cpu in after.items()}
        worker = [stat.cpu for pid in children(proc.pid)
                  if (stat := proc_stat(pid)) is not None]
        run.threads["parse worker process"] = sum(worker)  # a fresh one per config generation
        sampler.halt.set()
        sampler.join()
        run.snapshots.append(sampler.take())  # after the drain: the figures at the end
        final = status_kib(proc.pid)
        run.final_hwm_kib = final.get("VmHWM", 0)
        run.final_worker_hwm_kib = sum(status_kib(c).get("VmHWM", 0)
                                       for c in children(proc.pid))
        if proc.poll() is not None:
            run.exit_note = f"maild exited {proc.returncode} during the run"
        run.categories = categories(engine, [s.sample for s in run.sent
                                             if s.sample.summarised is None])
        run.delays = postfix_delays(postfix.log_text())
        run.log_problems = log_problems(log_path)
    return run


def thread_groups(pid: int) -> dict[str, float]:
    """The daemon's CPU seconds so far by thread, the folder workers (``boxNNN/INBOX``) and
    their archive threads summed, each step's thread on its own."""
    groups: dict[str, float] = {}
    for name, cpu in thread_cpu(pid):
        if name.endswith("/INBOX"):
            name = "IMAP folder workers"
        elif name.startswith("archive"):
            name = "IMAP archive threads"
        elif name == "python":
            name = "main thread"
        groups[name] = groups.get(name, 0.0) + cpu
    return groups


def categories(engine: Engine, samples: Iterable[Sample]) -> dict[str, str]:
    """``<Message-ID>`` -> notice category, for notices that got no summary."""
    headers = [f"<{s.message_id}>" for s in samples]
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(headers), 500):
            query = (select(Message.message_id, Notice.category)
                     .join(Notice, Notice.message_id == Message.id)
                     .where(Message.message_id.in_(headers[start:start + 500])))
            found |= {str(h): str(c) for h, c in conn.execute(query)}
    return found


def postfix_delays(maillog: str) -> dict[str, float]:
    """Postfix queue id -> ``delay=`` of its ``status=sent`` line, read once from the log."""
    return {m.group(1): float(m.group(3)) for m in map(_SENT_LINE.search, maillog.splitlines())
            if m is not None}


# --------------------------------------------------------------------------- figures

def mb(kib: float) -> float:
    return kib / 1024


def seconds_of(values: Sequence[float]) -> str:
    if not values:
        return f"{'-':>6} {'-':>6} {'-':>6}"
    ordered = sorted(values)
    return " ".join(f"{percentile(ordered, p):6.2f}" for p in (50, 99)) + f" {ordered[-1]:6.2f}"


def per_minute(run: Run) -> None:
    """One line per minute of sending: latency, memory, sockets and queues in that minute."""
    times = [s.sample.accepted.accept_time for s in run.sent if s.sample.accepted]
    if not times:
        return
    start = times[0]
    print(f"\n{'min':>3} {'sent':>5} {'late':>5} | {'parsed p50':>10} {'p99':>6} {'max':>6} | "
          f"{'summary p50':>11} {'p99':>6} {'max':>6} | {'RSS MB':>6} {'worker':>6} "
          f"{'thr':>4} {'imap':>4} {'tcp':>4} | {'queue':>5} {'outbox':>6} | {'cores':>5} "
          f"{'route ms':>8} {'send ms':>7} | loadavg")
    for minute in range(int((times[-1] - start) // 60) + 1):
        lo, hi = start + minute * 60, start + (minute + 1) * 60
        batch = [s for s in run.sent if s.sample.accepted is not None
                 and lo <= s.sample.accepted.accept_time < hi]
        parsed = since_accept([s.sample for s in batch], "parsed")
        summarised = since_accept([s.sample for s in batch], "summarised")
        snaps = [s for s in run.snapshots if lo <= s.at < hi] or run.snapshots[-1:]
        queued = max(int(summed(s.metrics, "maild_stage_rows{stage=archived,table=message}")
                         + summed(s.metrics, "maild_stage_rows{stage=parsed,table=message}"))
                     for s in snaps)
        outbox = max(int(s.metrics.get("maild_outbox_waiting", 0)) for s in snaps)
        tcp = max(sum(n for k, n in s.sockets.items() if k != "unix" and not k.startswith("other"))
                  for s in snaps)
        before = [s for s in run.snapshots if s.at < lo][-1:] or snaps[:1]
        span = snaps[-1].at - before[0].at
        cores = (snaps[-1].cpu - before[0].cpu) / span if span > 0 else 0.0
        route = per_row(before[0], snaps[-1], "route-stage", "maild_messages_routed_total")
        send = per_row(before[0], snaps[-1], "send-stage", "maild_outbox_sent_total")
        print(f"{minute + 1:>3} {len(batch):>5} {max(s.late for s in batch):5.2f} | "
              f"{'':>4}{seconds_of(parsed)} | {'':>5}{seconds_of(summarised)} | "
              f"{mb(max(s.rss_kib for s in snaps)):6.1f} "
              f"{mb(max(s.worker_rss_kib for s in snaps)):6.1f} "
              f"{max(s.threads for s in snaps):>4} {max(s.sockets['imap'] for s in snaps):>4} "
              f"{tcp:>4} | {queued:>5} {outbox:>6} | {cores:5.2f} {route:>8} {send:>7} | "
              f"{snaps[-1].load}")


def per_row(first: Snapshot, last: Snapshot, thread: str, counter: str) -> str:
    """A step thread's CPU milliseconds per row it moved on between two snapshots."""
    rows = last.metrics.get(counter, 0.0) - first.metrics.get(counter, 0.0)
    cpu = last.by_thread.get(thread, 0.0) - first.by_thread.get(thread, 0.0)
    return f"{cpu / rows * 1000:.1f}" if rows > 0 else "-"


def report(run: Run, rate: float, drain: float) -> None:
    kind, samples = run.kind, [s.sample for s in run.sent]
    n = len(samples)
    per_minute(run)
    print(f"\n{'seconds after the SMTP 250 reply':<42} {'n':>13} {'p50':>8} {'p95':>8} "
          f"{'p99':>8} {'max':>8}")
    delivered = sorted(run.delays[s.accepted.queue_id] for s in samples
                       if s.accepted is not None and s.accepted.queue_id in run.delays)
    parsed = since_accept(samples, "parsed")
    summarised = since_accept(samples, "summarised")
    print(row(f"{kind}: accept -> delivered (Postfix)", delivered, n))
    print(row(f"{kind}: accept -> archived", since_accept(samples, "archived"), n))
    print(row(f"{kind}: accept -> parsed", parsed, n))
    print(row(f"{kind}: archived -> parsed", sorted(
        s.parsed - s.archived for s in samples if s.parsed is not None and s.archived is not None
    ), n))
    print(row(f"{kind}: accept -> summary in client inbox", summarised, n))
    for label, values, p50, p99 in (("parsed", parsed, TARGET_P50, TARGET_P99),
                                    ("summary", summarised, SUMMARY_P50, SUMMARY_P99)):
        if values:
            verdict = ("meets" if percentile(values, 50) <= p50
                       and percentile(values, 99) <= p99 else "misses")
            print(f"{kind}: accept -> {label} {verdict} the target p50 <= {p50} s, "
                  f"p99 <= {p99} s")
    late = max((s.late for s in run.sent), default=0.0)
    print(f"sender: {n} notices in {_sending_seconds(run):.0f} s "
          f"({rate:g}/s offered), at most {late:.2f} s behind schedule")

    snaps = run.snapshots
    peak_rss = max((s.rss_kib for s in snaps), default=0)
    peak_worker = max((s.worker_hwm_kib for s in snaps), default=0)
    peak_sum = max((s.rss_kib + s.worker_rss_kib for s in snaps), default=0)
    print(f"\nmemory (daemon process; its parse worker is a separate process): "
          f"at startup {mb(run.startup_rss_kib):.1f} MB, sampled peak RSS {mb(peak_rss):.1f} MB, "
          f"VmHWM {mb(run.final_hwm_kib):.1f} MB, at the end {mb(snaps[-1].rss_kib):.1f} MB; "
          f"parse worker VmHWM {mb(max(peak_worker, run.final_worker_hwm_kib)):.1f} MB; "
          f"both together sampled peak {mb(peak_sum):.1f} MB")
    together = mb(run.final_hwm_kib + max(peak_worker, run.final_worker_hwm_kib))
    print(f"memory target < {TARGET_RSS_MB:g} MB for one daemon: "
          f"{'meets' if together < TARGET_RSS_MB else 'misses'} "
          f"(daemon VmHWM + parse worker VmHWM = {together:.1f} MB)")
    kinds = sorted({k for s in snaps for k in s.sockets})
    peaks = ", ".join(f"{k} {max(s.sockets[k] for s in snaps)}" for k in kinds)
    print(f"open sockets, peak per kind: {peaks}; peak total "
          f"{max(sum(s.sockets.values()) for s in snaps)}; threads peak "
          f"{max(s.threads for s in snaps)}")
    scrapes = [s.scrape_seconds for s in snaps if s.scrape_seconds is not None]
    if scrapes:
        print(f"/metrics scrape with {run.mailboxes} mailboxes: mean "
              f"{sum(scrapes) / len(scrapes) * 1000:.0f} ms, max {max(scrapes) * 1000:.0f} ms "
              f"({len(scrapes)} scrapes, {len(snaps) - len(scrapes)} failed)")
    cpu = sum(run.threads.values())
    print(f"CPU over the {run.window:.0f} s of sending and draining: daemon and parse worker "
          f"{cpu:.1f} s ({cpu / run.window:.2f} cores, {cpu / max(1, n) * 1000:.0f} ms per "
          f"notice); whole machine busy {run.machine_busy:.1f} s of "
          f"{run.window * len(os.sched_getaffinity(0)):.0f} "
          f"(all processes: Dovecot, Postfix, this script, other work); by thread:")
    for group, seconds in sorted(run.threads.items(), key=lambda kv: -kv[1]):
        if seconds >= 0.05:
            print(f"    {group:<28} {seconds:7.1f} s {seconds / max(1, n) * 1000:6.1f} ms/notice")
    errors(run, drain)


def _sending_seconds(run: Run) -> float:
    times = [s.sample.accepted.accept_time for s in run.sent if s.sample.accepted]
    return times[-1] - times[0] if times else 0.0


def errors(run: Run, drain: float) -> None:
    end = run.snapshots[-1].metrics
    print(f"\nat the end (/metrics): archived {summed(end, 'maild_messages_archived_total'):.0f},"
          f" parsed {summed(end, 'maild_messages_parsed_total'):.0f}, routed "
          f"{summed(end, 'maild_messages_routed_total'):.0f}, outbox sent "
          f"{summed(end, 'maild_outbox_sent_total'):.0f}, failed "
          f"{summed(end, 'maild_outbox_failed'):.0f}, retrying "
          f"{summed(end, 'maild_outbox_retrying'):.0f}, quarantined "
          f"{summed(end, 'maild_messages_quarantined'):.0f}, IMAP reconnects "
          f"{summed(end, 'maild_imap_reconnects_total'):.0f}, stale mailboxes "
          f"{summed(end, 'maild_mailbox_stale'):.0f}, largest mailbox lag "
          f"{largest(end, 'maild_mailbox_lag_messages'):.0f}, still queued: "
          f"{summed(end, 'maild_outbox_waiting'):.0f} outbound, "
          f"{summed(end, 'maild_stage_rows{stage=archived,table=message}'):.0f} archived and "
          f"{summed(end, 'maild_stage_rows{stage=parsed,table=message}'):.0f} parsed inbound")
    if run.drained is not None:
        print(f"drain: every notice routed and the outbox empty {run.drained:.1f} s after the "
              f"last send")
    else:
        print(f"drain: work still left {drain:g} s after the last send (--drain-seconds)")
    print(f"errors: {len(run.send_errors)} SMTP submission error(s)")
    for line in run.send_errors[:5]:
        print(f"  {line}")
    print(f"errors: {len(run.missing)} notice(s) NOT parsed within {drain:g} s of the last send")
    for line in run.missing[:10]:
        print(f"  {line}")
    unsummarised = [s.sample for s in run.sent if s.sample.summarised is None]
    announcements = sum(1 for s in unsummarised
                        if run.categories.get(f"<{s.message_id}>") == "policy_update")
    others = [s for s in unsummarised if run.categories.get(f"<{s.message_id}>") !=
              "policy_update" and s.parsed is not None]
    print(f"summaries: {len(unsummarised)} notice(s) without one: {announcements} repeated "
          f"policy announcement(s) (none by design), {len(others)} other parsed notice(s)")
    for sample in others[:10]:
        print(f"  {sample.message_id}: {run.categories.get(f'<{sample.message_id}>', '?')}")
    total = sum(run.log_problems.values())
    print(f"daemon log: {total} ERROR/WARNING line(s)"
          + (f", {len(run.log_problems)} distinct:" if total else ""))
    for text, times in run.log_problems.most_common(10):
        print(f"  {times:>5} x {text}")
    if run.exit_note:
        print(f"errors: {run.exit_note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="sending time (10)")
    parser.add_argument("--mailboxes", type=int, default=200, help="IMAP accounts (200)")
    parser.add_argument("--rate", type=float, default=10.0, help="notices per second (10)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=1,
                        help="clients the mailboxes are spread over (1; see bench/_stack.py)")
    parser.add_argument("--sample-seconds", type=float, default=5.0,
                        help="how often /proc and /metrics are read (5)")
    parser.add_argument("--drain-seconds", type=float, default=600.0,
                        help="how long after the last send the work may take (600)")
    parser.add_argument("--poll-ms", type=float, default=20.0,
                        help="database and client inbox poll interval (20)")
    args = parser.parse_args()
    if args.minutes <= 0 or args.rate <= 0 or not 1 <= args.clients <= args.mailboxes:
        parser.error("--minutes and --rate must be positive, 1 <= --clients <= --mailboxes")
    users = mailbox_users(args.mailboxes)
    print(f"maild soak: {args.mailboxes} mailboxes (a Dovecot user and an [[imap]] account "
          f"each, INBOX, IDLE), {args.rate:g} notices/s round-robin for {args.minutes:g} min "
          f"through Postfix -> Dovecot LMTP -> maild run ({args.database}, {args.clients} "
          f"client(s)) -> summaries via Postfix into {SUMMARY_USER}'s INBOX")
    print(f"maild: {git_state()}; nproc {len(os.sched_getaffinity(0))}; "
          f"loadavg at start: {loadavg()}")
    run = soak(args.database, users, args.clients, args.minutes, args.rate,
               args.sample_seconds, args.drain_seconds, args.poll_ms / 1000)
    print(f"startup: {args.mailboxes} mailboxes connected and synced {run.startup_seconds:.1f} s "
          f"after the daemon started (RSS then {mb(run.startup_rss_kib):.1f} MB)")
    report(run, args.rate, args.drain_seconds)
    print(f"loadavg at end: {loadavg()}")


if __name__ == "__main__":
    main()
