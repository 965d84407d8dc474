"""Health of the desk: the ``[http]`` settings, the stale-mailbox watch that tells the operator
once per spell when a mailbox stops syncing (a real Dovecot, a settable clock), and what
``maild status`` adds: the checks, the outbox, the queues and the approvals waiting."""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.config import Config, ImapAccount, Secret
from maild.config_http import HttpSettings, parse_http
from maild.config_table import Table
from maild.errors import ConfigError
from maild.health import check_health, status_lines
from maild.ingest import Ingestor
from maild.models import Case, Message, Outbound
from maild.outbound.drafts import add_draft
from maild.sources.imap import FolderWorker
from maild.stages import Stage
from maild.stale_watch import StaleMailboxWatch
from tests.outbound.test_reply_path import Desk, buyer_message, open_desk
from tests.routing.test_route_and_send import SECRET_ENV
from tests.support import DovecotServer, SmtpSink, run_maild

IMAP_PASSWORD_ENV = "MAILD_TEST_HEALTH_IMAP_PASSWORD"


# --------------------------------------------------------------------------- helpers


def ip_notice(n: int, *, to: str = "acme@inbox.advisor.example", hours: int = 72,
              date: str = "Tue, 10 Mar 2026 08:00:00 +0000") -> bytes:
    """An Amazon rights-owner complaint asking for an answer within ``hours`` of ``date``."""
    return (f"From: Amazon <notice-dispute@amazon.de>\r\nTo: {to}\r\n"
            f"Subject: Rights owner complaint about your listing B0HEALTH{n:02d}\r\n"
            f"Date: {date}\r\nMessage-ID: <health-{n}@amazon.de>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nWe received a report "
            f"from a rights owner that your listing ASIN B0HEALTH{n:02d} infringes their "
            f"trademark. Complaint ID: 77{n:04d}.\r\nPlease respond within {hours} hours.\r\n"
            ).encode()


def imap_account(server: DovecotServer, name: str = "platform") -> ImapAccount:
    return ImapAccount(name=name, host=server.host, port=server.port, tls="plain",
                       username=server.user, password=Secret(env=IMAP_PASSWORD_ENV),
                       oauth2_token=None, folders=("INBOX",), connect_timeout=5.0,
                       reconnect_min_seconds=0.2, reconnect_max_seconds=1.0)


def folder_worker(desk: Desk, config: Config) -> FolderWorker:
    """The real fetcher of the config's one IMAP folder (it creates the mailbox row)."""
    ingestor = Ingestor(desk.store, desk.sessions, actor="test")
    return FolderWorker(config.imap[0], "INBOX", ingestor, threading.Event(), owner="test")


class ShiftedClock:
    """The real time plus a shift the test sets: the mailbox rows are stamped with the real
    time by the fetcher, the health checks look at them from ``now + shift``."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def desk(db_url: str, tmp_path: Path, smtp_sink: SmtpSink,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with open_desk(db_url, tmp_path, smtp_sink, monkeypatch) as opened:
        yield opened


@pytest.fixture
def imap_desk(desk: Desk, dovecot: DovecotServer,
              monkeypatch: pytest.MonkeyPatch) -> tuple[Desk, Config]:
    """The desk watching the test Dovecot's INBOX as ``platform/INBOX``."""
    monkeypatch.setenv(IMAP_PASSWORD_ENV, dovecot.password)
    return desk, replace(desk.config, imap=(imap_account(dovecot),))


def table(data: dict[str, object]) -> Table:
    return Table(data, "http.", "maild.toml", Path("/etc/maild"))


# --------------------------------------------------------------------------- [http]


def test_http_settings_default_to_loopback_without_token() -> None:
    """GIVEN no [http] table, or one that only turns it off WHEN parsed THEN the default is
    127.0.0.1:9310 with the 15 and 30 minute thresholds; listen = "" and enabled = false stop
    serving but keep the thresholds (the watch and `maild status` use them)."""
    default = parse_http(None)
    assert (default.host, default.port, default.token, default.served) == (
        "127.0.0.1", 9310, None, True)
    assert (default.stale_mailbox, default.outbox_max_age) == (
        timedelta(minutes=15), timedelta(minutes=30))
    for off in ({"listen": ""}, {"enabled": False, "listen": "0.0.0.0:80"}):
        settings = parse_http(table({**off, "stale_mailbox_minutes": 5}))
        assert not settings.served and settings.stale_mailbox == timedelta(minutes=5)
    v6 = parse_http(table({"listen": "[::1]:9999", "outbox_max_age_minutes": 2.5}))
    assert (v6.host, v6.port, v6.outbox_max_age, v6.listen) == (
        "::1", 9999, timedelta(minutes=2.5), "[::1]:9999")


def test_http_beyond_loopback_needs_a_token() -> None:
    """GIVEN listen on a non-loopback address WHEN no token_env/token_file is given THEN the
    config is refused naming http.token_env; with one it is accepted and keeps only where the
    token lives."""
    with pytest.raises(ConfigError, match=r"^maild.toml: http.token_env: is required .*"
                                          r"'0.0.0.0:9310'"):
        parse_http(table({"listen": "0.0.0.0:9310"}))
    settings = parse_http(table({"listen": "0.0.0.0:9310", "token_env": "MAILD_HTTP_TOKEN"}))
    assert settings.token == Secret(env="MAILD_HTTP_TOKEN")
    assert "MAILD_HTTP_TOKEN" in repr(settings.token)
    by_file = parse_http(table({"listen": "192.0.2.1:9310", "token_file": "http.token"}))
    assert by_file.token == Secret(file=Path("/etc/maild/http.token"))


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"listen": "9310"}, "listen", "must be host:port"),
    ({"listen": "127.0.0.1:99999"}, "listen", "must be host:port"),
    ({"listen": 9310}, "listen", "must be a string, not an integer"),
    ({"stale_mailbox_minutes": 0}, "stale_mailbox_minutes", "minutes above 0"),
    ({"outbox_max_age_minutes": "1h"}, "outbox_max_age_minutes", "must be a number"),
    ({"token_env": "A", "token_file": "b"}, "token_*", "give only one"),
    ({"refresh": 5}, "refresh", "unknown key"),
])
def test_bad_http_keys_are_refused_by_name(data: dict[str, object], key: str,
                                           words: str) -> None:
    """GIVEN a wrong [http] value WHEN parsed THEN one error naming the file and the key."""
    with pytest.raises(ConfigError, match=rf"^maild.toml: http.{key.replace('*', '[*]')}: "
                                          rf".*{words}"):
        parse_http(table(data))


# --------------------------------------------------------------------------- stale mailboxes


def alerts(desk: Desk) -> list[email.message.Message]:
    with desk.sessions() as session:
        digests = session.scalars(select(Message.sha256)
                                  .join(Outbound, Outbound.archived_id == Message.id)
                                  .where(Outbound.kind == "operator_alert")
                                  .order_by(Outbound.id)).all()
    return [email.message_from_bytes(desk.store.get(sha256)) for sha256 in digests]


def test_a_mailbox_that_stops_syncing_alerts_the_operator_once_per_spell(
        imap_desk: tuple[Desk, Config], smtp_sink: SmtpSink) -> None:
    """GIVEN a watched IMAP folder that has never synced WHEN 16 minutes pass THEN the operator
    gets one "Mailbox not syncing" alert, and no second one however often the watch looks; WHEN
    the fetcher then syncs THEN nothing; WHEN it goes 16 minutes without a sync again THEN one
    new alert. Each alert names the mailbox and reaches the operator through the outbox."""
    desk, config = imap_desk
    clock = ShiftedClock()
    clock.shift = -timedelta(minutes=60)
    worker = folder_worker(desk, config)
    watch = StaleMailboxWatch(config, HttpSettings(), desk.store, desk.sessions,
                              threading.Event(), clock=clock)
    assert watch.run_once() == 0
    clock.shift = -timedelta(minutes=44)
    assert [watch.run_once() for _ in range(3)] == [1, 0, 0]

    worker.run_once()  # a real sync, stamped with the real time
    clock.shift = timedelta(minutes=1)
    assert watch.run_once() == 0
    clock.shift = timedelta(minutes=16)
    assert [watch.run_once() for _ in range(2)] == [1, 0]

    found = alerts(desk)
    assert len(found) == 2
    for alert in found:
        assert alert["X-Maild-Alert"] == "stale_mailbox"
        assert alert["Subject"] == "[maild alert][Mailbox not syncing] platform/INBOX"
        assert alert["To"] == "ops@advisor.example"
    desk.work()
    sent = [m for m in smtp_sink.received if "ops@advisor.example" in m.rcpt_tos]
    assert len(sent) == 2 and b"platform/INBOX" in sent[0].content


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_mailbox_removed_from_the_config_is_not_watched(
        imap_desk: tuple[Desk, Config]) -> None:
    """GIVEN a mailbox row whose source is no longer configured WHEN it is hours old THEN
    neither the checks nor the watch count it."""
    desk, config = imap_desk
    folder_worker(desk, config).run_once()
    gone = replace(config, imap=())
    clock = ShiftedClock()
    clock.shift = timedelta(hours=3)
    watch = StaleMailboxWatch(gone, HttpSettings(), desk.store, desk.sessions,
                              threading.Event(), clock=clock)
    assert watch.run_once() == 0
    report = check_health(desk.sessions, gone, HttpSettings(), clock(), clock())
    assert report.ok and report.facts is not None and report.facts.mailboxes == ()
    assert check_health(desk.sessions, config, HttpSettings(), clock(), clock()).ok is False


# --------------------------------------------------------------------------- maild status


def waiting_draft(desk: Desk) -> None:
    """A buyer's message routed, then an advisor's draft for it waiting for li.wei."""
    desk.notice(buyer_message())
    with desk.sessions() as session, session.begin():
        case = session.scalars(select(Case)).one()
        add_draft(session, desk.store, desk.config, case, author="anna@advisor.example",
                  body="Dear Jane, the parcel arrives on Friday.", attachments=(),
                  source=None, now=desk.now, actor="test")
    desk.work()


def test_status_lines_tell_the_checks_outbox_queues_and_approvals(desk: Desk,
                                                                  smtp_sink: SmtpSink) -> None:
    """GIVEN a routed case with a draft waiting 90 minutes and one summary the server refused
    for now WHEN the health report is read THEN the lines say the outbox check fails (the
    summary waited longer than the 30 minutes allowed), name the retry and the approval."""
    smtp_sink.fail_next(451, "4.3.0 try later", times=1)
    waiting_draft(desk)
    now = desk.now + timedelta(minutes=90)
    report = check_health(desk.sessions, desk.config, HttpSettings(), now, now)
    lines = status_lines(report)
    assert lines[0] == "health: FAILING"
    assert "  database: ok: answers" in lines
    assert "  mailboxes: ok: 0 mailbox(es) synced within 15 min" in lines
    assert "  outbox: FAILING: oldest unsent message waited 1 h 30 min (limit 30 min)" in lines
    assert ("outbox: 1 waiting (oldest 1 h 30 min), 1 retrying, 0 failed, 0 held as uncertain"
            in lines)
    assert "approvals waiting: 1" in lines
    assert "  MD-2026-000001 v1 by anna@advisor.example, waiting 1 h 30 min" in lines
    queue = next(line for line in lines if line.startswith("queue outbound: "))
    assert "queued 1" in queue and "sent " in queue
    assert report.as_json()["checks"][2] == {
        "name": "outbox", "ok": False,
        "detail": "oldest unsent message waited 1 h 30 min (limit 30 min)"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_platform_reply_held_as_uncertain_fails_the_outbox_check(desk: Desk) -> None:
    """GIVEN an outbound row held as ``uncertain`` (a platform reply cut off mid-send: only the
    operator can move it) and nothing else waiting WHEN health is checked THEN the outbox check
    fails and says so."""
    waiting_draft(desk)
    with desk.sessions.begin() as session:
        row = session.scalars(select(Outbound).order_by(Outbound.id)).first()
        assert row is not None
        row.stage = Stage.UNCERTAIN.value
    report = check_health(desk.sessions, desk.config, HttpSettings(), desk.now, desk.now)
    (outbox,) = [check for check in report.as_json()["checks"] if check["name"] == "outbox"]
    assert outbox["ok"] is False and "1 platform reply held as uncertain" in outbox["detail"]


def test_health_reports_a_database_that_does_not_answer(tmp_path: Path) -> None:
    """GIVEN a PostgreSQL URL where nothing listens WHEN health is checked THEN the report
    fails on the database alone, naming the error."""
    from maild.db import make_engine, session_factory
    from tests.support import free_port

    engine = make_engine(f"postgresql+psycopg://maild@127.0.0.1:{free_port()}/maild")
    config = Config(path=None, database=str(engine.url), archive_dir=tmp_path)
    now = datetime.now(UTC)
    try:
        report = check_health(session_factory(engine), config, HttpSettings(), now, now)
    finally:
        engine.dispose()
    assert not report.ok and report.facts is None
    [check] = report.checks
    assert check.name == "database" and check.detail.startswith("OperationalError: ")
    assert status_lines(report)[:2] == ["health: FAILING",
                                        f"  database: FAILING: {check.detail}"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_maild_status_prints_the_health_facts(desk: Desk, tmp_path: Path) -> None:
    """GIVEN the desk's config file with [http] thresholds and a draft waiting WHEN
    `maild status` runs THEN it prints the mailbox lines, then the checks, the outbox and the
    approval; `maild health --json` gives the /healthz report and exits 0 while healthy."""
    path = tmp_path / "maild.toml"
    path.write_text(path.read_text(encoding="utf-8")
                    + '\n[http]\nlisten = ""\nstale_mailbox_minutes = 5\n', encoding="utf-8")
    waiting_draft(desk)
    env = {SECRET_ENV: "reply-path-test-secret"}
    result = run_maild(["--config", path, "status"], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["no mailboxes yet", "health: ok", "  database: ok: answers"]
    assert "  mailboxes: ok: 0 mailbox(es) synced within 5 min" in lines
    assert "approvals waiting: 1" in lines
    health = run_maild(["--config", path, "health", "--json"], env)
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout)["checks"][0] == {"name": "database", "ok": True,
                                                      "detail": "answers"}
