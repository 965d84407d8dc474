"""Read an answer that arrived in the replies mailbox: who wrote it, what is new in it, its files.

Advisors send drafts and decision-makers send decisions by replying to maild's mail from Gmail,
Outlook, Apple Mail, QQ Mail or Foxmail, in English or Chinese. Every client appends the
history it answers in its own layout, and a signature. What the case needs is only the author's
new text, so the history and the signature are cut off here:

1. the body is read as maild reads every message (`mime.body_text`: the text/plain part, or
   the HTML one as text when plain is missing or a stub);
2. mail-parser-reply splits it at the English and Chinese attribution lines ("On ... wrote:")
   and header blocks ("From: ... Sent: ...", "发件人: ... 发送时间: ...") it knows, Outlook's
   underscore rule and "-----Original Message-----";
3. `SEPARATORS` cut what the library misses (Chinese attributions that start with "在",
   QQ Mail's "原始邮件" marker, Foxmail's full-width colons, header fields that HTML put on
   lines of their own);
4. lines quoted with ">" are dropped, then the signature (`SIGNATURE_DELIMITERS`,
   `DEVICE_LINES`, `CLOSINGS`).

The library's own signature and disclaimer stripping is not used: it cuts everything after any
line starting with "Thanks,", "谢谢，" or "-word", which removes real content.

Everything here is pure: bytes in, values out; no database, no network.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from typing import Literal

from mailparser_reply import EmailMessage as LibraryMessage

from maild.parsers import authn, mime

# Languages whose attribution lines and header blocks mail-parser-reply looks for.
LIBRARY_LANGUAGES = ("en", "zh")
# The library's "On ... wrote:" pattern takes time quadratic in the length of a line starting
# with "On" (8,000 characters: 1.7 s; 60,000: 76 s). No attribution or header line is this long,
# so it is shown only the start of longer lines.
MAX_LIBRARY_LINE = 1_000

# History markers the library misses; the text is cut at the earliest match (after the library).
SEPARATORS: tuple[re.Pattern[str], ...] = (
    # Chinese attributions. Gmail: "在 2026年3月12日周四 10:00，X <x@y> 写道："
    # (older: "X <x@y> 于2026年3月12日周四 10:00写道："), hard-wrapped once when long;
    # Apple Mail: "> 在 2026年3月12日，10:00，X <x@y> 写道：" inside the quote;
    # Thunderbird: "在 2026/3/12 10:00, X 写道:". The library wants the date at the line
    # start (and its pattern for that never matches: its lookahead refuses what it asks for).
    re.compile(r"""
        ^[ \t>]*
        (?: (?:在|於)\s? | [^\n]{1,300}?[于於]\s? )
        \d{4}\s?[年/.-][^\n]{0,300}?
        (?:[^\n。！？!?]\n[^\n]{0,300}?)?   # wrapped once, not after the end of a sentence
        (?:写道|寫道)\s?[：:][ \t]*$
        """, re.M | re.X),
    # QQ Mail: "------------------ 原始邮件 ------------------" (English interface: "Original"),
    # older Outlook and Foxmail: "-----原始邮件-----". The library reads the header block below
    # the marker, not the marker.
    re.compile(r"^[ \t>]*-{3,}[ \t]*(?:原始邮件|原始郵件|Original(?: Message)?)[ \t]*-{3,}[ \t]*$",
               re.M | re.I),
    # Outlook's rule of 32 underscores above its header block: the library drops it only when
    # text stands above it, so a reply with nothing new would keep it.
    re.compile(r"^[ \t>]*_{30,}[ \t]*$", re.M),
    # Foxmail: "发件人： X" / "发送时间： ..." with full-width colons; and any client whose HTML
    # puts each header field in its own block (QQ Mail, Foxmail), which reads as fields with
    # blank lines between them: the library wants the fields on adjacent lines.
    re.compile(r"^[ \t>*]*(?:From|发件人|發件人|寄件者)[ \t*]*[:：][^\n]*\n(?:[ \t>]*\n)?"
               r"[ \t>*]*(?:Sent|Date|发送时间|發送時間|日期|时间|寄件日期)[ \t*]*[:：]",
               re.M | re.I),
)

# A line that starts a signature running to the end of the text, wherever it stands:
SIGNATURE_DELIMITERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"--[ \t]?"),  # RFC 3676 4.3 "-- " (Gmail, Thunderbird, mutt; tidied to "--")
    re.compile(r"-{18}"),  # QQ Mail writes 18 dashes above the signature
)
# What phones and apps add below the text ("Sent from my iPhone", "发自我的iPhone").
DEVICE_LINES: tuple[re.Pattern[str], ...] = (
    re.compile(r"Sent from my [\w .-]{1,40}", re.I),
    re.compile(r"Get Outlook for (?:iOS|Android)", re.I),
    re.compile(r"发自我的\s?[\w .-]{1,20}"),
    re.compile(r"从我的\s?[\w .-]{1,20}发送"),
    re.compile(r"发自(?:网易邮箱大师|QQ邮箱|手机QQ邮箱)"),
)
# A closing on a line of its own that starts a short name block ("Best regards,\nLi Wei").
# "Thanks"/"谢谢" are not here: people go on writing after them ("谢谢！另外请…").
CLOSINGS: tuple[str, ...] = (
    "best regards", "kind regards", "warm regards", "regards", "best wishes", "sincerely",
    "yours sincerely", "yours faithfully", "cheers",
    "此致", "此致敬礼", "祝好", "顺祝商祺", "顺颂商祺",
)
_CLOSING = re.compile(r"(?:" + "|".join(map(re.escape, CLOSINGS)) + r")[\s,，.。!！~～]*", re.I)
MAX_NAME_BLOCK_LINES = 6  # lines under a closing (name, title, company, phone...)
MAX_NAME_BLOCK_CHARS = 80  # longer lines are prose, not a name block

# RFC 8601 results that mean the check failed. permerror counts: the sender's own record or
# signature is broken, so nothing vouches for the mail, and a decision must come from a sender
# that can be verified. softfail, neutral, none and temperror do not: they prove nothing.
AUTH_METHODS = ("dkim", "spf", "dmarc")
AUTH_FAILURES = ("fail", "permerror")

Decision = Literal["approve", "reject", "changes"]
APPROVE_WORDS = ("approve", "approved", "同意", "批准")
REJECT_WORDS = ("reject", "rejected", "拒绝")
NOTE_PREFIXES = ("note", "备注")


def _words(words: tuple[str, ...]) -> str:
    """An alternation of `words`, longest first; a Latin word must end at a word boundary."""
    ordered = sorted(words, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(word) + (r"(?![a-z])" if word.isascii() else "")
                            for word in ordered) + ")"


_APPROVAL = re.compile(_words(APPROVE_WORDS) + r"[\s.。!！~～]*", re.I)
_REJECTION = re.compile(_words(REJECT_WORDS) + r"[\s:：,，.。!！;；-]*", re.I)
_NOTE = re.compile(r"\s*" + _words(NOTE_PREFIXES) + r"[ \t]*[:：]", re.I)


@dataclass(frozen=True)
class ReplyAttachment:
    """A file that came with the reply: its bytes exactly as sent (transfer encoding undone;
    an attached message is written out again by the `email` package)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ReplyContent:
    """What a reply says.

    Attributes:
        sender: the bare From address, lower case ('' when there is none).
        recipients: the addresses the mail arrived through, in order Delivered-To,
            X-Original-To, To, Cc (lower case, each once); the reply token is among them.
        subject: the decoded Subject.
        message_id: the Message-ID as written, or None.
        new_text: the author's new text only, whitespace tidied as `mime.tidy` does; ''
            when the reply adds nothing.
        attachments: every part sent as a file: Content-Disposition attachment, or a
            filename on a part that is not the text/plain or text/html body.
        auth_failed: "dkim=fail" (several joined by ", ") when the receiving server's
            Authentication-Results says DKIM, SPF or DMARC failed; else None.
    """

    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str | None
    new_text: str
    attachments: tuple[ReplyAttachment, ...]
    auth_failed: str | None


def read_reply(raw: bytes, authserv_id: str | None = None) -> ReplyContent:
    """What the reply `raw` (RFC 5322 bytes) says; with `authserv_id` (``[maild]
    authserv_id``), only the receiving server's own Authentication-Results count.

    Parsed whole, not through `mime.parse_bytes`: that one trims the attachments of large
    messages, and a reply's invoice or photo must come through byte for byte.
    """
    message = email.message_from_bytes(raw, policy=compat32)
    message_id = mime.header(message, "Message-ID")
    return ReplyContent(
        sender=_address(message.get("From")),
        recipients=_recipients(message),
        subject=mime.header(message, "Subject"),
        message_id=message_id or None,
        new_text=_new_text(mime.body_text(message)),
        attachments=tuple(_attachments(message)),
        auth_failed=_auth_failed(message, authserv_id),
    )


def note_text(text: str) -> str | None:
    """The note in `text` when it starts with "NOTE:"/"Note:"/"备注:"/"备注：", else None."""
    found = _NOTE.match(text)
    return text[found.end():].strip() if found else None


def read_decision(text: str) -> tuple[Decision, str]:
    """A decision-maker's answer: ("approve", ""), ("reject", reason) or ("changes", text).

    Approval is strict: the whole text must be one approval word ("APPROVE", "Approved",
    "同意", "批准", any case) with at most punctuation after it. Anything more, on the same
    line ("同意，但是把第二段改掉") or below it, may be a condition, so it is read as changes:
    a wrong "changes" costs one more round, a wrong "approve" sends an unapproved text.
    A first line starting with "REJECT"/"拒绝" rejects; the rest of that line and the lines
    below are the reason.
    """
    answer = text.strip()
    if _APPROVAL.fullmatch(answer):
        return "approve", ""
    rejected = _REJECTION.match(answer)
    if rejected:
        return "reject", answer[rejected.end():].strip()
    return "changes", answer


def _new_text(body: str) -> str:
    """The author's text at the top of `body`: history, quotes and signature removed."""
    text = _library_top(body)
    cuts = [found.start() for pattern in SEPARATORS if (found := pattern.search(text))]
    if cuts:
        text = text[: min(cuts)]
    lines = [line.strip() for line in text.split("\n") if not line.lstrip().startswith(">")]
    return mime.tidy("\n".join(_without_signature(lines)))


def _library_top(body: str) -> str:
    """`body` above the first attribution or header block mail-parser-reply finds ('' when
    the body starts with one).

    The library sees lines cut to `MAX_LIBRARY_LINE`, so the cut is made in `body` itself,
    where the first line of the header it found stands (that line, or its start, is in `body`
    as written: the body's lines are already stripped). Its own fragment, from the text it
    saw, is the answer only should that line not be found.
    """
    shown = "\n".join(line[:MAX_LIBRARY_LINE] for line in body.split("\n"))
    replies = LibraryMessage(text=shown, languages=list(LIBRARY_LANGUAGES),
                             keep_hyphen_lists=True).read().replies
    if not replies or replies[0].headers:
        return ""
    if len(replies) == 1:
        return body
    at = body.find(replies[1].headers.split("\n", 1)[0])  # the header ending the first part
    return body[:at] if at >= 0 else replies[0].content


def _without_signature(lines: list[str]) -> list[str]:
    """`lines` up to the signature: a delimiter, trailing device lines, the last closing.

    A draft for a platform ends with the seller's own sign-off ("Kind regards, Acme
    Lighting"), which must stay; the author's signature is what goes. So a closing is taken for
    the signature only when no delimiter ("-- ", which Gmail and Thunderbird write) marked one:
    below a delimiter the signature is gone already and the closing above it is the text's.
    """
    delimited = False
    for index, line in enumerate(lines):
        if any(pattern.fullmatch(line) for pattern in SIGNATURE_DELIMITERS):
            lines, delimited = lines[:index], True
            break
    while lines and (not lines[-1] or any(p.fullmatch(lines[-1]) for p in DEVICE_LINES)):
        lines = lines[:-1]
    if delimited:
        return lines
    written = [index for index, line in enumerate(lines) if line]
    for index in reversed(written[1:]):  # never the first line: "Regards" alone is the text
        below = [line for line in lines[index + 1 :] if line]
        if len(below) > MAX_NAME_BLOCK_LINES:
            break
        if _CLOSING.fullmatch(lines[index]):
            if all(len(line) <= MAX_NAME_BLOCK_CHARS for line in below):
                lines = lines[:index]
            break
    return lines



def _address(value: object) -> str:
    return parseaddr(str(value or ""))[1].strip().lower()


def _recipients(message: Message) -> tuple[str, ...]:
    """Addresses in Delivered-To, X-Original-To, To, Cc, in that order, each once."""
    found: dict[str, None] = {}
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        values = [str(value) for value in message.get_all(name) or []]
        for _, address in getaddresses(values):
            if "@" in address:
                found.setdefault(address.strip().lower())
    return tuple(found)


def _attachments(message: Message) -> Iterator[ReplyAttachment]:
    for part in _parts(message):
        filename = _filename(part)
        ctype = part.get_content_type()
        if not (mime.is_attachment(part)
                or (filename and ctype not in ("text/plain", "text/html"))):
            continue
        if ctype == "message/rfc822":
            # The email package parsed the attached message: it is written out again, the same
            # headers and body though not necessarily the same line ends.
            inner = part.get_payload(0)
            data = inner.as_bytes() if isinstance(inner, Message) else b""
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        yield ReplyAttachment(filename=filename, content_type=ctype, data=data)


def _parts(message: Message, depth: int = 0) -> Iterator[Message]:
    """Leaf parts in order; an attached message is one part (bounded as `mime.iter_leaves`)."""
    if message.get_content_maintype() != "multipart":
        yield message
        return
    payload = message.get_payload()
    if depth > 20 or not isinstance(payload, list):
        return
    for sub in payload[:200]:
        if isinstance(sub, Message):
            yield from _parts(sub, depth + 1)


def _filename(part: Message) -> str:
    """The file name: RFC 2231 parameters (the `email` package joins them), RFC 2047 words
    (as QQ Mail and Outlook write Chinese names) decoded."""
    try:
        name = part.get_filename()
    except (TypeError, ValueError, LookupError):
        return ""
    return mime.decode_header_value(name) if name else ""


def _auth_failed(message: Message, authserv_id: str | None = None) -> str | None:
    """The failed checks of the receiving server's Authentication-Results (RFC 8601), or None.

    Without `authserv_id` the topmost counts: our receiving server adds its verdict on top, and
    every Authentication-Results below it was written by someone on the way, the sender
    included, who can claim anything. But a server that writes none leaves the sender's own on
    top; so with `authserv_id` (RFC 8601 section 5: ignore those not your own) only the topmost
    header of that id counts, and a mail without one fails: it was not checked.
    """
    headers = mime.all_headers(message, "Authentication-Results")
    if authserv_id is not None:
        headers = [h for h in headers
                   if h.split(";", 1)[0].strip().lower().split()[:1] == [authserv_id.lower()]]
        if not headers:
            return f"no Authentication-Results from {authserv_id}"
    topmost = headers[:1]
    failed = [f"{result.method}={result.result}"
              for value in topmost for result in authn.parse_results(value)
              if result.method in AUTH_METHODS and result.result in AUTH_FAILURES]
    return ", ".join(dict.fromkeys(failed)) or None
