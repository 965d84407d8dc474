"""Chat alerts through the outbox: a new case at or above the webhook's min_priority posts a
signed card to the client's webhook (verified by a loopback receiver playing DingTalk, by the
vendor's documented algorithm), with the HTTP answer kept as the receipt; a lower priority
posts nothing; the URL and the secret live only in the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.models import AuditEvent, Message, Notice, Outbound, Receipt
from tests.outbound.test_webhooks import SECRET, TOKEN, Receiver, _serve, dingtalk, url_of
from tests.routing.test_route_and_send import SECRET_ENV, Pipeline, notice, pipeline_for
from tests.support import SmtpSink

WEBHOOK = """
[[client.webhook]]
kind = "dingtalk"
url_env = "TEST_DINGTALK_URL"
secret_env = "TEST_DINGTALK_SECRET"
min_priority = "P1"
"""


@pytest.fixture
def alerting(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Pipeline, Receiver]]:
    """The routing pipeline whose last client (beta) has a DingTalk webhook on loopback."""
    for receiver in _serve(Receiver(dingtalk)):
        monkeypatch.setenv(SECRET_ENV, "routing-test-secret")
        monkeypatch.setenv("TEST_DINGTALK_URL", url_of("dingtalk", receiver.port))
        monkeypatch.setenv("TEST_DINGTALK_SECRET", SECRET)
        with pipeline_for(sqlite_url, tmp_path, smtp_sink.port, WEBHOOK) as pipeline:
            yield pipeline, receiver


def test_a_new_case_posts_a_signed_card_and_keeps_the_http_receipt(
        alerting: tuple[Pipeline, Receiver]) -> None:
    """GIVEN a client with a DingTalk webhook at min_priority P1 WHEN a P1 complaint opens a
    case THEN one card is posted, its signature verifies, it names the ticket, and the outbound
    row is sent with the HTTP status and DingTalk's answer as its receipt; the stored row holds
    neither the URL's token nor the secret."""
    pipe, receiver = alerting
    pipe.deliver(notice("beta@inbox.advisor.example"))
    [card] = receiver.seen
    assert card.query.get("sign") and "MD-2026-000001" in card.body["markdown"]["text"]
    [row] = [r for r in pipe.outbound() if r.kind == "webhook:dingtalk"]
    assert row.stage == "sent" and row.recipients == ["beta#0"]
    with pipe.sessions() as session:
        receipt = session.scalars(select(Receipt).where(Receipt.outbound_id == row.id)).one()
        stored = " ".join(str(v) for v in session.execute(select(Outbound)).all())
    assert receipt.code == 200 and '"errcode": 0' in receipt.text.replace('":0', '": 0')
    assert TOKEN not in stored and SECRET not in stored


def test_a_lower_priority_or_a_refused_signature_is_handled(
        alerting: tuple[Pipeline, Receiver], monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the same webhook WHEN a P3 announcement arrives THEN no card is posted; WHEN the
    secret is wrong THEN the card is refused for good (DingTalk 310000), the row is failed and
    the operator is alerted by mail."""
    pipe, receiver = alerting
    announcement = notice("beta@inbox.advisor.example", n=3).replace(
        b"Rights owner complaint about your listing", b"Update to our fee schedule").replace(
        b"We received a report from a rights owner that your listing", b"We are updating fees "
        b"for listings like").replace(b"Please respond within 72 hours.", b"No action needed.")
    pipe.deliver(announcement)
    assert receiver.seen == []
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "not-the-secret")
    pipe.deliver(notice("beta@inbox.advisor.example", n=4, complaint="4444"))
    rows = [r for r in pipe.outbound() if r.kind == "webhook:dingtalk"]
    assert [r.stage for r in rows] == ["failed"]
    assert any(r.kind == "operator_alert" for r in pipe.outbound())


RULE = """
[[escalation]]
name = "Amazon Account Health below 200"
platform = "amazon"
metric = "account_health_rating"
below = 200
escalate_to = ["lead@advisor.example"]
"""
AHR_NOTICE = Path(__file__).resolve().parents[1] / "corpus" / "amazon" / \
    "us_policy_warning_ahr_at_risk_html.eml"


@pytest.fixture
def ruled(sqlite_url: str, tmp_path: Path, smtp_sink: SmtpSink,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The routing pipeline with one config escalation rule on a figure the parser reads."""
    monkeypatch.setenv(SECRET_ENV, "routing-test-secret")
    with pipeline_for(sqlite_url, tmp_path, smtp_sink.port, RULE) as pipeline:
        yield pipeline


def test_a_rule_on_a_parsed_figure_escalates_at_once(ruled: Pipeline,
                                                      smtp_sink: SmtpSink) -> None:
    """GIVEN the rule "Amazon Account Health Rating below 200" WHEN a warning stating a rating
    of 150 reaches a client THEN it escalates at once to the rule's address and the advisors;
    WHEN the same warning states 250 THEN nothing escalates."""
    raw = b"Delivered-To: acme@inbox.advisor.example\r\n" + AHR_NOTICE.read_bytes()
    ruled.deliver(raw)
    escalations = [row for row in ruled.outbound() if row.kind == "escalation"]
    assert len(escalations) == 1
    assert set(escalations[0].recipients) == {"lead@advisor.example", "anna@advisor.example"}
    with ruled.sessions() as session:
        events = session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "escalation")).all()
    assert len(events) == 1 and "Account Health below 200" in events[0]

    ruled.deliver(b"Delivered-To: acme@inbox.advisor.example\r\nContent-Type: text/plain\r\n"
                  b"From: Amazon <seller-performance@amazon.com>\r\n"
                  b"Subject: Your account health\r\nMessage-ID: <ahr-250@amazon.com>\r\n\r\n"
                  b"Your Account Health Rating is 250. Keep it up.\r\n")
    with ruled.sessions() as session:
        read = session.scalars(select(Notice.metrics).join(Message).where(
            Message.message_id == "<ahr-250@amazon.com>")).one()
    assert read == {"account_health_rating": 250}  # read, and above the bound
    assert len([row for row in ruled.outbound() if row.kind == "escalation"]) == 1
