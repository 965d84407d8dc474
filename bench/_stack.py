"""Shared by ``bench/soak.py`` and ``bench/fleet.py``: the daemon config both run, and what
``/proc`` says about running processes (memory, CPU seconds, sockets).

The config is ``bench/latency.py``'s client (every platform, summaries to ``ops`` and the
advisor ``anna``, every priority at once), widened to many mailboxes: mailbox ``boxNNN``
receives as ``boxNNN@example.test`` and the clients' stores list those addresses, mailbox
``n`` belonging to client ``n % clients``. One client is the default because a policy
announcement goes to *every* client with a store on its platform: with 200 clients, each of the
corpus's announcements would open 200 cases and queue 400 summaries, which measures fan-out
rather than the stream of notices. ``[smtp] rate_limit_per_hour`` is raised: the loop guard's
default (600 messages per recipient per hour) is below what a 10 notices/s run sends to ``ops``.

The daemon runs as ``maild run`` through :func:`daemon`, which differs from ``python maild.py
run`` in one thing: each Python thread gives its name to the kernel (``prctl(PR_SET_NAME)``, cut
at 15 bytes), so ``/proc/PID/task/TID/comm`` tells the route step's CPU from the send step's and
from the IMAP folder workers'.

psutil is not installed: memory is ``VmRSS``/``VmHWM`` of ``/proc/PID/status``, CPU seconds
``utime + stime`` of ``/proc/PID/stat``, sockets the ``socket:[inode]`` links of
``/proc/PID/fd`` looked up in ``/proc/PID/net/{tcp,tcp6,unix}``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from latency import PASSWORD_ENV, PLATFORMS, REPO, SECRET_ENV  # bench/latency.py, beside this

# `maild run` with every thread named in /proc: threading's bootstrap sets the kernel's name
# of the new thread (PR_SET_NAME = 15) before running it; nothing else changes.
NAMED_THREADS_ENTRY = (
    "import ctypes, sys, threading\n"
    "libc = ctypes.CDLL(None)\n"
    "inner = threading.Thread._bootstrap_inner\n"
    "def named(thread):\n"
    "    libc.prctl(15, thread.name.encode()[:15], 0, 0, 0)\n"
    "    inner(thread)\n"
    "threading.Thread._bootstrap_inner = named\n"
    "from maild.cli import main\n"
    "main(prog_name='maild')\n"
)

DOMAIN = "example.test"
SUMMARY_USER = "ops"  # the client's inbox: summaries (and the fallback, operator alerts)
ADVISOR_USER = "anna"
RATE_LIMIT_PER_HOUR = 1_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_TCP_LISTEN = "0A"
_LOG_LEVEL = re.compile(r"^\S+ \S+ (ERROR|WARNING) (\S+) (.*)$")


def mailbox_users(count: int) -> list[str]:
    """``box000``, ``box001`` … : one Dovecot user (one ``[[imap]]`` account) per mailbox."""
    return [f"box{n:03d}" for n in range(count)]


def address_of(user: str) -> str:
    return f"{user}@{DOMAIN}"


# --------------------------------------------------------------------------- the config

@dataclass(frozen=True)
class Imap:
    """The ``[[imap]]`` accounts to watch: one per user, INBOX only, all with one password
    (given to the daemon in ``PASSWORD_ENV``)."""

    host: str
    port: int
    users: Sequence[str]


def write_config(path: Path, *, database: str, archive_dir: Path, smtp_host: str,
                 smtp_port: int, addresses: Sequence[str], clients: int = 1,
                 imap: Imap | None = None, http_listen: str = "") -> Path:
    """A daemon config: ``imap``'s accounts (none: the daemon only works its stages), sending
    through ``smtp_host:smtp_port``, ``clients`` clients sharing ``addresses`` round-robin,
    ``[http]`` on ``http_listen`` (empty: off, so several daemons don't compete for a port)."""
    accounts = "".join(
        f'[[imap]]\nname = "{user}"\nhost = "{imap.host}"\nport = {imap.port}\n'
        f'tls = "plain"\nusername = "{user}"\npassword_env = "{PASSWORD_ENV}"\n'
        f'folders = ["INBOX"]\n\n' for user in imap.users) if imap else ""
    path.write_text(
        f'[maild]\ndatabase = "{database}"\narchive_dir = "{archive_dir}"\n'
        f'log_level = "INFO"\nsecret_env = "{SECRET_ENV}"\n\n'
        f'[http]\nlisten = "{http_listen}"\n\n'
        f'{accounts}'
        f'[smtp]\nhost = "{smtp_host}"\nport = {smtp_port}\ntls = "plain"\n'
        f'from = "Bench Desk <desk@{DOMAIN}>"\n'
        f'reply_address = "desk+{{token}}@{DOMAIN}"\n'
        f'operator = ["{address_of(SUMMARY_USER)}"]\n'
        f'rate_limit_per_hour = {RATE_LIMIT_PER_HOUR}\n\n'
        f'[fallback]\nto = ["{address_of(SUMMARY_USER)}"]\n\n'
        + "".join(_client(n, addresses[n::clients]) for n in range(clients)),
        encoding="utf-8")
    return path


def _client(number: int, addresses: Sequence[str]) -> str:
    listed = ", ".join(f'"{a}"' for a in addresses)
    stores = "".join(
        f'[[client.store]]\nplatform = "{platform}"\nname = "Bench {number} {platform}"\n'
        f'addresses = [{listed}]\n\n' for platform in PLATFORMS)
    return (f'[[client]]\nid = "bench{number}"\nname = "Bench Client {number}"\n'
            f'languages = ["zh", "en"]\ntimezone = "Asia/Shanghai"\ncalendar = "CN"\n'
            f'hours = "09:00-21:00"\ndecision_maker = "boss@{DOMAIN}"\n'
            f'summary_to = ["{address_of(SUMMARY_USER)}"]\n'
            f'advisors = ["{address_of(ADVISOR_USER)}"]\n'
            f'at_once = ["P0", "P1", "P2", "P3"]\n\n{stores}')


@contextmanager
def daemon(config: Path, password: str, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``maild run`` in the background with named threads, its output in ``log_path``;
    SIGTERM at the end (``latency.daemon`` otherwise)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **{PASSWORD_ENV: password,
                                                    SECRET_ENV: "bench-reply-key"})
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", NAMED_THREADS_ENTRY, "--config", str(config), "run"],
            env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- /proc

def status_kib(pid: int) -> dict[str, int]:
    """``VmRSS``, ``VmHWM`` (KiB) and ``Threads`` of a process; empty when it is gone."""
    wanted = ("VmRSS", "VmHWM", "Threads")
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in wanted:
            found[key] = int(value.split()[0])
    return found


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/PID/stat`` the benches read."""

    pid: int
    comm: str
    ppid: int
    pgrp: int
    cpu: float  # seconds in user and kernel mode so far


def proc_stat(pid: int, tid: int | None = None) -> ProcStat | None:
    """``/proc/PID/stat``, or with ``tid`` that one thread's ``/proc/PID/task/TID/stat``."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()  # state ppid pgrp session ... utime stime
    return ProcStat(tid or pid, comm, int(fields[1]), int(fields[2]),
                    (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)


def all_procs() -> Iterator[ProcStat]:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))) is not None:
            yield stat


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (the daemon's parse worker)."""
    found: list[int] = []
    try:
        tasks = list(os.scandir(f"/proc/{pid}/task"))
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in Path(task.path, "children").read_text().split()]
        except OSError:
            continue
    return found


def thread_cpu(pid: int) -> list[tuple[str, float]]:
    """(name, CPU seconds) of each live thread of ``pid``: the kernel's name of the thread,
    which :func:`daemon` makes the Python thread's name (the main thread's stays ``python``)."""
    found = []
    try:
        tasks = list(os.scandir(f"/proc/{pid}/task"))
    except OSError:
        return []
    for task in tasks:
        if (stat := proc_stat(pid, int(task.name))) is not None:
            found.append((stat.comm, stat.cpu))
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # steal included, guest already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


@dataclass
class CpuTracker:
    """CPU seconds per label over a window, for processes that come and go (Postfix's smtpd,
    PostgreSQL backends): :meth:`start` opens the window (what running processes used before
    does not count), every :meth:`scan` reads each process once; a process born since counts
    from zero. Time a process spent between the last scan and its exit is lost."""

    label_of: Callable[[ProcStat], str | None]
    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, tuple[str, float]] = field(default_factory=dict)

    def start(self) -> None:
        for stat in all_procs():
            if self.label_of(stat) is not None:
                self.first[stat.pid] = stat.cpu

    def scan(self) -> None:
        for stat in all_procs():
            label = self.label_of(stat)
            if label is not None:
                self.first.setdefault(stat.pid, 0.0)
                self.last[stat.pid] = (label, stat.cpu)

    def seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, (label, cpu) in self.last.items():
            totals[label] = totals.get(label, 0.0) + cpu - self.first[pid]
        return totals


def _tcp_table(pid: int) -> dict[int, tuple[int, int, str]]:
    """inode -> (local port, remote port, state) of the process's network namespace."""
    table: dict[int, tuple[int, int, str]] = {}
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], int(cols[9])
            table[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16),
                            state)
    return table


def socket_kinds(pid: int, remote_ports: Mapping[int, str],
                 local_ports: Mapping[int, str] | None = None) -> Counter[str]:
    """The process's open sockets by kind: a TCP connection is named by its peer's port
    (``remote_ports``, e.g. {143: "imap"}) or by its own (``local_ports``, a server's accepted
    connections); ``listen``, ``tcp other``, ``unix``, and ``other …`` for sockets in no table
    (a TCP socket not connected yet, or closing)."""
    inodes: list[int] = []
    try:
        fds = list(os.scandir(f"/proc/{pid}/fd"))
    except OSError:
        return Counter()
    for fd in fds:
        try:
            target = os.readlink(fd.path)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.append(int(target[8:-1]))
    tcp = _tcp_table(pid)
    unix = _unix_inodes(pid)
    kinds: Counter[str] = Counter()
    local_ports = local_ports or {}
    for inode in inodes:
        if inode not in tcp:
            kinds["unix" if inode in unix else "other (unconnected or closing)"] += 1
            continue
        local, remote, state = tcp[inode]
        if state == _TCP_LISTEN:
            kinds["listen"] += 1
        else:
            kinds[remote_ports.get(remote) or local_ports.get(local) or "tcp other"] += 1
    return kinds


def _unix_inodes(pid: int) -> set[int]:
    try:
        lines = Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(cols[6]) for cols in map(str.split, lines) if len(cols) > 6}


def log_problems(path: Path) -> Counter[str]:
    """ERROR and WARNING lines of the daemon's log, digits masked so repeats count as one."""
    problems: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        match = _LOG_LEVEL.match(line)
        if match:
            level, logger, text = match.groups()
            problems[f"{level} {logger} {re.sub(r'[0-9]+', 'N', text)[:160]}"] += 1
    return problems
