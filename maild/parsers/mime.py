"""Bytes to text: MIME structure, charsets, header words and HTML-only bodies.

Platform mail arrives in every charset sellers meet (GB2312/GBK/GB18030, Big5, ISO-2022-JP,
Shift_JIS, ISO-8859-x, Windows-125x, UTF-8) and often lies about it. Decoding goes through the
widest compatible codec (GB2312 is read as GB18030, Shift_JIS as CP932, ...) and falls back to
UTF-8, GB18030 and finally Latin-1 so that no message is lost. The stdlib `email` package with the
compat32 policy is used for structure: it accepts broken input without raising and lets us parse
each message once. HTML-only bodies are read by libxml2's HTML parser (lxml), which is linear
in the input and repairs broken markup as browsers do.
"""

from __future__ import annotations

import codecs
import email
import re
from email.errors import MessageError
from email.header import Header, decode_header
from email.message import Message
from email.policy import compat32
from typing import Any

from lxml import etree

from maild.parsers.trim import trim

# Declared charset -> the codec that reads it best (a superset where the label is too narrow).
CHARSET_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "euc-jp": "euc_jis_2004",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
_FALLBACK_CODECS = ("utf-8", "gb18030", "cp1252")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_SURROGATE = re.compile("[\udc80-\udcff]")
_ISO2022_ESCAPE = re.compile(rb"\x1b\$[@B(]")
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{2,40})", re.I)

MAX_BODY_BYTES = 2_000_000
MAX_TEXT_CHARS = 200_000
# A header value is read up to this many characters (a 20 MB Subject is an attack, not mail;
# a References list of a thousand Message-IDs fits), and one with RFC 2047 encoded words up to
# the second figure: the stdlib's decoder goes quadratic on runs of unclosed encoded words
# (140,000 characters: 20 s), and no real encoded Subject or display name comes near it.
MAX_HEADER_CHARS = 64_000
MAX_ENCODED_HEADER_CHARS = 8_000


def codec_for(charset: str | None) -> str | None:
    """The Python codec that reads `charset`, or None when the label is unknown or absent."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode `data` in its declared charset, falling back to UTF-8, GB18030, CP1252, Latin-1."""
    if not _HIGH_BYTE.search(data):
        if _ISO2022_ESCAPE.search(data):
            return _try(data, "iso2022_jp_ext") or data.decode("ascii", "replace")
        return data.decode("ascii", "replace")
    codec = codec_for(charset)
    if codec is not None:
        text = _try(data, codec)
        if text is not None:
            return text
    for fallback in _FALLBACK_CODECS:
        text = _try(data, fallback)
        if text is not None:
            return text
    return data.decode(codec or "latin-1", "replace")


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def parse_bytes(raw: bytes) -> Message:
    """The message structure of `raw`, parsed once with the forgiving compat32 policy.

    An oversized message is first cut to what the parser reads (`trim`), so that parsing a
    100 MB message costs tens of MB, not several times its size.
    """
    return email.message_from_bytes(trim(raw), policy=compat32)


def decode_header_value(value: object) -> str:
    """An unfolded, decoded header value (RFC 2047 encoded words, raw 8-bit bytes), at most
    `MAX_HEADER_CHARS` of it."""
    if value is None:
        return ""
    if isinstance(value, Header):  # compat32 wraps raw 8-bit header bytes as unknown-8bit
        return " ".join(_join_chunks(decode_header(value))[:MAX_HEADER_CHARS].split())
    text = str(value)[:MAX_HEADER_CHARS]
    if _SURROGATE.search(text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    text = text.replace("\r", "").replace("\n", "")
    if "=?" not in text:
        return " ".join(text.split())
    text = text[:MAX_ENCODED_HEADER_CHARS]
    try:
        chunks = decode_header(text)
    except (ValueError, UnicodeError, AssertionError, MessageError):
        return " ".join(_ENCODED_WORD.sub(_one_word, text).split())
    return " ".join(_join_chunks(chunks).split())


def _join_chunks(chunks: list[tuple[bytes | str, str | None]]) -> str:
    return "".join(
        decode_bytes(chunk, charset if charset != "unknown-8bit" else None)
        if isinstance(chunk, bytes)
        else chunk
        for chunk, charset in chunks
    )


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,40})\?([bBqQ])\?([^?\s]*)\?=")


def _one_word(match: re.Match[str]) -> str:
    """One RFC 2047 encoded word decoded on its own; a broken one stays as written."""
    try:
        chunks = decode_header(match.group(0))
    except (ValueError, UnicodeError, AssertionError, MessageError):
        return match.group(0)
    return _join_chunks(chunks)


def header(message: Message, name: str) -> str:
    """The first `name` header of `message`, decoded; empty when absent or unreadable."""
    try:
        return decode_header_value(message.get(name))
    except (TypeError, ValueError, LookupError, MessageError):
        return ""


def all_headers(message: Message, name: str) -> list[str]:
    """Every `name` header, topmost first, decoded."""
    try:
        values = message.get_all(name) or []
    except (TypeError, ValueError):
        return []
    return [decode_header_value(value) for value in values]


def part_text(part: Message) -> str:
    """The decoded text of one leaf part (transfer encoding and charset undone)."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    payload = payload[:MAX_BODY_BYTES]
    try:
        charset = part.get_content_charset() or part.get_param("charset")
    except (ValueError, TypeError, LookupError):
        charset = None
    if not isinstance(charset, str) or not charset:
        found = _META_CHARSET.search(payload[:4096])
        charset = found.group(1).decode("ascii") if found else None
    return decode_bytes(payload, charset)


# How HTML elements shape the text (the browser's reading, as the regex version had it): block
# elements start and end lines, table cells are kept apart by a space, and what is never shown
# (scripts, styles, the head) is dropped. Other elements leave only their text.
_BLOCKS = ("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6")
_AT_START: dict[str, str] = {**dict.fromkeys((*_BLOCKS, "br", "hr"), "\n"), "td": " ", "th": " "}
_AT_END: dict[str, str] = {**dict.fromkeys((*_BLOCKS, "table"), "\n"), "td": " ", "th": " "}
_HIDDEN = frozenset({"script", "style", "head", "title"})
_SPACES = re.compile(r"[ \t\u00a0\u3000\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_roots(markup: str) -> list[Any]:
    """The top-level elements of an HTML body, as libxml2's HTML parser (through lxml) reads it.

    A real parser, linear in the input, where the earlier regexes went quadratic on unclosed
    `<script>` or comments. It decodes entities and repairs broken markup as browsers do.
    libxml2 puts what follows `</html>` into a second top-level element, hence a list.
    NUL characters (UTF-16 mislabelled as 8-bit) are dropped so that tags stay tags.
    """
    data = markup.replace("\x00", "").encode("utf-8", "replace")
    # A parser per call (they are cheap) because lxml parsers must not be shared across threads;
    # huge_tree lifts libxml2's nesting limit from 256 to 2048 (unclosed <font> runs get deep).
    parser = etree.HTMLParser(encoding="utf-8", no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, etree.ParserError, ValueError):
        return []
    if root is None:
        return []
    return [root, *root.itersiblings(tag=etree.Element)]


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: blocks become lines, cells spaces, entities decoded."""
    pieces: list[str] = []
    for top in html_roots(markup[: MAX_TEXT_CHARS * 2]):
        walker = etree.iterwalk(top, events=("start", "end", "comment", "pi"))
        for event, node in walker:
            if event == "start":
                if node.tag in _HIDDEN:
                    pieces.append(" ")
                    walker.skip_subtree()
                    continue
                pieces.append(_AT_START.get(node.tag, ""))
                pieces.append(node.text or "")
            elif event == "end":
                pieces.append(_AT_END.get(node.tag, ""))
                pieces.append(node.tail or "")
            else:  # a comment (or what HTML reads as one): a space, then the text after it
                pieces.append(" ")
                pieces.append(node.tail or "")
    return tidy("".join(pieces))


def tidy(text: str) -> str:
    """Collapse runs of spaces and blank lines; strip each line."""
    text = _SPACES.sub(" ", text[:MAX_TEXT_CHARS])
    lines = (line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def is_attachment(part: Message) -> bool:
    """True when the part is meant as a file rather than as the message text."""
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment")


def body_text(message: Message) -> str:
    """The readable body: the first text/plain, or the HTML part as text when plain is a stub."""
    plain: str | None = None
    markup: str | None = None
    for part in iter_leaves(message):
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None and not is_attachment(part):
            plain = part_text(part)
        elif ctype == "text/html" and markup is None and not is_attachment(part):
            markup = part_text(part)
        if plain is not None and markup is not None:
            break
    plain_text = tidy(plain) if plain else ""
    if markup and len(plain_text) < 80:
        html_text = html_to_text(markup)
        if len(html_text) > len(plain_text):
            return html_text
    if (
        not plain_text
        and not markup
        and message.get_content_maintype()
        not in (
            "multipart",
            "message",
        )
    ):
        return tidy(part_text(message))
    return plain_text


def iter_leaves(message: Message, depth: int = 0) -> list[Message]:
    """Leaf parts in document order, not descending into attached messages (bounded depth)."""
    if depth > 20:
        return []
    if message.get_content_maintype() == "message":
        return []
    if not message.is_multipart():
        return [message]
    leaves: list[Message] = []
    payload = message.get_payload()
    if not isinstance(payload, list):
        return [message]
    for sub in payload[:200]:
        if isinstance(sub, Message):
            leaves.extend(iter_leaves(sub, depth + 1))
    return leaves


def attached_messages(message: Message, depth: int = 0) -> list[Message]:
    """`message/rfc822` parts (forwards as attachment), outermost first."""
    if depth > 10 or not message.is_multipart():
        return []
    found: list[Message] = []
    payload = message.get_payload()
    if not isinstance(payload, list):
        return []
    for sub in payload[:200]:
        if not isinstance(sub, Message):
            continue
        if sub.get_content_type() == "message/rfc822":
            inner = sub.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found.append(inner[0])
            elif isinstance(inner, str | bytes):
                data = inner.encode("utf-8", "surrogateescape") if isinstance(inner, str) else inner
                found.append(parse_bytes(data))
        elif sub.is_multipart():
            found.extend(attached_messages(sub, depth + 1))
    return found
