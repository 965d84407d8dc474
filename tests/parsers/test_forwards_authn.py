"""forwards and authn: which message is the original, and is its sender who it claims to be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from maild.parsers import authn, forwards, mime, parse_message

ORIGINAL_BODY = "Hello,\n\nYour listing has been removed.\nASIN: B0ABCDEF12\n"


def _forward(block: str, subject: str = "Fwd: Listing removed") -> bytes:
    return (
        f"From: Seller <boss@example-shop.cn>\r\nTo: inbox@maild.example\r\nSubject: {subject}\r\n"
        "Date: Thu, 12 Mar 2026 09:40:00 +0800\r\nMessage-ID: <outer@example-shop.cn>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease handle.\r\n\r\n" + block
    ).encode()


@pytest.mark.parametrize(
    "block",
    [
        "---------- Forwarded message ---------\nFrom: Amazon <seller-notification@amazon.com>\n"
        "Date: Wed, Mar 11, 2026 at 9:40 PM\nSubject: Listing removed\nTo:"
        " <boss@example-shop.cn>\n\n",
        "-----Original Message-----\nFrom: Amazon <seller-notification@amazon.com>\n"
        "Sent: Wednesday, March 11, 2026 9:40 PM\nTo: boss@example-shop.cn\nSubject: Listing"
        " removed\n\n",
        "------------------ 原始邮件 ------------------\n"
        '发件人: "Amazon"<seller-notification@amazon.com>;\n'
        "发送时间: 2026年3月11日(星期三) 晚上9:40\n"
        '收件人: "boss"<boss@example-shop.cn>;\n主题: Listing removed\n\n',
        "-------- Weitergeleitete Nachricht --------\nBetreff: Listing removed\n"
        "Datum: Wed, 11 Mar 2026 21:40:00 +0800\nVon: Amazon <seller-notification@amazon.com>\n"
        "An: boss@example-shop.cn\n\n",
    ],
    ids=["gmail", "outlook", "chinese", "german"],
)
def test_inline_forwards_give_original_sender_date_and_body(block: str) -> None:
    """GIVEN an inline forward in one client's style (a header block without zone)
    WHEN the original is looked for
    THEN its From, Subject and body come from the block and its Date uses the outer offset."""
    message = mime.parse_bytes(_forward(block + ORIGINAL_BODY))
    original = forwards.find_original(message, lambda addr: addr.endswith("@amazon.com"))
    assert original.via == "inline"
    assert original.from_addr == "seller-notification@amazon.com"
    assert original.subject == "Listing removed"
    assert original.sent_at == datetime(2026, 3, 11, 21, 40, tzinfo=timezone(timedelta(hours=8)))
    assert original.body.startswith("Hello,") and "Please handle" not in original.body


def test_attached_original_is_used() -> None:
    """GIVEN a forward with the original attached as message/rfc822
    WHEN the original is looked for
    THEN the attached message's headers, Date and body are used."""
    inner = (
        "From: eBay <ebay@ebay.de>\r\nSubject: Konto gesperrt\r\n"
        "Date: Mon, 16 Mar 2026 10:00:00 +0100\r\nAuthentication-Results: mx; dkim=pass"
        " header.d=ebay.de\r\n"
        "\r\nwir haben Ihr Konto gesperrt.\r\n"
    )
    raw = (
        "From: boss@example-shop.cn\r\nSubject: Fwd: Konto gesperrt\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--b--\r\n"
    ).encode()
    notice = parse_message(raw)
    assert (notice.platform, notice.marketplace, notice.category) == (
        "ebay",
        "ebay.de",
        "suspension",
    )
    assert notice.sender_verified is True
    assert notice.sent_at == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def test_genuine_platform_mail_quoting_a_reply_is_not_a_forward() -> None:
    """GIVEN a buyer message from marketplace.amazon.de that quotes an earlier exchange
    WHEN the original is looked for
    THEN the message itself is the original."""
    raw = (
        b"From: Kunde <abc123@marketplace.amazon.de>\r\nSubject: Frage zur Bestellung\r\n\r\n"
        b"Wo ist mein Paket?\r\n\r\n-----Original Message-----\r\nFrom: shop@example.cn\r\n"
        b"Subject: Versand\r\nSent: heute\r\n\r\nalt\r\n"
    )
    original = forwards.find_original(mime.parse_bytes(raw), lambda a: "amazon" in a)
    assert original.via == "direct" and original.from_addr.endswith("marketplace.amazon.de")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "mx.example; dkim=pass header.d=amazon.com header.s=x; spf=pass"
            " smtp.mailfrom=amazon.com",
            [("dkim", "pass", "amazon.com"), ("spf", "pass", "amazon.com")],
        ),
        (
            "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=x.com; dkim=pass (signature was"
            " verified)"
            " header.d=x.com;dmarc=pass action=none header.from=x.com",
            [("spf", "pass", "x.com"), ("dkim", "pass", "x.com"), ("dmarc", "pass", "x.com")],
        ),
        (
            "i=1; mx.google.com; dkim=fail header.i=@ebay.com; dmarc=fail (p=REJECT)"
            " header.from=ebay.com",
            [("dkim", "fail", "ebay.com"), ("dmarc", "fail", "ebay.com")],
        ),
    ],
    ids=["rfc8601", "microsoft-no-authserv-id", "arc-style"],
)
def test_authentication_results_variants(value: str, expected: list[tuple[str, str, str]]) -> None:
    """GIVEN an Authentication-Results value in one of the syntaxes seen in the wild
    WHEN parsed
    THEN each method's result and domain are read (comments ignored)."""
    got = [(r.method, r.result, r.domain) for r in authn.parse_results(value)]
    assert got == expected


def test_arc_results_of_a_forwarder_verify_the_original() -> None:
    """GIVEN a redirected notice whose topmost AR fails DKIM but whose ARC-AR (added by the
    forwarder that saw the original) says dkim=pass for amazon.de
    WHEN parsed
    THEN the sender is verified."""
    raw = (
        b"Authentication-Results: mx.maild.example; dkim=fail header.d=amazon.de; arc=pass\r\n"
        b"ARC-Authentication-Results: i=1; mx.google.com; dkim=pass header.i=@amazon.de\r\n"
        b"From: Amazon.de <seller-performance@amazon.de>\r\nSubject: Warnung\r\n\r\nText\r\n"
    )
    assert parse_message(raw).sender_verified is True


@pytest.mark.parametrize(
    ("sender", "auth"),
    [
        (
            "Amazon Seller Support <support@amazon-seller-support.net>",
            "dkim=pass header.d=amazon-seller-support.net",
        ),
        ("Amazon <noreply@amaz0n-seller.com>", "dkim=pass header.d=amaz0n-seller.com"),
        ("eBay <ebay@ebay.com>", "dkim=fail header.d=ebay.com; dmarc=fail header.from=ebay.com"),
        ("Walmart Seller Center <walmart.seller.team@gmail.com>", "dkim=pass header.d=gmail.com"),
    ],
    ids=["lookalike-net", "digit-lookalike", "dkim-fail", "freemail"],
)
def test_phishing_suspects(sender: str, auth: str) -> None:
    """GIVEN mail posing as a platform (look-alike or free-mail domain, or failing DKIM)
    WHEN parsed
    THEN it is a phishing suspect, not verified, needs no action and its summary warns."""
    raw = (
        f"Authentication-Results: mx.example; {auth}\r\nFrom: {sender}\r\n"
        "Subject: Your account has been suspended\r\nDate: Mon, 16 Mar 2026 10:00:00 +0000\r\n\r\n"
        "Verify within 24 hours: http://example.invalid/login\r\n"
    ).encode()
    notice = parse_message(raw)
    assert notice.platform in {"amazon", "ebay", "walmart"}
    assert notice.sender_verified is False and notice.category == "phishing_suspect"
    assert notice.action_required is False and notice.priority == "P1"
    assert "links" in notice.summary_en and "链接" in notice.summary_zh
