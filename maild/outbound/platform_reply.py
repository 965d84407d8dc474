"""The reply to a platform, once the seller's decision-maker approved an advisor's draft.

Sellers forward platform mail to maild, so what a reply answers is the platform's own message
inside the forward (`maild.parsers.forwards` finds it), not the seller's forward: its subject,
Message-ID and References thread the reply (RFC 5322 §3.6.4) and its Reply-To or From is where the
reply goes. The reply itself is a human's mail sent from the store's registered address: plain
text only, the approved attachments, and no header that marks it as machine-made or as maild's
(no Auto-Submitted, RFC 3834 §5; no X- headers): platforms and buyers see every header. The bytes
are the same for the same input, so the outbox can archive them before the first attempt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message, MIMEPart
from email.policy import SMTP
from email.utils import format_datetime, getaddresses

from maild.config_table import bare_address
from maild.parsers import forwards, mime

# Header folding that unfolds to exactly the subject, shared with the other mail maild composes.
from maild.routing.assemble import CRLF, body_bytes, header_bytes
from maild.routing.matching import is_platform_address

# A 7-bit body: the email package then encodes non-ASCII text as quoted-printable or base64,
# whichever is shorter, so the reply needs no 8BITMIME on any hop.
_CONTENT_POLICY = SMTP.clone(cte_type="7bit")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_CONTENT_TYPE = re.compile(r"([a-z0-9!#$&^_.+-]+)/([a-z0-9!#$&^_.+-]+)")


@dataclass(frozen=True)
class ThreadOrigin:
    """What the reply answers: the platform's own message, not the seller's forward of it."""

    subject: str
    message_id: str | None
    references: tuple[str, ...]  # what the reply's References start with (RFC 5322 §3.6.4)
    reply_to: str | None  # bare address: the original's Reply-To, else its From


def _ids(message: Message, name: str) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(mime.header(message, name)))


def _reply_address(message: Message) -> str | None:
    for _name, address in getaddresses([mime.header(message, "Reply-To")]):
        bare = bare_address(address)
        if bare is not None:
            return bare
    return None


def thread_origin(raw: bytes) -> ThreadOrigin:
    """The platform message that ``raw`` (a seller's forward, a redirect, or the platform's mail
    itself) carries, as far as its headers survive.

    A forward with the original attached (``message/rfc822``) keeps them all. An inline forward
    keeps only the quoted From, Date and Subject: the Message-ID and References are lost (None and
    ``()``) and the reply goes to the quoted From. Mail that was not forwarded is its own origin.
    ``references`` follows RFC 5322 §3.6.4: the parent's References, or else its In-Reply-To when
    that holds exactly one id.
    """
    message = mime.parse_bytes(raw)
    original = forwards.find_original(message, is_platform_address)
    if original.via == "inline":
        return ThreadOrigin(subject=original.subject, message_id=None, references=(),
                            reply_to=original.from_addr or None)
    headers = original.headers
    parents = _ids(headers, "In-Reply-To")
    return ThreadOrigin(
        subject=original.subject,
        message_id=next(iter(_ids(headers, "Message-ID")), None),
        references=_ids(headers, "References") or (parents if len(parents) == 1 else ()),
        reply_to=_reply_address(headers) or original.from_addr or None,
    )


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` without the Re:, Fwd:, 转发: ... prefixes earlier replies and the seller's
    forward put in front of it (one "Re:", never "Re: Re:"), single-spaced."""
    return " ".join(f"Re: {forwards.strip_forward_prefix(subject)}".split())


def platform_address(origin: ThreadOrigin, configured: Mapping[str, str],
                     category: str) -> str | None:
    """Where the reply goes: the address configured for ``category`` (``"*"``: any category)
    wins over the origin's Reply-To/From; None when there is neither."""
    return configured.get(category) or configured.get("*") or origin.reply_to or None


def _attachable_type(content_type: str) -> tuple[str, str]:
    """``(maintype, subtype)`` for an attachment part. A message or multipart travels as
    ``application/octet-stream``: RFC 2046 §5 forbids base64 for those types, and an attached
    file is sent as the bytes it is."""
    found = _CONTENT_TYPE.fullmatch(content_type.partition(";")[0].strip().lower())
    if found is None or found.group(1) in ("message", "multipart"):
        return "application", "octet-stream"
    return found.group(1), found.group(2)


def _file_name(filename: str) -> str:
    """The name without folders (a path would show the advisor's disk) or control characters."""
    name = "".join(char for char in re.split(r"[\\/]", filename)[-1] if char.isprintable())
    return name.strip() or "attachment"


def _boundary(message_id: str, body: str) -> str:
    """A MIME boundary derived from the Message-ID (the same bytes on every composition) that the
    text does not hold; the attachments are base64, which has no "=_" in it."""
    base = "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]
    boundary, attempt = base, 0
    while boundary in body:
        attempt += 1
        boundary = f"{base}_{attempt}"
    return boundary


def compose_platform_reply(origin: ThreadOrigin, *, body: str,
                           attachments: Sequence[tuple[str, str, bytes]], from_address: str,
                           to: str, message_id: str, now: datetime) -> bytes:
    """The reply as RFC 5322 bytes with CRLF line ends, ready to archive and send.

    ``attachments`` are (filename, content type, data). Headers: From (the store's registered
    sender), To, Subject ``Re: ...``, Date (``now``, which must be aware), Message-ID (given),
    In-Reply-To and References when the origin's are known (RFC 5322 §3.6.4), MIME-Version. The
    body is one text/plain UTF-8 part; with attachments, a multipart/mixed whose file names are
    RFC 2231 encoded when not ASCII. Raises ValueError for a naive ``now``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the Date: header needs its offset)")
    content = MIMEPart(policy=_CONTENT_POLICY)
    content.set_content(body, charset="utf-8")
    for filename, content_type, data in attachments:
        maintype, subtype = _attachable_type(content_type)
        name = _file_name(filename)
        content.add_attachment(data, maintype=maintype, subtype=subtype, filename=name,
                               params={"name": name})
    if attachments:
        content.set_boundary(_boundary(message_id, body))
    headers = EmailMessage(policy=SMTP)
    headers["From"] = from_address
    headers["To"] = to
    headers["Subject"] = reply_subject(origin.subject)
    headers["Date"] = format_datetime(now)
    headers["Message-ID"] = message_id
    references = origin.references
    if origin.message_id is not None:
        headers["In-Reply-To"] = origin.message_id
        references = (*(r for r in references if r != origin.message_id), origin.message_id)
    if references:
        headers["References"] = " ".join(references)
    headers["MIME-Version"] = "1.0"
    for name, value in content.items():
        headers[name] = value
    return header_bytes(headers) + CRLF + body_bytes(content)
