"""The send step against SMTP faults on a real server: a connection cut after DATA is retried
with the same Message-ID; a ``maild run`` killed -9 while the server holds back its 250 sends
that row again after a restart (same Message-ID, said in the log) and nothing else twice."""

from __future__ import annotations

import email
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.config import load_config
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Incoming
from maild.models import AuditEvent, Outbound, Receipt
from maild.outbound.send_step import MAX_ATTEMPTS
from tests.ingestion.conftest import wait_until
from tests.outbound.servers import DropAfterData
from tests.routing.test_route_and_send import CONFIG, SECRET_ENV, Pipeline, notice
from tests.support import SmtpSink

Spawn = Callable[..., subprocess.Popen[bytes]]


def message_ids(sink: SmtpSink) -> Counter[str]:
    return Counter(str(email.message_from_bytes(m.content)["Message-ID"]) for m in sink.received)


@pytest.fixture
def relayed(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Pipeline, DropAfterData]]:
    """A pipeline whose [smtp] goes through a relay that cuts the first connection right after
    the end of DATA (the sink keeps the message, its 250 never reaches maild)."""
    monkeypatch.setenv(SECRET_ENV, "faults-test-secret")
    with DropAfterData(smtp_sink.port, drops=1) as relay:
        path = tmp_path / "maild.toml"
        path.write_text(CONFIG.format(database=sqlite_url, root=tmp_path, port=relay.port,
                                      secret_env=SECRET_ENV), encoding="utf-8")
        config = load_config(path)
        upgrade(config.database)
        engine = make_engine(config.database)
        yield Pipeline(config, session_factory(engine)), relay
        engine.dispose()


def test_a_connection_dropped_after_data_is_queued_again_and_resent_with_its_message_id(
        relayed: tuple[Pipeline, DropAfterData], smtp_sink: SmtpSink) -> None:
    """GIVEN the connection of the first send is cut after the final dot WHEN a notice is
    routed and sent THEN that summary is back at ``queued`` with a ``next_try_at`` in the
    future, an error and no receipt, the other summary is sent; WHEN its retry is due THEN it
    is sent with the same Message-ID and bytes and gets its receipt."""
    routing, _relay = relayed
    routing.deliver(notice("acme@inbox.advisor.example"))
    rows = routing.outbound()
    assert sorted(row.stage for row in rows) == ["queued", "sent"]
    waiting = next(row for row in rows if row.stage == "queued")
    assert waiting.next_try_at is not None and waiting.next_try_at > routing.now
    assert waiting.error and waiting.attempts == 1
    first = next(m for m in smtp_sink.received
                 if email.message_from_bytes(m.content)["Message-ID"] == waiting.message_id)
    with routing.sessions() as session:
        assert not session.scalars(select(Receipt).where(
            Receipt.outbound_id == waiting.id)).all()

    routing.runners[2].drain()  # not yet due: nothing happens
    assert message_ids(smtp_sink)[waiting.message_id] == 1
    routing.now = waiting.next_try_at + timedelta(seconds=1)
    routing.runners[2].drain()
    again = routing.outbound()
    assert {row.stage for row in again} == {"sent"}
    assert message_ids(smtp_sink)[waiting.message_id] == 2
    second = smtp_sink.received[-1]
    assert second.content == first.content
    with routing.sessions() as session:
        [receipt] = session.scalars(select(Receipt).where(Receipt.outbound_id == waiting.id))
    assert receipt.code == 250 and receipt.queue_id == second.queue_id


DAEMON_CONFIG = """
[maild]
database = "sqlite:///{root}/maild.db"
archive_dir = "{root}/archive"
secret_env = "KILL_TEST_SECRET"
stage_poll_seconds = 600

[[maildir]]
name = "platform"
path = "{root}/inbox"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "plain"
timeout = 60
from = "Advisor Desk <desk@advisor.example>"
reply_address = "desk+{{token}}@advisor.example"
operator = ["ops@advisor.example"]

[[client]]
id = "acme"
name = "Acme Lighting"
languages = ["zh", "en"]
timezone = "Asia/Shanghai"
calendar = "CN"
hours = "09:00-21:00"
decision_maker = "li.wei@acme.example"
summary_to = ["ops@acme.example"]
advisors = ["anna@advisor.example"]

[[client.store]]
platform = "amazon"
name = "AcmeLight EU"
addresses = ["acme@inbox.advisor.example"]
"""


def outbound_rows(sessions: sessionmaker[Session]) -> list[Outbound]:
    with sessions() as session:
        return list(session.scalars(select(Outbound).order_by(Outbound.id)))


def start(maild_process: Spawn, config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = maild_process(["--config", config, "run"], {"KILL_TEST_SECRET": "kill-secret"},
                             stdout=out, stderr=subprocess.STDOUT)
    assert wait_until(lambda: "started workers" in log.read_text(), 60), log.read_text()
    return proc


@pytest.mark.slow
def test_kill_9_while_the_server_holds_the_250_resends_that_row_once_after_restart(
        tmp_path: Path, smtp_sink: SmtpSink, maild_process: Spawn) -> None:
    """GIVEN ``maild run`` sending a notice's two summaries, the first answered 250 at once,
    the second held by the server after its data WHEN the daemon is killed -9 in that moment
    THEN the first is recorded ``sent`` with its receipt and the second is left ``sending``;
    WHEN maild runs again THEN the second is sent again with the same Message-ID and bytes, the
    log says the send was interrupted and is done again, every outbound row ends ``sent`` with
    a 250 receipt, and the first summary did not reach the server twice."""
    config = tmp_path / "maild.toml"
    config.write_text(DAEMON_CONFIG.format(root=tmp_path, port=smtp_sink.port), encoding="utf-8")
    engine = make_engine(load_config(config).database)
    sessions = session_factory(engine)
    smtp_sink.delay_reply(60, after=1)
    first_log = tmp_path / "first.log"
    proc = start(maild_process, config, first_log)
    delivering = tmp_path / "inbox" / "tmp" / "1.notice"  # a Maildir delivery: tmp/, then new/
    # Dated now, so its deadline (72 h) and SLA lie ahead: no breach escalation joins the sends.
    delivering.write_bytes(notice("acme@inbox.advisor.example").replace(
        b"Tue, 10 Mar 2026 08:00:00 +0000", format_datetime(datetime.now(UTC)).encode()))
    delivering.rename(tmp_path / "inbox" / "new" / "1.notice")
    assert wait_until(lambda: len(smtp_sink.received) >= 2, 60), first_log.read_text()
    first, held = smtp_sink.received
    proc.kill()
    proc.wait()
    first_id, held_id = (str(email.message_from_bytes(m.content)["Message-ID"])
                         for m in (first, held))
    rows = outbound_rows(sessions)
    assert {row.message_id: row.stage for row in rows} == {first_id: "sent",
                                                             held_id: "sending"}

    second_log = tmp_path / "second.log"
    start(maild_process, config, second_log)
    assert wait_until(lambda: {r.stage for r in outbound_rows(sessions)} == {"sent"}, 60), \
        second_log.read_text()[-3000:]
    log_text = second_log.read_text()
    assert "was interrupted" in log_text and "doing it again" in log_text, log_text[-3000:]
    assert message_ids(smtp_sink) == Counter({first_id: 1, held_id: 2})
    resent = [m for m in smtp_sink.received
              if email.message_from_bytes(m.content)["Message-ID"] == held_id]
    assert resent[0].content == resent[1].content
    with sessions() as session:
        codes = {r.outbound_id: r.code for r in session.scalars(select(Receipt))}
        sent_events = session.scalars(select(AuditEvent.subject)
                                      .where(AuditEvent.action == "sent")).all()
    engine.dispose()
    assert codes == {row.id: 250 for row in rows}
    assert sorted(sent_events) == sorted(row.message_id for row in rows)


@pytest.fixture
def two_contacts(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """A pipeline whose client Acme has two summary recipients."""
    monkeypatch.setenv(SECRET_ENV, "faults-test-secret")
    path = tmp_path / "maild.toml"
    path.write_text(CONFIG.format(database=sqlite_url, root=tmp_path, port=smtp_sink.port,
                                  secret_env=SECRET_ENV).replace(
        'summary_to = ["ops@acme.example"]',
        'summary_to = ["ops@acme.example", "li@acme.example"]'), encoding="utf-8")
    config = load_config(path)
    upgrade(config.database)
    engine = make_engine(config.database)
    yield Pipeline(config, session_factory(engine))
    engine.dispose()


def test_a_recipient_refused_for_now_gets_the_summary_on_retry_and_no_one_twice(
        two_contacts: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a server that greylists the first RCPT (450) and takes the second WHEN the
    client's summary to both is sent THEN the second has it, the receipt names the refused
    one, and the row waits for its retry; WHEN the retry is due THEN the greylisted recipient
    gets the same message (same Message-ID) and the other one does not get it again."""
    routing = two_contacts
    smtp_sink.fail_next(450, "4.2.0 greylisted, try again", stage="RCPT")
    routing.deliver(notice("acme@inbox.advisor.example"))
    client_row = next(row for row in routing.outbound() if row.kind == "summary:client")
    got = [(rcpt, m) for m in smtp_sink.received for rcpt in m.rcpt_tos]
    assert "li@acme.example" in [rcpt for rcpt, _ in got]
    assert "ops@acme.example" not in [rcpt for rcpt, _ in got]
    assert client_row.stage == "queued" and client_row.next_try_at is not None
    with routing.sessions() as session:
        [receipt] = session.scalars(select(Receipt).where(Receipt.outbound_id == client_row.id))
    assert receipt.refused == {"ops@acme.example": "450 4.2.0 greylisted, try again"}

    routing.now = client_row.next_try_at + timedelta(seconds=1)
    routing.runners[2].drain()
    got = [(rcpt, str(email.message_from_bytes(m.content)["Message-ID"]))
           for m in smtp_sink.received for rcpt in m.rcpt_tos]
    assert got.count(("ops@acme.example", client_row.message_id)) == 1
    assert got.count(("li@acme.example", client_row.message_id)) == 1
    assert {row.stage for row in routing.outbound()} == {"sent"}


def test_a_recipient_refused_for_good_is_reported_to_the_operator(
        two_contacts: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a server that refuses the first RCPT with 550 and takes the second WHEN the
    client's summary to both is sent THEN the row is sent (the other recipient has it) with
    the refusal on its receipt, and the operator is alerted that one recipient never got it."""
    routing = two_contacts
    smtp_sink.fail_next(550, "5.1.1 no such user", stage="RCPT")
    routing.deliver(notice("acme@inbox.advisor.example"))
    rows = routing.outbound()
    assert {row.kind: row.stage for row in rows} == {
        "summary:client": "sent", "summary:advisor": "sent", "operator_alert": "sent"}
    alert = next(m for m in smtp_sink.received if "ops@advisor.example" in m.rcpt_tos)
    assert b"ops@acme.example" in alert.content and b"5.1.1 no such user" in alert.content


def test_temporary_failures_give_up_after_the_last_attempt_and_alerts_never_alert(
        two_contacts: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a server answering every DATA with 451 WHEN a notice's two summaries are retried
    each time their backoff is due THEN after MAX_ATTEMPTS each is ``failed`` with one 451
    receipt per attempt, the backoff grew every time, and the operator got one alert per row;
    GIVEN a server refusing everything with 550 WHEN the next summaries and then their alerts
    fail THEN the failed alerts are not alerted about (no loop) and the outbox runs dry."""
    routing = two_contacts
    smtp_sink.fail_next(451, "4.3.0 try later", times=2 * MAX_ATTEMPTS)
    routing.deliver(notice("acme@inbox.advisor.example"))
    gaps = []
    for _ in range(MAX_ATTEMPTS - 1):
        due = max(row.next_try_at for row in routing.outbound() if row.next_try_at)
        gaps.append(due - routing.now)
        routing.now = due + timedelta(seconds=1)
        routing.runners[2].drain()
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1]
    rows = {row.kind: row for row in routing.outbound()}
    assert rows["summary:client"].stage == rows["summary:advisor"].stage == "failed"
    assert rows["summary:client"].attempts == MAX_ATTEMPTS
    with routing.sessions() as session:
        codes = session.scalars(select(Receipt.code).where(
            Receipt.outbound_id == rows["summary:advisor"].id)).all()
    assert codes == [451] * MAX_ATTEMPTS
    alerts = [m for m in smtp_sink.received if "ops@advisor.example" in m.rcpt_tos]
    assert len(alerts) == 2

    smtp_sink.clear()
    smtp_sink.fail_next(550, "5.7.1 go away", times=4)  # two summaries, then their two alerts
    routing.deliver(notice("acme@inbox.advisor.example", n=2, complaint="2222222222"))
    kinds = Counter((row.kind, row.stage) for row in routing.outbound())
    assert kinds[("operator_alert", "failed")] == 2
    assert kinds[("operator_alert", "sent")] == 2  # those of the first notice
    assert smtp_sink.received == []


@pytest.mark.parametrize("damage", ["missing", "altered"])
def test_an_archived_copy_that_is_gone_or_altered_is_not_sent_and_the_operator_is_told(
        two_contacts: Pipeline, smtp_sink: SmtpSink, damage: str) -> None:
    """GIVEN a queued summary whose archived bytes were deleted, or changed on disk after it
    was queued WHEN the send step takes it THEN nothing different from what was archived is
    ever sent: the row is ``failed`` with an error naming the archive, and the operator is
    alerted."""
    routing = two_contacts
    parse, route, send = routing.runners
    routing.ingestor.ingest([Incoming(raw=notice("acme@inbox.advisor.example"),
                                      origin="test:damaged")])
    parse.drain()
    route.drain()
    with routing.sessions() as session:
        row = session.scalars(select(Outbound).where(Outbound.kind == "summary:advisor")).one()
        path = routing.store.path_for(row.archived.sha256)
    if damage == "missing":
        path.unlink()
    else:
        path.chmod(0o644)
        path.write_bytes(path.read_bytes().replace(b"Rights owner", b"Rights 0wner"))
    send.drain()
    stages = {r.kind: (r.stage, r.error or "") for r in routing.outbound()}
    assert stages["summary:advisor"][0] == "failed"
    assert row.archived.sha256 in stages["summary:advisor"][1]
    assert stages["operator_alert"][0] == "sent"
    assert all("anna@advisor.example" not in m.rcpt_tos for m in smtp_sink.received)
