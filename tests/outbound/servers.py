"""Servers for the sending tests that the shared support does not have: a TLS SMTP sink, a relay
that drops the connection after the end of DATA, a private CA.

:class:`ConfiguredSink` is :class:`tests.support.SmtpSink` (same handler, same fault injection,
same record of what arrived) with aiosmtpd options of its own: behind STARTTLS or implicit TLS
with a certificate for 127.0.0.1 (:func:`tls_sink`), or without SMTPUTF8.
:class:`DropAfterData` sits between a client and a sink and cuts the client off right after it
sent the final ``.``: the sink takes the message and answers 250, the client never hears it —
the ambiguous case a sender must treat as temporary.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from tests.support import LOOPBACK, SmtpSink
from tests.support.smtp import _Handler

END_OF_DATA = b"\r\n.\r\n"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1 (it is its own CA), made with openssl;
    returns (certificate, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class _RecordingHandler(_Handler):
    """The sink's handler, also keeping the parameters of every MAIL command."""

    def __init__(self, sink: ConfiguredSink) -> None:
        super().__init__(sink)
        self._recorded = sink.mail_options

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        self._recorded.append(list(mail_options))
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


class ConfiguredSink(SmtpSink):
    """An :class:`SmtpSink` with aiosmtpd options of its own: TLS (see :func:`tls_sink`), or
    ``enable_SMTPUTF8=False`` for a server that lacks SMTPUTF8. ``mail_options`` lists the
    parameters of each MAIL command (``BODY=8BITMIME``, ``SIZE=…``)."""

    def __init__(self, *, credentials: tuple[str, str] | None = None,
                 **controller_options: Any) -> None:
        super().__init__(credentials=credentials)
        self._options = controller_options
        self.mail_options: list[list[str]] = []

    def start(self) -> None:
        """Start like :meth:`SmtpSink.start` with the extra options; reaches into the sink's
        handler and controller slot (kept to this one method) so faults and records are shared."""
        if self._controller is not None:
            return
        options = dict(self._options)
        if self.credentials is not None:
            options |= {"authenticator": self._authenticate, "auth_require_tls": False}
        controller = Controller(_RecordingHandler(self), hostname=self.host, port=self.port,
                                server_hostname="sink.maild.test", ready_timeout=10.0, **options)
        controller.start()
        self._controller = controller


def tls_sink(cert: Path, key: Path, *, implicit: bool = False) -> ConfiguredSink:
    """A sink with this certificate: STARTTLS required before MAIL, or TLS from the first byte."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if implicit:
        return ConfiguredSink(ssl_context=context)
    return ConfiguredSink(tls_context=context, require_starttls=True)


class DropAfterData:
    """Relays 127.0.0.1:``port`` to a server; the first ``drops`` connections are cut off from
    the client's side as soon as it sent the end of the message data (the server still gets it
    all and its reply is swallowed). Later connections are relayed whole."""

    def __init__(self, target_port: int, *, drops: int = 1) -> None:
        self.target_port = target_port
        self._drops = drops
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._start(self._accept)

    def _start(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection((LOOPBACK, self.target_port))
            with self._lock:
                drop, self._drops = self._drops > 0, self._drops - 1
                self._sockets += [client, server]
            cut = threading.Event()
            self._start(self._client_to_server, client, server, drop, cut)
            self._start(self._server_to_client, server, client, cut)

    def _client_to_server(self, client: socket.socket, server: socket.socket, drop: bool,
                          cut: threading.Event) -> None:
        seen, in_data = b"", False
        while data := _recv(client):
            window, seen = seen + data, (seen + data)[-8:]
            in_data = in_data or b"DATA\r\n" in window
            if drop and in_data and END_OF_DATA in window:
                cut.set()  # before the server can answer: its reply must not reach the client
                server.sendall(data)
                _shut(client)
                return
            server.sendall(data)
        _shut(server)

    def _server_to_client(self, server: socket.socket, client: socket.socket,
                          cut: threading.Event) -> None:
        while (data := _recv(server)) and not cut.is_set():
            with contextlib.suppress(OSError):
                client.sendall(data)
        _shut(client)

    def drop_next(self, count: int = 1) -> None:
        """Cut the next ``count`` connections after their data (as ``drops`` does at start)."""
        with self._lock:
            self._drops = count

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            _shut(sock)
        for thread in threads:
            thread.join(5)

    def __enter__(self) -> DropAfterData:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
