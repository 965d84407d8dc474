"""Chat alerts: each vendor's card, its signature and its answers, against loopback receivers.

Every receiver below plays one vendor on 127.0.0.1: it checks the card, verifies the signature
with the vendor's documented algorithm written out here (never maild's signing code), and
answers as the vendor does, an HTTP 200 with an error code included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from maild.outbound.receipts import PermanentFailure, TemporaryFailure
from maild.outbound.webhooks import card_payload, post_webhook
from maild.routing.compose import SummaryFacts

SECRET = "SECb0t-signing-secret"
TOKEN = "tok3n-in-the-url-0123456789abcdef"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2026, 3, 15, 7, 59, tzinfo=UTC)  # 15:59 in Shanghai
FACTS = SummaryFacts(ticket="MD-2026-000123", priority="P0", platform="amazon",
                     category="suspension", topic="Your selling privileges have been removed",
                     marketplace="amazon.de", store_name="Acme DE", deadline=DEADLINE)

Answer = tuple[int, bytes]


@dataclass
class Received:
    """What a receiver saw: the path, the query (decoded) and the JSON body."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """A loopback vendor: `judge` turns a request into the vendor's (status, body)."""

    judge: Callable[[Received], Answer]
    seen: list[Received] = field(default_factory=list)
    port: int = 0


def _serve(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            raw = self.rfile.read(length)
            path, _, query = self.path.partition("?")
            request = Received(path, dict(urllib.parse.parse_qsl(query)), json.loads(raw))
            receiver.seen.append(request)
            status, answer = receiver.judge(request)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


# --- the vendors, each verifying as its documentation says --------------------------------

def feishu(request: Received) -> Answer:
    """Feishu: timestamp (seconds, within an hour) and sign in the body; sign =
    base64(HMAC-SHA256(key = timestamp + "\\n" + secret, message = empty))."""
    body = request.body
    timestamp = body.get("timestamp", "")
    key = f"{timestamp}\n{SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if (len(timestamp) != 10 or abs(time.time() - int(timestamp)) > 3600
            or body.get("sign") != expected):
        return 200, _json({"code": 19021, "data": {}, "msg": "sign match fail or timestamp "
                                                            "is not within one hour from "
                                                            "current time"})
    if body.get("msg_type") != "interactive" or "MD-2026-000123" not in json.dumps(body["card"]):
        return 200, _json({"code": 9499, "data": {}, "msg": "Bad Request"})
    return 200, _json({"code": 0, "data": {}, "msg": "success"})


def dingtalk(request: Received) -> Answer:
    """DingTalk: timestamp (milliseconds, within an hour) and sign in the query; sign =
    urlencode(base64(HMAC-SHA256(key = secret, message = timestamp + "\\n" + secret)))."""
    timestamp = request.query.get("timestamp", "")
    message = f"{timestamp}\n{SECRET}".encode()
    expected = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
    if (request.query.get("access_token") != TOKEN or len(timestamp) != 13
            or abs(time.time() * 1000 - int(timestamp)) > 3600_000
            or request.query.get("sign") != expected.decode()):  # parse_qsl undid urlencode
        return 200, _json({"errcode": 310000, "errmsg": "sign not match"})
    if request.body.get("msgtype") != "markdown":
        return 200, _json({"errcode": 40035, "errmsg": "缺少参数 json"})
    return 200, _json({"errcode": 0, "errmsg": "ok"})


def wecom(request: Received) -> Answer:
    """WeCom: no signature, the key in the URL; markdown content of at most 4096 bytes."""
    if request.query.get("key") != TOKEN:
        return 200, _json({"errcode": 93000, "errmsg": "invalid webhook url"})
    content = request.body.get("markdown", {}).get("content", "")
    if request.body.get("msgtype") != "markdown" or len(content.encode()) > 4096:
        return 200, _json({"errcode": 40008, "errmsg": "invalid message type"})
    return 200, _json({"errcode": 0, "errmsg": "ok"})


def slack(request: Received) -> Answer:
    """Slack: the token is the path; HTTP 200 "ok", else a status and a word."""
    if request.path != f"/services/T000/B000/{TOKEN}":
        return 404, b"no_service"
    if not request.body.get("text") or not request.body.get("blocks"):
        return 400, b"invalid_payload"
    return 200, b"ok"


VENDORS: dict[str, Callable[[Received], Answer]] = {
    "feishu": feishu, "dingtalk": dingtalk, "wecom": wecom, "slack": slack}


def url_of(kind: str, port: int) -> str:
    """The webhook URL as each vendor hands it out, on loopback."""
    return {"feishu": f"http://127.0.0.1:{port}/open-apis/bot/v2/hook/{TOKEN}",
            "dingtalk": f"http://127.0.0.1:{port}/robot/send?access_token={TOKEN}",
            "wecom": f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={TOKEN}",
            "slack": f"http://127.0.0.1:{port}/services/T000/B000/{TOKEN}"}[kind]


@pytest.fixture(params=sorted(VENDORS))
def vendor(request: pytest.FixtureRequest) -> Iterator[tuple[str, Receiver]]:
    kind: str = request.param
    yield from ((kind, r) for r in _serve(Receiver(VENDORS[kind])))


def _signed_by(kind: str) -> str | None:
    return SECRET if kind in ("feishu", "dingtalk") else None


def test_each_vendor_accepts_the_signed_card(vendor: tuple[str, Receiver]) -> None:
    """GIVEN a loopback receiver playing the vendor, verifying signatures itself
    WHEN maild posts the card signed with the right secret
    THEN the vendor accepts it and the receipt holds the HTTP status and the vendor's answer."""
    kind, receiver = vendor
    payload = card_payload(kind, FACTS, language="zh", zone=SHANGHAI,
                           now=datetime.now(UTC), secret=_signed_by(kind))
    receipt = post_webhook(kind, url_of(kind, receiver.port), payload.query, payload.body,
                           timeout=5)
    assert receipt.code == 200
    assert receipt.text in ('{"code": 0, "data": {}, "msg": "success"}',
                            '{"errcode": 0, "errmsg": "ok"}', "ok")
    assert receipt.queue_id is None and receipt.at.tzinfo is not None
    assert len(receiver.seen) == 1


@pytest.mark.parametrize("kind", ["feishu", "dingtalk"])
def test_a_wrong_secret_is_a_permanent_failure(kind: str) -> None:
    """GIVEN a Feishu or DingTalk receiver that knows the bot's secret
    WHEN maild signs with another secret
    THEN the vendor's HTTP 200 with its signature error code is a PermanentFailure that names
    the code and never the URL's token."""
    for receiver in _serve(Receiver(VENDORS[kind])):
        payload = card_payload(kind, FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC), secret="SECnot-the-right-one")
        with pytest.raises(PermanentFailure) as failure:
            post_webhook(kind, url_of(kind, receiver.port), payload.query, payload.body,
                         timeout=5)
        assert "19021" in str(failure.value) or "310000" in str(failure.value)
        assert TOKEN not in str(failure.value)


@pytest.mark.parametrize("kind", ["feishu", "dingtalk"])
def test_an_hour_old_signature_is_refused(kind: str) -> None:
    """GIVEN a signed vendor that refuses timestamps more than an hour away
    WHEN a card signed two hours ago is posted now
    THEN it is a PermanentFailure (which is why the payload is built at each attempt)."""
    for receiver in _serve(Receiver(VENDORS[kind])):
        payload = card_payload(kind, FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC) - timedelta(hours=2), secret=SECRET)
        with pytest.raises(PermanentFailure):
            post_webhook(kind, url_of(kind, receiver.port), payload.query, payload.body,
                         timeout=5)


@pytest.mark.parametrize("kind", sorted(VENDORS))
@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_temporary(kind: str, status: int) -> None:
    """GIVEN a vendor that answers 429 or a 5xx
    WHEN maild posts
    THEN it is a TemporaryFailure with the status, and the token is not in its text."""
    for receiver in _serve(Receiver(lambda _: (status, b'{"error": "busy"}'))):
        payload = card_payload(kind, FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC), secret=_signed_by(kind))
        with pytest.raises(TemporaryFailure) as failure:
            post_webhook(kind, url_of(kind, receiver.port), payload.query, payload.body,
                         timeout=5)
        assert failure.value.code == status
        assert TOKEN not in str(failure.value)


@pytest.mark.parametrize(("kind", "answer"), [
    ("feishu", {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]"}),
    ("dingtalk", {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
    ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}),
])
def test_a_rate_limit_code_in_a_200_is_temporary(kind: str, answer: dict[str, Any]) -> None:
    """GIVEN a vendor that says "too fast" with its documented code inside an HTTP 200
    WHEN maild posts
    THEN it is a TemporaryFailure (the outbox retries later), not a success."""
    for receiver in _serve(Receiver(lambda _: (200, _json(answer)))):
        payload = card_payload(kind, FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC), secret=_signed_by(kind))
        with pytest.raises(TemporaryFailure, match="rate limited"):
            post_webhook(kind, url_of(kind, receiver.port), payload.query, payload.body,
                         timeout=5)


@pytest.mark.parametrize(("kind", "status", "answer"), [
    ("wecom", 200, b'{"errcode": 93000, "errmsg": "invalid webhook url"}'),
    ("slack", 404, b"no_service"),
    ("slack", 410, b"channel_is_archived"),
    ("slack", 200, b"not ok"),
])
def test_vendor_refusals_are_permanent(kind: str, status: int, answer: bytes) -> None:
    """GIVEN a vendor that refuses the bot for good (bad key, archived channel) or answers
    something that is not its success
    WHEN maild posts
    THEN it is a PermanentFailure without the token."""
    for receiver in _serve(Receiver(lambda _: (status, answer))):
        payload = card_payload(kind, FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC), secret=None)
        with pytest.raises(PermanentFailure) as failure:
            post_webhook(kind, url_of(kind, receiver.port), payload.query, payload.body,
                         timeout=5)
        assert TOKEN not in str(failure.value)


def test_a_refused_connection_is_temporary_and_hides_the_url() -> None:
    """GIVEN a loopback port nobody listens on
    WHEN maild posts a WeCom card there
    THEN it is a TemporaryFailure whose text does not contain the key."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    payload = card_payload("wecom", FACTS, language="en", zone=SHANGHAI,
                           now=datetime.now(UTC), secret=None)
    with pytest.raises(TemporaryFailure) as failure:
        post_webhook("wecom", url_of("wecom", port), payload.query, payload.body, timeout=5)
    assert TOKEN not in str(failure.value) and failure.value.__cause__ is None


def test_a_silent_server_times_out_as_temporary() -> None:
    """GIVEN a loopback server that accepts the connection and never answers
    WHEN maild posts with a 0.3 s timeout
    THEN it is a TemporaryFailure, without the token."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = url_of("slack", listener.getsockname()[1])
        payload = card_payload("slack", FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC), secret=None)
        with pytest.raises(TemporaryFailure) as failure:
            post_webhook("slack", url, payload.query, payload.body, timeout=0.3)
    assert TOKEN not in str(failure.value)


def test_an_unusable_url_is_permanent_and_not_repeated() -> None:
    """GIVEN a webhook URL that is not http(s) (a typo in the secret's environment variable)
    WHEN maild posts
    THEN it is a PermanentFailure that does not repeat the URL."""
    with pytest.raises(PermanentFailure) as failure:
        post_webhook("slack", f"hooks.slack.com/services/{TOKEN}", "", b"{}", timeout=1)
    assert TOKEN not in str(failure.value)


@pytest.mark.parametrize("kind", sorted(VENDORS))
@pytest.mark.parametrize(("language", "words"), [
    ("zh", ["工单号", "优先级", "平台截止时间", "还剩 2 天 6 小时", "建议的下一步", "亚马逊"]),
    ("en", ["Ticket", "Priority", "Platform deadline", "2 d 6 h left", "Suggested next step"]),
])
def test_the_card_says_the_summary_facts_in_the_client_language(
        kind: str, language: str, words: list[str]) -> None:
    """GIVEN a P0 suspension due 2026-03-15 07:59 UTC for a client in Shanghai
    WHEN its card is built in zh or en two days and a quarter before
    THEN the card holds the ticket, the priority, the due time in Shanghai (15:59 UTC+08:00)
    with the time left, the store and the next step, in that language."""
    payload = card_payload(kind, FACTS, language=language, zone=SHANGHAI,
                           now=datetime(2026, 3, 13, 1, 0, tzinfo=UTC), secret=None)
    text = json.dumps(json.loads(payload.body), ensure_ascii=False)
    for expected in ["MD-2026-000123", "P0", "2026-03-15 15:59 UTC+08:00", "Acme DE",
                     "Amazon.de", *words]:
        assert expected in text, (kind, language, expected)


def test_notice_text_cannot_inject_markup() -> None:
    """GIVEN a notice whose subject carries a mention, a link and markup
    WHEN its cards are built
    THEN Slack gets it escaped (&lt; &gt;) and the markdown vendors get inert full-width
    brackets, so no @all, no link and no colour comes from the notice."""
    facts = replace(FACTS, topic="<!channel> [pay](http://x.example) <@all> "
                                 "<font color=\"warning\">")
    now = datetime(2026, 3, 13, 1, 0, tzinfo=UTC)
    slack_text = card_payload("slack", facts, language="en", zone=SHANGHAI, now=now,
                              secret=None).body.decode()
    assert "<!channel>" not in slack_text and "&lt;!channel&gt;" in slack_text
    for kind in ("feishu", "dingtalk", "wecom"):
        text = json.loads(card_payload(kind, facts, language="en", zone=SHANGHAI, now=now,
                                       secret=None).body)
        dumped = json.dumps(text, ensure_ascii=False)
        assert "<@all>" not in dumped and "[pay](" not in dumped and "<font" not in dumped


def test_an_answer_that_echoes_the_url_is_scrubbed() -> None:
    """GIVEN a server (a proxy's error page, say) whose answer repeats the request URL
    WHEN maild posts a DingTalk card there
    THEN neither the failure's message nor its stored text holds the access token."""
    def echo(request: Received) -> Answer:
        return 502, f"bad gateway for /robot/send?access_token={TOKEN}".encode()
    for receiver in _serve(Receiver(echo)):
        payload = card_payload("dingtalk", FACTS, language="en", zone=SHANGHAI,
                               now=datetime.now(UTC), secret=SECRET)
        with pytest.raises(TemporaryFailure) as failure:
            post_webhook("dingtalk", url_of("dingtalk", receiver.port), payload.query,
                         payload.body, timeout=5)
        assert TOKEN not in str(failure.value) and TOKEN not in (failure.value.text or "")
