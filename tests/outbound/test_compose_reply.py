"""The mails of the reply path (maild.outbound.compose_reply): the approval request a client's
decision-maker answers by replying, and the notices about a draft — headers, languages, the draft
in full, how to answer, deadlines in the client's zone, attachments byte for byte."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from html import unescape
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest

from maild.outbound.compose_reply import (
    NOTICES,
    DraftFacts,
    ReplyNotice,
    compose_approval_request,
    compose_reply_notice,
)
from maild.routing.assemble import attached_originals
from maild.templating import environment
from tests.ingestion.conftest import wait_until
from tests.support import DovecotServer, PostfixServer

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 15, 7, 59, tzinfo=UTC)  # 15:59 in Shanghai, 08:59 in Berlin
SLA_DUE = datetime(2026, 3, 14, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai, 03:30 in Berlin
ORIGINAL = (b"From: Amazon <seller-performance@amazon.de>\r\nTo: acme@inbox.advisor.example\r\n"
            b"Subject: Notice of infringement\r\nMessage-ID: <n1@amazon.de>\r\n\r\nBody.\r\n")
BODY = ("Dear Amazon Seller Performance,\n\n"
        "We have removed the listing B0ABCDEF12 and contacted the rights owner.\n"
        "  - invoices attached\n"
        "\n"
        "Kind regards,\nAcmeLight EU")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) + b"\r\n--=_maild_x\r\n%%EOF\n"
# Looks like a mail (a header line, CRLF): it must still travel as the file it is.
LETTER = b"Subject: letter of authorisation\r\n\r\nWe authorise AcmeLight EU.\r\n"
FILES = [("invoice 2026-03.pdf", "application/pdf", PDF),
         ("授权书.txt", "text/plain; charset=utf-8", LETTER)]
DIFF = ("--- v1\n+++ v2\n@@ -1,2 +1,2 @@\n Dear Amazon Seller Performance,\n"
        "-We removed the listing.\n+We have removed the listing B0ABCDEF12.\n")
REPLY_TO = "desk+MD-2026-000123.v2.tok@advisor.example"


def facts(**changes: Any) -> DraftFacts:
    base = DraftFacts(
        ticket="MD-2026-000123", version=2, priority="P1", platform="amazon",
        marketplace="amazon.de", category="ip_complaint", topic="Fwd: Notice of infringement",
        store_name="AcmeLight EU", client_name="Acme Lighting",
        summary_zh="权利人对您的商品提出了知识产权投诉。",
        summary_en="A rights owner filed an IP complaint against your listing.",
        deadline=DUE, sla_due=SLA_DUE, author="anna@advisor.example", body=BODY,
        attachments=tuple((name, len(raw)) for name, _type, raw in FILES),
        platform_to="notice-dispute@amazon.de", replaces=1, diff=DIFF)
    return replace(base, **changes)


def request(f: DraftFacts | None = None, **kwargs: Any) -> bytes:
    arguments: dict[str, Any] = {
        "languages": ["zh", "en"], "zone": SHANGHAI, "now": NOW,
        "from_address": "Advisor Desk <desk@advisor.example>", "to": ["li.wei@acme.example"],
        "reply_to": REPLY_TO, "message_id": "<req.2@advisor.example>",
        "attachments": FILES, "original": ORIGINAL}
    arguments.update(kwargs)
    return compose_approval_request(f or facts(), **arguments)


# One valid notice of each kind: who reads it and what it says.
DETAILS: dict[str, tuple[str, dict[str, str]]] = {
    "blocked": ("advisor", {"reasons": "an external link in a buyer message\nempty body"}),
    "approved": ("advisor", {"by": "li.wei@acme.example", "via": "email",
                             "at": "2026-03-13T09:30:00+00:00"}),
    "rejected": ("advisor", {"by": "li.wei@acme.example", "reason": "Do not admit fault."}),
    "changes_requested": ("advisor", {"by": "li.wei@acme.example",
                                      "text": "Please name the supplier.\n\nAnd the date."}),
    "comment": ("client", {"by": "anna@advisor.example", "text": "NOTE: we call you at 3 pm."}),
    "sent": ("client", {"receipt": "250 2.0.0 Ok: queued as 4F2A1C", "to":
                        "notice-dispute@amazon.de", "message_id": "<v2.reply@acme.example>"}),
    "refused": ("operator", {"reason": "v1 was replaced by v2", "sender":
                             "li.wei@acme.example", "subject": "Re: [待审批] v1"}),
    "approval_reminder": ("client", {"since": "2026-03-12T10:00:00+00:00"}),
    "approval_escalation": ("advisor", {"since": "2026-03-12T10:00:00+00:00", "hours": "24",
                                        "decision_maker": "li.wei@acme.example"}),
    "send_held": ("operator", {"reason": "maild stopped during DATA", "outbox_id": "42"}),
}
TAGS = {"blocked": "[Draft blocked]", "approved": "[Approved]", "rejected": "[Rejected]",
        "changes_requested": "[Changes requested]", "comment": "[Comment]", "sent": "[Sent]",
        "refused": "[Answer refused]", "approval_reminder": "[Approval reminder]",
        "approval_escalation": "[Approval overdue]", "send_held": "[Send held]"}
TAGS_ZH = {"comment": "[留言]", "sent": "[已发送]", "approval_reminder": "[审批提醒]",
           "approved": "[已批准]"}
# What each kind must say, in English and in Chinese, with its details.
SAYS: dict[str, tuple[str, ...]] = {
    "blocked": ("did not go to the decision-maker", "未送交审批", "  - an external link in a "
                "buyer message", "  - empty body"),
    "approved": ("li.wei@acme.example approved version 2", "2026-03-13 17:30 UTC+08:00",
                 "已于 2026-03-13 17:30 UTC+08:00 批准", "Decided via: email"),
    "rejected": ("li.wei@acme.example rejected version 2", "Nothing was sent", "拒绝了",
                 "> Do not admit fault."),
    "changes_requested": ("asked for changes to version 2", "要求修改",
                          "> Please name the supplier.\n>\n> And the date."),
    "comment": ("Your advisors (anna@advisor.example) wrote a note", "Reply to this mail",
                "您的顾问（anna@advisor.example）", "> NOTE: we call you at 3 pm."),
    "sent": ("was sent at 2026-03-13 18:00 UTC+08:00", "The server's receipt: 250 2.0.0 Ok: "
             "queued as 4F2A1C", "服务器回执：250 2.0.0 Ok", "Message-ID: <v2.reply@acme.example>",
             "To: notice-dispute@amazon.de"),
    "refused": ("changed nothing", "From: li.wei@acme.example", "Subject: Re: [待审批] v1",
                "> v1 was replaced by v2", "未产生任何效果"),
    "approval_reminder": ("has been waiting for your decision since 2026-03-12 18:00 "
                          "UTC+08:00 (1 d 0 h)", "已等待 1 天 0 小时", "> " + BODY.splitlines()[2],
                          "APPROVE / 同意 / 批准", "REJECT / 拒绝"),
    "approval_escalation": ("waiting for the decision-maker (li.wei@acme.example) since "
                            "2026-03-12 18:00 UTC+08:00: 1 d 0 h, more than the 24 hours",
                            "超过允许的 24 小时"),
    "send_held": ("maild holds it rather than risk sending it twice",
                  "maild outbox release 42", "maild outbox mark-sent 42", "为避免重复发送",
                  "> maild stopped during DATA"),
}


def notice(kind: str, f: DraftFacts | None = None, **kwargs: Any) -> bytes:
    audience, details = DETAILS[kind]
    arguments: dict[str, Any] = {
        "audience": audience, "details": details, "languages": ["zh", "en"], "zone": SHANGHAI,
        "now": NOW, "from_address": "Advisor Desk <desk@advisor.example>",
        "to": ["anna@advisor.example"], "reply_to": REPLY_TO,
        "message_id": f"<{kind}.2@advisor.example>"}
    arguments.update(kwargs)
    return compose_reply_notice(kind, f or facts(), **arguments)  # type: ignore[arg-type]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(raw: bytes) -> tuple[str, str]:
    """The text and HTML parts, decoded, with the line ends a reader sees."""
    message = parsed(raw)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def visible(html: str) -> str:
    """What a reader of the HTML part sees: tags gone, entities read, spaces single."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def quoted(body: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in body.splitlines())


# ------------------------------------------------------------------------------ approval request


@pytest.mark.parametrize(("languages", "subject"), [
    (["zh", "en"], "[待审批][P1][Amazon.de] Notice of infringement — v2 (MD-2026-000123)"),
    (["en", "zh"], "[Approval needed][P1][Amazon.de] Notice of infringement — v2 "
                   "(MD-2026-000123)"),
])
def test_request_subject_and_headers(languages: list[str], subject: str) -> None:
    """GIVEN version 2 of a draft for a zh-first and an en-first client
    WHEN the approval request is composed, threaded to the summary
    THEN the subject carries the kind's tag in the client's first language, the summaries'
    tags, the cleaned topic, the version and the ticket; the headers name the case and the
    draft version, mark the mail auto-generated (RFC 3834), and Reply-To is the version's
    reply address."""
    message = parsed(request(languages=languages, in_reply_to="<sum.1@advisor.example>"))
    assert message["Subject"] == subject
    assert message["Reply-To"] == REPLY_TO
    assert message["X-Maild-Case"] == "MD-2026-000123"
    assert message["X-Maild-Draft"] == "MD-2026-000123 v2"
    assert message["X-Maild-Kind"] == "approval_request"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == "<req.2@advisor.example>"
    assert message["To"] == "li.wei@acme.example"
    assert message["In-Reply-To"] == message["References"] == "<sum.1@advisor.example>"
    assert message["Date"].datetime == NOW and message["Date"].endswith("+0800")


@pytest.mark.parametrize("languages", [["zh", "en"], ["en", "zh"]])
def test_request_shows_the_draft_in_full_once(languages: list[str]) -> None:
    """GIVEN a draft of several paragraphs, with an indented line and blank lines
    WHEN the request is composed in either language order
    THEN the text part holds every line of the body, in order, quoted with '>', exactly once;
    the HTML part shows every line too; and the author and the platform address are named."""
    text, html = bodies(request(languages=languages))
    assert text.count(quoted(BODY)) == 1
    for body in (text, html):
        assert "anna@advisor.example" in body and "notice-dispute@amazon.de" in body
    for line in BODY.splitlines():
        assert line.strip() in html
    assert "We have removed the listing B0ABCDEF12 and contacted the rights owner.<br>" in html


@pytest.mark.parametrize(("languages", "first", "second"), [
    (["zh", "en"], "如何答复", "How to answer"),
    (["en", "zh"], "How to answer", "如何答复"),
])
def test_request_says_how_to_answer_in_each_language(languages: list[str], first: str,
                                                     second: str) -> None:
    """GIVEN a zh-first and an en-first client
    WHEN the request is composed
    THEN each language, in the client's order, says how to answer: APPROVE / 同意 / 批准 sends
    it as is, REJECT / 拒绝 with a reason, anything else is a change request; and that the
    answer decides version 2 (v2) only and answering an older request does nothing."""
    text, html = bodies(request(languages=languages))
    for body in (text, html):
        assert 0 <= body.index(first) < body.index(second)
        english = body[body.index("How to answer"):]
        chinese = body[body.index("如何答复"):]
        for section in (english, chinese):
            assert "APPROVE / 同意 / 批准" in section and "REJECT / 拒绝" in section
        assert "Your answer decides version 2 only (v2)" in english
        assert "Answering an older request does nothing" in english
        assert "Anything else — taken as change requests" in english
        assert "您的答复只对第 2 版（v2）有效" in chinese
        assert "答复旧的审批请求不会产生任何效果" in chinese
        assert "其他任何内容 —— 视为修改意见" in chinese
        assert "sent to notice-dispute@amazon.de exactly as shown" in english


def test_request_reads_draft_then_answer_then_brief() -> None:
    """GIVEN a request WHEN read top to bottom THEN the draft comes before how to answer (the
    decision-maker reads, then decides), and the notice in brief comes last."""
    text, _ = bodies(request())
    assert text.index(quoted(BODY)) < text.index("如何答复") < text.index("通知摘要")


@pytest.mark.parametrize(("zone", "deadline", "sla"), [
    (SHANGHAI, "2026-03-15 15:59 UTC+08:00", "2026-03-14 10:30 UTC+08:00"),
    (BERLIN, "2026-03-15 08:59 UTC+01:00", "2026-03-14 03:30 UTC+01:00"),
])
def test_request_shows_both_deadlines_in_the_clients_zone(zone: ZoneInfo, deadline: str,
                                                          sla: str) -> None:
    """GIVEN a platform deadline and an SLA deadline (aware, UTC)
    WHEN the request goes to a client in Asia/Shanghai and one in Europe/Berlin
    THEN both deadlines appear as that client's wall time with its offset, in the text and the
    HTML, in every language, with the time left; the other zone's times do not appear."""
    text, html = bodies(request(zone=zone))
    assert f"Platform deadline: {deadline} (1 d 21 h left)" in text
    assert f"平台截止时间：{deadline}（还剩 1 天 21 小时）" in text
    assert f"Platform deadline {deadline} (1 d 21 h left)" in visible(html)
    assert f"平台截止时间 {deadline}（还剩 1 天 21 小时）" in visible(html)
    for body in (text, html):
        assert body.count(sla) == 2
    other = "2026-03-15 08:59" if zone == SHANGHAI else "2026-03-15 15:59"
    assert other not in text and other not in html


def test_request_attaches_the_files_byte_for_byte() -> None:
    """GIVEN a draft with a binary PDF (holding a boundary-like line) and a Chinese-named text
    file that looks like a mail
    WHEN the request is composed
    THEN both are attached under their own names and content types, their decoded bytes equal
    the given bytes (same SHA-256), neither is taken for an original, and the platform's
    original comes last, as message/rfc822, the only one `attached_originals` returns."""
    raw = request()
    parts = list(parsed(raw).iter_attachments())
    assert [p.get_content_type() for p in parts] == ["application/pdf", "text/plain",
                                                     "message/rfc822"]
    for (name, content_type, data), part in zip(FILES, parts[:2], strict=True):
        assert isinstance(part, EmailMessage)
        assert part.get_filename() == name
        assert part["Content-Transfer-Encoding"] == "base64"
        assert part.get_content_type() == content_type.split(";")[0]
        assert "X-Maild-Original" not in part
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        assert hashlib.sha256(payload).digest() == hashlib.sha256(data).digest()
    assert parts[1].get_content_charset() == "utf-8"
    assert attached_originals(raw) == [ORIGINAL]
    text, html = bodies(raw)
    for body in (text, html):
        assert "invoice 2026-03.pdf (292 Bytes)" in body and "授权书.txt" in body
        assert "attached to this mail unchanged" in body and "已原样附在本邮件中" in body
        assert "The original message is attached unchanged (original.eml)" in body


def test_request_without_original_or_files() -> None:
    """GIVEN a draft without attachments and no original at hand
    WHEN the request is composed THEN nothing is attached and no attachment is mentioned."""
    raw = request(facts(attachments=()), attachments=[], original=None)
    message = parsed(raw)
    assert list(message.iter_attachments()) == []
    assert message.get_content_type() == "multipart/alternative"
    text, _ = bodies(raw)
    assert "attachments" not in text.lower() and "附件" not in text and "original" not in text


def test_request_refuses_files_that_are_not_the_drafts() -> None:
    """GIVEN attachments that differ from the draft's list (one missing, one of another size)
    WHEN the request is composed THEN it is refused: the decision-maker must see what goes out."""
    with pytest.raises(ValueError, match="not the draft's attachments"):
        request(attachments=FILES[:1])
    with pytest.raises(ValueError, match="not the draft's attachments"):
        request(attachments=[FILES[0], (FILES[1][0], FILES[1][1], LETTER + b"x")])


def test_unusable_content_types_travel_as_files() -> None:
    """GIVEN attachments declared as message/rfc822 (which may not be base64) and as garbage
    WHEN attached THEN they travel as application/octet-stream, their bytes unchanged."""
    files = [("fwd.eml", "message/rfc822", ORIGINAL), ("x.bin", "not a type", b"\x00\x01")]
    raw = request(facts(attachments=(("fwd.eml", len(ORIGINAL)), ("x.bin", 2))),
                  attachments=files, original=None)
    parts = list(parsed(raw).iter_attachments())
    assert [p.get_content_type() for p in parts] == ["application/octet-stream"] * 2
    assert [p.get_payload(decode=True) for p in parts] == [ORIGINAL, b"\x00\x01"]
    assert attached_originals(raw) == []


def test_request_shows_what_it_replaces_and_the_diff() -> None:
    """GIVEN version 2 replacing version 1, with a unified diff
    WHEN the request is composed
    THEN it says that the request for version 1 no longer counts and shows every diff line;
    a first version says nothing of the kind."""
    text, html = bodies(request())
    for body in (text, html):
        assert "This version replaces version 1" in body and "本版本取代第 1 版" in body
        assert "What changed since version 1" in body
    for line in DIFF.splitlines():
        assert f"    {line}\n" in text
    assert "+We have removed the listing B0ABCDEF12.</span>" in html
    first = request(facts(version=1, replaces=None, diff=None))
    assert parsed(first)["X-Maild-Draft"] == "MD-2026-000123 v1"
    text, _ = bodies(first)
    assert "replaces" not in text and "What changed" not in text


def test_request_escapes_the_draft_in_html() -> None:
    """GIVEN a draft, author and diff holding markup
    WHEN composed THEN the HTML shows it as text (no tag of theirs survives) and the text part
    keeps it as written."""
    body = 'Hello <script>alert("x")</script>\n<img src="https://t.example/p.gif">'
    hostile = facts(body=body, author="<b>anna</b>", diff="--- v1\n+++ v2\n+<i>new</i>\n")
    text, html = bodies(request(hostile))
    for tag in ("<script", "<img", "<b>", "<i>"):
        assert tag not in html
    assert "&lt;script&gt;alert(" in html and "&lt;b&gt;anna&lt;/b&gt;" in html
    assert quoted(body) in text


def test_request_is_repeatable_and_canonical() -> None:
    """GIVEN the same facts WHEN the request is composed twice THEN the bytes are equal, every
    line ends in CRLF and none exceeds 998 octets; other facts give other bytes."""
    raw = request()
    assert raw == request()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert request(facts(body=BODY + ".")) != raw


def test_request_needs_a_draft_and_a_reply_address() -> None:
    """GIVEN facts of version 0 (a case with no draft yet), or no reply address to answer to
    WHEN a request is composed THEN it is refused with the ticket named."""
    with pytest.raises(ValueError, match="MD-2026-000123: an approval request needs a draft"):
        request(facts(version=0, replaces=None, diff=None))
    with pytest.raises(ValueError, match="MD-2026-000123 v2: an approval request needs a reply "
                                         "address"):
        request(reply_to="")


def test_draft_facts_are_checked() -> None:
    """GIVEN facts with an unknown category, a naive deadline, a version that replaces a later
    one, a diff with nothing to compare with WHEN built THEN each is refused, ticket named."""
    with pytest.raises(ValueError, match="unknown category"):
        facts(category="spam")
    with pytest.raises(ValueError, match="aware"):
        facts(sla_due=datetime(2026, 3, 14, 2, 30))
    with pytest.raises(ValueError, match="MD-2026-000123 v2: it cannot replace v3"):
        facts(replaces=3)
    with pytest.raises(ValueError, match="a diff needs the version"):
        facts(replaces=None)


# ------------------------------------------------------------------------------ notices


def test_every_kind_is_specified() -> None:
    """GIVEN the ReplyNotice kinds WHEN compared with the table of notices and this test's
    cases THEN each kind has its readers and details, and a case here."""
    assert set(get_args(ReplyNotice)) == set(NOTICES) == set(DETAILS) == set(TAGS)


@pytest.mark.parametrize("kind", sorted(DETAILS))
@pytest.mark.parametrize("languages", [["zh", "en"], ["en", "zh"]])
def test_each_notice(kind: str, languages: list[str]) -> None:
    """GIVEN each kind of notice with its details, for a zh-first and an en-first client
    WHEN composed
    THEN its headers name the case, the draft version and the kind, mark it auto-generated and
    carry the given Reply-To and Message-ID; the subject is tagged like the summaries with the
    kind first; the text and the HTML say what happened with its details, in both languages —
    the client's order for a client, English first for advisors and operators."""
    audience, _ = DETAILS[kind]
    raw = notice(kind, languages=languages)
    message = parsed(raw)
    assert message["X-Maild-Case"] == "MD-2026-000123"
    assert message["X-Maild-Draft"] == "MD-2026-000123 v2"
    assert message["X-Maild-Kind"] == kind
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == REPLY_TO
    assert message["Message-ID"] == f"<{kind}.2@advisor.example>"
    tag = TAGS_ZH[kind] if audience == "client" and languages[0] == "zh" else TAGS[kind]
    assert message["Subject"] == f"{tag}[P1][Amazon.de] Notice of infringement — v2 " \
                                 "(MD-2026-000123)"
    text, html = bodies(raw)
    for words in SAYS[kind]:
        assert words in text, (kind, words, text)
    assert SAYS[kind][0] in visible(html)
    first, second = ("工单号", "Ticket") if audience == "client" and languages[0] == "zh" \
        else ("Ticket", "工单号")
    for body in (text, html):
        assert 0 <= body.index(first) < body.index(second)
        assert "MD-2026-000123" in body and "2026-03-15 15:59 UTC+08:00" in body
    assert raw == notice(kind, languages=languages)


@pytest.mark.parametrize("kind", ["rejected", "changes_requested", "comment", "refused",
                                  "blocked", "send_held"])
def test_notices_escape_what_people_wrote(kind: str) -> None:
    """GIVEN notices whose forwarded words, reasons or subject hold markup
    WHEN composed THEN the HTML shows them as text and the text part keeps every line."""
    audience, details = DETAILS[kind]
    hostile = {key: value if key in ("by", "hours", "outbox_id", "sender") else
               "<script>alert(1)</script>\nline two" for key, value in details.items()}
    raw = notice(kind, details=hostile)
    text, html = bodies(raw)
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "line two" in text and "<script>alert(1)</script>" in text


def test_staff_read_english_then_chinese_clients_their_own() -> None:
    """GIVEN a client who reads English only
    WHEN a notice goes to the advisors and one to the client
    THEN the advisors' has English then Chinese, the client's English alone."""
    staff, _ = bodies(notice("rejected", languages=["en"]))
    assert staff.index("rejected version 2") < staff.index("拒绝了")
    client, _ = bodies(notice("sent", languages=["en"]))
    assert "was sent at" in client and "已发出" not in client and "====" not in client


def test_reminder_repeats_the_draft_and_how_to_answer() -> None:
    """GIVEN a draft waiting a day for a decision
    WHEN the reminder goes to the decision-maker
    THEN it shows the draft in full, how to answer and that it decides v2 only, says since when
    it waits, attaches nothing and says its files are with the request."""
    raw = notice("approval_reminder")
    text, html = bodies(raw)
    assert quoted(BODY) in text
    for body in (text, html):
        assert "APPROVE / 同意 / 批准" in body and "REJECT / 拒绝" in body
        assert "Your answer decides version 2 only" in body
        assert "attached to the approval request" in body
    assert list(parsed(raw).iter_attachments()) == []


def test_comment_before_any_draft() -> None:
    """GIVEN an advisor's note on a case that has no draft yet (version 0)
    WHEN it goes to the client THEN it has no X-Maild-Draft and no version in its subject or
    words, and says how to answer only when there is a reply address."""
    none_yet = facts(version=0, replaces=None, diff=None, body="", attachments=())
    raw = notice("comment", none_yet)
    message = parsed(raw)
    assert message["X-Maild-Draft"] is None and message["X-Maild-Case"] == "MD-2026-000123"
    assert message["Subject"] == "[留言][P1][Amazon.de] Notice of infringement (MD-2026-000123)"
    text, _ = bodies(raw)
    assert "version" not in text and "v0" not in text
    assert "Reply to this mail to answer them" in text
    text, _ = bodies(notice("comment", none_yet, reply_to=None))
    assert "Reply to this mail" not in text and "直接回复本邮件" not in text


def test_approved_at_defaults_to_now() -> None:
    """GIVEN an approval notice without details['at'] WHEN composed THEN it names `now`, in the
    reader's zone, as the moment of the decision."""
    text, _ = bodies(notice("approved", details={"by": "li.wei@acme.example"},
                            zone=BERLIN))
    assert "approved version 2 of the reply to Amazon for case MD-2026-000123 at " \
           "2026-03-13 11:00 UTC+01:00" in text


@pytest.mark.parametrize(("kind", "details", "message"), [
    ("rejected", {"by": "li.wei@acme.example"}, r"needs details 'reason' \(missing or empty"),
    ("rejected", {"reason": "  "}, r"needs details 'reason'"),
    ("sent", {"receipt": "250 ok", "to": "x@amazon.de"}, r"needs details 'message_id'"),
    ("send_held", {"reason": "crash"}, r"needs details 'outbox_id'"),
    ("blocked", {"reason": "typo"}, r"needs details 'reasons'"),
    ("refused", {"reason": "old", "sender": "x@y", "body": "the mail"},
     r"takes no details 'body'"),
    ("approval_reminder", {"since": "2026-03-12 10:00"}, r"details\['since'\].*no ISO 8601"),
    ("approval_reminder", {"since": "yesterday"}, r"details\['since'\].*no ISO 8601"),
])
def test_missing_or_wrong_details_are_refused(kind: str, details: dict[str, str],
                                              message: str) -> None:
    """GIVEN a notice missing a required detail, with an empty one, an unknown one (a refused
    mail's body must never be shown) or a time without offset
    WHEN composed THEN a ValueError names the ticket, the kind and the key."""
    with pytest.raises(ValueError, match=r"MD-2026-000123 v2: a '" + kind + "' notice.*"
                       + message):
        notice(kind, details=details)


@pytest.mark.parametrize(("kind", "audience"), [
    ("refused", "client"), ("send_held", "advisor"), ("blocked", "client"),
    ("approval_reminder", "advisor")])
def test_notices_go_only_to_their_readers(kind: str, audience: str) -> None:
    """GIVEN notices meant for the operator, the advisors or the decision-maker
    WHEN addressed to someone else THEN they are refused, naming who may read them."""
    with pytest.raises(ValueError, match=f"goes to .* not to '{audience}'"):
        notice(kind, audience=audience)


def test_unknown_notice_is_refused() -> None:
    """GIVEN a kind of notice that does not exist WHEN composed THEN it is refused, naming it."""
    with pytest.raises(ValueError, match="unknown reply notice 'nonsense': use one of blocked"):
        compose_reply_notice(
            "nonsense", facts(), audience="advisor", details={},  # type: ignore[arg-type]
            languages=["en"], zone=SHANGHAI, now=NOW, from_address="d@advisor.example",
            to=["a@advisor.example"], reply_to=None, message_id="<x@advisor.example>")


def test_notice_about_a_draft_needs_one() -> None:
    """GIVEN a case without a draft (version 0) WHEN a notice about a draft is composed THEN it
    is refused."""
    with pytest.raises(ValueError, match="is about a draft"):
        notice("sent", facts(version=0, replaces=None, diff=None))


# ------------------------------------------------------------------------------ all mails


EXTERNAL = re.compile(r"""src\s*=|<link|<script|<img|<style|url\(|https?://|@import""",
                      re.IGNORECASE)


def test_html_loads_nothing_and_tracks_nobody() -> None:
    """GIVEN the request and every notice WHEN its HTML is read THEN it loads nothing (no src=,
    link, script, img, style block, url() or http address) and uses inline styles."""
    for raw in [request(), *(notice(kind) for kind in DETAILS)]:
        _, html = bodies(raw)
        assert not EXTERNAL.search(html), EXTERNAL.search(html)
        assert 'style="' in html and "<table" in html


def test_every_language_has_reply_words() -> None:
    """GIVEN the languages the routing mails have words for WHEN the reply words are listed
    THEN every one of them has reply words too (a client's language must not fail here)."""
    def codes(folder: str) -> set[str]:
        names = environment().list_templates(filter_func=lambda n: n.startswith(folder))
        return {n.removeprefix(folder).removesuffix(".j2") for n in names}
    assert codes("routing/lang/") == codes("reply/lang/") >= {"en", "zh"}


def test_request_survives_postfix_and_dovecot(postfix: PostfixServer,
                                              dovecot: DovecotServer) -> None:
    """GIVEN an approval request carrying a binary PDF, a Chinese-named text file and the
    platform's original
    WHEN it goes through a real Postfix into Dovecot and is fetched over IMAP
    THEN every file decodes to its bytes, the original reads back unchanged and the headers
    that the reply intake relies on are intact."""
    postfix.send(request(), sender="desk@advisor.example")
    assert wait_until(lambda: len(dovecot.uids()) == 1, timeout=20)
    (fetched,) = dovecot.fetch_all().values()
    message = parsed(fetched)
    assert message["X-Maild-Draft"] == "MD-2026-000123 v2" and message["Reply-To"] == REPLY_TO
    files = [(p.get_filename(), p.get_payload(decode=True)) for p in message.iter_attachments()
             if p.get_content_type() != "message/rfc822"]
    assert files == [(name, data) for name, _type, data in FILES]
    assert attached_originals(fetched) == [ORIGINAL]
    text, _ = bodies(fetched)
    assert quoted(BODY) in text


def test_times_in_details_are_shown_in_the_readers_zone() -> None:
    """GIVEN a sent notice with details['at'] given in another offset WHEN composed for a
    Shanghai client THEN the moment is shown in Shanghai time."""
    details = {**DETAILS["sent"][1], "at": (NOW + timedelta(minutes=5)).astimezone(
        ZoneInfo("America/New_York")).isoformat()}
    text, _ = bodies(notice("sent", details=details))
    assert "was sent at 2026-03-13 18:05 UTC+08:00" in text
