"""Chat alerts (DESIGN §6 ``[[client.webhook]]``): a short card per vendor, signed, and its POST.

`card_payload` is pure: the facts of a summary (`SummaryFacts`) become the exact request for
one vendor: a URL query to append and a JSON body. `post_webhook` sends it and judges the
vendor's answer, which for the Chinese vendors is an HTTP 200 even on failure: the JSON code
decides. No database here; the outbox queues the alert and calls these from its send step.

Build the payload at each attempt, just before posting: Feishu and DingTalk reject a signature
whose timestamp is more than an hour old, so an archived signed body cannot be re-sent later.

Vendor formats and signing, checked through the `search` tool against stored copies of the
vendors' pages (what was read directly and what only through quotes is said per vendor):

- Feishu/Lark custom bot, "自定义机器人使用指南" (open.larkoffice.com/document/ukTMukTMukTM/
  ucTM5YjL3ETO24yNxkjN, read: 100 requests/min and 5/s per bot, the 11232 rate-limit error,
  20 KB body limit). Its "签名校验" section and SignDemo were read as quoted by third-party
  pages (CSDN, juejin, down10s), which agree: sign = Base64(HmacSHA256(key = timestamp +
  "\n" + secret, message = empty)), timestamp in SECONDS within one hour, ``timestamp`` and
  ``sign`` in the JSON body; a bad one is HTTP 200 with ``code`` 19021 "sign match fail or
  timestamp is not within one hour from current time". 19022 (IP) and 19024 (keyword) are
  from the same guide as commonly quoted; old bots answer ``StatusCode``, not ``code``.
- DingTalk custom robot, "自定义机器人安全设置" / "自定义机器人接入" (open.dingtalk.com; read in
  mirrors of the page text: apifox docs-site 467052, mihaoyun, cnblogs): sign =
  urlEncode(Base64(HmacSHA256(key = secret, message = timestamp + "\n" + secret))), UTF-8,
  timestamp in MILLISECONDS within one hour, both appended to the URL
  (``&timestamp=…&sign=…``); 20 messages a minute, then 10 minutes' block. Errors are HTTP 200
  with ``errcode`` != 0: 310000 "sign not match" (also a missing keyword or an IP outside
  the whitelist), 130101 "send too fast, exceed 20 times per minute" (seen in user reports,
  not on an official page).
- WeCom group robot, "群机器人配置说明" (work.weixin.qq.com/api/doc/90000/90136/91770, read):
  no signature, the key is in the URL; ``msgtype: markdown`` with content of at most 4096
  bytes; 20 messages a minute per robot. ``errcode`` != 0 on error; 45009 "api freq out of
  limit" is the rate limit ("访问频率限制", developer.work.weixin.qq.com/document/path/90454,
  and the global error codes as reported by users).
- Slack incoming webhook, "Improving error conditions for Incoming Webhooks"
  (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks, read): HTTP
  200 ``ok`` is success; 400 invalid_payload, 403 action_prohibited, 404 channel_not_found,
  410 channel_is_archived, 500 rollup_error. "Rate limits" (api.slack.com/docs/rate-limits,
  read): posting messages 1 a second with short bursts. No signature (the URL is the secret);
  the body is ``text`` (the notification fallback) and ``blocks``.

HTTP goes through the standard library's urllib: httpx is not installed here and one JSON POST
per alert does not justify a new dependency. Redirects are not followed (a webhook never
redirects; following one would send the card somewhere else) and the URL, which carries the
access token for DingTalk, WeCom and Slack, never appears in an exception or a receipt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from maild.config_clients import WEBHOOK_KINDS
from maild.outbound.receipts import PermanentFailure, Receipt, TemporaryFailure
from maild.parsers.pipeline import REGISTRY
from maild.parsers.summary import BRAND_SPELLING, marketplace_name
from maild.routing.compose import SummaryFacts, clean_topic
from maild.templating import defang, environment

__all__ = ["WebhookPayload", "card_payload", "post_webhook"]

MAX_RECEIPT_TEXT = 4096  # characters of the vendor's answer kept on the receipt
_MAX_READ = 64 * 1024  # bytes of an answer read at most (they are a few dozen)
_FEISHU_COLOURS = {"P0": "red", "P1": "orange", "P2": "yellow", "P3": "grey"}
_SLACK_HEADER_MAX = 150  # a header block's plain_text limit
# Vendor codes that mean "too many messages, try later"; any other error code is a setting
# (signature, keyword, IP whitelist, removed bot) the operator must fix: retrying cannot help.
_RATE_LIMITED: Mapping[str, frozenset[int]] = {
    "feishu": frozenset({11232}), "dingtalk": frozenset({130101}),
    "wecom": frozenset({45009}), "slack": frozenset(),
}


class WebhookPayload(NamedTuple):
    """One request: ``query`` to append to the webhook URL ("" or ``timestamp=…&sign=…``),
    ``body`` the JSON to POST."""

    query: str
    body: bytes


def card_payload(kind: str, facts: SummaryFacts, *, language: str, zone: ZoneInfo,
                 now: datetime, secret: str | None) -> WebhookPayload:
    """The alert card for `facts` in `language` (words of ``routing/lang/<language>.j2``, English
    where there are none), deadlines in `zone` with the time left at `now`, signed with
    `secret` where the vendor signs (Feishu, DingTalk) and `secret` is given."""
    if kind not in WEBHOOK_KINDS:
        raise ValueError(f"unknown webhook kind {kind!r}: use one of {', '.join(WEBHOOK_KINDS)}")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    title, lines = _texts(kind, facts, language, zone, now)
    message: dict[str, Any]
    query = ""
    if kind == "feishu":
        message = {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title},
                       "template": _FEISHU_COLOURS[facts.priority]},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "\n".join(lines)}}],
        }}
        if secret:
            stamp = str(int(now.timestamp()))
            message = {"timestamp": stamp, "sign": feishu_sign(stamp, secret), **message}
    elif kind == "dingtalk":
        # DingTalk's markdown needs a blank line for a line break.
        message = {"msgtype": "markdown",
                   "markdown": {"title": title, "text": "\n\n".join([f"### {title}", *lines])}}
        if secret:
            stamp = str(int(now.timestamp() * 1000))
            query = urllib.parse.urlencode({"timestamp": stamp,
                                            "sign": dingtalk_sign(stamp, secret)})
    elif kind == "wecom":
        message = {"msgtype": "markdown",
                   "markdown": {"content": "\n".join([f"**{title}**", *lines])}}
    else:
        message = {"text": title, "blocks": [
            {"type": "header", "text": {"type": "plain_text",
                                        "text": title[:_SLACK_HEADER_MAX]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        ]}
    return WebhookPayload(query, json.dumps(message, ensure_ascii=False).encode("utf-8"))


def signed(kind: str, body: bytes, secret: str | None, now: datetime) -> WebhookPayload:
    """An unsigned card (``card_payload(..., secret=None).body``, as the outbox archives it)
    signed at the moment of sending: Feishu and DingTalk refuse signatures over an hour old, so
    a retry must sign anew. Kinds that do not sign, or no secret, leave the body as it is."""
    if not secret or kind not in ("feishu", "dingtalk"):
        return WebhookPayload("", body)
    if kind == "feishu":
        stamp = str(int(now.timestamp()))
        message = {"timestamp": stamp, "sign": feishu_sign(stamp, secret),
                   **json.loads(body)}
        return WebhookPayload("", json.dumps(message, ensure_ascii=False).encode("utf-8"))
    stamp = str(int(now.timestamp() * 1000))
    return WebhookPayload(urllib.parse.urlencode({"timestamp": stamp,
                                                  "sign": dingtalk_sign(stamp, secret)}), body)


def feishu_sign(timestamp: str, secret: str) -> str:
    """Feishu/Lark: Base64(HMAC-SHA256 keyed with ``timestamp + "\\n" + secret`` over nothing)."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """DingTalk: Base64(HMAC-SHA256 keyed with the secret over ``timestamp + "\\n" + secret``),
    before the URL encoding (`card_payload` encodes the query once)."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def post_webhook(kind: str, url: str, query: str, body: bytes, *, timeout: float) -> Receipt:
    """POST `body` to `url` (plus `query`) and judge the answer as the vendor `kind` documents.

    Returns a `Receipt` (code = HTTP status, text = the answer, no queue id) when the vendor
    accepted the message. Raises `TemporaryFailure` for a rate limit (HTTP 429 or the vendor's
    code), a 5xx, a timeout or a connection error; `PermanentFailure` for another 4xx, any
    other vendor error code (bad signature, missing keyword, IP not allowed) or a URL that
    cannot be used. No message names the URL."""
    if kind not in WEBHOOK_KINDS:
        raise ValueError(f"unknown webhook kind {kind!r}: use one of {', '.join(WEBHOOK_KINDS)}")
    scrub = _scrubber(url)
    target = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
    try:
        request = urllib.request.Request(target, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "maild"})
        with _OPENER.open(request, timeout=timeout) as response:
            status, answer = response.status, response.read(_MAX_READ)
    except urllib.error.HTTPError as error:  # before URLError: it is one
        status, answer = error.code, _read_quietly(error)
    except (ValueError, http.client.InvalidURL):
        raise PermanentFailure(f"{kind} webhook: the configured URL is not a usable http(s) "
                               f"URL") from None
    except (urllib.error.URLError, TimeoutError, http.client.HTTPException, OSError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        raise TemporaryFailure(f"{kind} webhook: no answer ({type(reason).__name__}: "
                               f"{scrub(str(reason))})") from None
    text = scrub(answer.decode("utf-8", "replace"))[:MAX_RECEIPT_TEXT]
    _judge(kind, status, text)
    return Receipt(code=status, text=text, queue_id=None, at=datetime.now(UTC))


def _judge(kind: str, status: int, text: str) -> None:
    """Raise unless HTTP `status` and the answer `text` mean the vendor took the message."""
    where = f"{kind} webhook: HTTP {status}"
    if status == 429 or status >= 500:
        raise TemporaryFailure(f"{where}: {text[:200]}", code=status, text=text)
    if kind == "slack":
        if 200 <= status < 300 and text.strip() == "ok":
            return
        raise PermanentFailure(f"{where}: {text[:200]}", code=status, text=text)
    code, message = _vendor_code(text)
    if 200 <= status < 300 and code == 0:
        return
    if code in _RATE_LIMITED[kind]:
        raise TemporaryFailure(f"{where}, rate limited (code {code}): {message}",
                               code=status, text=text)
    detail = f"code {code}: {message}" if code is not None else f"unexpected answer: {text[:200]}"
    raise PermanentFailure(f"{where}, {detail}", code=status, text=text)


def _vendor_code(text: str) -> tuple[int | None, str]:
    """(code, message) of a Feishu (``code``/``msg``, old bots ``StatusCode``/``StatusMessage``),
    DingTalk or WeCom (``errcode``/``errmsg``) answer; (None, "") when it is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    for code_key, message_key in (("code", "msg"), ("errcode", "errmsg"),
                                  ("StatusCode", "StatusMessage")):
        if isinstance(data.get(code_key), int):
            return data[code_key], str(data.get(message_key, ""))[:200]
    return None, ""


def _scrubber(url: str) -> Callable[[str], str]:
    """A function that blanks the URL's secret parts (the whole URL, its query values and
    long path segments: tokens and keys) out of a text before it is raised or stored."""
    parts = urllib.parse.urlsplit(url)
    secrets = {url, parts.query, *(v for _, v in urllib.parse.parse_qsl(parts.query)),
               *(s for s in parts.path.split("/") if len(s) >= 8)}
    ordered = sorted((s for s in secrets if s), key=len, reverse=True)

    def scrub(text: str) -> str:
        for secret in ordered:
            text = text.replace(secret, "[redacted]")
        return text
    return scrub


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(_MAX_READ)
    except (OSError, http.client.HTTPException):
        return b""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer (a PermanentFailure), never a second request elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _texts(kind: str, facts: SummaryFacts, language: str, zone: ZoneInfo,
           now: datetime) -> tuple[str, list[str]]:
    """The card's title and body lines, rendered from ``templates/webhooks/``."""
    env = environment()
    lang = language if f"routing/lang/{language}.j2" in env.list_templates() else "en"
    names = _platform_names(facts.platform)
    platform = names.get(lang) or names.get("en") or BRAND_SPELLING.get(facts.platform,
                                                                         facts.platform)
    context = {"f": _shown(kind, facts), "lang": lang, "zone": zone, "now": now,
               "platform": platform, "amazon": facts.platform == "amazon",
               "where": marketplace_name(facts.marketplace) if facts.marketplace else "",
               "b": "*" if kind == "slack" else "**"}
    title = env.get_template("webhooks/title.txt.j2").render(context).strip()
    body = env.get_template("webhooks/card.md.j2").render(context)
    return title, [line.rstrip() for line in body.splitlines() if line.strip()]


def _platform_names(platform: str) -> dict[str, str]:
    spec = next((s for s in REGISTRY if s.name == platform), None)
    return {"en": spec.display_en, "zh": spec.display_zh} if spec else {}


def _shown(kind: str, facts: SummaryFacts) -> SummaryFacts:
    """`facts` with their free text (from the notice: anyone can write it) made inert for the
    vendor's markup: links defanged for a phishing suspect; for Slack ``& < >`` escaped as its
    mrkdwn requires; for the markdown vendors ``< > [ ]`` turned into their full-width forms,
    so no text can mention @all, colour itself or become a link."""
    escape = _slack_escape if kind == "slack" else _markdown_inert
    def text(value: str | None) -> str | None:
        if value is None:
            return None
        value = _LINE_BREAKS.sub(" ", value)  # one fact, one line
        return escape(defang(value) if facts.phishing else value)
    return replace(facts, topic=text(clean_topic(facts.topic)) or "",
                   store_name=text(facts.store_name), deadline_text=text(facts.deadline_text))


def _slack_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_INERT = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］"})
_LINE_BREAKS = re.compile(r"[\r\n]+")


def _markdown_inert(value: str) -> str:
    return value.translate(_INERT)
