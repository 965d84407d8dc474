"""mime: charsets, transfer encodings, HTML-only bodies and header words."""

from __future__ import annotations

import base64

import pytest

from maild.parsers import mime

TEXT_ZH = "您的店铺已被冻结，请于3日内提交资料。镕"  # 镕 is GBK, not GB2312
TEXT_JA = "出品用アカウントが停止されました"


def _message(body: bytes, charset: str, ctype: str = "text/plain", cte: str = "8bit") -> bytes:
    return (
        f"From: x@example.com\r\nSubject: t\r\nContent-Type: {ctype}; charset={charset}\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize(
    ("declared", "codec", "text"),
    [
        ("gb2312", "gbk", TEXT_ZH),
        ("GBK", "gbk", TEXT_ZH),
        ("gb18030", "gb18030", TEXT_ZH),
        ("big5", "big5", "您的商店已被凍結"),
        ("iso-2022-jp", "iso2022_jp", TEXT_JA),
        ("shift_jis", "shift_jis", TEXT_JA),
        ("iso-8859-2", "iso-8859-2", "Twoja oferta została usunięta"),
        ("windows-1252", "cp1252", "“Angebot” – entfernt €"),
        ("iso-8859-15", "iso-8859-15", "Offre supprimée €"),
        ("utf-8", "utf-8", "Ваш аккаунт"),
    ],
)
def test_body_charsets(declared: str, codec: str, text: str) -> None:
    """GIVEN a body in a platform charset (GB2312 label with GBK characters included)
    WHEN its text is extracted
    THEN it reads exactly as written."""
    raw = _message(base64.b64encode(text.encode(codec)), declared, cte="base64")
    assert mime.body_text(mime.parse_bytes(raw)) == text


def test_unknown_charset_falls_back() -> None:
    """GIVEN UTF-8 bytes labelled with a charset that does not exist
    WHEN decoded
    THEN the UTF-8 text comes back rather than mojibake or an error."""
    raw = _message("Grüße 你好".encode(), "x-unknown-123")
    assert mime.body_text(mime.parse_bytes(raw)) == "Grüße 你好"


def test_html_only_body_becomes_lines() -> None:
    """GIVEN an HTML-only quoted-printable body with a style block, table cells and entities
    WHEN its text is extracted
    THEN scripts and styles vanish, blocks become lines, entities are decoded."""
    html = (
        b"<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;Seller,</p>"
        b"<table><tr><td>ASIN:</td><td>B0ABCDEF12</td></tr></table><p>Caf=C3=A9 &amp; co</p>"
        b"<script>alert(1)</script></body></html>"
    )
    raw = _message(html, "utf-8", ctype="text/html", cte="quoted-printable")
    text = mime.body_text(mime.parse_bytes(raw))
    assert [line for line in text.splitlines() if line] == [
        "Hello Seller,",
        "ASIN: B0ABCDEF12",
        "Café & co",
    ]


def test_encoded_subject_and_broken_word() -> None:
    """GIVEN a subject of RFC 2047 words: GB2312 (with a GBK character), then broken base64
    WHEN decoded
    THEN the good word is decoded and the broken one does not raise."""
    good = "=?gb2312?B?" + base64.b64encode("商品下架镕".encode("gbk")).decode() + "?="
    assert mime.decode_header_value(good + " ok") == "商品下架镕 ok"
    assert mime.decode_header_value(good + " =?utf-8?B?#?=").startswith("商品下架镕")


def test_raw_8bit_header_is_decoded() -> None:
    """GIVEN a Subject with raw (unencoded) UTF-8 bytes
    WHEN read
    THEN it decodes as UTF-8."""
    message = mime.parse_bytes("Subject: Angebot gelöscht\r\n\r\nx".encode())
    assert mime.header(message, "Subject") == "Angebot gelöscht"


def test_html_tables_keep_cells_apart() -> None:
    """GIVEN an HTML table with a header row and a value row
    WHEN its text is extracted
    THEN each row is a line and the cells of a row are apart, so identifiers never fuse."""
    markup = (
        "<table><tr><th>ASIN</th><th>SKU</th></tr>"
        "<tr><td>B0ABCDEF12</td><td>AB-12</td></tr></table>"
    )
    lines = [line for line in mime.html_to_text(markup).splitlines() if line]
    assert lines == ["ASIN SKU", "B0ABCDEF12 AB-12"]


def test_html_comments_hidden_blocks_and_text_after_the_end() -> None:
    """GIVEN HTML with a comment between two words, a title, a style block, and a footer
    written after `</html>` (as mailing tools append it)
    WHEN its text is extracted
    THEN the comment separates the words, hidden blocks vanish, and the footer is kept."""
    markup = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>Seller<!-- tracking -->Central</p></body></html><br><span>Unsubscribe here</span>"
    )
    assert mime.html_to_text(markup).splitlines() == ["Seller Central", "", "Unsubscribe here"]


def test_html_long_attribute_leaves_no_markup() -> None:
    """GIVEN a link whose href is 3,000 characters long (tracking links are)
    WHEN its text is extracted
    THEN only the link's text remains (the regex version left the whole tag as text)."""
    markup = '<p>Open <a href="https://example.com/?t=' + "x" * 3000 + '">Seller Central</a></p>'
    assert mime.html_to_text(markup) == "Open Seller Central"


def test_html_unclosed_script_hides_the_rest() -> None:
    """GIVEN many unclosed `<script>` tags followed by text (what once took 17 s)
    WHEN its text is extracted
    THEN, as in a browser, everything after the first `<script>` is script, not text."""
    assert mime.html_to_text("<p>Visible</p>" + "<script>" * 20000 + "hidden") == "Visible"
