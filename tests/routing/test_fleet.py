"""Two daemons sharing one PostgreSQL: the send step of each claims its rows with ``SKIP
LOCKED``, so every outbound row reaches the server exactly once; the route steps of both draw
ticket numbers that never collide."""

from __future__ import annotations

import email
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.config import load_config
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Incoming
from maild.models import Case, Outbound
from maild.outbound.send_step import SendStep
from maild.routing.route_step import RouteStep
from maild.stages import StepRunner
from tests.ingestion.conftest import wait_until
from tests.routing.test_route_and_send import CONFIG, SECRET_ENV, Pipeline, notice
from tests.support import SmtpSink

NOTICES = 10  # x (client, advisor) = 20 summaries
Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def fleet(postgres_url: str, tmp_path: Path, smtp_sink: SmtpSink,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    monkeypatch.setenv(SECRET_ENV, "fleet-test-secret")
    path = tmp_path / "maild.toml"
    path.write_text(CONFIG.format(database=postgres_url, root=tmp_path, port=smtp_sink.port,
                                  secret_env=SECRET_ENV), encoding="utf-8")
    config = load_config(path)
    upgrade(config.database)
    engine = make_engine(config.database)
    yield Pipeline(config, session_factory(engine))
    engine.dispose()


def in_parallel(*jobs: StepRunner) -> list[int]:
    """Drain each runner in its own thread, all starting together; returns their counts."""
    counts = [0] * len(jobs)
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def work(i: int, runner: StepRunner) -> None:
        start.wait()
        try:
            counts[i] = runner.drain()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, r)) for i, r in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return counts


def distinct_notices() -> list[Incoming]:
    return [Incoming(raw=notice("acme@inbox.advisor.example", n=n, complaint=f"{n:010d}")
                     .replace(b"Subject: Rights owner complaint about your listing",
                              f"Subject: Rights owner complaint {n}".encode()),
                     origin=f"test:{n}") for n in range(NOTICES)]


def test_two_send_steps_on_postgresql_send_each_outbound_row_once(
        fleet: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN 20 queued summaries on PostgreSQL WHEN the send steps of two daemons (different
    node owners) drain the outbox at the same time against a server that answers each message
    after 50 ms THEN both took a share, every row is ``sent`` after one attempt with one
    receipt, and the server got each Message-ID exactly once."""
    fleet.ingestor.ingest(distinct_notices())
    parse, route, _send = fleet.runners
    parse.drain()
    route.drain()
    rows = fleet.outbound()
    assert len(rows) == 2 * NOTICES and {row.stage for row in rows} == {"queued"}
    smtp_sink.delay_reply(0.05, times=2 * NOTICES)
    config = fleet.send_step.config
    nodes = [StepRunner(SendStep(config, fleet.store, fleet.sessions), fleet.sessions,
                        batch=2, owner=f"node-{name}:1:{name}") for name in "ab"]
    counts = in_parallel(*nodes)
    assert sum(counts) == 2 * NOTICES and min(counts) > 0, counts
    sent = Counter(str(email.message_from_bytes(m.content)["Message-ID"])
                   for m in smtp_sink.received)
    assert sent == Counter({row.message_id: 1 for row in rows})
    with fleet.sessions() as session:
        after = session.scalars(select(Outbound)).all()
        assert {(row.stage, row.attempts, len(row.receipts)) for row in after} == {("sent", 1, 1)}


def test_two_route_steps_on_postgresql_draw_distinct_ticket_numbers(
        fleet: Pipeline) -> None:
    """GIVEN 10 parsed notices of unrelated matters WHEN the route steps of two daemons route
    them at the same time THEN there are 10 cases with 10 distinct, gapless ticket numbers."""
    fleet.ingestor.ingest(distinct_notices())
    fleet.runners[0].drain()
    config = fleet.send_step.config
    clock = lambda: fleet.now  # noqa: E731
    in_parallel(*(StepRunner(RouteStep(config, fleet.store, clock=clock), fleet.sessions,
                             batch=1, clock=clock) for _ in range(2)))
    with fleet.sessions() as session:
        tickets = sorted(session.scalars(select(Case.ticket)))
    assert tickets == [f"MD-2026-{n:06d}" for n in range(1, NOTICES + 1)]


@pytest.mark.slow
def test_two_maild_daemons_on_postgresql_send_each_summary_once(
        fleet: Pipeline, tmp_path: Path, smtp_sink: SmtpSink, maild_process: Spawn) -> None:
    """GIVEN two ``maild run`` processes on one PostgreSQL (safety-net poll 10 minutes) WHEN
    ten notices are routed one by one elsewhere, queueing 20 summaries THEN the daemons are
    woken through NOTIFY and every summary reaches the server exactly once, each logged as
    sent by one daemon only."""
    config = tmp_path / "maild.toml"
    config.write_text(config.read_text().replace(
        "[maild]\n", "[maild]\nstage_poll_seconds = 600\n"), encoding="utf-8")
    logs = [tmp_path / f"daemon-{n}.log" for n in (1, 2)]
    for log in logs:
        with log.open("wb") as out:
            maild_process(["--config", config, "run"], {SECRET_ENV: "fleet-test-secret"},
                          stdout=out, stderr=subprocess.STDOUT)
    for log in logs:
        assert wait_until(lambda log=log: "started workers" in log.read_text(), 60), \
            log.read_text()
    smtp_sink.delay_reply(0.05, times=2 * NOTICES)
    parse, route, _send = fleet.runners
    for incoming in distinct_notices():
        fleet.ingestor.ingest([incoming])
        parse.drain()
        route.drain()
    assert wait_until(lambda: len(smtp_sink.received) >= 2 * NOTICES
                      and {r.stage for r in fleet.outbound()} == {"sent"}, 60), \
        "\n".join(log.read_text()[-2000:] for log in logs)
    rows = fleet.outbound()
    sent = Counter(str(email.message_from_bytes(m.content)["Message-ID"])
                   for m in smtp_sink.received)
    assert sent == Counter({row.message_id: 1 for row in rows})
    by_daemon = [set(map(int, re.findall(r"\bsent outbound=(\d+)", log.read_text())))
                 for log in logs]
    assert not by_daemon[0] & by_daemon[1]
    assert by_daemon[0] | by_daemon[1] == {row.id for row in rows}
    print(f"\nsent by each daemon: {len(by_daemon[0])} and {len(by_daemon[1])}")
