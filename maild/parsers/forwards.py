"""Find the original notice inside what a seller forwarded (parsing-rules "Which message").

Three shapes: a server-side redirect (the message is the original), a forward with the original
attached as `message/rfc822` (the attached message is the original), and an inline forward whose
quoted header block (Gmail, Outlook, Apple Mail, Chinese and German clients) gives the original
From, Date and Subject with the original body below it. Marker lines and header labels are tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime

from maild.parsers import mime
from maild.parsers.dates import parse_header_date

# Lines that announce a forwarded or quoted original.
FORWARD_MARKERS: tuple[str, ...] = (
    r"-{2,}\s*Forwarded message\s*-{2,}",
    r"Begin forwarded message\s*:",
    r"-{2,}\s*Original Message\s*-{2,}",
    r"-{2,}\s*Weitergeleitete Nachricht\s*-{2,}",
    r"-{2,}\s*Ursprüngliche Nachricht\s*-{2,}",
    r"-{2,}\s*Message transféré\s*-{2,}",
    r"-{2,}\s*Message d'origine\s*-{2,}",
    r"-{2,}\s*Mensaje reenviado\s*-{2,}",
    r"-{2,}\s*Mensaje original\s*-{2,}",
    r"-{2,}\s*Messaggio inoltrato\s*-{2,}",
    r"-{2,}\s*Messaggio originale\s*-{2,}",
    r"-{2,}\s*転送されたメッセージ\s*-{2,}",
    r"-{2,}\s*Forwarded Message\s*-{2,}",
    r"-{2,}\s*转发的邮件\s*-{2,}",
    r"-{2,}\s*原始邮件\s*-{2,}",
    r"-{2,}\s*原始郵件\s*-{2,}",
    r"-{2,}\s*轉寄的郵件\s*-{2,}",
    r"[-=]{2,}\s*(?:转发邮件信息|Forwarded Email)\s*[-=]{2,}",
    r"_{5,}",
)
_MARKER = re.compile(r"^[ \t>]*(?:" + "|".join(FORWARD_MARKERS) + r")[ \t]*$", re.I | re.M)

# Labels of the quoted header block, by the field they name.
HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "from": (
        "From",
        "Von",
        "De",
        "Da",
        "Van",
        "Från",
        "Od",
        "发件人",
        "發件人",
        "寄件者",
        "差出人",
    ),
    "date": (
        "Date",
        "Sent",
        "Datum",
        "Gesendet",
        "Envoyé",
        "Date d'envoi",
        "Enviado",
        "Fecha",
        "Inviato",
        "Data",
        "发送时间",
        "發送時間",
        "日期",
        "时间",
        "時間",
        "寄件日期",
        "送信日時",
        "日付",
    ),
    "subject": (
        "Subject",
        "Betreff",
        "Objet",
        "Asunto",
        "Oggetto",
        "主题",
        "主題",
        "件名",
        "Onderwerp",
    ),
    "to": (
        "To",
        "An",
        "À",
        "A",
        "Para",
        "Aan",
        "Till",
        "Do",
        "收件人",
        "收件者",
        "宛先",
        "Cc",
        "抄送",
        "Reply-To",
        "Antwort an",
    ),
}
_LABEL_FIELD = {label.lower(): name for name, labels in HEADER_LABELS.items() for label in labels}
_HEADER_LINE = re.compile(
    r"^[ \t>*]*("
    + "|".join(sorted((re.escape(k) for k in _LABEL_FIELD), key=len, reverse=True))
    + r")[ \t*]*[:：][ \t*]*(.*)$",
    re.I,
)
_FORWARD_SUBJECT = re.compile(
    r"^\s*(?:\[?(?:fwd?|fw|wg|tr|rv|enc|i|转发|轉寄|転送|回复|回覆|答复|re|aw|sv)\]?"
    r"\s*[:：]\s*)+", re.I
)
_QUOTE_PREFIX = re.compile(r"^[ \t]*>[ \t]?", re.M)
_ANGLE_ADDR = re.compile(r"<?\[?mailto:([^\]>\s]+)\]?>?", re.I)


@dataclass(frozen=True)
class Original:
    """The notice the seller received from the platform, however it was forwarded."""

    headers: Message
    from_name: str
    from_addr: str
    subject: str
    sent_at: datetime | None
    body: str
    via: str  # "direct", "attached" or "inline"


def strip_forward_prefix(subject: str) -> str:
    """The subject without "Fwd:", "WG:", "转发:" ... prefixes."""
    return _FORWARD_SUBJECT.sub("", subject).strip()


def _from_header(message: Message) -> tuple[str, str]:
    name, addr = parseaddr(mime.header(message, "From"))
    return name.strip().strip('"'), addr.strip().lower()


def message_date(message: Message) -> datetime | None:
    """The Date: header as an aware datetime (naive dates are taken as UTC), or None."""
    value = mime.header(message, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return parse_header_date(value, UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def direct(message: Message, via: str = "direct") -> Original:
    """The message taken as the original itself (redirects, and mail straight from a platform)."""
    name, addr = _from_header(message)
    return Original(
        headers=message,
        from_name=name,
        from_addr=addr,
        subject=mime.header(message, "Subject"),
        sent_at=message_date(message),
        body=mime.body_text(message),
        via=via,
    )


def find_original(message: Message, is_platform_address: Callable[[str], bool]) -> Original:
    """The original notice inside `message` (see module docstring).

    `is_platform_address(addr) -> bool` tells a platform sender from a forwarding seller, so that
    a genuine platform mail that quotes earlier mail is not mistaken for a forward.
    """
    outer = direct(message)
    if is_platform_address(outer.from_addr) and not _FORWARD_SUBJECT.match(outer.subject):
        return outer
    for attached in mime.attached_messages(message)[:1]:
        inner = direct(attached, via="attached")
        if inner.from_addr or inner.subject:
            return inner
    inline = _inline(outer)
    return inline if inline is not None else outer


def _inline(outer: Original) -> Original | None:
    text = outer.body
    marker = _MARKER.search(text)
    if marker is None and not _FORWARD_SUBJECT.match(outer.subject):
        return None
    start = marker.end() if marker else 0
    block = _header_block(text, start)
    if block is None:
        return None
    fields, body_start = block
    if "from" not in fields:
        return None
    body = _QUOTE_PREFIX.sub("", text[body_start:]).strip()
    zone: tzinfo = outer.sent_at.tzinfo if outer.sent_at and outer.sent_at.tzinfo else UTC
    sent_at = parse_header_date(fields.get("date", ""), zone) or outer.sent_at
    name, addr = parseaddr(_ANGLE_ADDR.sub(r"<\1>", fields["from"]))
    if not addr and "@" in fields["from"]:
        addr = fields["from"].strip("<> ")
    return Original(
        headers=outer.headers,
        from_name=name.strip().strip('"'),
        from_addr=addr.strip().lower(),
        subject=fields.get("subject", strip_forward_prefix(outer.subject)),
        sent_at=sent_at,
        body=mime.tidy(body),
        via="inline",
    )


def _header_block(text: str, start: int) -> tuple[dict[str, str], int] | None:
    """The first quoted header block at or after `start`: its fields and where the body begins."""
    lines = text[start : start + 20_000].split("\n")
    fields: dict[str, str] = {}
    offset = start
    seen_any = False
    for line in lines[:80]:
        offset += len(line) + 1
        found = _HEADER_LINE.match(line)
        if found:
            field = _LABEL_FIELD[found.group(1).lower()]
            fields.setdefault(field, found.group(2).strip())
            seen_any = True
            continue
        if not line.strip().lstrip(">").strip():
            if seen_any and len(fields) >= 2:
                return fields, offset
            continue
        if seen_any:
            if len(fields) >= 2 and "from" in fields:
                return fields, offset - len(line) - 1
            fields, seen_any = {}, False
    if len(fields) >= 2 and "from" in fields:
        return fields, offset
    return None
