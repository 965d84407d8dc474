"""Parse each message in a child process, within a time budget, so no message stalls the daemon.

The parser is pure Python: a pathological message holds the GIL for as long as it is parsed,
and with it IDLE, lease renewal and SIGTERM handling in every thread of the daemon.
`IsolatedParser` keeps one worker process, a fresh interpreter (as multiprocessing's "spawn",
never a fork of the threaded daemon), and sends it the raw bytes over a socket pair; the calling
thread only waits on the socket, without the GIL. The worker is started with `subprocess`
rather than a multiprocessing context because "spawn" and "forkserver" re-run the daemon's
`__main__` in every worker (for `maild run`: the whole CLI stack, tens of MB per worker).

A parse that overruns its budget has its worker killed and gives a notice whose `error` says
"parse exceeded the N s time budget" (category `other`, P3, as `parse_message` reports its own
failures), so the stage quarantines that message and goes on; the next parse starts a fresh
worker. A worker that dies while parsing (the kernel's OOM killer, its memory limit) gives an
error notice too. A worker found dead between two messages is replaced silently: the next
message is not at fault.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType

from maild.errors import MaildError
from maild.parsers import mime
from maild.parsers.notice import Notice, failed_notice
from maild.parsers.pipeline import parse_message

DEFAULT_TIMEOUT_SECONDS = 30.0
START_SECONDS = 60.0  # for a new worker to import the parser and say it is ready
HEADER_PEEK_BYTES = 65_536  # what the daemon itself reads of a failed message: its Message-ID
_READY = b"ready"
_WARM_UP = b"From: warm-up@example.com\r\nSubject: warm-up\r\n\r\nwarm-up\r\n"
# The worker's interpreter imports maild from where the daemon did (a checkout run as
# `python maild.py`, or site-packages), and is given the socket's descriptor and the limit.
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys\n"
    "if sys.argv[1] not in sys.path: sys.path.insert(0, sys.argv[1])\n"
    "from maild.parsers.isolated import serve\n"
    "serve(*map(int, sys.argv[2:]))\n"
)

log = logging.getLogger(__name__)


class ParseInterrupted(MaildError):
    """The parse was stopped from outside (`close()`, or SIGTERM to the worker in a shutdown):
    the message is not at fault and should stay in its stage to be parsed again."""


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection


class IsolatedParser:
    """`parse_message` in a persistent child process, each parse within `timeout_seconds`.

    Thread-safe (one parse at a time); `close()` may be called from another thread, and a parse
    in progress then raises `ParseInterrupted`. `memory_limit_bytes` caps the worker's address
    space (RLIMIT_AS), so a message bomb is quarantined instead of exhausting the machine.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        memory_limit_bytes: int | None = None,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, not {timeout_seconds!r}")
        self.timeout_seconds = timeout_seconds
        self.memory_limit_bytes = memory_limit_bytes
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The worker's process id, or None while none runs (it starts on the first parse)."""
        worker = self._worker
        return worker.process.pid if worker is not None else None

    def parse(self, raw: bytes, *, timeout_seconds: float | None = None) -> Notice:
        """The notice `raw` carries, parsed in the worker within `timeout_seconds` (default: the
        parser's own); never raises for a bad message, only `ParseInterrupted` after `close()`
        or when the worker is told to stop, and `MaildError` when no worker can start."""
        budget = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        with self._lock:
            worker = self._ready_worker()
            deadline = time.monotonic() + budget
            try:
                worker.conn.send_bytes(raw)  # one write from the caller's buffer, no copy
                done = worker.conn.poll(max(0.0, deadline - time.monotonic()))
                notice = worker.conn.recv() if done else None
            except (EOFError, OSError):
                return self._died(worker, raw)
            if not isinstance(notice, Notice):
                self._stop(worker)
                error = f"parse exceeded the {budget:g} s time budget"
                log.warning("%s; worker %s killed", error, worker.process.pid)
                return failed_notice(_message_id(raw), error)
            return notice

    def close(self) -> None:
        """Stop the worker; later parses raise `ParseInterrupted`. Idempotent."""
        self._closed = True
        worker = self._worker
        if worker is not None:
            worker.process.kill()  # without the lock: a parse in progress must not delay this
        with self._lock:
            if self._worker is not None:
                self._stop(self._worker)

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _ready_worker(self) -> _Worker:
        if self._closed:
            raise ParseInterrupted("the isolated parser is closed")
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        if self._worker is not None:
            log.warning("parse worker %s had died while idle; starting another", self.pid)
            self._stop(self._worker)
        parent_end, child_end = multiprocessing.Pipe(duplex=True)
        args = [_IMPORT_ROOT, str(child_end.fileno())]
        if self.memory_limit_bytes is not None:
            args.append(str(self.memory_limit_bytes))
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", _BOOT, *args],  # -P: not the daemon's cwd on sys.path
            stdin=subprocess.DEVNULL,
            pass_fds=(child_end.fileno(),),
        )
        child_end.close()
        worker = _Worker(process, parent_end)
        try:
            ready = parent_end.poll(START_SECONDS) and parent_end.recv_bytes() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop(worker)
            raise MaildError(f"the parse worker did not start within {START_SECONDS:g} s")
        self._worker = worker
        if self._closed:  # closed while this worker started: close() could not see it
            self._stop(worker)
            raise ParseInterrupted("the isolated parser is closed")
        return worker

    def _died(self, worker: _Worker, raw: bytes) -> Notice:
        try:
            code: int | None = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._stop(worker)
        if self._closed or code == -signal.SIGTERM:
            raise ParseInterrupted("the parse worker was stopped; the message is not at fault")
        error = f"the parse worker died while parsing ({_describe(code)})"
        log.warning("%s", error)
        return failed_notice(_message_id(raw), error)

    def _stop(self, worker: _Worker) -> None:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()
        if self._worker is worker:
            self._worker = None


def serve(fd: int, memory_limit_bytes: int | None = None) -> None:
    """The worker's main loop, on the socket `fd`: parse each message received and send its
    notice back, until the daemon closes its end."""
    conn = Connection(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's, which stops us
    if memory_limit_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    parse_message(_WARM_UP)  # compile the pattern tables before the clock of a real parse runs
    conn.send_bytes(_READY)
    while True:
        try:
            # No name holds the bytes once parsed: an idle worker keeps no message in memory.
            conn.send(parse_message(conn.recv_bytes()))
        except EOFError:
            return


def _message_id(raw: bytes) -> str | None:
    """The Message-ID of a message that could not be parsed, from a bounded peek at its head."""
    head = BytesHeaderParser(policy=compat32).parsebytes(raw[:HEADER_PEEK_BYTES])
    return mime.header(head, "Message-ID") or None


def _describe(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not exit"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
