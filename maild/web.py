"""HTTP beside the workers of ``maild run``: ``/metrics`` (Prometheus text), ``/healthz`` and
``/``, the advisors' board; read-only, on the ``[http] listen`` address.

The stack is waitress, a pure-Python WSGI server maintained by the Pylons project, with
prometheus_client's own WSGI app for /metrics and a few lines of routing here. Chosen over the
standard library's wsgiref (what ``prometheus_client.start_http_server`` runs), which starts one
thread per connection with no limit and no timeout: waitress serves from a fixed pool of threads,
caps connections, drops idle ones and parses HTTP/1.1 strictly, which matters once the board is
bound beyond loopback. Frameworks (Flask, Starlette) would add routing and templates we already
have (jinja2) and, for ASGI, an event loop beside the worker threads. Measured on a 2-core
machine with 12 open cases (median of 50 requests, SQLite / PostgreSQL): /healthz 9 / 12 ms,
/metrics 11 / 16 ms, the board 14 / 20 ms.

The server runs in one daemon thread (its poll loop; requests run on its small pool), started
when the daemon starts and kept across config reloads: a reload hands it the new generation's
config, engine and workers, and it rebinds only when ``[http]`` itself changed. A port already
taken is logged, not fatal: the mail keeps flowing, and in a fleet on one host another daemon
serves the same figures (they come from the shared database).

Bound with a token, every path wants ``Authorization: Bearer <token>``; ``Basic`` with the
token as the password is accepted too, so a browser can open the board (it asks for it).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import make_wsgi_app
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from waitress import wasyncore
from waitress.server import create_server

from maild.board import board_language, read_board, render_board
from maild.config import Config
from maild.config_http import HttpSettings
from maild.config_table import is_loopback
from maild.db import session_factory
from maild.errors import ConfigError
from maild.exporter import DeskCollector
from maild.health import check_health

log = logging.getLogger("maild.web")

StartResponse = Callable[..., Any]
THREADS = 4
POLL_SECONDS = 0.25  # how soon the serving thread notices it is to stop
# No script, no outside asset, no form: the browser is told so too.
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")


class Site:
    """The WSGI application of one config generation: routes, token check, pages."""

    def __init__(self, config: Config, settings: HttpSettings, sessions: sessionmaker[Session],
                 workers: Sequence[object], *, token: str | None,
                 clock: Callable[[], datetime], since: datetime) -> None:
        self.config = config
        self.settings = settings
        self.sessions = sessions
        self.token = token
        self.clock = clock
        self.since = since
        self.metrics = make_wsgi_app(DeskCollector(config, settings, sessions, workers, clock,
                                                   since))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.token is None and not loopback_host(environ.get("HTTP_HOST", "")):
            # Without a token only this machine may look, and only by a loopback name: a web
            # page that rebinds its own name to 127.0.0.1 (DNS rebinding) reads nothing.
            return _plain(start_response, "403 Forbidden",
                          "use http://127.0.0.1 or http://localhost (no token configured)\n")
        if not self.authorised(environ.get("HTTP_AUTHORIZATION", "")):
            start_response("401 Unauthorized", [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", 'Bearer realm="maild"'),
                ("WWW-Authenticate", 'Basic realm="maild", charset="UTF-8"')])
            return [b"401 Unauthorized: send Authorization: Bearer <token>\n"]
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            return self.metrics(environ, start_response)
        if environ["REQUEST_METHOD"] != "GET":
            return _plain(start_response, "405 Method Not Allowed", "use GET\n",
                          [("Allow", "GET")])
        if path == "/healthz":
            return self.healthz(start_response)
        if path == "/":
            return self.board(environ, start_response)
        return _plain(start_response, "404 Not Found", "not found: /, /metrics, /healthz\n")

    def authorised(self, header: str) -> bool:
        """No token configured, or the right one (compared in constant time)."""
        if self.token is None:
            return True
        scheme, _, value = header.strip().partition(" ")
        given = value.strip()
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(given, validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                return False
        elif scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.encode(), self.token.encode())

    def healthz(self, start_response: StartResponse) -> Iterable[bytes]:
        report = check_health(self.sessions, self.config, self.settings, self.clock(),
                              self.since)
        body = json.dumps(report.as_json(), ensure_ascii=False).encode()
        start_response("200 OK" if report.ok else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
        return [body]

    def board(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        asked = parse_qs(environ.get("QUERY_STRING", "")).get("lang", [None])[0]
        language = board_language(asked, environ.get("HTTP_ACCEPT_LANGUAGE"))
        try:
            with self.sessions() as session:
                board = read_board(session, self.config, self.settings, self.clock(),
                                   self.since)
        except SQLAlchemyError as exc:
            log.warning("board: database did not answer: %s", type(exc).__name__)
            return _plain(start_response, "503 Service Unavailable",
                          f"the database did not answer ({type(exc).__name__}); "
                          f"see /healthz\n", [("Refresh", str(self.settings.refresh_seconds))])
        page = render_board(board, language, self.settings.refresh_seconds).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Language", language),
                                  ("Cache-Control", "no-store"),
                                  ("Content-Security-Policy", PAGE_POLICY),
                                  ("X-Content-Type-Options", "nosniff"),
                                  ("Referrer-Policy", "no-referrer")])
        return [page]


def _plain(start_response: StartResponse, status: str, text: str,
           headers: Sequence[tuple[str, str]] = ()) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), *headers])
    return [text.encode()]


class _Server:
    """A waitress server on a socket bound here, and the daemon thread that runs its poll loop.

    The socket is bound before waitress sees it, so a taken port fails before waitress has
    started its thread pool. waitress's own ``run()`` loops until interrupted; this loop checks
    a stop flag between polls and then closes the sockets and the pool from the same thread,
    which is why it reaches into ``wasyncore`` (waitress's poll loop) and ``task_dispatcher``.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self.map: dict[int, Any] = {}
        try:
            self.server = create_server(app, map=self.map, sockets=[sock], threads=THREADS,
                                        ident="maild", connection_limit=50,
                                        channel_timeout=30, expose_tracebacks=False)
        except BaseException:
            sock.close()
            wasyncore.close_all(self.map)
            raise
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while not self.stopping.is_set():
                wasyncore.loop(timeout=POLL_SECONDS, map=self.map, count=1)
        finally:
            self.server.task_dispatcher.shutdown()
            wasyncore.close_all(self.map)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


class WebService:
    """The HTTP side of a daemon across its config generations."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.since = self.clock()  # a mailbox never synced is stale counting from here
        self._site: Site | None = None
        self._server: _Server | None = None
        self._bound_for: HttpSettings | None = None
        self._token: str | None = None

    @property
    def address(self) -> tuple[str, int] | None:
        """Where it listens (host, port), or None."""
        return self._server.address if self._server is not None else None

    def follow(self, settings: HttpSettings, config: Config, engine: Engine,
               workers: Sequence[object]) -> None:
        """Serve this generation: its config, database and workers (for their counters).
        Binds, or rebinds, only when the address or the token changed."""
        bound = self._bound_for
        rebind = bound is None or (settings.host, settings.port, settings.token) != (
            bound.host, bound.port, bound.token)
        if rebind:
            self.close()
            if settings.host is None:
                log.info("http: not served ([http] listen is empty or enabled = false)")
                return
            if not self._read_token(settings):
                return
        # The site is in place before the port opens: no request finds it missing.
        self._site = Site(config, settings, session_factory(engine), workers,
                          token=self._token, clock=self.clock, since=self.since)
        if rebind and not self._listen(settings):
            self._site = None
            return
        self._bound_for = settings

    def _read_token(self, settings: HttpSettings) -> bool:
        """Read the token now; without it nothing is served (never open without it), and
        nothing is served beyond loopback without a token (``parse_http`` refuses such a
        config; this holds for settings made in code too)."""
        assert settings.host is not None
        if settings.token is None and not is_loopback(settings.host):
            log.error("http: not served: http.token_env: is required when listen is not a "
                      "loopback address (%s)", settings.listen)
            return False
        try:
            self._token = settings.token.reveal() if settings.token else None
        except ConfigError as exc:
            log.error("http: not served: http.token: %s", exc)
            return False
        if settings.token is not None and not self._token:
            log.error("http: not served: http.token: the token is empty")
            return False
        return True

    def _listen(self, settings: HttpSettings) -> bool:
        assert settings.host is not None
        try:
            self._server = _Server(self, settings.host, settings.port)
        except OSError as exc:
            log.error("http: cannot listen on %s (http.listen): %s; /metrics, /healthz and the "
                      "board are not served", settings.listen, exc.strerror or exc)
            return False
        log.info("http: serving /metrics, /healthz and the board on %s%s", settings.listen,
                 " (token required)" if self._token else "")
        return True

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        site = self._site
        if site is None:  # a request that raced close()
            return _plain(start_response, "503 Service Unavailable", "closing\n")
        return site(environ, start_response)

    def close(self) -> None:
        """Stop listening (waits for the serving thread)."""
        if self._server is not None:
            self._server.stop()
        self._server = self._site = self._bound_for = None


def loopback_host(host: str) -> bool:
    """Whether a Host header names this machine by a loopback name or address (any port)."""
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:9310
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    return name in ("localhost", "127.0.0.1", "::1") or name.startswith("127.")
