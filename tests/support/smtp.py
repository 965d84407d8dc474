"""An SMTP sink on loopback for tests: accepts mail, keeps exact bytes, fails on request.

:class:`SmtpSink` runs an aiosmtpd server (RFC 5321) in a background thread on a random port of
127.0.0.1. Every accepted message is kept as a :class:`ReceivedMail` with the envelope and the
content bytes exactly as the client sent them (after SMTP dot-unstuffing). Fault injection makes
the server answer the next MAIL, RCPT or DATA commands with a chosen reply, e.g. a temporary
``451 4.3.0`` so a test can prove the sender retries and records the reply on its receipt.
A delayed reply (:meth:`SmtpSink.delay_reply`) keeps the ``250`` after DATA back for a while, so
a test can kill the sender between the end of the data and the server's answer.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from .net import LOOPBACK, free_port

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMail:
    """One message the sink accepted.

    Attributes:
        mail_from: the envelope sender (``MAIL FROM``), ``""`` for a null sender.
        rcpt_tos: the accepted envelope recipients, in order.
        content: the message bytes as transmitted (CRLF line ends, dot-unstuffed).
        queue_id: the id the sink put in its ``250`` reply (``queued as <id>``), for receipts.
        login: the user name of SMTP AUTH, or ``None`` when the client did not authenticate.
        peer: the client's (host, port).
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    queue_id: str
    login: str | None
    peer: tuple[str, int]


@dataclass
class _Fault:
    stage: Stage
    code: int
    text: str
    times: int


@dataclass(frozen=True)
class Rejection:
    """A reply the sink gave because of :meth:`SmtpSink.fail_next`: stage, code and text."""

    stage: Stage
    code: int
    text: str


class _Handler:
    """aiosmtpd handler: applies pending faults, records accepted envelopes."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self._sink.credentials is not None and not session.authenticated:
            # Enforced here rather than with aiosmtpd's auth_required, which warns when TLS is
            # not required too (and the sink is plain text on loopback by design).
            return "530 5.7.0 Authentication required"
        reply = self._sink._take_fault("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._sink._take_fault("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        reply = self._sink._take_fault("DATA")
        if reply:
            return reply
        accepted = self._sink._accept(session, envelope)
        delay = self._sink._take_delay()
        if delay:
            await asyncio.sleep(delay)  # the message is kept; the client waits for the 250
        return accepted


class SmtpSink:
    """A loopback SMTP server that keeps what it receives; use as a context manager.

    Attributes:
        host: ``127.0.0.1``.
        port: the port it listens on (no TLS).
        credentials: (user, password) that AUTH PLAIN/LOGIN accepts, or ``None`` (no AUTH offered).
    """

    host: str
    port: int
    credentials: tuple[str, str] | None

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        """Prepare (not start) a sink; with ``credentials`` AUTH is offered and required."""
        self.host = LOOPBACK
        self.port = free_port()
        self.credentials = credentials
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._received: list[ReceivedMail] = []
        self._rejections: list[Rejection] = []
        self._faults: list[_Fault] = []
        self._delays: list[float] = []
        self._ids = itertools.count(1)
        self._controller: Controller | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start listening (in a background thread); returns once the server accepts connections."""
        if self._controller is not None:
            return
        auth: dict[str, Any] = {}
        if self.credentials is not None:
            auth = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,  # loopback test server: no TLS at all
            }
        for attempt in range(5):
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                server_hostname="sink.maild.test",
                ready_timeout=10.0,
                **auth,
            )
            try:
                controller.start()
            except OSError:
                controller.loop.close()
                if attempt == 4:
                    raise
                self.port = free_port()  # lost the port to someone else: take another one
                continue
            self._controller = controller
            return

    def stop(self) -> None:
        """Stop the server and close its event loop; received mail stays readable."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
            controller.loop.close()

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- test API

    def fail_next(
        self,
        code: int = 451,
        text: str = "4.3.0 try later",
        *,
        times: int = 1,
        stage: Stage = "DATA",
    ) -> None:
        """Answer the next ``times`` commands of ``stage`` (MAIL, RCPT or DATA) with ``code text``.

        Faults queue up in call order; each applies to its own stage only. A 4xx code is a
        temporary failure (the sender should retry), a 5xx code a permanent one (RFC 5321 4.2.1).
        """
        if stage not in ("MAIL", "RCPT", "DATA"):
            raise ValueError(f"stage must be MAIL, RCPT or DATA, not {stage!r}")
        if not 400 <= code <= 599:
            raise ValueError(f"fault code {code} is not an SMTP failure (4xx/5xx)")
        with self._lock:
            self._faults.append(_Fault(stage, code, text, times))

    def delay_reply(self, seconds: float, *, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` accepted messages ``seconds`` late, after answering the next
        ``after`` ones at once: each is kept (and :meth:`wait_for` sees it) as soon as its data
        ended, the ``250`` follows the delay. A stopped sink cancels a delay in progress."""
        if seconds <= 0 or times < 1 or after < 0:
            raise ValueError("delay_reply needs seconds > 0, times >= 1 and after >= 0")
        with self._lock:
            self._delays.extend([0.0] * after + [seconds] * times)

    @property
    def received(self) -> list[ReceivedMail]:
        """A snapshot of the accepted messages, oldest first."""
        with self._lock:
            return list(self._received)

    @property
    def rejections(self) -> list[Rejection]:
        """A snapshot of the injected failure replies the sink actually gave, oldest first."""
        with self._lock:
            return list(self._rejections)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until ``count`` messages arrived; return them all, or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"SMTP sink got {len(self._received)} message(s), wanted {count}"
                    )
                self._arrived.wait(left)
            return list(self._received)

    def clear(self) -> None:
        """Forget received messages, rejections, pending faults and delays."""
        with self._lock:
            self._received.clear()
            self._rejections.clear()
            self._faults.clear()
            self._delays.clear()

    # ----------------------------------------------------------------- handler side

    def _take_fault(self, stage: Stage) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.stage == stage:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    self._rejections.append(Rejection(stage, fault.code, fault.text))
                    return f"{fault.code} {fault.text}"
        return None

    def _take_delay(self) -> float:
        with self._lock:
            return self._delays.pop(0) if self._delays else 0.0

    def _accept(self, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):  # only with decode_data=True, which the sink does not use
            content = content.encode("utf-8", "surrogateescape")
        auth_data: Any = session.auth_data
        login = auth_data.login.decode() if session.authenticated and auth_data else None
        peer: Any = session.peer or ("", 0)  # (host, port) for TCP; typed loosely by aiosmtpd
        with self._arrived:
            queue_id = f"SINK{next(self._ids):06d}"
            self._received.append(
                ReceivedMail(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    content=bytes(content),
                    queue_id=queue_id,
                    login=login,
                    peer=(str(peer[0]), int(peer[1])),
                )
            )
            self._arrived.notify_all()
        return f"250 2.0.0 Ok: queued as {queue_id}"

    def _authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.credentials is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self.credentials
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
