"""Reading answers from the replies mailbox (maild/outbound/reply_text.py): the new text of
replies written in Gmail, Outlook, Apple Mail, QQ Mail and Foxmail (English and Chinese, plain,
alternative and HTML-only), their files byte for byte, the receiving server's verdict, notes and
decisions."""

from __future__ import annotations

import base64
import email.policy
from dataclasses import replace
from email import message_from_bytes
from email.message import EmailMessage

import pytest

from maild.outbound.reply_text import (
    ReplyAttachment,
    note_text,
    read_decision,
    read_reply,
)
from maild.parsers.trim import TRIM_ABOVE
from tests.outbound.reply_layouts import LAYOUTS, ORIGINAL_EN, Attached, Parts, build_reply

NEW_EN = ("Please change the second paragraph: the refund went out on Monday.\n\n"
          "The tracking number is 1Z999AA10123456784, please add it.")
NEW_ZH = "请修改第二段：退款已于周一发出。\n\n运单号是 SF1234567890，请加上。"

# The signature each client's user has set up (the layout adds the client's own delimiter:
# Gmail "-- ", QQ Mail 18 dashes).
SIGNATURES: dict[str, str] = {
    "gmail": "Li Wei\nAcme Lighting | Purchasing",
    "gmail_zh": "李伟\n艾克美照明 采购部",
    "outlook": "Best regards,\nLi Wei\nAcme Lighting\nTel +86 755 1234 5678",
    "outlook_zh": "此致\n敬礼！\n李伟\n艾克美照明",
    "apple": "Sent from my iPhone",
    "apple_zh": "发自我的iPhone",
    "qq": "李伟\n艾克美照明 采购部",
    "qq_en": "Li Wei\nAcme Lighting",
    "foxmail": "Kind regards,\nLi Wei",
    "foxmail_zh": "祝好\n李伟\n艾克美照明",
}

PDF = (b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
       b"\x00\x01\x02\xff\r\n\r\n.\r\n%%EOF\r\n")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256))


def _chinese(client: str) -> bool:
    return client.endswith("_zh") or client == "qq"


@pytest.mark.parametrize("parts", ["plain", "alternative", "html"])
@pytest.mark.parametrize("client", sorted(LAYOUTS))
def test_new_text_is_only_what_the_author_wrote(client: str, parts: Parts) -> None:
    """GIVEN a reply written in `client`, as text, text+HTML or HTML only, with a signature and
    the quoted history below it
    WHEN it is read
    THEN new_text is exactly the author's new text: no history, no header block, no marker,
    no signature."""
    new = NEW_ZH if _chinese(client) else NEW_EN
    raw = build_reply(client, new, signature=SIGNATURES[client], parts=parts)

    assert read_reply(raw).new_text == new


@pytest.mark.parametrize("client", ["gmail", "gmail_zh", "apple", "qq", "outlook_zh", "foxmail"])
def test_a_reply_with_nothing_above_the_history_has_no_new_text(client: str) -> None:
    """GIVEN a reply whose author wrote nothing (only the client's quoted history, maybe the
    phone's line) WHEN it is read THEN new_text is ''."""
    signature = "Sent from my iPhone" if client == "apple" else ""
    raw = build_reply(client, "", signature=signature, parts="alternative")

    assert read_reply(raw).new_text == ""


def test_content_lines_that_look_like_signatures_are_kept() -> None:
    """GIVEN new text with a hyphen list, a line starting "Thanks,", a closing that stands in
    the middle of the text, and a draft with its own sign-off above the advisor's signature
    WHEN it is read
    THEN only the advisor's closing and name block (the last one) are removed."""
    new = ("Dear Amazon team,\n\nwe refunded the order. Changes made:\n"
           "- paragraph 2: the refund date\n- paragraph 3: the tracking number\n\n"
           "Thanks, and kind regards to the team.\nRegards\n"
           "is how we close every letter.\n\nBest regards,\nAcme Lighting")
    raw = build_reply("outlook", new, signature="Kind regards,\nAnna Schmidt\nAdvisor Desk")

    assert read_reply(raw).new_text == new


def test_a_long_block_under_a_closing_is_not_taken_for_a_signature() -> None:
    """GIVEN "Regards" on its own line with seven lines of text under it
    WHEN the reply is read THEN nothing is removed."""
    new = "Please check:\nRegards\n" + "\n".join(f"line {n} of the draft" for n in range(7))
    raw = build_reply("gmail", new)

    assert read_reply(raw).new_text == new


def test_lines_quoted_above_the_history_are_dropped() -> None:
    """GIVEN an answer that quotes one line of the original above the client's history
    WHEN it is read THEN the quoted line is not part of the new text."""
    raw = build_reply("gmail", "Change this:\n> please review the draft answer\nto: please check.")

    assert read_reply(raw).new_text == "Change this:\nto: please check."


def test_a_chinese_date_in_the_text_is_not_taken_for_an_attribution() -> None:
    """GIVEN new text with a date sentence right above the next line
    WHEN the QQ Mail reply is read THEN both lines are kept."""
    new = "我们于2026年3月1日发货。\n客户写道：请尽快处理。"
    raw = build_reply("qq", new, signature="李伟")

    assert read_reply(raw).new_text == new


def test_headers_give_sender_recipients_subject_and_message_id() -> None:
    """GIVEN a reply delivered through a tokenised address, with Delivered-To, X-Original-To,
    To and Cc (one address repeated, mixed case) and a Chinese encoded Subject
    WHEN it is read
    THEN sender is the bare lower-case From address, recipients are in the order
    Delivered-To, X-Original-To, To, Cc with each address once, the Subject is decoded and
    the Message-ID kept."""
    raw = build_reply(
        "qq", "同意", sender="=?utf-8?b?5p2O5Lyf?= <Li.Wei@ACME.example>",
        to="Advisor Desk <Desk+MD-2026-000123.k3f9@advisor.example>",
        cc="Ops <ops@acme.example>, li.wei@acme.example",
        subject="回复：[MD-2026-000123] 草稿待批准", message_id="<abc.123@qq.com>",
        trace=(("Delivered-To", "desk+md-2026-000123.k3f9@advisor.example"),
               ("X-Original-To", "desk+md-2026-000123.k3f9@advisor.example"),
               ("Delivered-To", "inbox@advisor.example")))

    reply = read_reply(raw)

    assert reply.sender == "li.wei@acme.example"
    assert reply.recipients == ("desk+md-2026-000123.k3f9@advisor.example",
                                "inbox@advisor.example", "ops@acme.example",
                                "li.wei@acme.example")
    assert reply.subject == "回复：[MD-2026-000123] 草稿待批准"
    assert reply.message_id == "<abc.123@qq.com>"
    assert reply.new_text == "同意"


def test_a_message_without_from_or_message_id() -> None:
    """GIVEN a bare message with no From and no Message-ID WHEN it is read
    THEN sender is '', message_id None, and the body is the new text."""
    reply = read_reply(b"To: desk@advisor.example\r\nSubject: hi\r\n\r\nAPPROVE\r\n")

    assert (reply.sender, reply.message_id, reply.new_text) == ("", None, "APPROVE")
    assert reply.recipients == ("desk@advisor.example",)


def test_attachments_come_through_byte_for_byte() -> None:
    """GIVEN an Outlook reply (text+HTML) with a PDF invoice, an inline JPEG photo and a PDF
    whose Chinese file name is an RFC 2231 parameter
    WHEN it is read
    THEN the three files are there in order, names decoded, bytes identical, and the text
    parts are not taken for files."""
    raw = build_reply("outlook_zh", NEW_ZH, signature=SIGNATURES["outlook_zh"],
                      parts="alternative", attachments=(
                          Attached("invoice-2026-03.pdf", "application/pdf", PDF),
                          Attached("damaged-lamp.jpg", "image/jpeg", JPEG, inline=True),
                          Attached("质检证书.pdf", "application/pdf", PDF[::-1]),
                      ))
    assert b"filename*=utf-8''%E8%B4%A8" in raw  # the name really is RFC 2231 encoded

    reply = read_reply(raw)

    assert reply.attachments == (
        ReplyAttachment("invoice-2026-03.pdf", "application/pdf", PDF),
        ReplyAttachment("damaged-lamp.jpg", "image/jpeg", JPEG),
        ReplyAttachment("质检证书.pdf", "application/pdf", PDF[::-1]),
    )
    assert reply.new_text == NEW_ZH


def test_rfc2047_file_names_and_attached_messages() -> None:
    """GIVEN a QQ Mail reply whose attachment name is an RFC 2047 GB18030 word (as QQ Mail and
    Outlook write Chinese names), a nameless part sent as an attachment, and the platform's mail
    forwarded as an attached message
    WHEN it is read
    THEN the name is decoded, the nameless file has '' as its name, and the attached message
    comes through with its headers and body."""
    message = message_from_bytes(build_reply("qq", "附件是发票。", signature="李伟"),
                                 policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="x.pdf")
    encoded = base64.b64encode("发票.pdf".encode("gb18030")).decode()
    *_, invoice = message.iter_attachments()
    invoice.replace_header("Content-Disposition", f'attachment; filename="=?gb18030?B?{encoded}?="')
    message.add_attachment(PDF, maintype="application", subtype="pdf")  # no name at all
    forwarded = EmailMessage()
    forwarded["From"] = "seller-notification@amazon.de"
    forwarded["Subject"] = "Policy warning"
    forwarded.set_content("Your listing B0TEST1234 was removed.\n")
    message.add_attachment(forwarded)

    reply = read_reply(message.as_bytes())

    pdf, nameless, mail = reply.attachments
    assert pdf == ReplyAttachment("发票.pdf", "application/pdf", PDF)
    assert nameless == ReplyAttachment("", "application/pdf", PDF)
    assert mail.content_type == "message/rfc822"
    assert mail.filename == ""
    inner = message_from_bytes(mail.data, policy=email.policy.default)
    assert inner["Subject"] == "Policy warning"
    assert isinstance(inner, EmailMessage)
    assert inner.get_content() == "Your listing B0TEST1234 was removed.\n"
    assert reply.new_text == "附件是发票。"


AUTH_TOP = "mx.advisor.example;"


@pytest.mark.parametrize(("results", "expected"), [
    ("dkim=fail (signature did not verify) header.d=acme.example; spf=pass "
     "smtp.mailfrom=acme.example; dmarc=pass header.from=acme.example", "dkim=fail"),
    ("dkim=pass header.d=acme.example; spf=fail smtp.mailfrom=acme.example; dmarc=fail "
     "(p=REJECT) header.from=acme.example", "spf=fail, dmarc=fail"),
    ("dkim=permerror (bad key) header.d=acme.example; spf=none; dmarc=permerror",
     "dkim=permerror, dmarc=permerror"),
    ("dkim=pass header.d=acme.example; spf=softfail smtp.mailfrom=acme.example; "
     "dmarc=pass header.from=acme.example", None),
    ("dkim=pass header.d=acme.example; spf=pass smtp.mailfrom=acme.example; "
     "dmarc=pass header.from=acme.example", None),
])
def test_the_receiving_servers_verdict(results: str, expected: str | None) -> None:
    """GIVEN a reply whose topmost Authentication-Results (RFC 8601) gives these results
    WHEN it is read
    THEN auth_failed names each DKIM/SPF/DMARC fail or permerror, and is None otherwise
    (softfail, none and pass prove nothing wrong)."""
    raw = build_reply("gmail", "APPROVE",
                      trace=(("Authentication-Results", f"{AUTH_TOP} {results}"),))

    assert read_reply(raw).auth_failed == expected


def test_no_authentication_results_is_no_failure() -> None:
    """GIVEN a reply without Authentication-Results WHEN it is read THEN auth_failed is None."""
    assert read_reply(build_reply("gmail", "APPROVE")).auth_failed is None


def test_only_the_topmost_authentication_results_counts() -> None:
    """GIVEN a forged reply carrying a "pass" verdict written by the sender below the one our
    server put on top, and a genuine reply with a stale "fail" below a "pass" on top
    WHEN both are read
    THEN the forged one fails and the genuine one does not: only the topmost header is ours."""
    forged = build_reply("gmail", "APPROVE", trace=(
        ("Authentication-Results", f"{AUTH_TOP} dkim=fail header.d=acme.example; dmarc=fail"),
        ("Authentication-Results", "mx.acme.example; dkim=pass header.d=acme.example"),
    ))
    genuine = build_reply("gmail", "APPROVE", trace=(
        ("Authentication-Results", f"{AUTH_TOP} dkim=pass header.d=acme.example; dmarc=pass"),
        ("Authentication-Results", "relay.example; dkim=fail header.d=acme.example"),
    ))

    assert read_reply(forged).auth_failed == "dkim=fail, dmarc=fail"
    assert read_reply(genuine).auth_failed is None


@pytest.mark.parametrize(("text", "expected"), [
    ("NOTE: the buyer called twice", "the buyer called twice"),
    ("Note: check the invoice date\nand the VAT id", "check the invoice date\nand the VAT id"),
    ("note : lower case and a space", "lower case and a space"),
    ("备注: 客户已电话确认", "客户已电话确认"),
    ("备注：客户已电话确认", "客户已电话确认"),
    ("\n  备注：前面有空行", "前面有空行"),
    ("Notebook: not a note", None),
    ("Please note: not a note either", None),
    ("NOTE without a colon", None),
    ("请备注：不是备注", None),
])
def test_note_text(text: str, expected: str | None) -> None:
    """GIVEN a reply text WHEN note_text reads it THEN a NOTE:/Note:/备注:/备注： prefix gives
    the note without it, anything else None."""
    assert note_text(text) == expected


@pytest.mark.parametrize("text", [
    "APPROVE", "approve", "Approved", "APPROVED!", "Approve.", "同意", "同意。", "批准！",
    "\n\n  APPROVE  \n\n",
])
def test_an_approval_word_alone_approves(text: str) -> None:
    """GIVEN only an approval word (any case, punctuation after it) WHEN the decision is read
    THEN it is an approval."""
    assert read_decision(text) == ("approve", "")


@pytest.mark.parametrize("text", [
    "同意，但是把第二段改掉",
    "APPROVE\nbut fix the typo in the second paragraph",
    "Approve after fixing the price",
    "Approvedish",
    "不同意",
    "I approve",
    "同意\n\n李伟",
])
def test_anything_beside_an_approval_word_is_a_change_request(text: str) -> None:
    """GIVEN an approval word with more written on its line or below it, or no approval word
    at its start WHEN the decision is read THEN it is "changes" with the whole text."""
    assert read_decision(text) == ("changes", text.strip())


@pytest.mark.parametrize(("text", "reason"), [
    ("拒绝：价格不对，请重新报价", "价格不对，请重新报价"),
    ("拒绝", ""),
    ("REJECT\nThe price is wrong.\nUse 12.99 EUR instead.",
     "The price is wrong.\nUse 12.99 EUR instead."),
    ("Rejected - wrong store, this is the EU account", "wrong store, this is the EU account"),
    ("reject: see below\n\nthe second paragraph blames the carrier",
     "see below\n\nthe second paragraph blames the carrier"),
])
def test_a_rejection_carries_its_reason(text: str, reason: str) -> None:
    """GIVEN REJECT/拒绝 at the start, the reason on the same line or the lines below
    WHEN the decision is read THEN it is a rejection with that reason."""
    assert read_decision(text) == ("reject", reason)


def test_rejection_must_be_the_word() -> None:
    """GIVEN a text starting with "Rejection" WHEN the decision is read THEN it is not a
    rejection but a change request."""
    assert read_decision("Rejection letters should be softer") == (
        "changes", "Rejection letters should be softer")


@pytest.mark.parametrize(("client", "answer", "decision"), [
    ("qq", "同意", ("approve", "")),
    ("outlook", "Approved.", ("approve", "")),
    ("apple_zh", "拒绝：第二段语气太强硬", ("reject", "第二段语气太强硬")),
    ("foxmail_zh", "同意，但是把第二段改掉", ("changes", "同意，但是把第二段改掉")),
])
def test_a_decision_read_from_a_real_reply(client: str, answer: str,
                                           decision: tuple[str, str]) -> None:
    """GIVEN a decision-maker's reply from `client` (text+HTML, signature, history)
    WHEN its new text is read as a decision THEN the signature and history do not spoil it."""
    raw = build_reply(client, answer, signature=SIGNATURES[client], parts="alternative")

    assert read_decision(read_reply(raw).new_text) == decision


def test_a_large_attachment_comes_through_whole() -> None:
    """GIVEN a reply carrying a photo larger than the size above which maild's notice parser
    trims attachments WHEN it is read THEN the photo's bytes are all there."""
    photo = JPEG + bytes(range(256)) * (TRIM_ABOVE // 256 + 1)
    raw = build_reply("apple", "Photo of the damage attached.", signature="Sent from my iPhone",
                      attachments=(Attached("IMG_0001.jpg", "image/jpeg", photo),))
    assert len(raw) > TRIM_ABOVE

    (attached,) = read_reply(raw).attachments

    assert attached.data == photo


@pytest.mark.timeout(60)  # a hang guard, not a speed figure: unguarded, the first read takes 76 s
def test_very_long_lines_are_read_whole_without_stalling() -> None:
    """GIVEN a Gmail reply whose new text is one 60,000-character line starting with "On"
    (mail-parser-reply's attribution pattern is quadratic on such a line), and a Foxmail
    reply whose quoted original starts with a 2,000-character line right under the header block
    WHEN they are read
    THEN both come back (the test's timeout guards against the stall), the long line whole, the
    history cut where it starts."""
    long_line = "On Monday " + "the carrier lost the parcel again and " * 1_600
    gmail = build_reply("gmail", long_line.strip(), signature="Li Wei")
    history = replace(ORIGINAL_EN, body="Dear Li Wei, " + "please review this. " * 100)
    foxmail = build_reply("foxmail", NEW_EN, original=history)

    assert read_reply(gmail).new_text == long_line.strip()
    assert read_reply(foxmail).new_text == NEW_EN


def test_a_drafts_own_sign_off_above_a_delimited_signature_is_kept() -> None:
    """GIVEN an advisor's draft for the platform that ends with the seller's sign-off, sent from
    Gmail with the advisor's own signature below "-- " WHEN it is read THEN the advisor's
    signature is gone and the seller's sign-off is still there (it is part of the draft)."""
    draft = "Dear Jane,\n\nthe parcel arrives on Friday.\n\nKind regards,\nAcme Lighting"
    raw = build_reply("gmail", draft, signature="Anna Schmidt\nAdvisor Desk",
                      sender="Anna <anna@advisor.example>")
    assert read_reply(raw).new_text == draft
