"""MIME assembly of the mails maild composes: headers, text and HTML, originals left intact.

The stdlib generator re-folds and re-encodes attached messages, so an original is written by
hand around its bytes: ``message/rfc822`` (7bit, or 8bit for 8-bit bytes, RFC 2045/6152) when
every line ends in CRLF and is at most 998 octets (RFC 5322 §2.1.1) — then an SMTP hop and an
IMAP store keep it byte for byte — else ``application/octet-stream`` in base64. Each such part
carries ``X-Maild-Original: sha256=...``; `attached_originals` reads them back from a composed
(or IMAP-fetched) message. Output has CRLF line ends and is the same for the same input.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage, MIMEPart
from email.parser import BytesHeaderParser
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

CRLF = b"\r\n"
MAX_LINE = 998  # octets per line before CRLF, RFC 5322 §2.1.1
FOLD_AT = 78  # the line length RFC 5322 §2.1.1 asks headers to keep to
ORIGINAL_HEADER = "X-Maild-Original"
_FIRST_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")


@dataclass(frozen=True)
class Attachment:
    """One original, and how it can travel unchanged."""

    raw: bytes
    filename: str
    as_message: bool  # message/rfc822; else application/octet-stream in base64
    eight_bit: bool
    sha256: str

    @classmethod
    def of(cls, raw: bytes, filename: str) -> Attachment:
        return cls(raw, filename, fits_rfc822(raw), not raw.isascii(),
                   hashlib.sha256(raw).hexdigest())

    @property
    def cte(self) -> str:
        if not self.as_message:
            return "base64"
        return "8bit" if self.eight_bit else "7bit"

    def part(self) -> bytes:
        """The MIME part: headers, blank line, content (without the CRLF of the delimiter)."""
        if self.as_message:
            head = ["Content-Type: message/rfc822",
                    f'Content-Disposition: attachment; filename="{self.filename}"']
            body = self.raw
        else:
            head = [f'Content-Type: application/octet-stream; name="{self.filename}"',
                    f'Content-Disposition: attachment; filename="{self.filename}"']
            body = base64.encodebytes(self.raw).replace(b"\n", CRLF).rstrip(CRLF)
        head += [f"Content-Transfer-Encoding: {self.cte}",
                 f"{ORIGINAL_HEADER}: sha256={self.sha256}"]
        return "\r\n".join(head).encode("ascii") + CRLF + CRLF + body


def fits_rfc822(raw: bytes) -> bool:
    """Can `raw` be a ``message/rfc822`` body that every hop keeps byte for byte?

    Every line must end in CRLF (an SMTP client or server turns a bare LF or CR into CRLF) and
    be at most 998 octets; no NUL; and it must start with a header field, or it is no message."""
    line_ends = raw.count(CRLF)
    if not _FIRST_FIELD.match(raw) or b"\0" in raw:
        return False
    if raw.count(b"\n") != line_ends or raw.count(b"\r") != line_ends:
        return False
    return max(map(len, raw.split(CRLF))) <= MAX_LINE  # C loops: 50 MB in a quarter second


def assemble(headers: EmailMessage, text: str, html: str,
             attachments: Sequence[Attachment]) -> bytes:
    """Headers, then multipart/alternative (text, html), then the attachments as they are."""
    seed = hashlib.sha256("\0".join([text, html, *(a.sha256 for a in attachments)])
                          .encode()).hexdigest()
    alternative = MIMEPart(policy=SMTP)
    alternative.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    alternative.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    alternative.set_boundary(f"=_alt_{seed[:24]}")  # "=_" never occurs in quoted-printable
    if not attachments:
        for name, value in alternative.items():
            headers[name] = value
        return header_bytes(headers) + CRLF + body_bytes(alternative)
    boundary = _boundary(seed, attachments)
    headers["Content-Type"] = f'multipart/mixed; boundary="{boundary}"'
    if any(a.cte == "8bit" for a in attachments):
        headers["Content-Transfer-Encoding"] = "8bit"  # RFC 2045 §6.4: not less than its parts
    delimiter = b"--" + boundary.encode("ascii")
    out = [header_bytes(headers), CRLF, b"This is a MIME message.", CRLF,
           delimiter, CRLF, alternative.as_bytes(policy=SMTP)]
    for attachment in attachments:
        out += [CRLF, delimiter, CRLF, attachment.part()]
    out += [CRLF, delimiter, b"--", CRLF]
    return b"".join(out)


def _boundary(seed: str, attachments: Sequence[Attachment]) -> str:
    """A boundary that occurs in no attached original (the other parts are encoded)."""
    for attempt in range(1000):
        boundary = f"=_maild_{seed[:24]}_{attempt}"
        if not any(b"--" + boundary.encode() in a.raw for a in attachments):
            return boundary
    raise ValueError("no MIME boundary found that the attached originals do not contain")


def header_bytes(headers: EmailMessage) -> bytes:
    return b"".join(_subject_bytes(value) if name == "Subject"
                    else SMTP.fold_binary(name, value) for name, value in headers.items())


def _subject_bytes(subject: str) -> bytes:
    """The Subject folded so that it unfolds to exactly `subject` (single-spaced already).

    The policy's folder can fold right after "Subject:" or leave a space before a fold, which
    readers then show as a leading or doubled space; so an ASCII subject is folded here at its
    spaces, and in any other only the words from the first to the last non-ASCII one become
    RFC 2047 encoded words: the tags and the ticket stay readable in logs and raw mail."""
    words = subject.split(" ")
    if not subject.isascii():
        first = next(i for i, word in enumerate(words) if not word.isascii())
        last = max(i for i, word in enumerate(words) if not word.isascii()) + 1
        header = Header(header_name="Subject")
        # The ASCII chunks carry the spaces next to the encoded words themselves: Header puts
        # none between an encoded word and a "(" ("冻结通知(MD-..." once decoded).
        for chunk, charset, text in (
                (words[:first], "us-ascii", " ".join(words[:first]) + " "),
                (words[first:last], "utf-8", " ".join(words[first:last])),
                (words[last:], "us-ascii", " " + " ".join(words[last:]))):
            if chunk:
                header.append(text, charset)
        return b"Subject: " + header.encode(linesep="\r\n").encode("ascii") + CRLF
    lines: list[str] = []
    line, width = "", len("Subject: ")
    for word in words:
        if line and width + len(line) + 1 + len(word) > FOLD_AT:
            lines.append(line)
            line, width = word, 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return ("Subject: " + "\r\n ".join(lines)).encode("ascii") + CRLF


def body_bytes(part: MIMEPart) -> bytes:
    """`part` serialised without its own header block (its headers were moved to the top)."""
    raw = part.as_bytes(policy=SMTP)
    return raw[raw.index(CRLF + CRLF) + 4:]


def headers_of(*, subject: str, from_address: str, to: Sequence[str], reply_to: str | None,
               message_id: str, now: datetime, zone: ZoneInfo, in_reply_to: str | None,
               extra: Mapping[str, str]) -> EmailMessage:
    """The top header block; ``Auto-Submitted: auto-generated`` marks the mail as machine-made
    (RFC 3834 §5) so auto-responders stay silent, and Exchange/Outlook are asked the same."""
    headers = EmailMessage(policy=SMTP)
    headers["From"] = from_address
    headers["To"] = ", ".join(to)
    if reply_to:
        headers["Reply-To"] = reply_to
    headers["Subject"] = " ".join(subject.split())
    headers["Date"] = format_datetime(now.astimezone(zone))
    headers["Message-ID"] = message_id
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    headers["MIME-Version"] = "1.0"
    headers["Auto-Submitted"] = "auto-generated"
    headers["X-Auto-Response-Suppress"] = "All"
    for name, value in extra.items():
        headers[name] = value
    return headers


def attached_originals(message: bytes) -> list[bytes]:
    """The originals attached to a message composed here, byte for byte, in order.

    Reads the raw MIME structure (the stdlib parser re-serialises ``message/rfc822`` parts, so
    it cannot give the bytes back); works on the composed bytes and on an IMAP ``BODY[]``."""
    head_end = message.find(CRLF + CRLF)
    if head_end < 0:
        return []
    header = BytesHeaderParser(policy=SMTP).parsebytes(message[:head_end + 4])
    boundary = header.get_param("boundary")
    if header.get_content_maintype() != "multipart" or not isinstance(boundary, str):
        return []
    found: list[bytes] = []
    delimiter = CRLF + b"--" + boundary.encode("ascii")
    for chunk in (CRLF + message[head_end + 4:]).split(delimiter)[1:]:
        line_end, part_end = chunk.find(CRLF), chunk.find(CRLF + CRLF)
        if chunk.startswith(b"--") or line_end < 0 or part_end < 0:
            break
        part_headers = BytesHeaderParser(policy=SMTP).parsebytes(chunk[line_end + 2:part_end + 4])
        if ORIGINAL_HEADER not in part_headers:
            continue
        body = chunk[part_end + 4:]
        encoding = str(part_headers.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        found.append(base64.b64decode(body) if encoding == "base64" else body)
    return found
