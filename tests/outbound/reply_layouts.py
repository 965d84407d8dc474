"""Raw replies laid out the way real mail clients write them, for tests of the reply path.

An advisor or decision-maker answers a message maild sent (`Original`) from Gmail, Outlook,
Apple Mail, QQ Mail or Foxmail, in an English or a Chinese interface. Each client puts the new
text, the signature and the quoted history in its own shape: an attribution line and ``>``
quotes (Gmail, Apple Mail), a header block under a rule (Outlook, Foxmail), a
``原始邮件`` marker (QQ Mail), and HTML of its own for the alternative part. `build_reply` gives
the exact bytes such a reply arrives with, built with the stdlib `email` package; the
separator lines below are copied from mail these clients sent.

    raw = build_reply("qq", "同意", signature="李伟", parts="alternative",
                      trace=(("Delivered-To", "desk+t@advisor.example"),))
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

Parts = Literal["plain", "alternative", "html"]
SHANGHAI = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Original:
    """The message being answered: what the client quotes below the new text."""

    sender_name: str
    sender: str
    to_name: str
    to: str
    subject: str
    body: str
    date: datetime = datetime(2026, 3, 12, 10, 0, tzinfo=SHANGHAI)


ORIGINAL_EN = Original(
    sender_name="Advisor Desk",
    sender="desk+MD-2026-000123.k3f9@advisor.example",
    to_name="Li Wei",
    to="li.wei@acme.example",
    subject="[MD-2026-000123] Draft for approval",
    body="Dear Li Wei,\n\nplease review the draft answer to Amazon below.\n\n"
         "Best regards,\nAdvisor Desk",
)
ORIGINAL_ZH = Original(
    sender_name="顾问服务台",
    sender="desk+MD-2026-000123.k3f9@advisor.example",
    to_name="李伟",
    to="li.wei@acme.example",
    subject="[MD-2026-000123] 草稿待批准",
    body="李先生您好：\n\n请审阅下面给亚马逊的回复草稿。\n\n此致\n顾问服务台",
)


@dataclass(frozen=True)
class Attached:
    """A file the replier attaches; `inline` as clients send pasted pictures."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass(frozen=True)
class Layout:
    """How one client (in one interface language) writes a reply.

    `plain` and `html` take (new text, signature, original) and return the body part;
    `charset` is the one the client declares for its text parts.
    """

    plain: Callable[[str, str, Original], str]
    html: Callable[[str, str, Original], str]
    charset: str = "utf-8"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _wrap(line: str, width: int = 78) -> str:
    """Gmail hard-wraps its plain-text attribution line at the last space before `width`."""
    if len(line) <= width:
        return line
    cut = line.rfind(" ", 0, width)
    return line[:cut] + "\n" + line[cut + 1 :]


def _paragraphs(text: str) -> str:
    """Text as the HTML editors write it: one ``<div>`` a line, ``<br>`` for a blank one."""
    return "".join(f"<div>{html.escape(line)}</div>" if line else "<div><br></div>"
                   for line in text.split("\n"))


def _blocks(*pieces: str) -> str:
    return "\n\n".join(piece for piece in pieces if piece)


# -- Gmail: "-- " above the signature, a wrapped attribution line, ">" quotes --------------------

def _gmail_attribution(original: Original, zh: bool) -> str:
    when = original.date
    if zh:
        weekday = "一二三四五六日"[when.weekday()]
        return (f"在 {when.year}年{when.month}月{when.day}日周{weekday} {when:%H:%M}，"
                f"{original.sender_name} <{original.sender}> 写道：")
    hour = when.hour % 12 or 12
    return (f"On {when:%a, %b} {when.day}, {when.year} at {hour}:{when:%M %p} "
            f"{original.sender_name} <{original.sender}> wrote:")


def _gmail_plain(zh: bool) -> Callable[[str, str, Original], str]:
    def plain(new: str, signature: str, original: Original) -> str:
        sign = f"-- \n{signature}" if signature else ""
        return _blocks(new, sign, _wrap(_gmail_attribution(original, zh)),
                       _quote(original.body)) + "\n"
    return plain


def _gmail_html(zh: bool) -> Callable[[str, str, Original], str]:
    def markup(new: str, signature: str, original: Original) -> str:
        sign = (f'<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span>'
                f'<br><div dir="ltr" class="gmail_signature">{_paragraphs(signature)}</div>'
                if signature else "")
        return (f'<div dir="ltr">{_paragraphs(new)}{sign}</div><br>'
                f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
                f"{html.escape(_gmail_attribution(original, zh))}<br></div>"
                f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                f'border-left:1px solid rgb(204,204,204);padding-left:1ex">'
                f"{_paragraphs(original.body)}</blockquote></div>\n")
    return markup


# -- Outlook: a rule of underscores, then From/Sent/To/Subject, history unquoted ----------------

def _outlook_fields(original: Original, zh: bool) -> list[tuple[str, str]]:
    when = original.date
    if zh:
        return [("发件人", f"{original.sender_name} <{original.sender}>"),
                ("发送时间", f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"),
                ("收件人", f"{original.to_name} <{original.to}>"),
                ("主题", original.subject)]
    return [("From", f"{original.sender_name} <{original.sender}>"),
            ("Sent", f"{when:%A, %B} {when.day}, {when.year} {when:%I:%M %p}"),
            ("To", f"{original.to_name} <{original.to}>"),
            ("Subject", original.subject)]


def _outlook_plain(zh: bool) -> Callable[[str, str, Original], str]:
    def plain(new: str, signature: str, original: Original) -> str:
        fields = "\n".join(f"{name}: {value}" for name, value in _outlook_fields(original, zh))
        return _blocks(new, signature, "_" * 32 + "\n" + fields, original.body) + "\n"
    return plain


def _outlook_html(zh: bool) -> Callable[[str, str, Original], str]:
    def markup(new: str, signature: str, original: Original) -> str:
        def para(text: str) -> str:
            return "".join(f'<p class="MsoNormal">{html.escape(line) or "&nbsp;"}</p>'
                           for line in text.split("\n"))
        fields = "<br>".join(f"<b>{name}:</b> {html.escape(value)}"
                             for name, value in _outlook_fields(original, zh))
        return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                "<style>p.MsoNormal{margin:0cm;font-size:11.0pt}</style></head>"
                f'<body lang="EN-US"><div class="WordSection1">{para(new)}'
                f'<p class="MsoNormal">&nbsp;</p>{para(signature)}<p class="MsoNormal">&nbsp;</p>'
                '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
                f'<p class="MsoNormal">{fields}</p></div><p class="MsoNormal">&nbsp;</p>'
                f"{para(original.body)}</div></body></html>\n")
    return markup


# -- Apple Mail (iOS): the attribution inside the quote, "Sent from my iPhone" -------------------

def _apple_attribution(original: Original, zh: bool) -> str:
    when = original.date
    if zh:
        return (f"在 {when.year}年{when.month}月{when.day}日，{when:%H:%M}，"
                f"{original.sender_name} <{original.sender}> 写道：")
    return (f"On {when.day} {when:%b %Y}, at {when:%H:%M}, "
            f"{original.sender_name} <{original.sender}> wrote:")


def _apple_plain(zh: bool) -> Callable[[str, str, Original], str]:
    def plain(new: str, signature: str, original: Original) -> str:
        quoted = _quote(_apple_attribution(original, zh) + "\n\n" + original.body)
        return _blocks(new, signature, quoted) + "\n"
    return plain


def _apple_html(zh: bool) -> Callable[[str, str, Original], str]:
    def markup(new: str, signature: str, original: Original) -> str:
        return (f'<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
                f'</head><body dir="auto">{_paragraphs(new)}<div><br></div>'
                f'<div dir="ltr">{_paragraphs(signature)}</div><div dir="ltr"><br>'
                f"<blockquote type=\"cite\">{html.escape(_apple_attribution(original, zh))}<br>"
                f"<br></blockquote></div><blockquote type=\"cite\"><div dir=\"ltr\">"
                f"{_paragraphs(original.body)}</div></blockquote></body></html>\n")
    return markup


# -- QQ Mail: "------------------" above the signature, the 原始邮件 marker, ";" after names -----

def _qq_fields(original: Original, zh: bool) -> tuple[str, list[tuple[str, str]]]:
    when = original.date
    sender = f'"{original.sender_name}"<{original.sender}>;'
    to = f'"{original.to_name}"<{original.to}>;'
    if zh:
        weekday = "一二三四五六日"[when.weekday()]
        noon = "上午" if when.hour < 12 else "下午"
        date = f"{when.year}年{when.month}月{when.day}日(星期{weekday}) {noon}{when:%I:%M}"
        return "原始邮件", [("发件人", sender), ("发送时间", date), ("收件人", to),
                            ("主题", original.subject)]
    date = f"{when:%a, %b} {when.day}, {when.year} {when:%I:%M %p}"
    return "Original", [("From", sender), ("Date", date), ("To", to), ("Subject", original.subject)]


def _qq_plain(zh: bool) -> Callable[[str, str, Original], str]:
    def plain(new: str, signature: str, original: Original) -> str:
        marker, fields = _qq_fields(original, zh)
        head = "\n".join(f"{name}: {value}" for name, value in fields[:3])
        subject = f"{fields[3][0]}: {fields[3][1]}"
        sign = f"{'-' * 18}\n{signature}" if signature else ""
        # QQ Mail leaves a blank line between the recipients and the subject.
        return _blocks(new, sign, f"{'-' * 18} {marker} {'-' * 18}\n{head}", subject,
                       original.body) + "\n"
    return plain


def _qq_html(zh: bool) -> Callable[[str, str, Original], str]:
    def markup(new: str, signature: str, original: Original) -> str:
        marker, fields = _qq_fields(original, zh)
        rows = "".join(f"<div><b>{name}:</b>&nbsp;{html.escape(value)}</div>"
                       for name, value in fields)
        sign = ('<div><sign signid="1"><div style="color:#909090;font-family:Arial Narrow;'
                f'font-size:12px">------------------</div><div style="font-size:14px;">'
                f"{_paragraphs(signature)}</div></sign></div>" if signature else "")
        return (f'<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
                f"{_paragraphs(new)}<div><br></div>{sign}<div>&nbsp;</div><div><includetail>"
                '<div style="font:Verdana normal 14px;color:#000;">'
                '<div style="FONT-SIZE: 12px;FONT-FAMILY: Arial Narrow;padding:2px 0 2px 0;">'
                f"------------------&nbsp;{marker}&nbsp;------------------</div>"
                f'<div style="FONT-SIZE: 12px;background:#efefef;padding:8px;">{rows}</div>'
                f"<div>&nbsp;</div>{_paragraphs(original.body)}</div></includetail></div>\n")
    return markup


# -- Foxmail: a blank line holding one space, then 发件人：/From: with full-width colons ---------

def _foxmail_fields(original: Original, zh: bool) -> list[tuple[str, str]]:
    when = f"{original.date:%Y-%m-%d %H:%M}"
    if zh:
        return [("发件人：", original.sender_name), ("发送时间：", when),
                ("收件人：", original.to_name), ("主题：", original.subject)]
    return [("From:", original.sender_name), ("Date:", when), ("To:", original.to_name),
            ("Subject:", original.subject)]


def _foxmail_plain(zh: bool) -> Callable[[str, str, Original], str]:
    def plain(new: str, signature: str, original: Original) -> str:
        fields = "\n".join(f"{name} {value}" for name, value in _foxmail_fields(original, zh))
        return _blocks(new, signature, f" \n{fields}\n{original.body}") + "\n"
    return plain


def _foxmail_html(zh: bool) -> Callable[[str, str, Original], str]:
    def markup(new: str, signature: str, original: Original) -> str:
        rows = "".join(f"<div><b>{name}</b>&nbsp;{html.escape(value)}</div>"
                       for name, value in _foxmail_fields(original, zh))
        return (f"<html><head><meta http-equiv=\"content-type\" content=\"text/html; "
                f"charset=gb2312\"></head><body>{_paragraphs(new)}<div><br></div>"
                f'<hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">'
                f"<div>{_paragraphs(signature)}</div><blockquote style=\"margin-Top: 0px; "
                f'margin-Bottom: 0px; margin-Left: 0.5em; margin-Right: inherit"><div>'
                '<div style="border:none;border-top:solid #B5C4DF 1.0pt;'
                'padding:3.0pt 0cm 0cm 0cm">'
                f'<div style="PADDING-RIGHT: 8px; PADDING-LEFT: 8px; FONT-SIZE: 12px;">{rows}</div>'
                f"</div></div><div>{_paragraphs(original.body)}</div></blockquote></body></html>\n")
    return markup


LAYOUTS: dict[str, Layout] = {
    "gmail": Layout(_gmail_plain(False), _gmail_html(False)),
    "gmail_zh": Layout(_gmail_plain(True), _gmail_html(True)),
    "outlook": Layout(_outlook_plain(False), _outlook_html(False)),
    "outlook_zh": Layout(_outlook_plain(True), _outlook_html(True), charset="gb2312"),
    "apple": Layout(_apple_plain(False), _apple_html(False)),
    "apple_zh": Layout(_apple_plain(True), _apple_html(True)),
    "qq": Layout(_qq_plain(True), _qq_html(True), charset="gb18030"),
    "qq_en": Layout(_qq_plain(False), _qq_html(False), charset="gb18030"),
    "foxmail": Layout(_foxmail_plain(False), _foxmail_html(False), charset="gb18030"),
    "foxmail_zh": Layout(_foxmail_plain(True), _foxmail_html(True), charset="gb18030"),
}
"""Client name (``_zh``: its Chinese interface; ``qq_en``: QQ Mail's English one) -> layout."""


def reply_body(client: str, new_text: str, *, signature: str = "",
               original: Original | None = None, html_part: bool = False) -> str:
    """The text (or, with `html_part`, the HTML) body `client` writes for this reply."""
    layout = LAYOUTS[client]
    quoted = original or (ORIGINAL_ZH if _chinese(client) else ORIGINAL_EN)
    write = layout.html if html_part else layout.plain
    return write(new_text, signature, quoted)


def build_reply(client: str, new_text: str, *, signature: str = "",
                original: Original | None = None, parts: Parts = "plain",
                sender: str = "Li Wei <li.wei@acme.example>",
                to: str = "Advisor Desk <desk+MD-2026-000123.k3f9@advisor.example>",
                cc: str = "", subject: str | None = None,
                message_id: str = "<reply-1@acme.example>",
                attachments: Sequence[Attached] = (),
                trace: Sequence[tuple[str, str]] = ()) -> bytes:
    """The raw bytes of a reply written in `client` (a key of `LAYOUTS`).

    `parts`: a text/plain body, a multipart/alternative of text and HTML, or HTML alone.
    `attachments` follow the body (the message becomes multipart/mixed; non-ASCII file names
    are written as RFC 2231 parameters). `trace` fields come first, in the given order, as the
    receiving servers prepend them (Delivered-To, Authentication-Results, Received...).
    """
    quoted = original or (ORIGINAL_ZH if _chinese(client) else ORIGINAL_EN)
    charset = LAYOUTS[client].charset
    message = EmailMessage()
    for name, value in trace:
        message[name] = value
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject if subject is not None else f"Re: {quoted.subject}"
    message["Date"] = format_datetime(quoted.date + timedelta(hours=1))
    message["Message-ID"] = message_id
    message["In-Reply-To"] = "<summary-123@advisor.example>"
    message["MIME-Version"] = "1.0"
    plain = reply_body(client, new_text, signature=signature, original=quoted)
    markup = reply_body(client, new_text, signature=signature, original=quoted, html_part=True)
    if parts == "html":
        message.set_content(markup, subtype="html", charset=charset)
    else:
        message.set_content(plain, charset=charset)
        if parts == "alternative":
            message.add_alternative(markup, subtype="html", charset=charset)
    for item in attachments:
        maintype, subtype = item.content_type.split("/", 1)
        message.add_attachment(item.data, maintype=maintype, subtype=subtype,
                               filename=item.filename,
                               disposition="inline" if item.inline else "attachment")
    return message.as_bytes()


def _chinese(client: str) -> bool:
    return client.endswith("_zh") or client == "qq"
