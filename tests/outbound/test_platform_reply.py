"""The reply to a platform (`maild.outbound.platform_reply`) and the platform rules that block
one (`maild.outbound.platform_rules`, table `maild/outbound/platform_rules.toml`)."""

from __future__ import annotations

import email
import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, MIMEPart
from email.policy import default
from email.utils import format_datetime
from pathlib import Path

import pytest

from maild.errors import ConfigError
from maild.outbound.platform_reply import (
    ThreadOrigin,
    compose_platform_reply,
    platform_address,
    reply_subject,
    thread_origin,
)
from maild.outbound.platform_rules import blockers, default_rules, load_rules
from maild.outbound.smtp import send_message
from tests.outbound.conftest import settings_for
from tests.support import SmtpSink

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SELLER = "seller@example-shop.cn"
STORE = "AcmeLight EU <amazon-eu@acme.example>"
BUYER = "3m9z4k1q8x2w7v5@marketplace.amazon.com"
NOTICE_ID = "<c0bf6948a8e9b0f7743cc7be027ac7bf.ebf08bd3@email.amazonses.com>"
EARLIER = ("<first.1@email.amazonses.com>", "<reply.2@acme.example>")
SUBJECT = "Inquiry from Amazon customer Jennifer (Order: 111-2938475-6610293)"
REPLY_ID = "<MD-2026-000123.platform.3f9a1c2b7d.maild@acme.example>"
NOW = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
MB = 1_000_000


def buyer_message(*, reply_to: str | None = None) -> EmailMessage:
    """An Amazon buyer message, third in its thread (it has References)."""
    notice = EmailMessage()
    notice["From"] = f"Jennifer - Amazon Marketplace <{BUYER}>"
    if reply_to:
        notice["Reply-To"] = reply_to
    notice["To"] = SELLER
    notice["Subject"] = SUBJECT
    notice["Date"] = "Sun, 15 Mar 2026 02:33:10 +0000"
    notice["Message-ID"] = NOTICE_ID
    notice["In-Reply-To"] = EARLIER[-1]
    notice["References"] = " ".join(EARLIER)
    notice.set_content("------------- Begin message -------------\n\nWhere is my hose?\n\n"
                       "------------- End message -------------\n")
    return notice


def forwarded_as_attachment(notice: EmailMessage, subject_prefix: str = "Fwd: ") -> bytes:
    """The seller's forward with the notice attached as message/rfc822."""
    outer = EmailMessage()
    outer["From"] = f"Zhang Wei <{SELLER}>"
    outer["To"] = "inbox@maild.example"
    outer["Subject"] = subject_prefix + str(notice["Subject"])
    outer["Message-ID"] = "<fwd.1@example-shop.cn>"
    outer["References"] = "<something.else@example-shop.cn>"
    outer.set_content("请帮忙回复这位买家。\n")
    outer.add_attachment(notice)
    return outer.as_bytes()


def forwarded_inline(block: str, subject: str) -> bytes:
    """The seller's inline forward: a client's quoted header block, then the original text."""
    outer = EmailMessage()
    outer["From"] = f"Zhang Wei <{SELLER}>"
    outer["To"] = "inbox@maild.example"
    outer["Subject"] = subject
    outer["Message-ID"] = "<fwd.2@example-shop.cn>"
    outer.set_content("请回复。\n\n" + block + "\nWhere is my hose?\n")
    return outer.as_bytes()


def compose(origin: ThreadOrigin, *, body: str = "Hello Jennifer,\n\nIt ships today.\n",
            attachments: tuple[tuple[str, str, bytes], ...] = (),
            message_id: str = REPLY_ID) -> bytes:
    return compose_platform_reply(origin, body=body, attachments=attachments, from_address=STORE,
                                  to=origin.reply_to or BUYER, message_id=message_id, now=NOW)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(part: MIMEPart | None) -> str:
    """The decoded text with the wire's CRLF line ends read as newlines, as mail readers do."""
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


# --------------------------------------------------------------------------- subject


@pytest.mark.parametrize(("subject", "expected"), [
    (SUBJECT, f"Re: {SUBJECT}"),
    (f"Re: {SUBJECT}", f"Re: {SUBJECT}"),
    (f"RE: Re: Fwd: {SUBJECT}", f"Re: {SUBJECT}"),
    (f"Fwd: Re: {SUBJECT}", f"Re: {SUBJECT}"),
    (f"FW: [Fwd]: {SUBJECT}", f"Re: {SUBJECT}"),
    ("转发：Re: 买家消息 (订单: 111-2938475-6610293)", "Re: 买家消息 (订单: 111-2938475-6610293)"),
    ("回复: 转发: 买家消息", "Re: 买家消息"),
    ("Re:   Anfrage  zur   Lieferung ", "Re: Anfrage zur Lieferung"),
])
def test_the_subject_gets_one_re_and_loses_forward_prefixes(subject: str, expected: str) -> None:
    """GIVEN an origin subject behind Re/Fwd/转发/回复 chains and odd spacing
    WHEN the reply's subject is made (and the reply composed)
    THEN it is "Re: " once before the bare subject, single-spaced, and survives the header."""
    assert reply_subject(subject) == expected
    origin = ThreadOrigin(subject=subject, message_id=None, references=(), reply_to=BUYER)
    assert parsed(compose(origin))["Subject"] == expected


# --------------------------------------------------------------------------- thread origin


def test_an_attached_forward_threads_the_reply_to_the_platform_message() -> None:
    """GIVEN a seller's "Fwd:" with an Amazon buyer message attached as message/rfc822
    WHEN its origin is read and the reply composed
    THEN the origin is the attached message (its subject, id, references and sender, not the
    seller's), and the reply goes to the buyer's alias, In-Reply-To the notice, with References
    of the notice's thread followed by the notice."""
    origin = thread_origin(forwarded_as_attachment(buyer_message()))
    assert origin == ThreadOrigin(subject=SUBJECT, message_id=NOTICE_ID, references=EARLIER,
                                  reply_to=BUYER)
    reply = parsed(compose(origin))
    assert reply["To"] == BUYER
    assert reply["From"] == STORE
    assert reply["In-Reply-To"] == NOTICE_ID
    assert reply["References"].split() == [*EARLIER, NOTICE_ID]
    assert reply["Subject"] == f"Re: {SUBJECT}"


def test_the_original_reply_to_wins_over_its_from() -> None:
    """GIVEN an attached notice whose Reply-To differs from its From
    WHEN its origin is read THEN the reply address is the bare, lower-cased Reply-To."""
    notice = buyer_message(reply_to="Amazon Messaging <Reply.Here@Marketplace.Amazon.com>")
    origin = thread_origin(forwarded_as_attachment(notice, "转发: "))
    assert origin.reply_to == "reply.here@marketplace.amazon.com"
    assert origin.subject == SUBJECT


GMAIL_BLOCK = (f"---------- Forwarded message ---------\n"
               f"From: Jennifer - Amazon Marketplace <{BUYER}>\n"
               f"Date: Sun, Mar 15, 2026 at 10:33 AM\n"
               f"Subject: {SUBJECT}\n"
               f"To: <{SELLER}>\n")
CHINESE_BLOCK = ("-------- 转发的邮件 --------\n"
                 f"发件人：Jennifer - Amazon Marketplace <{BUYER}>\n"
                 "发送时间：2026年3月15日 10:33\n"
                 f"收件人：{SELLER}\n"
                 "主题：来自亚马逊买家的消息 (订单: 111-2938475-6610293)\n")


@pytest.mark.parametrize(("block", "outer_subject", "subject"), [
    (GMAIL_BLOCK, f"Fwd: {SUBJECT}", SUBJECT),
    (CHINESE_BLOCK, "转发：来自亚马逊买家的消息 (订单: 111-2938475-6610293)",
     "来自亚马逊买家的消息 (订单: 111-2938475-6610293)"),
], ids=["gmail", "chinese-client"])
def test_an_inline_forward_replies_to_the_quoted_sender_without_thread_ids(
        block: str, outer_subject: str, subject: str) -> None:
    """GIVEN a seller's inline forward (Gmail's English block, a Chinese client's 转发的邮件)
    WHEN its origin is read and the reply composed
    THEN subject and address come from the quoted block, the Message-ID and References are
    unknown, and the reply has no In-Reply-To or References (none better than the forward's)."""
    origin = thread_origin(forwarded_inline(block, outer_subject))
    assert origin == ThreadOrigin(subject=subject, message_id=None, references=(), reply_to=BUYER)
    reply = parsed(compose(origin))
    assert reply["To"] == BUYER
    assert reply["In-Reply-To"] is None and reply["References"] is None
    assert reply["Subject"] == f"Re: {subject}"


def test_mail_that_was_not_forwarded_is_its_own_origin() -> None:
    """GIVEN the buyer message itself (a redirect, or mail straight from Amazon) with an
    In-Reply-To and no References
    WHEN its origin is read
    THEN its own headers are used, and its single In-Reply-To starts the references
    (RFC 5322 §3.6.4)."""
    notice = buyer_message()
    del notice["References"]
    origin = thread_origin(notice.as_bytes())
    assert origin == ThreadOrigin(subject=SUBJECT, message_id=NOTICE_ID,
                                  references=(EARLIER[-1],), reply_to=BUYER)
    assert parsed(compose(origin))["References"].split() == [EARLIER[-1], NOTICE_ID]


@pytest.mark.parametrize(("path", "message_id", "reply_to"), [
    ("amazon/fr_buyer_message_gmail.eml", None, "p4z8k2m7x1q9w3v@marketplace.amazon.fr"),
    ("amazon/uk_buyer_message_qq.eml", None, "q1w8z3k7m2x9p4v@marketplace.amazon.co.uk"),
    ("amazon/us_buyer_message_where_is_order.eml",
     "<c0bf6948a8e9b0f7743cc7be027ac7bf.ebf08bd3@email.amazonses.com>",
     "3m9z4k1q8x2w7v5@marketplace.amazon.com"),
    ("ebay/com_member_message_question.eml", "<7625e3d24165a7da.e02c5e50d4@members.ebay.com>",
     "kathy_m1974@members.ebay.com"),
])
def test_corpus_notices_give_the_platform_sender(path: str, message_id: str | None,
                                                 reply_to: str) -> None:
    """GIVEN buyer messages of the test corpus (inline forwards by Gmail and QQ, mail straight
    from the platform)
    WHEN their origin is read THEN the reply goes to the buyer's platform alias, threaded when the
    platform's Message-ID survived."""
    origin = thread_origin((CORPUS / path).read_bytes())
    assert (origin.message_id, origin.reply_to) == (message_id, reply_to)


# --------------------------------------------------------------------------- the bytes


def test_the_headers_are_minimal_and_mark_nothing_as_machine_made() -> None:
    """GIVEN an origin with a thread
    WHEN the reply is composed without attachments
    THEN it has exactly the headers a person's reply has (no Auto-Submitted, no X- header, no
    Reply-To), one text/plain UTF-8 part and no HTML, a fixed Message-ID and a Date from now."""
    origin = ThreadOrigin(subject=SUBJECT, message_id=NOTICE_ID, references=(), reply_to=BUYER)
    reply = parsed(compose(origin))
    assert [name for name, _value in reply.items()] == [
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding"]
    assert reply.get_content_type() == "text/plain"
    assert reply.get_content_charset() == "utf-8"
    assert reply["Message-ID"] == REPLY_ID
    assert reply["Date"] == format_datetime(NOW)
    assert text_of(reply) == "Hello Jennifer,\n\nIt ships today.\n"


def test_the_same_input_gives_the_same_bytes_in_crlf_lines() -> None:
    """GIVEN the same origin, body, attachments and Message-ID twice, and once a different id
    WHEN the reply is composed
    THEN the bytes are identical (the boundary comes from the Message-ID), every line ends in
    CRLF and fits RFC 5322's 998 octets, the message is 7-bit; another id changes the boundary."""
    origin = ThreadOrigin(subject=SUBJECT, message_id=NOTICE_ID, references=EARLIER,
                          reply_to=BUYER)
    files = (("invoice.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40),)
    first = compose(origin, attachments=files)
    assert first == compose(origin, attachments=files)
    assert first.count(b"\n") == first.count(b"\r\n") and first.endswith(b"\r\n")
    assert max(len(line) for line in first.split(b"\r\n")) <= 998
    assert first.isascii()
    other = compose(origin, attachments=files, message_id="<other.maild@acme.example>")
    boundary = parsed(first).get_boundary()
    assert boundary is not None and boundary != parsed(other).get_boundary()
    assert b"maild" not in boundary.encode()


def test_a_boundary_in_the_text_is_avoided() -> None:
    """GIVEN a plain ASCII body (sent 7bit, unencoded) that holds the boundary the Message-ID
    gives WHEN the reply is composed THEN another boundary is taken and the text survives."""
    origin = ThreadOrigin(subject=SUBJECT, message_id=None, references=(), reply_to=BUYER)
    files = (("a.txt", "text/plain", b"x"),)
    taken = parsed(compose(origin, attachments=files)).get_boundary()
    body = f"Quoting --{taken} on purpose.\n"
    reply = parsed(compose(origin, body=body, attachments=files))
    assert reply.get_boundary() != taken
    assert text_of(reply.get_body(("plain",))) == body


def test_non_ascii_text_and_file_names_round_trip() -> None:
    """GIVEN a German and Chinese body and attachments with non-ASCII names (one with a folder)
    WHEN the reply is composed and parsed back with the email package
    THEN the text is the body (quoted-printable or base64, not 8bit), each file keeps its bare
    name (RFC 2231 encoded), its type and its bytes, in order, in a multipart/mixed."""
    body = "Sehr geehrte Frau Müller,\n\n您的发票在附件中。\n\nMit freundlichen Grüßen\n"
    pdf, photo = b"%PDF-1.4 \xe2\x82\xac" * 500, bytes(range(256)) * 10
    origin = ThreadOrigin(subject="Anfrage zur Lieferung", message_id=NOTICE_ID, references=(),
                          reply_to=BUYER)
    raw = compose(origin, body=body, attachments=(
        ("发票 März.pdf", "application/pdf", pdf),
        ("C:\\Users\\anna\\Fotos\\Verpackung ß.JPG", "image/jpeg; name=x.jpg", photo)))
    assert b"filename*=utf-8''%E5%8F%91%E7%A5%A8%20M%C3%A4rz.pdf" in raw
    reply = parsed(raw)
    assert reply.get_content_type() == "multipart/mixed"
    text = reply.get_body(("plain",))
    assert text_of(text) == body
    assert text is not None
    assert text["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    files = [(p.get_filename(), p.get_content_type(), p.get_content())
             for p in reply.iter_attachments()]
    assert files == [("发票 März.pdf", "application/pdf", pdf),
                     ("Verpackung ß.JPG", "image/jpeg", photo)]
    assert reply.get_body(("html",)) is None


def test_message_and_unreadable_types_travel_as_octet_stream() -> None:
    """GIVEN an attached .eml (message/rfc822, which may not be base64) and a file whose type is
    not a MIME type WHEN the reply is composed THEN both go as application/octet-stream with
    their bytes unchanged."""
    origin = ThreadOrigin(subject=SUBJECT, message_id=None, references=(), reply_to=BUYER)
    eml = b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n"
    reply = parsed(compose(origin, attachments=(("note.eml", "message/rfc822", eml),
                                                ("data.bin", "no type", b"\x00\x01"))))
    assert [(p.get_content_type(), p.get_content()) for p in reply.iter_attachments()] == [
        ("application/octet-stream", eml), ("application/octet-stream", b"\x00\x01")]


def test_the_date_keeps_the_offset_and_a_naive_now_is_refused() -> None:
    """GIVEN now in UTC+8, and a naive now
    WHEN the reply is composed THEN the Date has +0800; the naive time raises ValueError."""
    origin = ThreadOrigin(subject=SUBJECT, message_id=None, references=(), reply_to=BUYER)
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    raw = compose_platform_reply(origin, body="Hi\n", attachments=(), from_address=STORE,
                                 to=BUYER, message_id=REPLY_ID, now=shanghai)
    assert parsed(raw)["Date"] == "Sun, 15 Mar 2026 17:30:00 +0800"
    with pytest.raises(ValueError, match="aware"):
        compose_platform_reply(origin, body="Hi\n", attachments=(), from_address=STORE,
                               to=BUYER, message_id=REPLY_ID, now=NOW.replace(tzinfo=None))


def test_the_reply_reaches_an_smtp_server_byte_for_byte(smtp_sink: SmtpSink) -> None:
    """GIVEN a composed reply with non-ASCII text and an attachment
    WHEN maild's SMTP client sends it to a real server
    THEN the server received exactly those bytes (what the outbox archived is what went out)."""
    origin = thread_origin(forwarded_as_attachment(buyer_message()))
    raw = compose(origin, body="您好，\n.\n..dots\nGrüße\n",
                  attachments=(("发票.pdf", "application/pdf", b"%PDF" * 1000),))
    send_message(settings_for(smtp_sink.port), "amazon-eu@acme.example", [BUYER], raw)
    (mail,) = smtp_sink.wait_for(1)
    assert hashlib.sha256(mail.content).hexdigest() == hashlib.sha256(raw).hexdigest()
    assert mail.rcpt_tos == (BUYER,)


# --------------------------------------------------------------------------- address


def test_a_configured_address_wins_over_the_origin() -> None:
    """GIVEN configured addresses for a category and for any category, and an origin Reply-To
    WHEN the platform address is asked for
    THEN the category's address wins, then "*", then the origin's; None when none is known."""
    origin = ThreadOrigin(subject=SUBJECT, message_id=None, references=(), reply_to=BUYER)
    configured = {"appeal_decision": "appeals@amazon.example", "*": "seller-help@amazon.example"}
    assert platform_address(origin, configured, "appeal_decision") == "appeals@amazon.example"
    assert platform_address(origin, configured, "buyer_message") == "seller-help@amazon.example"
    assert platform_address(origin, {}, "buyer_message") == BUYER
    nowhere = ThreadOrigin(subject=SUBJECT, message_id=None, references=(), reply_to=None)
    assert platform_address(nowhere, {}, "buyer_message") is None


# --------------------------------------------------------------------------- platform rules


CLEAN = ("Hello Jennifer,\n\nYour hose left our warehouse on 14 March; order 111-2938475-6610293, "
         "tracking 9400111899223344556677, item 225891234567. Details: "
         "https://www.amazon.com/gp/your-account/order-history and www.amazon.de/hilfe.\n\n"
         "Best regards,\nAcmeLight EU\n")


def test_a_clean_draft_has_no_blockers() -> None:
    """GIVEN a reply with order, tracking and item numbers, a date, links to Amazon and allowed
    attachments (within 10 MB) WHEN checked for Amazon and eBay buyer messages THEN nothing
    blocks it (eBay's rules see only Amazon links as outside links, so not with those)."""
    files = [("invoice.PDF", 2 * MB), ("photo.jpeg", 3 * MB), ("manual.docx", 4 * MB),
             ("notes.txt", 1)]
    assert blockers("amazon", "buyer_message", CLEAN, files) == []
    assert blockers("ebay", "buyer_message", CLEAN.replace("amazon", "ebay"), []) == []


@pytest.mark.parametrize("body", ["", "  \n\t\n"])
@pytest.mark.parametrize("platform", ["amazon", "walmart", "other"])
def test_an_empty_body_is_blocked_everywhere(body: str, platform: str) -> None:
    """GIVEN an empty or blank reply WHEN checked for any platform and category
    THEN it is blocked for having no text."""
    assert blockers(platform, "policy_warning", body, []) == ["the reply has no text"]


@pytest.mark.parametrize(("text", "found"), [
    ("See https://acmelight.example/manual.", "https://acmelight.example/manual"),
    ("See http://amazon.de.evil.example/x", "http://amazon.de.evil.example/x"),
    ("Visit www.acmelight.example!", "www.acmelight.example"),
    ("说明书：https://说明.example/书，谢谢", "https://说明.example/"),
])
def test_amazon_buyer_messages_refuse_outside_links(text: str, found: str) -> None:
    """GIVEN an Amazon buyer reply with a link outside Amazon (scheme, www., look-alike host,
    internationalised host) WHEN checked THEN the link is named in the one reason."""
    assert blockers("amazon", "buyer_message", f"{CLEAN}{text}\n", []) == [
        f"Amazon buyer messages must not link to websites outside Amazon: {found}"]


def test_amazon_buyer_messages_refuse_email_addresses() -> None:
    """GIVEN an Amazon buyer reply with an email address in the signature
    WHEN checked THEN the address is named."""
    assert blockers("amazon", "buyer_message", CLEAN + "service@acmelight.example\n", []) == [
        "Amazon buyer messages must not contain email addresses: service@acmelight.example"]


@pytest.mark.parametrize("number", [
    "+49 30 1234567", "+1 (206) 555-0133", "206-555-0133", "(206) 555 0133", "13812345678",
    "Tel: 030 1234567", "电话：010-12345678", "WhatsApp +86 138 1234 5678"])
def test_amazon_buyer_messages_refuse_phone_numbers(number: str) -> None:
    """GIVEN an Amazon buyer reply with a phone number in a common form
    WHEN checked THEN it is blocked for a telephone number (order, tracking and item numbers in
    the same text are not taken for one)."""
    (reason,) = blockers("amazon", "buyer_message", f"{CLEAN}Call {number} any time.\n", [])
    assert reason.startswith("Amazon buyer messages must not contain telephone numbers: ")
    assert reason.endswith(number.split()[-1])


@pytest.mark.parametrize("text", ["Hotel: 030 123456 nights", "Pack of +5 2", "ASIN B0CW8Q2M5V",
                                  "2026-03-15 12:00", "SKU 400-12"])
def test_numbers_that_are_no_phone_numbers_pass(text: str) -> None:
    """GIVEN numbers that only look like phone numbers WHEN checked THEN nothing blocks."""
    assert blockers("amazon", "buyer_message", f"{CLEAN}{text}\n", []) == []


def test_amazon_attachments_over_10_mb_or_of_other_types_are_refused() -> None:
    """GIVEN attachments of 10,000,001 bytes in total, one a .zip and one an .exe
    WHEN checked for an Amazon buyer message
    THEN two reasons: the total (10.0 MB) and the refused files by name."""
    files = [("invoice.pdf", 6 * MB), ("photos.zip", 4 * MB), ("setup.exe", 1)]
    assert blockers("amazon", "buyer_message", CLEAN, files) == [
        "Amazon accepts at most 10 MB of attachments per buyer message; these come to 10.0 MB",
        "Amazon buyer messages accept PDF, text, Word and JPEG/PNG/GIF files only, not: "
        "photos.zip, setup.exe"]
    assert blockers("amazon", "buyer_message", CLEAN, [("invoice.pdf", 10 * MB)]) == []


def test_ebay_messages_refuse_outside_links_and_contact_details() -> None:
    """GIVEN an eBay buyer reply with an outside link, an email address and a phone number
    WHEN checked THEN one reason each, naming what was found; eBay links pass."""
    body = ("Hi Kathy, see https://www.ebay.com/itm/225891234567 or https://shop.example/vac, "
            "write to kathy-help@shop.example or call 206-555-0133.")
    assert blockers("ebay", "buyer_message", body, [("big.zip", 50 * MB)]) == [
        "eBay messages must not link to websites outside eBay: https://shop.example/vac",
        "eBay messages must not share email addresses: kathy-help@shop.example",
        "eBay messages must not share phone numbers: 206-555-0133"]


def test_rules_cover_only_their_platform_and_category() -> None:
    """GIVEN a reply with a link, an address and a phone number
    WHEN checked for an Amazon IP complaint, a Walmart buyer message and an unknown platform
    THEN no rule of the table covers them (only what has a public source is checked)."""
    body = "See https://acmelight.example, mail a@acmelight.example, call 206-555-0133."
    for platform, category in [("amazon", "ip_complaint"), ("walmart", "buyer_message"),
                               ("unknown", "buyer_message")]:
        assert blockers(platform, category, body, [("x.zip", 99 * MB)]) == []


def test_every_platform_rule_names_its_public_source() -> None:
    """GIVEN the shipped table WHEN loaded THEN every rule but maild's own empty-body rule cites
    a public web address, and the Amazon and eBay rules are there."""
    rules = default_rules()
    assert {rule.name for rule in rules} == {
        "empty_body", "amazon_links", "amazon_email_addresses", "amazon_phone_numbers",
        "amazon_attachment_size", "amazon_attachment_types", "ebay_links",
        "ebay_email_addresses", "ebay_phone_numbers"}
    for rule in rules:
        if rule.name == "empty_body":
            assert rule.source == "maild"
        else:
            assert "https://" in rule.source or "http://" in rule.source, rule


@pytest.mark.parametrize(("row", "error"), [
    ('check = "links_everywhere"', "rule[0].check: must be one of"),
    ('check = "links"\ncategories = ["buyer_messages"]', "rule[0].categories[0]: must be"),
    ('check = "links"\nplatforms = ["amazon.de"]', "rule[0].platforms[0]: must be"),
    ('check = "links"\nmax_total_bytes = 5', "rule[0].max_total_bytes: unknown key"),
    ('check = "attachment_total"', "rule[0].max_total_bytes: is required"),
    ('check = "attachment_total"\nmax_total_bytes = 0', "rule[0].max_total_bytes: must be a"),
    ('check = "attachment_types"\nextensions = ["pdf"]', "rule[0].extensions[0]: must be like"),
    ('check = "links"\nreason = "bad {link}"', "rule[0].reason: may hold {found}"),
    ('check = "links"\nsource = ""', "rule[0].source: must not be empty"),
])
def test_a_broken_table_names_the_file_and_key(tmp_path: Path, row: str, error: str) -> None:
    """GIVEN a rules table with one mistake WHEN it is loaded
    THEN a ConfigError names the file and the rule's key."""
    defaults = {"name": '"r"', "platforms": '["amazon"]', "categories": '["buyer_message"]',
                "reason": '"no: {found}"', "source": '"https://example.org/policy"'}
    given = {line.split(" = ")[0]: line.split(" = ", 1)[1] for line in row.splitlines()}
    table = tmp_path / "rules.toml"
    table.write_text("[[rule]]\n" + "".join(f"{key} = {value}\n"
                                            for key, value in (defaults | given).items()))
    with pytest.raises(ConfigError, match=re.escape(f"rules.toml: {error}")):
        load_rules(table)
