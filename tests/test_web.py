"""The HTTP side of ``maild run``, served on a free loopback port over databases built through
the real pipeline: /metrics read back with prometheus_client's parser, /healthz failing and
recovering with a real Dovecot, the bearer token, and the advisors' board rendered by headless
Chromium."""

from __future__ import annotations

import base64
import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

from maild.config import Config, Secret
from maild.config_http import HttpSettings
from maild.db import make_engine
from maild.models import Case, Clock
from maild.outbound.drafts import add_draft
from maild.web import WebService
from tests.outbound.test_reply_path import Desk, buyer_message, open_desk
from tests.routing.test_route_and_send import SECRET_ENV
from tests.support import DovecotServer, SmtpSink, free_port, port_open, spawn_maild
from tests.test_health import (
    IMAP_PASSWORD_ENV,
    ShiftedClock,
    folder_worker,
    imap_account,
    ip_notice,
)

TOKEN_ENV = "MAILD_TEST_HTTP_TOKEN"
TOKEN = "s3cret-board-token"

Response = tuple[int, Mapping[str, str], bytes]


# --------------------------------------------------------------------------- helpers


def get(service: WebService, path: str, headers: Mapping[str, str] | None = None) -> Response:
    """One GET to the service; returns status, headers (names in lower case, repeated ones
    joined by ", ") and body."""
    assert service.address is not None, "the service is not listening"
    host, port = service.address
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        headers = {name.lower(): ", ".join(response.headers.get_all(name) or ())
                   for name in response.headers}
        return response.status, headers, response.read()
    finally:
        connection.close()


def samples(body: bytes) -> dict[str, float]:
    """Every sample of a /metrics page as ``name{label="value",...}`` -> value."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


@pytest.fixture
def desk(db_url: str, tmp_path: Path, smtp_sink: SmtpSink,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with open_desk(db_url, tmp_path, smtp_sink, monkeypatch) as opened:
        yield opened


@pytest.fixture
def engine(desk: Desk) -> Iterator[Engine]:
    """The web's own engine on the desk's database (as a daemon's generation has)."""
    engine = make_engine(desk.config.database)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def serve(engine: Engine) -> Iterator[Callable[..., WebService]]:
    """``serve(config, clock=..., token=..., workers=...)``: a WebService on a free loopback
    port; closed at teardown."""
    services: list[WebService] = []

    def start(config: Config, *, clock: Callable[[], datetime] | None = None,
              settings: HttpSettings | None = None, workers: tuple[object, ...] = ()
              ) -> WebService:
        service = WebService(clock=clock)
        services.append(service)
        service.follow(settings or HttpSettings(port=free_port()), config, engine, workers)
        return service

    try:
        yield start
    finally:
        for service in services:
            service.close()


# --------------------------------------------------------------------------- /metrics


def test_metrics_are_counted_from_the_database(desk: Desk, serve: Callable[..., WebService],
                                               smtp_sink: SmtpSink) -> None:
    """GIVEN an acme notice due in 6 hours whose 4-hour reminder and breach escalation fired,
    and a beta notice whose summary to the client the server deferred (451) 10 minutes ago
    WHEN /metrics is scraped THEN prometheus_client's parser reads exactly: 2 archived, parsed
    and routed; 5 sent, 1 retrying and waiting for 600 s, none failed; 1 reminder and 1
    escalation; the rows per stage; and the database up."""
    desk.notice(ip_notice(1, hours=6))  # due 14:00 UTC; the 4-hour reminder at 10:00
    desk.now += timedelta(minutes=61)
    desk.work()
    desk.now += timedelta(hours=4)
    desk.work()
    smtp_sink.fail_next(451, "4.3.0 try later", times=1)
    desk.notice(ip_notice(2, to="beta@inbox.advisor.example"))
    desk.now += timedelta(minutes=10)
    service = serve(desk.config, clock=lambda: desk.now)

    status, headers, body = get(service, "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=")
    figures = samples(body)
    assert {name: value for name, value in figures.items() if "{" not in name} == {
        "maild_database_up": 1, "maild_messages_archived_total": 2,
        "maild_messages_parsed_total": 2, "maild_messages_routed_total": 2,
        "maild_messages_quarantined": 0, "maild_outbox_sent_total": 5,
        "maild_outbox_failed": 0, "maild_outbox_retrying": 1, "maild_outbox_waiting": 1,
        "maild_outbox_oldest_age_seconds": 600, "maild_reminders_total": 1,
        "maild_escalations_total": 1, "maild_approvals_waiting": 0,
        "maild_approval_oldest_wait_seconds": 0}
    assert {name: value for name, value in figures.items() if "{" in name} == {
        'maild_stage_rows{stage="outgoing",table="message"}': 6,
        'maild_stage_rows{stage="routed",table="message"}': 2,
        'maild_stage_rows{stage="queued",table="outbound"}': 1,
        'maild_stage_rows{stage="sent",table="outbound"}': 5,
        'maild_stage_rows{stage="fired",table="timer"}': 2,
        'maild_stage_rows{stage="scheduled",table="timer"}': 9}


def test_a_database_that_does_not_answer_is_reported_not_hidden(
        desk: Desk, tmp_path: Path) -> None:
    """GIVEN a service whose PostgreSQL does not listen WHEN scraped THEN /metrics says
    maild_database_up 0, /healthz answers 503 naming the database, and the board 503."""
    away = make_engine(f"postgresql+psycopg://maild@127.0.0.1:{free_port()}/maild")
    service = WebService()
    try:
        service.follow(HttpSettings(port=free_port()), desk.config, away, ())
        status, _headers, body = get(service, "/metrics")
        assert status == 200 and samples(body) == {"maild_database_up": 0}
        status, _headers, body = get(service, "/healthz")
        report = json.loads(body)
        assert status == 503 and report["ok"] is False
        assert [c["name"] for c in report["checks"]] == ["database"]
        assert report["checks"][0]["detail"].startswith("OperationalError: ")
        status, _headers, body = get(service, "/")
        assert status == 503 and b"database did not answer" in body
    finally:
        service.close()
        away.dispose()


# --------------------------------------------------------------------------- /healthz


@pytest.fixture
def watched(desk: Desk, dovecot: DovecotServer,
            monkeypatch: pytest.MonkeyPatch) -> tuple[Desk, Config]:
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    return desk, replace(desk.config, imap=(imap_account(dovecot),))


def test_healthz_fails_while_dovecot_is_away_and_recovers(
        watched: tuple[Desk, Config], dovecot: DovecotServer,
        serve: Callable[..., WebService]) -> None:
    """GIVEN a mailbox that synced WHEN /healthz is asked THEN 200; WHEN Dovecot is stopped, a
    sync fails and 16 minutes pass THEN 503 naming the mailbox and its error, and /metrics
    marks it stale; WHEN Dovecot is back and a sync succeeds THEN 200 again."""
    desk, config = watched
    clock = ShiftedClock()
    worker = folder_worker(desk, config)
    worker.run_once()
    service = serve(config, clock=clock)
    status, headers, body = get(service, "/healthz")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert json.loads(body)["ok"] is True

    dovecot.stop()
    with pytest.raises(ConnectionRefusedError):
        worker.run_once()
    clock.shift = timedelta(minutes=16)
    status, _headers, body = get(service, "/healthz")
    report = json.loads(body)
    assert status == 503 and report["ok"] is False
    mailboxes = next(c for c in report["checks"] if c["name"] == "mailboxes")
    assert mailboxes["ok"] is False
    assert mailboxes["detail"].startswith("platform/INBOX: no sync for over 15 min (last error: "
                                          "ConnectionRefusedError")
    figures = samples(get(service, "/metrics")[2])
    assert figures['maild_mailbox_stale{mailbox="platform/INBOX"}'] == 1
    assert figures['maild_mailbox_last_sync_age_seconds{mailbox="platform/INBOX"}'] >= 16 * 60

    dovecot.start()
    worker.run_once()
    clock.shift = timedelta(0)
    status, _headers, body = get(service, "/healthz")
    assert status == 200 and json.loads(body)["ok"] is True
    assert samples(get(service, "/metrics")[2])[
        'maild_mailbox_stale{mailbox="platform/INBOX"}'] == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_imap_reconnects_are_counted(watched: tuple[Desk, Config], dovecot: DovecotServer,
                                     serve: Callable[..., WebService]) -> None:
    """GIVEN the fetcher running against Dovecot WHEN Dovecot goes away for a while THEN
    /metrics counts the fetcher's reconnects for its mailbox, and they stop growing once it is
    back."""
    desk, config = watched
    worker = folder_worker(desk, config)
    service = serve(config, workers=(worker,))
    name = 'maild_imap_reconnects_total{mailbox="platform/INBOX"}'
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert samples(get(service, "/metrics")[2])[name] == 0
        dovecot.stop()
        deadline = time.monotonic() + 20
        while samples(get(service, "/metrics")[2])[name] < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert samples(get(service, "/metrics")[2])[name] >= 2
        dovecot.start()
        time.sleep(2.5)  # above reconnect_max_seconds: it is connected again
        settled = samples(get(service, "/metrics")[2])[name]
        time.sleep(1.5)
        assert samples(get(service, "/metrics")[2])[name] == settled
    finally:
        worker.stop.set()
        thread.join(30)


# --------------------------------------------------------------------------- the token


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bound_token_is_required_on_every_path(desk: Desk, serve: Callable[..., WebService],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the service bound with a token WHEN asked without it, with a wrong one or another
    scheme THEN 401 with the Bearer and Basic challenges on /, /metrics and /healthz; with
    ``Bearer <token>`` (or Basic with the token as password, for browsers) THEN served."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    service = serve(desk.config, settings=HttpSettings(port=free_port(),
                                                       token=Secret(env=TOKEN_ENV)))
    basic = base64.b64encode(f"advisor:{TOKEN}".encode()).decode()
    wrong_basic = base64.b64encode(b"advisor:guess").decode()
    for path in ("/", "/metrics", "/healthz", "/nothing"):
        for headers in ({}, {"Authorization": "Bearer guess"},
                        {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN},
                        {"Authorization": f"Token {TOKEN}"},
                        {"Authorization": f"Basic {wrong_basic}"},
                        {"Authorization": "Basic not-base64!"}):
            status, answer, body = get(service, path, headers)
            assert status == 401, (path, headers)
            assert b"Unauthorized" in body and TOKEN.encode() not in body
            assert answer["www-authenticate"] == ('Bearer realm="maild", '
                                                  'Basic realm="maild", charset="UTF-8"')
    assert get(service, "/healthz", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert get(service, "/metrics", {"Authorization": f"bearer {TOKEN}"})[0] == 200
    assert get(service, "/", {"Authorization": f"Basic {basic}"})[0] == 200
    assert get(service, "/nothing", {"Authorization": f"Bearer {TOKEN}"})[0] == 404


def test_a_token_that_cannot_be_read_means_nothing_is_served(
        desk: Desk, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN [http] with token_env naming an unset variable WHEN the service starts THEN it
    does not listen at all (never serves without the token) and logs why, naming the key."""
    port = free_port()
    service = WebService()
    service.follow(HttpSettings(port=port, token=Secret(env="MAILD_TEST_NO_SUCH_TOKEN")),
                   desk.config, engine, ())
    try:
        assert service.address is None and not port_open(port)
        assert "http.token: environment variable MAILD_TEST_NO_SUCH_TOKEN is not set" \
            in caplog.text
    finally:
        service.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_server_follows_reloads_and_a_taken_port_is_not_fatal(
        desk: Desk, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN the port held by another program WHEN the service follows the config THEN it
    logs that it cannot listen (naming http.listen) and serves nothing, without raising; WHEN
    the port is free at the next reload THEN it listens; a reload with the same address keeps
    the socket and serves the new settings, a new port moves it, [http] off closes it, and an
    address beyond loopback without a token is never served."""
    port = free_port()
    service = WebService()
    settings = HttpSettings(port=port)
    try:
        with socket.create_server(("127.0.0.1", port)):
            service.follow(settings, desk.config, engine, ())
            assert service.address is None
        assert f"cannot listen on 127.0.0.1:{port} (http.listen)" in caplog.text
        service.follow(settings, desk.config, engine, ())
        assert service.address == ("127.0.0.1", port)
        assert get(service, "/healthz")[0] == 200
        service.follow(replace(settings, refresh_seconds=5), desk.config, engine, ())
        assert service.address == ("127.0.0.1", port)  # same address: kept, not rebound
        assert b'content="5"' in get(service, "/")[2]
        moved = replace(settings, port=free_port())
        service.follow(moved, desk.config, engine, ())
        assert service.address == ("127.0.0.1", moved.port) and not port_open(port)
        service.follow(replace(settings, host=None), desk.config, engine, ())
        assert service.address is None and not port_open(moved.port)
        service.follow(replace(settings, host="0.0.0.0"), desk.config, engine, ())
        assert service.address is None and "http.token_env: is required" in caplog.text
    finally:
        service.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_only_get_is_answered(desk: Desk, serve: Callable[..., WebService]) -> None:
    """GIVEN the service WHEN a POST arrives THEN 405 (the board changes nothing)."""
    service = serve(desk.config)
    assert service.address is not None
    connection = http.client.HTTPConnection(*service.address, timeout=10)
    try:
        connection.request("POST", "/", body=b"x")
        response = connection.getresponse()
        assert (response.status, response.getheader("Allow")) == (405, "GET")
    finally:
        connection.close()


# --------------------------------------------------------------------------- the board


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_a_token_only_a_loopback_name_is_answered(
        desk: Desk, serve: Callable[..., WebService]) -> None:
    """GIVEN the service on loopback without a token WHEN a request names another host (a page
    that rebound its own name to 127.0.0.1: DNS rebinding) THEN 403 on every path; by
    127.0.0.1 or localhost THEN answered."""
    service = serve(desk.config)
    for path in ("/", "/metrics", "/healthz"):
        status, _headers, _body = get(service, path, {"Host": "evil.example:9310"})
        assert status == 403, path
    for host in ("127.0.0.1:9310", "localhost", "[::1]:9310"):
        status, _headers, _body = get(service, "/metrics", {"Host": host})
        assert status == 200, host


HOURS = (6, 24, 96, 2, 48, 12, 30, 1, 60, 5, 36)  # with a buyer's message: a dozen cases
CLIENTS = ("acme@inbox.advisor.example", "beta@inbox.advisor.example",
           "nobody@inbox.advisor.example")
LONG_TOPIC = ("Rights owner complaint about <b>your</b> listing & "
              + "AVeryLongStoreListingTitleWithoutAnySpaceAtAllThatMustStillWrap" * 3)


def dozen_cases(desk: Desk) -> None:
    """Twelve open cases for three kinds of sender (acme, beta, matched by nobody) with
    deadlines from 1 to 96 hours after 08:00; at 11:00 those due by then are overdue and
    escalated, and the buyer's case has a draft waiting for its decision-maker."""
    for n, hours in enumerate(HOURS, start=1):
        raw = ip_notice(n, to=CLIENTS[n % 3], hours=hours)
        if n == 4:
            raw = raw.replace(b"Subject: Rights owner complaint about your listing B0HEALTH04",
                              f"Subject: {LONG_TOPIC}".encode())
        desk.notice(raw)
    desk.notice(buyer_message(7))
    with desk.sessions() as session, session.begin():
        case = session.scalars(select(Case).where(Case.category == "buyer_message")).one()
        add_draft(session, desk.store, desk.config, case, author="anna@advisor.example",
                  body="Dear Jane, the parcel arrives on Friday.", attachments=(),
                  source=None, now=desk.now, actor="test")
    desk.now = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    desk.work()


def nearest_first(desk: Desk) -> list[str]:
    """The open tickets by their nearest running clock, computed here from the clock rows."""
    with desk.sessions() as session:
        due: dict[str, datetime] = {}
        for ticket, at in session.execute(select(Case.ticket, Clock.due_at)
                                          .join(Clock, Clock.case_id == Case.id)
                                          .where(Clock.stopped_at.is_(None))):
            due[ticket] = min(at, due.get(ticket, at))
        tickets = session.scalars(select(Case.ticket)).all()
    return sorted(tickets, key=lambda t: (t not in due, due.get(t, datetime.max), t))


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("headless Chromium not found: install Debian's `chromium` package "
                    "(./scripts/test.sh does)")
    return found


def render(tmp_path: Path, url: str, *, screenshot: Path | None = None) -> str:
    """The DOM of ``url`` after Chromium loaded and laid it out in a 1000 px wide window."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium'}",
               "--window-size=1000,2400"]
    command += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


# Measures the page as laid out: anything wider than the window, or a cell whose content is
# wider than the cell, is listed in data-overflow.
MEASURE = """<script>
const width = document.documentElement.clientWidth, found = [];
for (const el of document.querySelectorAll("body *")) {
  const box = el.getBoundingClientRect();
  if (box.right > width + 0.5 || el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
      && getComputedStyle(el).display !== "inline")
    found.push(el.tagName + ":" + el.textContent.trim().slice(0, 40));
}
document.body.dataset.width = width;
document.body.dataset.scroll = document.documentElement.scrollWidth;
document.body.dataset.overflow = JSON.stringify(found);
</script>"""


def measured(tmp_path: Path, page: bytes, name: str) -> dict[str, str]:
    """Lay out ``page`` (as served, plus the measuring script) and read the measures."""
    copy = tmp_path / name
    copy.write_bytes(page.replace(b"</body>", MEASURE.encode() + b"</body>"))
    dom = render(tmp_path, copy.as_uri())
    body = re.search(r"<body ([^>]*)>", dom)
    assert body is not None, dom[:500]
    return {key: html.unescape(value)
            for key, value in re.findall(r'data-(\w+)="([^"]*)"', body.group(1))}


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_board_in_chromium(desk: Desk, serve: Callable[..., WebService],
                               tmp_path: Path) -> None:
    """GIVEN a dozen open cases of three clients, two overdue and escalated, one draft waiting
    WHEN headless Chromium opens the board THEN every case is listed nearest deadline first,
    overdue ones on top and marked, the approval and the escalations are shown, markup in a
    subject is shown as text, and at 1000 px nothing sticks out of the window or of its cell,
    in English and in Chinese."""
    dozen_cases(desk)
    service = serve(desk.config, clock=lambda: desk.now)
    assert service.address is not None
    host, port = service.address
    dom = render(tmp_path, f"http://{host}:{port}/")

    rows = re.findall(r'<tr data-ticket="([^"]+)" data-due="([^"]*)"( class="overdue")?', dom)
    assert len(rows) == 12
    assert [ticket for ticket, _due, _late in rows] == nearest_first(desk)
    dues = [due for _ticket, due, _late in rows]
    assert dues == sorted(dues) and all(dues)
    overdue = [ticket for ticket, _due, late in rows if late]
    assert len(overdue) == 2 and overdue == [rows[0][0], rows[1][0]]
    assert "overdue by" in dom and "Open cases, nearest deadline first (12)" in dom
    approvals = re.search(r'<section id="approvals">.*?</section>', dom, re.S)
    assert approvals is not None and "li.wei@acme.example" in approvals.group(0)
    assert "v1" in approvals.group(0) and "2 h 0 min" in approvals.group(0)
    escalations = re.findall(r'<section id="escalations">.*?</section>', dom, re.S)[0]
    assert escalations.count("<tr data-ticket=") == 2
    assert "platform deadline breached" in escalations
    assert "&lt;b&gt;your&lt;/b&gt; listing &amp;" in dom and "<b>your</b>" not in dom
    assert "<script" not in dom

    page_en = get(service, "/")[2]
    page_zh = get(service, "/?lang=zh")[2]
    assert "顾问看板".encode() in page_zh and "已超时".encode() in page_zh
    for page, name in ((page_en, "board-en.html"), (page_zh, "board-zh.html")):
        layout = measured(tmp_path, page, name)
        assert 950 <= int(layout["width"]) <= 1000
        assert int(layout["scroll"]) == int(layout["width"]), layout
        assert json.loads(layout["overflow"]) == [], layout["overflow"]
    picture = tmp_path / "board.png"
    render(tmp_path, f"http://{host}:{port}/", screenshot=picture)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("MAILD_BOARD_SCREENSHOT"):  # to look at it: where to copy it
        shutil.copy(picture, os.environ["MAILD_BOARD_SCREENSHOT"])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_board_speaks_the_browsers_language(desk: Desk,
                                                serve: Callable[..., WebService]) -> None:
    """GIVEN no ?lang= WHEN the browser prefers Chinese THEN the board is in Chinese; WHEN it
    prefers a language the board lacks THEN English; ?lang= wins over the browser. The page is
    self-contained: the policy header allows no script and nothing from elsewhere, and it
    reloads itself."""
    service = serve(desk.config, settings=HttpSettings(port=free_port(), refresh_seconds=45))
    status, headers, body = get(service, "/", {"Accept-Language": "de;q=1, zh-CN;q=0.8, en;q=0.5"})
    assert status == 200 and headers["content-language"] == "zh"
    assert b'<html lang="zh">' in body
    assert b'<meta http-equiv="refresh" content="45">' in body
    assert get(service, "/", {"Accept-Language": "fr"})[1]["content-language"] == "en"
    assert get(service, "/?lang=en", {"Accept-Language": "zh"})[1]["content-language"] == "en"
    assert headers["content-security-policy"].startswith("default-src 'none'; style-src")
    assert not re.search(rb"""(src|href)=["']?(https?:)?//""", body)


# --------------------------------------------------------------------------- the daemon


@pytest.mark.slow
def test_maild_run_serves_and_stops(tmp_path: Path, smtp_sink: SmtpSink,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a config with [http] on a free loopback port WHEN `maild run` starts THEN /healthz
    answers 200 and /metrics has the database up; WHEN SIGTERM THEN it exits 0 and the port is
    closed."""
    port = free_port()
    with open_desk(f"sqlite:///{tmp_path / 'maild.sqlite3'}", tmp_path, smtp_sink,
                   monkeypatch):
        pass  # writes maild.toml and migrates the database
    config = tmp_path / "maild.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + f'\n[http]\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8")
    proc = spawn_maild(["--config", config, "run"], {SECRET_ENV: "x"})
    try:
        deadline = time.monotonic() + 30
        while not port_open(port) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["ok"] is True
        connection.request("GET", "/metrics")
        assert b"maild_database_up 1.0" in connection.getresponse().read()
        connection.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, output
    assert f"http: serving /metrics, /healthz and the board on 127.0.0.1:{port}" in output
    assert not port_open(port)
