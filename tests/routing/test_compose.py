"""The composed mails (maild.routing.compose): subject, headers, languages, next steps, HTML that
every mail client renders, and the platform's original attached byte for byte."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from maild.routing.compose import (
    SummaryFacts,
    attached_originals,
    clean_topic,
    compose_ack,
    compose_digest,
    compose_operator_alert,
    compose_summary,
)
from maild.templating import defang
from tests.ingestion.conftest import wait_until
from tests.support import DovecotServer, PostfixServer

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
GB2312 = CORPUS / "shein" / "zh_quality_complaint_rate_redirect_gb2312.eml"
EIGHT_BIT = CORPUS / "amazon" / "jp_verification_identity_2bdays_shiftjis.eml"
BARE_LF = CORPUS / "holdout" / "ali_en_buyer_dispute_5_days_origmsg.eml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 15, 7, 59, tzinfo=UTC)
ORIGINAL = (b"From: Amazon <seller-performance@amazon.de>\r\nTo: acme@inbox.advisor.example\r\n"
            b"Subject: Notice of infringement\r\nMessage-ID: <n1@amazon.de>\r\n\r\nBody.\r\n")


def facts(**changes: Any) -> SummaryFacts:
    base = SummaryFacts(
        ticket="MD-2026-000123", priority="P1", platform="amazon", marketplace="amazon.de",
        store_name="AcmeLight EU", client_name="Acme Lighting", category="ip_complaint",
        topic="Notice of infringement", deadline=DUE, deadline_text="within 72 hours",
        identifiers={"asin": ["B0ABCDEF12"], "complaint_id": ["8812345678"]},
        summary_zh="权利人对您的商品提出了知识产权投诉。",
        summary_en="A rights owner filed an IP complaint against your listing.",
        sender_verified=True, action_required=True)
    return replace(base, **changes)


def summary(f: SummaryFacts | None = None, **kwargs: Any) -> bytes:
    arguments: dict[str, Any] = {
        "audience": "client", "languages": ["zh", "en"], "zone": SHANGHAI, "now": NOW,
        "from_address": "Advisor Desk <desk@advisor.example>", "to": ["ops@acme.example"],
        "reply_to": "desk+MD-2026-000123.tok@advisor.example",
        "message_id": "<sum.1@advisor.example>", "original": ORIGINAL}
    arguments.update(kwargs)
    return compose_summary(f or facts(), **arguments)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(raw: bytes) -> tuple[str, str]:
    """The text and HTML parts, decoded."""
    message = parsed(raw)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def section(text: str, start: str, end: str) -> str:
    """The lines of `text` between the first heading `start` and the next `end`."""
    found = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.DOTALL)
    assert found, f"{start!r} ... {end!r} not in:\n{text}"
    return found.group(1)


# ------------------------------------------------------------------------------ subject


@pytest.mark.parametrize(
    ("changes", "subject"),
    [
        ({}, "[P1][Amazon.de][IP complaint] Notice of infringement — due 2026-03-15 "
             "(MD-2026-000123)"),
        # 18:30 UTC on the 15th is already the 16th in Shanghai: the client's day.
        ({"deadline": datetime(2026, 3, 15, 18, 30, tzinfo=UTC)},
         "[P1][Amazon.de][IP complaint] Notice of infringement — due 2026-03-16 "
         "(MD-2026-000123)"),
        ({"platform": "ebay", "marketplace": "ebay.com.au", "category": "claim_dispute",
          "priority": "P2", "deadline": None, "topic": "Fwd: 转发: Item not received"},
         "[P2][eBay.com.au][Claim/dispute] Item not received (MD-2026-000123)"),
        ({"platform": "walmart", "marketplace": None, "category": "listing_removed",
          "topic": "Re: AW: Items unpublished", "deadline": None},
         "[P1][Walmart][Listing removed] Items unpublished (MD-2026-000123)"),
        ({"platform": "aliexpress", "marketplace": None, "category": "payment",
          "priority": "P2", "topic": "  资金\n  冻结通知 ", "deadline": None},
         "[P2][AliExpress][Payment] 资金 冻结通知 (MD-2026-000123)"),
        ({"platform": "other", "marketplace": None, "category": "legal", "priority": "P0",
          "topic": "TRO served", "deadline": None},
         "[P0][Legal] TRO served (MD-2026-000123)"),
        ({"is_update": True, "update_note": "deadline moved"},
         "[P1][Amazon.de][IP complaint] Update: Notice of infringement — due 2026-03-15 "
         "(MD-2026-000123)"),
    ],
)
def test_subject_is_design_4_3(changes: dict[str, Any], subject: str) -> None:
    """GIVEN a case's facts (platforms, markets, with and without a deadline, a follow-up)
    WHEN its summary is composed for a client in Asia/Shanghai
    THEN the subject is DESIGN §4.3's: priority, marketplace as sellers spell it, category,
    the cleaned topic, the due day in the client's zone only when there is a deadline, ticket."""
    assert parsed(summary(facts(**changes)))["Subject"] == subject


def test_due_day_is_the_clients_not_utc() -> None:
    """GIVEN a deadline at 18:30 UTC on 15 March
    WHEN the summary goes to a client in Europe/Berlin and one in Asia/Shanghai
    THEN Berlin's subject says the 15th and Shanghai's the 16th."""
    late = facts(deadline=datetime(2026, 3, 15, 18, 30, tzinfo=UTC))
    assert "— due 2026-03-15 " in parsed(summary(late, zone=ZoneInfo("Europe/Berlin")))["Subject"]
    assert "— due 2026-03-16 " in parsed(summary(late, zone=SHANGHAI))["Subject"]


@pytest.mark.parametrize("topic", ["word " * 30, "https://" + "a" * 70, "冻结通知" * 20,
                                   "Account Health 账户状况 " * 5, "https://" + "a" * 70 + " 中文"])
def test_long_subjects_unfold_to_exactly_the_subject(topic: str) -> None:
    """GIVEN long topics (many words, one unbreakable word, Chinese, mixed)
    WHEN the subject is folded into header lines
    THEN a reader unfolds it to exactly the composed subject: no leading or doubled space."""
    expected = f"[P1][Amazon.de][IP complaint] {clean_topic(topic)} — due 2026-03-15 " \
               "(MD-2026-000123)"
    raw = summary(facts(topic=topic))
    assert parsed(raw)["Subject"] == expected
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    assert b"Subject: [P1][Amazon.de][IP complaint]" in head  # tags readable in raw mail
    assert b"(MD-2026-000123)\r\n" in head


def test_clean_topic_keeps_one_short_line() -> None:
    """GIVEN forwarded subjects with reply chains, folding and great length
    WHEN cleaned THEN the chain and line breaks are gone and the topic is at most 80 chars."""
    assert clean_topic("Fwd: FW: 转发：回复: Policy\r\n warning") == "Policy warning"
    long = clean_topic("x" * 300)
    assert len(long) == 80 and long.endswith("…")


# ------------------------------------------------------------------------------ headers


def test_headers_and_structure() -> None:
    """GIVEN a client's summary with a reply token and a thread to join
    WHEN composed
    THEN it carries Auto-Submitted (RFC 3834), the X-Maild-* headers, the given Reply-To,
    Message-ID, From, To, In-Reply-To/References, a Date in the client's zone, and is
    multipart/mixed: multipart/alternative (UTF-8 text, HTML) then message/rfc822."""
    message = parsed(summary(in_reply_to="<sum.0@advisor.example>"))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Maild-Case"] == "MD-2026-000123"
    assert message["X-Maild-Priority"] == "P1"
    assert message["X-Maild-Platform"] == "amazon"
    assert message["Reply-To"] == "desk+MD-2026-000123.tok@advisor.example"
    assert message["Message-ID"] == "<sum.1@advisor.example>"
    assert message["From"] == "Advisor Desk <desk@advisor.example>"
    assert message["To"] == "ops@acme.example"
    assert message["In-Reply-To"] == message["References"] == "<sum.0@advisor.example>"
    assert message["MIME-Version"] == "1.0"
    assert message["Date"].datetime == NOW and message["Date"].endswith("+0800")
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
        "message/rfc822", "text/plain"]
    text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text["Content-Transfer-Encoding"] in ("quoted-printable", "base64")


def test_output_is_canonical_and_repeatable() -> None:
    """GIVEN a CRLF original WHEN a summary is composed twice
    THEN the bytes are equal, every line ends in CRLF and no line exceeds 998 octets."""
    raw = summary()
    assert raw == summary()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


# ------------------------------------------------------------------------------ languages


def test_client_languages_in_the_clients_order() -> None:
    """GIVEN clients with languages [zh, en] and [en, zh]
    WHEN their summaries are composed
    THEN each language block appears in that order, in the text and in the HTML."""
    for languages, first, second in ((["zh", "en"], "建议的下一步", "Suggested next step"),
                                     (["en", "zh"], "Suggested next step", "建议的下一步")):
        for body in bodies(summary(languages=languages)):
            assert 0 <= body.index(first) < body.index(second), languages


def test_advisors_get_english_first_with_drafting_facts() -> None:
    """GIVEN a zh-first client
    WHEN the advisors' summary is composed
    THEN English comes first, both summaries are there, and the facts a draft needs (client,
    UTC deadline, sender verification, how to draft) are shown, which the client's lacks."""
    text, html = bodies(summary(audience="advisor", languages=["zh", "en"]))
    assert text.index("Suggested next step") < text.index("建议的下一步")
    for body in (text, html):
        assert "A rights owner filed an IP complaint" in body and "权利人对您的商品" in body
        assert "Acme Lighting" in body
        assert "2026-03-15 07:59 UTC" in body
        assert "Sender verified" in body
        assert "To draft the reply to the platform, reply to this mail" in body
        assert "Start with NOTE:" in body
    client_text, _ = bodies(summary())
    assert "Acme Lighting" not in client_text and "NOTE:" not in client_text


def test_a_language_without_words_falls_back_to_english() -> None:
    """GIVEN a client whose languages are [de] (no German words yet)
    WHEN composed THEN the summary is in English rather than empty or an error."""
    text, _ = bodies(summary(languages=["de"]))
    assert "Suggested next step" in text and "建议的下一步" not in text


def test_fallback_names_the_candidates() -> None:
    """GIVEN a notice that several clients may own
    WHEN the fallback's summary is composed
    THEN it says so and names the candidates."""
    text, html = bodies(summary(facts(candidates=("Acme Lighting", "Bolt Tools")),
                                audience="fallback"))
    for body in (text, html):
        assert "Several clients may own this notice (Acme Lighting, Bolt Tools)" in body


def test_deadline_in_the_clients_zone_with_time_left() -> None:
    """GIVEN a deadline 45 h 59 min after now
    WHEN composed for a Shanghai client THEN the facts show its local time, offset and the
    time left; once passed, how long it is overdue."""
    text, _ = bodies(summary())
    assert "2026-03-15 15:59 UTC+08:00 (1 d 21 h left)" in text
    assert "2026-03-15 15:59 UTC+08:00（还剩 1 天 21 小时）" in text
    text, _ = bodies(summary(now=DUE + timedelta(hours=3, minutes=5)))
    assert "(OVERDUE by 3 h 5 min)" in text and "已逾期 3 小时 5 分钟" in text


# ------------------------------------------------------------------------------ HTML


EXTERNAL = re.compile(r"""src\s*=|<link|<script|<img|<style|url\(|https?://|@import""",
                      re.IGNORECASE)


def test_html_has_no_external_resources() -> None:
    """GIVEN every kind of mail composed here
    WHEN its HTML part is read
    THEN it loads nothing: no src=, <link>, <script>, <img>, <style> block, url() or http(s)
    address; it lays facts out in tables with inline styles."""
    mails = [
        summary(), summary(facts(category="phishing_suspect", sender_verified=False,
                                 summary_en="Log in at https://amaz0n-verify.com/x")),
        compose_digest([facts(priority="P3", category="policy_update")], languages=["zh", "en"],
                       zone=SHANGHAI, now=NOW, from_address="desk@advisor.example",
                       to=["ops@acme.example"], message_id="<d@advisor.example>"),
        compose_ack("MD-2026-000123", urgent=True, original_subject="【URGENT】 help",
                    languages=["zh", "en"], zone=SHANGHAI, now=NOW,
                    from_address="desk@advisor.example", to=["li@acme.example"],
                    reply_to=None, message_id="<a@advisor.example>"),
        compose_operator_alert("bounce", {"recipient": "x@acme.example"}, now=NOW,
                               from_address="desk@advisor.example", to=["ops@advisor.example"],
                               message_id="<o@advisor.example>"),
    ]
    for raw in mails:
        _, html = bodies(raw)
        assert not EXTERNAL.search(html), EXTERNAL.search(html)
        assert 'style="' in html
    for raw in (mails[0], mails[2], mails[4]):  # the mails with facts
        assert "<table" in bodies(raw)[1]


def test_html_escapes_what_the_notice_says() -> None:
    """GIVEN a notice whose subject, store name, update note and identifiers hold markup
    WHEN composed THEN the HTML shows it as text: no tag of theirs survives."""
    hostile = facts(topic="<script>alert(1)</script>", store_name="<b>Bold</b>",
                    is_update=True, update_note='<img src="x">',
                    identifiers={"sku": ["<i>SKU</i>"]}, summary_en="<u>u</u>")
    _, html = bodies(summary(hostile, audience="advisor"))
    for tag in ("<script", "<b>", "<img", "<i>", "<u>"):
        assert tag not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;Bold" in html


# ------------------------------------------------------------------------------ the original


def attachment(raw: bytes) -> EmailMessage:
    message = parsed(raw)
    (part,) = list(message.iter_attachments())
    assert isinstance(part, EmailMessage)
    return part


@pytest.mark.parametrize("path", [GB2312, EIGHT_BIT])
def test_original_attached_byte_for_byte_as_message(path: Path) -> None:
    """GIVEN corpus notices with a gb2312 charset and with raw 8-bit Shift_JIS bytes (CRLF)
    WHEN attached to a summary
    THEN the part is message/rfc822 (8bit when the bytes are), its content is exactly the
    original (same SHA-256, also as announced in X-Maild-Original), and the stdlib reads the
    attached message's own headers."""
    original = path.read_bytes()
    raw = summary(original=original)
    (found,) = attached_originals(raw)
    assert hashlib.sha256(found).digest() == hashlib.sha256(original).digest()
    part = attachment(raw)
    assert part.get_content_type() == "message/rfc822"
    eight_bit = any(byte > 127 for byte in original)
    assert part["Content-Transfer-Encoding"] == ("8bit" if eight_bit else "7bit")
    assert part["X-Maild-Original"] == f"sha256={hashlib.sha256(original).hexdigest()}"
    inner = part.get_content()
    assert inner["Message-ID"] == email.message_from_bytes(original)["Message-ID"]
    text, _ = bodies(raw)
    assert "The original message is attached unchanged" in text


@pytest.mark.parametrize(
    "original",
    [BARE_LF.read_bytes(),
     ORIGINAL.replace(b"Body.", b"x" * 1200),  # a line over RFC 5322's 998 octets
     b"not a message at all\r\n"],
    ids=["bare-lf", "long-line", "no-header"],
)
def test_original_that_cannot_travel_as_message_is_a_file(original: bytes) -> None:
    """GIVEN originals a hop would change as message/rfc822 (bare LF line ends, a line over 998
    octets) or that are no message
    WHEN attached
    THEN they go as application/octet-stream original.eml in base64, whose decoded payload (read
    by the stdlib alone) is the original exactly, and the summary says why."""
    raw = summary(original=original)
    part = attachment(raw)
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_filename() == "original.eml"
    assert part["Content-Transfer-Encoding"] == "base64"
    assert hashlib.sha256(part.get_payload(decode=True)).digest() == \
        hashlib.sha256(original).digest()
    assert attached_originals(raw) == [original]
    text, html = bodies(raw)
    for body in (text, html):
        assert "attached as the file original.eml, byte for byte" in body
        assert "以文件 original.eml 逐字节附上" in body


def test_originals_survive_postfix_and_dovecot(postfix: PostfixServer,
                                               dovecot: DovecotServer) -> None:
    """GIVEN summaries carrying an 8-bit CRLF original (as message/rfc822) and a bare-LF
    original (as a file)
    WHEN they go through a real Postfix into Dovecot and are fetched over IMAP
    THEN both originals read back with their SHA-256 unchanged — while the bare-LF original
    sent on its own arrives changed, which is why it travels as a file."""
    eight_bit, bare_lf = EIGHT_BIT.read_bytes(), BARE_LF.read_bytes()
    for n, original in enumerate((eight_bit, bare_lf)):
        postfix.send(summary(original=original, message_id=f"<rt.{n}@advisor.example>"),
                     sender="desk@advisor.example")
    postfix.send(bare_lf, sender="desk@advisor.example")
    assert wait_until(lambda: len(dovecot.uids()) == 3, timeout=20)
    fetched = {parsed(raw)["Message-ID"]: raw for raw in dovecot.fetch_all().values()}
    assert attached_originals(fetched["<rt.0@advisor.example>"]) == [eight_bit]
    assert attached_originals(fetched["<rt.1@advisor.example>"]) == [bare_lf]
    (alone,) = (raw for mid, raw in fetched.items() if not str(mid).startswith("<rt."))
    assert bare_lf not in alone


# ------------------------------------------------------------------------------ phishing


def test_phishing_warns_defangs_and_gives_no_reply_path() -> None:
    """GIVEN a phishing suspect whose topic and summary hold links, and a reply token offered
    WHEN composed
    THEN there is no Reply-To, the first thing read is the warning, and no live link is left
    in the subject, the text or the HTML — each is shown defanged."""
    phish = facts(category="phishing_suspect", sender_verified=False,
                  topic="Verify your account at https://amaz0n-verify.com/login",
                  summary_en="Claims to be Amazon; link to http://amaz0n-verify.com/login.",
                  summary_zh="自称亚马逊，链接 amaz0n-verify.com/login。")
    raw = summary(phish, languages=["en", "zh"])
    message = parsed(raw)
    assert message["Reply-To"] is None
    text, html = bodies(raw)
    assert text.lstrip().startswith("WARNING — PROBABLE PHISHING")
    assert html.index("PROBABLE PHISHING") < html.index("Suggested next step")
    for body in (message["Subject"], text, html):
        assert "amaz0n-verify.com" not in body and "http://" not in body
        assert "https://" not in body
    assert "hxxps://amaz0n-verify[.]com/login" in message["Subject"]
    assert "hxxp://amaz0n-verify[.]com/login" in text
    assert "amaz0n-verify[.]com/login" in html
    assert "has no reply address" in text
    assert "A mail that claims to come from Amazon" in text and "New notice" not in text


def test_defang_breaks_schemes_hosts_and_addresses() -> None:
    """GIVEN text with URLs, bare hosts, an address and an IP
    WHEN defanged THEN none is clickable and numbers and abbreviations stay as they were."""
    assert defang("https://a.example.com/x?y=1") == "hxxps://a[.]example[.]com/x?y=1"
    assert defang("HTTP://evil.example") == "HXXP://evil[.]example"
    assert defang("write to help@amaz0n-seller.com") == "write to help@amaz0n-seller[.]com"
    assert defang("www.аmazon.de and 10.0.0.1") == "www[.]аmazon[.]de and 10[.]0[.]0[.]1"
    assert defang("version 3.5, e.g. soon") == "version 3.5, e.g. soon"


# ------------------------------------------------------------------------------ content


def test_follow_up_says_what_changed() -> None:
    """GIVEN a follow-up whose deadline moved
    WHEN its summary is composed THEN both languages say it updates the case and what changed."""
    note = "deadline moved from 2026-03-15 to 2026-03-20"
    text, html = bodies(summary(facts(is_update=True, update_note=note)))
    for body in (text, html):
        assert f"Update to case MD-2026-000123: {note}." in body
        assert f"案例 MD-2026-000123 有更新：{note}。" in body


ADVICE = re.compile(r"fix|correct|resolve|appeal|plan of action|reinstat|upload|纠正|修复|整改|"
                    r"申诉|上传|修改", re.IGNORECASE)


def test_routine_report_tells_nobody_to_fix_anything() -> None:
    """GIVEN a routine monthly report (category other, no deadline)
    WHEN composed THEN it says no action is needed and gives no advice to fix anything."""
    report = facts(category="other", priority="P3", deadline=None, deadline_text=None,
                   topic="Your monthly account health report", action_required=False,
                   summary_en="Your monthly account health report is ready. No action is "
                              "required.", summary_zh="月度账户状况报告已生成，无需操作。",
                   identifiers={})
    text, html = bodies(summary(report))
    for body in (text, html):
        assert "No action needed" in body and "无需操作，仅供参考" in body
        assert not ADVICE.search(body), ADVICE.search(body)


NEXT_STEPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "suspension": (("plan of action (POA)", "root cause", "corrective actions",
                    "preventive measures"), ("行动计划", "根本原因", "纠正措施", "预防措施")),
    "policy_warning": (("root cause", "corrective actions", "preventive measures"),
                       ("根本原因", "纠正措施", "预防措施")),
    "legal": (("lawyer", "Do not move or withdraw funds"), ("律师", "请勿转移或提取资金")),
    "ip_complaint": (("Contact the rights owner", "retraction", "counter-notice"),
                     ("联系通知中列出的权利人", "撤回投诉", "反通知")),
    "listing_removed": (("request reinstatement",), ("申请恢复",)),
    "verification_request": (("identity document", "business licence", "supplier invoices",
                              "test reports"), ("身份证件", "营业执照", "供应商发票", "检测报告")),
    "claim_dispute": (("tracking number", "proof of delivery", "before 2026-03-15 15:59"),
                      ("物流单号", "妥投证明", "请于 2026-03-15 15:59")),
    "buyer_message": (("within 24 hours",), ("24 小时内",)),
    "payment": (("payment report", "release"), ("付款报告", "放款")),
    "appeal_decision": (("reinstated", "resubmit"), ("已恢复", "重新提交")),
    "policy_update": (("Note the effective date: 2026-07-01",), ("请注意生效日期：2026-07-01",)),
    "phishing_suspect": (("Do not click", "do not log in", "Report it"),
                         ("请勿点击", "请勿通过它登录", "举报")),
    "other": (("No action needed",), ("无需操作",)),
}


@pytest.mark.parametrize("category", sorted(NEXT_STEPS))
def test_each_category_has_its_next_step(category: str) -> None:
    """GIVEN an Amazon notice of each category
    WHEN composed THEN the next-step section (not merely the mail) says what that category
    needs, in English and in Chinese."""
    english, chinese = NEXT_STEPS[category]
    deadline = None if category in ("other", "policy_update") else DUE
    text, _ = bodies(summary(facts(category=category, deadline=deadline,
                                   effective_date=date(2026, 7, 1))))
    step_en = section(text, "Suggested next step:", "Facts:")
    step_zh = section(text, "建议的下一步：", "要点：")
    for words in english:
        assert words in step_en, (category, words, step_en)
    for words in chinese:
        assert words in step_zh, (category, words, step_zh)


def test_non_amazon_suspension_asks_for_the_same_three_parts() -> None:
    """GIVEN a Temu suspension WHEN composed THEN the appeal still names root cause, corrective
    actions and preventive measures, without calling it an Amazon plan of action."""
    text, _ = bodies(summary(facts(platform="temu", marketplace=None, category="suspension")))
    step = section(text, "Suggested next step:", "Facts:")
    assert "root cause" in step and "corrective actions" in step and "preventive measures" in step
    assert "Seller Central" not in step


# ------------------------------------------------------------------------------ other mails


def test_digest_lists_every_notice_and_attaches_their_originals() -> None:
    """GIVEN two waiting P3 notices (a policy update with its effective date, a report)
    WHEN put in one digest for a zh-first client
    THEN the subject counts them, X-Maild-Cases names both tickets, each appears with its tags,
    summary and next step, and both originals are attached byte for byte."""
    update = facts(ticket="MD-2026-000201", priority="P3", category="policy_update",
                   deadline=None, effective_date=date(2026, 7, 1), topic="EPR changes")
    report = facts(ticket="MD-2026-000202", priority="P3", category="other", deadline=None,
                   platform="walmart", marketplace=None, topic="Monthly scorecard",
                   summary_en="Your scorecard is ready.", summary_zh="月度记分卡已生成。")
    originals = [ORIGINAL, BARE_LF.read_bytes()]
    raw = compose_digest([update, report], languages=["zh", "en"], zone=SHANGHAI, now=NOW,
                         from_address="desk@advisor.example", to=["ops@acme.example"],
                         message_id="<digest.1@advisor.example>", originals=originals)
    message = parsed(raw)
    assert message["Subject"] == "[P3][Digest] 2 notices — 2026-03-13"
    assert message["X-Maild-Cases"] == "MD-2026-000201 MD-2026-000202"
    assert message["Auto-Submitted"] == "auto-generated" and message["Reply-To"] is None
    text, html = bodies(raw)
    for body in (text, html):
        assert "EPR changes" in body and "MD-2026-000201" in body
        assert "Takes effect: 2026-07-01" in body and "生效日期：2026-07-01" in body
        assert "Monthly scorecard" in body and "Your scorecard is ready." in body
    assert "1. [P3][Amazon.de][Policy update] EPR changes (MD-2026-000201)" in text
    assert text.index("==== 中文 ====") < text.index("==== English ====")
    assert attached_originals(raw) == originals


def test_urgent_ticket_acknowledgement() -> None:
    """GIVEN a client's 【URGENT】 mail to the service mailbox
    WHEN acknowledged
    THEN the subject carries [URGENT-MD-…] and the client's subject without the tag, the mail
    is P0, threaded to the client's, in the client's languages, and says the advisors were
    alerted; a normal ticket's acknowledgement has no URGENT tag."""
    raw = compose_ack("MD-2026-000123", urgent=True, original_subject="【URGENT】 店铺被冻结",
                      languages=["zh", "en"], zone=SHANGHAI, now=NOW,
                      from_address="desk@advisor.example", to=["li.wei@acme.example"],
                      reply_to="desk+tok@advisor.example", message_id="<ack.1@advisor.example>",
                      in_reply_to="<urgent.1@acme.example>")
    message = parsed(raw)
    assert message["Subject"] == "[URGENT-MD-2026-000123] Re: 店铺被冻结"
    assert message["X-Maild-Priority"] == "P0" and message["X-Maild-Case"] == "MD-2026-000123"
    assert message["In-Reply-To"] == "<urgent.1@acme.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = bodies(raw)
    for body in (text, html):
        assert body.index("已立即通知您的顾问") < body.index("Your advisors have been alerted now")
    normal = parsed(compose_ack("MD-2026-000124", urgent=False, original_subject="Question",
                                languages=["en"], zone=SHANGHAI, now=NOW,
                                from_address="desk@advisor.example", to=["li@acme.example"],
                                reply_to=None, message_id="<ack.2@advisor.example>"))
    assert normal["Subject"] == "[MD-2026-000124] Re: Question"
    assert normal["X-Maild-Priority"] == "P2"


@pytest.mark.parametrize(("kind", "title", "says"), [
    ("unmatched", "Notice matched no client", "went to the fallback recipients"),
    ("send_failure", "Send failure", "could not be delivered"),
    ("bounce", "Bounce", "delivery status notification came back"),
    ("rate_limit", "Rate limit reached", "further messages to it are held"),
])
def test_operator_alerts(kind: Any, title: str, says: str) -> None:
    """GIVEN each kind of operator alert with its details
    WHEN composed THEN the subject names the kind and the first detail, the body explains it
    and lists every detail, it has no Reply-To, and an original given is attached unchanged."""
    raw = compose_operator_alert(
        kind, {"recipient": "ops@acme.example", "reply": "550 5.1.1 <ops@acme.example>: no"},
        now=NOW, from_address="desk@advisor.example", to=["ops@advisor.example"],
        message_id="<alert.1@advisor.example>", ticket="MD-2026-000123", original=ORIGINAL)
    message = parsed(raw)
    assert message["Subject"] == f"[maild alert][{title}] ops@acme.example (MD-2026-000123)"
    assert message["X-Maild-Alert"] == kind and message["Reply-To"] is None
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = bodies(raw)
    for body in (text, html):
        assert says in body and "550 5.1.1 " in body
    assert attached_originals(raw) == [ORIGINAL]
    with pytest.raises(ValueError, match="unknown operator alert"):
        compose_operator_alert("nonsense", {}, now=NOW,  # type: ignore[arg-type]
                               from_address="d@advisor.example", to=["o@advisor.example"],
                               message_id="<x@advisor.example>")


def test_facts_are_checked() -> None:
    """GIVEN facts with an unknown priority, an unknown category or a naive deadline
    WHEN built THEN they are refused with the ticket named."""
    with pytest.raises(ValueError, match="MD-2026-000123: priority"):
        facts(priority="P9")
    with pytest.raises(ValueError, match="unknown category"):
        facts(category="spam")
    with pytest.raises(ValueError, match="aware"):
        facts(deadline=datetime(2026, 3, 15, 7, 59))
