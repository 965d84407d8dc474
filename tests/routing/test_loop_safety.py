"""Loop safety of the route step: maild's own mail is never summarised again, and a runaway
to one recipient is stopped by the per-recipient rate limit with one operator alert a window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.config import load_config
from maild.db import make_engine, session_factory, upgrade
from maild.models import AuditEvent, Outbound
from maild.outbound import outbox
from tests.routing.test_route_and_send import CONFIG, SECRET_ENV, Pipeline, notice
from tests.support import SmtpSink


@pytest.fixture
def routing(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
            monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Pipeline]:
    """The routing tests' pipeline; a test that parametrizes ``routing`` indirectly gives a
    (text, replacement) edit of the config."""
    monkeypatch.setenv(SECRET_ENV, "loop-test-secret")
    path = tmp_path / "maild.toml"
    text = CONFIG.format(database=sqlite_url, root=tmp_path, port=smtp_sink.port,
                         secret_env=SECRET_ENV)
    if edit := getattr(request, "param", None):
        assert edit[0] in text
        text = text.replace(*edit)
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    upgrade(config.database)
    engine = make_engine(config.database)
    yield Pipeline(config, session_factory(engine))
    engine.dispose()


def audit_actions(routing: Pipeline, action: str) -> list[str]:
    with routing.sessions() as session:
        return list(session.scalars(select(AuditEvent.detail)
                                    .where(AuditEvent.action == action)))


@pytest.mark.parametrize("marker", [
    "X-Maild-Case: MD-2026-000042\r\n",
    "x-maild-case: MD-2026-000042\r\n",
])
def test_a_notice_carrying_x_maild_case_is_never_summarised(
        routing: Pipeline, smtp_sink: SmtpSink, marker: str) -> None:
    """GIVEN a notice to a client's store address that carries maild's X-Maild-Case header
    (in any case) WHEN it is parsed and routed THEN nothing is queued or sent and the audit
    says it was maild's own message."""
    routing.deliver(notice("acme@inbox.advisor.example", extra_headers=marker))
    assert routing.outbound() == [] and smtp_sink.received == []
    [reason] = audit_actions(routing, "not_routed")
    assert "loop protection" in reason


def test_a_notice_with_a_maild_message_id_is_never_summarised(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a notice whose Message-ID is one maild makes (``….maild@advisor.example``) and no
    X-Maild header WHEN it is parsed and routed THEN nothing is queued or sent."""
    raw = notice("acme@inbox.advisor.example").replace(
        b"Message-ID: <ip-1@amazon.de>",
        b"Message-ID: <MD-2026-000001.client.0a1b2c3d4e5f.maild@advisor.example>")
    routing.deliver(raw)
    assert routing.outbound() == [] and smtp_sink.received == []
    assert audit_actions(routing, "not_routed")


def test_an_ordinary_notice_mentioning_maild_is_still_summarised(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:
    """GIVEN a notice whose Message-ID merely contains 'maild' elsewhere (a seller's host
    named maild) WHEN routed THEN it is summarised as usual: loop protection is no blanket."""
    raw = notice("acme@inbox.advisor.example").replace(
        b"Message-ID: <ip-1@amazon.de>", b"Message-ID: <ip-1@maild.amazon.de>")
    routing.deliver(raw)
    assert len(smtp_sink.received) == 2


@pytest.mark.parametrize("routing", [
    None,
    ('summary_to = ["ops@acme.example"]', 'summary_to = ["Acme Ops <Ops@acme.example>"]'),
], indirect=True, ids=["bare", "display-name"])
def test_over_the_rate_limit_summaries_are_not_queued_and_the_operator_is_alerted_once(
        routing: Pipeline, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a rate limit of 3 messages per recipient per hour (the client's address written
    bare, or as 'Name <Address>') WHEN 6 distinct notices for one client arrive within the hour
    THEN each recipient gets 3 summaries, the rest are not queued
    and are audited ``rate_limited``, and the operator gets exactly one alert; WHEN the window
    has passed and the flood goes on THEN summaries flow again until the limit, and the
    operator is alerted once more for the new window."""
    monkeypatch.setattr(outbox, "RATE_LIMIT", 3)
    for n in range(1, 7):
        routing.deliver(notice("acme@inbox.advisor.example", n=n, complaint=f"{n:010d}"))
        routing.now += timedelta(minutes=1)
    to = [r.lower() for mail in smtp_sink.received for r in mail.rcpt_tos]
    assert to.count("ops@acme.example") == 3 and to.count("anna@advisor.example") == 3
    assert to.count("ops@advisor.example") == 1
    limited = audit_actions(routing, "rate_limited")
    assert len(limited) == 6  # 3 notices x (client, advisor)
    with routing.sessions() as session:
        kinds = session.scalars(select(Outbound.kind)).all()
    assert kinds.count("operator_alert") == 1

    routing.now += outbox.RATE_WINDOW
    for n in range(7, 12):
        routing.deliver(notice("acme@inbox.advisor.example", n=n, complaint=f"{n:010d}"))
        routing.now += timedelta(minutes=1)
    to = [r.lower() for mail in smtp_sink.received for r in mail.rcpt_tos]
    assert to.count("ops@acme.example") == 6 and to.count("anna@advisor.example") == 6
    assert to.count("ops@advisor.example") == 2


def test_the_rate_limit_is_config(tmp_path: Path, sqlite_url: str, smtp_sink: SmtpSink,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN [smtp] rate_limit_per_hour = 2 WHEN three notices for one client arrive THEN the
    client's address gets two summaries; WHEN the value is not positive THEN the config is
    refused naming the key."""
    from maild.errors import ConfigError
    from tests.routing.test_route_and_send import pipeline_for

    monkeypatch.setenv(SECRET_ENV, "routing-test-secret")
    limited = CONFIG.replace('operator = ["ops@advisor.example"]',
                             'operator = ["ops@advisor.example"]\nrate_limit_per_hour = 2')
    monkeypatch.setattr("tests.routing.test_route_and_send.CONFIG", limited)
    with pipeline_for(sqlite_url, tmp_path, smtp_sink.port) as pipe:
        for n in range(1, 4):
            pipe.deliver(notice("acme@inbox.advisor.example", n=n, complaint=f"{n:010d}"))
        to = [r for mail in smtp_sink.received for r in mail.rcpt_tos]
        assert to.count("ops@acme.example") == 2
    monkeypatch.setattr("tests.routing.test_route_and_send.CONFIG",
                        limited.replace("rate_limit_per_hour = 2", "rate_limit_per_hour = 0"))
    with pytest.raises(ConfigError, match=r"smtp\.rate_limit_per_hour"), \
            pipeline_for(sqlite_url, tmp_path, smtp_sink.port):
        pass


def test_the_rate_count_matches_whole_addresses_only(db_url: str, tmp_path: Path) -> None:
    """GIVEN messages to ``a_b@x.example`` (twice, once with a display name), ``aXb@x.example``
    (``_`` is a LIKE wildcard), ``ca_b@x.example`` and an old one WHEN the recent messages to
    ``A_B@x.example`` are counted THEN exactly the two within the hour to that address."""
    from datetime import UTC, datetime

    from maild.archive import RawStore

    upgrade(db_url)
    engine = make_engine(db_url)
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    try:
        sessions = session_factory(engine)
        store = RawStore(tmp_path / "archive")
        with sessions.begin() as session:
            for n, (to, at) in enumerate([(["a_b@x.example", "z@x.example"], now),
                                          (["Ann <a_b@x.example>"], now),
                                          (["aXb@x.example"], now), (["ca_b@x.example"], now),
                                          (["a_b@x.example"], now - timedelta(hours=2))]):
                outbox.queue(session, store, kind="summary:client", sender="d@x.example",
                             recipients=to, raw=f"Subject: {n}\r\n\r\nx\r\n".encode(),
                             message_id=f"<{n}@x.example>", now=at)
            assert outbox.recent_count(session, "A_B@x.example", now) == 2
    finally:
        engine.dispose()
