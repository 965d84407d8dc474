"""mime: charsets, transfer encodings, HTML-only bodies, header words, and big messages."""

from __future__ import annotations

import base64
import email
import subprocess
import sys
from email.policy import compat32
from pathlib import Path

import pytest

from maild.parsers import mime, trim

REPO = Path(__file__).resolve().parents[2]

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


def test_header_values_are_read_up_to_a_cap() -> None:
    """GIVEN a header of 140,000 characters of unclosed RFC 2047 words (the stdlib decoder is
    quadratic on them: 20 s), and a References list of 1,500 Message-IDs
    WHEN decoded
    THEN the encoded one is read up to `MAX_ENCODED_HEADER_CHARS`, the plain one up to
    `MAX_HEADER_CHARS` (so a long thread keeps its references)."""
    assert len(mime.decode_header_value("=?a?q?x" * 20_000)) == mime.MAX_ENCODED_HEADER_CHARS
    references = " ".join(f"<reply-{n}@mail.example.com>" for n in range(1_500))
    assert mime.decode_header_value(references) == references[: mime.MAX_HEADER_CHARS]
    assert mime.decode_header_value(references).endswith("<reply-1499@mail.example.com>")


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


def _big_message(path: Path, kind: str, size: int) -> None:
    """Write a platform notice of about `size` bytes to `path`, in chunks (never all in memory):
    a PDF attachment, a plain or HTML body, or a Subject that long; the ASIN comes first."""
    head = b"From: seller-notification@amazon.com\r\nMIME-Version: 1.0\r\n"
    start, line, end = {
        "attachment": (
            head + b'Subject: Listing removed\r\nContent-Type: multipart/mixed; boundary="b1"\r\n'
            b"\r\n--b1\r\nContent-Type: text/plain\r\n\r\nASIN: B0ABCDEF12 was removed.\r\n"
            b"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            base64.b64encode(bytes(range(256))[:57]) + b"\r\n",
            b"--b1--\r\n",
        ),
        "text": (
            head + b"Subject: Listing removed\r\n\r\nASIN: B0ABCDEF12 was removed.\r\n",
            b"The quick brown fox jumps over the lazy dog, again and again.\r\n",
            b"",
        ),
        "html": (
            head + b"Subject: Listing removed\r\nContent-Type: text/html\r\n\r\n"
            b"<p>ASIN: B0ABCDEF12 was removed.</p>\r\n",
            b"<div><span>The quick brown fox</span> <b>jumps</b> over the dog.</div>\r\n",
            b"",
        ),
        "subject": (
            head + b"Subject: ASIN: B0ABCDEF12 was removed",
            b" and again",
            b"\r\n\r\nx\r\n",
        ),
    }[kind]
    chunk = line * (1_000_000 // len(line))
    with path.open("wb") as out:
        out.write(start)
        while out.tell() < size - len(chunk):
            out.write(chunk)
        out.write(end)


# Peak RSS from VmHWM: getrusage's ru_maxrss would carry over the pytest process's own peak,
# which Linux keeps across fork and exec.
_PEAK_RSS_PROBE = """
import re, sys
from pathlib import Path
from maild.parsers import parse_message
notice = parse_message(Path(sys.argv[1]).read_bytes())
status = Path("/proc/self/status").read_text()
print(",".join(notice.identifiers["asin"]), re.search(r"VmHWM:\\s*(\\d+) kB", status).group(1))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["attachment", "text", "html", "subject"])
def test_a_100_mb_message_parses_in_under_300_mb(kind: str, tmp_path: Path) -> None:
    """GIVEN a 100 MB message: a big attachment, a huge plain or HTML body, or a huge Subject
    WHEN a fresh process reads it and parses it
    THEN the process's peak RSS (the 100 MB of raw bytes included) stays under 300 MB, and the
    notice is read (an 81 MB message once took 745 MB)."""
    path = tmp_path / f"{kind}.eml"
    _big_message(path, kind, 100 * 2**20)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS_PROBE, str(path)],
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
            cwd=REPO,
        )
    finally:
        path.unlink()
    asin, peak_kib = probe.stdout.split()
    assert asin == "B0ABCDEF12"
    assert int(peak_kib) < 300 * 1024, f"peak RSS {int(peak_kib) // 1024} MB"


def test_trimmed_big_message_reads_as_the_whole() -> None:
    """GIVEN a 6 MB message: plain and HTML alternatives (the plain one signed with a `-- `
    line), a forwarded original with its own multipart, and a 5 MB attachment
    WHEN it is parsed through `parse_bytes` (which trims what the parser never reads)
    THEN the body text and the forwarded original read exactly as in the untrimmed message,
    from a copy of a few hundred KB."""
    original = (
        b"From: seller-notification@amazon.com\r\nSubject: Listing removed\r\nContent-Type: "
        b'multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"ASIN: B0ABCDEF12 was removed.\r\n--b--\r\n"
    )
    attachment = base64.encodebytes(b"%PDF" * 1_000_000).replace(b"\n", b"\r\n")
    raw = (
        b"From: seller@example.com\r\nSubject: Fwd: Listing removed\r\nContent-Type: "
        b'multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\nContent-Type: '
        b'multipart/alternative; boundary="b11"\r\n\r\n--b11\r\nContent-Type: text/plain\r\n\r\n'
        b"See below.\r\n-- \r\nA seller\r\n--b11\r\nContent-Type: text/html\r\n\r\n"
        b"<p>See below.</p>\r\n--b11--\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\n"
        + original
        + b"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment
        + b"--b1--\r\nepilogue\r\n"
    )
    assert len(raw) > trim.TRIM_ABOVE
    assert len(trim.trim(raw)) < 300_000
    whole = email.message_from_bytes(raw, policy=compat32)
    trimmed = mime.parse_bytes(raw)
    assert mime.body_text(trimmed) == mime.body_text(whole) == "See below.\n--\nA seller"
    [inner] = mime.attached_messages(trimmed)
    assert mime.header(inner, "From") == "seller-notification@amazon.com"
    assert mime.body_text(inner) == "ASIN: B0ABCDEF12 was removed."
