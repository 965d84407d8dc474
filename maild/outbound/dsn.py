"""Read delivery status notifications (RFC 3464) so a bounce can be linked to its outbox row.

A DSN is a ``multipart/report; report-type=delivery-status`` message (RFC 6522) whose
``message/delivery-status`` part holds one block of per-message fields and one block per
recipient (``Final-Recipient``, ``Action``, ``Status``, ``Diagnostic-Code``…), followed by the
original message (``message/rfc822``) or only its header (``text/rfc822-headers``). The
internationalised forms of RFC 6533 (``message/global-delivery-status``, ``message/global``,
``message/global-headers``) are read the same way.

Only standard DSNs are recognised: the free-text bounces some old or hosted MTAs still send
(qmail's, Exchange's pre-2007 ones, "Mail delivery failed" prose) are ``None`` here, because
guessing at prose links bounces to the wrong row; the original Message-ID of such mail can still
be found by the caller in its ``References`` if it must.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser

_REPORT_TYPES = ("delivery-status", "global-delivery-status")
_STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_PARTS = ("message/rfc822", "message/global", "text/rfc822-headers",
                   "message/global-headers")
_HEADERS = BytesHeaderParser(policy=email.policy.default)


@dataclass(frozen=True)
class DsnRecipient:
    """One per-recipient block of a DSN (RFC 3464 2.3).

    Attributes:
        address: the ``Final-Recipient`` address, without its ``rfc822;`` type.
        action: ``failed``, ``delayed``, ``delivered``, ``relayed`` or ``expanded`` (lower case).
        status: the enhanced status code, like ``5.1.1`` (RFC 3463).
        diagnostic: the ``Diagnostic-Code`` as given (``smtp; 550 5.1.1 ...``), or ``None``.
        original_recipient: the ``Original-Recipient`` address (what the sender addressed,
            before any alias was expanded), or ``None`` when the DSN does not carry it.
    """

    address: str
    action: str
    status: str
    diagnostic: str | None
    original_recipient: str | None = None


@dataclass(frozen=True)
class Dsn:
    """What a DSN says about a message maild sent.

    Attributes:
        original_message_id: the ``Message-ID`` of the returned message or header, whitespace
            collapsed as the archive stores it (``<id@host>``), or ``None`` if none came back.
        envelope_id: ``Original-Envelope-Id`` (the ENVID the sender gave, RFC 3461), or ``None``.
        recipients: one entry per recipient block, in order.
    """

    original_message_id: str | None
    envelope_id: str | None
    recipients: tuple[DsnRecipient, ...]


def parse_dsn(raw: bytes) -> Dsn | None:
    """The DSN in ``raw``, or ``None`` when ``raw`` is not an RFC 3464 delivery report."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if (message.get_content_type() != "multipart/report"
            or message.get_param("report-type", "", header="content-type") not in _REPORT_TYPES):
        return None
    payload = message.get_payload()
    parts = [part for part in payload if isinstance(part, Message)] if isinstance(
        payload, list) else []
    status = next((part for part in parts if part.get_content_type() in _STATUS_PARTS), None)
    if status is None:
        return None
    blocks = _blocks(status)
    if not blocks:
        return None
    recipients = tuple(_recipient(block) for block in blocks[1:]
                       if block.get("Final-Recipient") or block.get("Original-Recipient"))
    return Dsn(original_message_id=_original_message_id(parts),
               envelope_id=_value(blocks[0], "Original-Envelope-Id"),
               recipients=recipients)


def _blocks(status: Message) -> list[Message]:
    """The field blocks of a delivery-status part. The parser gives ``message/delivery-status``
    as one sub-message per block; ``message/global-delivery-status`` it reads like
    ``message/rfc822``: the first block as the header and the other blocks as the body, split
    here."""
    payload = status.get_payload()
    blocks = ([block for block in payload if isinstance(block, Message)]
              if isinstance(payload, list) else [])
    if len(blocks) == 1 and isinstance(rest := blocks[0].get_payload(decode=True), bytes):
        blocks += [_HEADERS.parsebytes(chunk.strip(b"\r\n") + b"\r\n")
                   for chunk in re.split(rb"\r?\n\r?\n", rest) if chunk.strip()]
    return blocks


def _recipient(block: Message) -> DsnRecipient:
    """One recipient block; a block without the required Final-Recipient (some MTAs send only
    Original-Recipient) is named by its Original-Recipient rather than dropped."""
    original = _address(_value(block, "Original-Recipient"))
    return DsnRecipient(address=_address(_value(block, "Final-Recipient")) or original or "",
                        action=(_value(block, "Action") or "").lower(),
                        status=(_value(block, "Status") or "").split(" ")[0],
                        diagnostic=_value(block, "Diagnostic-Code"),
                        original_recipient=original)


def _original_message_id(parts: list[Message]) -> str | None:
    """The Message-ID of the returned message, or of its header only."""
    for part in parts:
        if part.get_content_type() not in _RETURNED_PARTS:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):  # message/*: the parser made it a sub-message
            header = payload[0] if payload else None
        else:  # text/rfc822-headers
            text = part.get_payload(decode=True)
            header = _HEADERS.parsebytes(text) if isinstance(text, bytes) else None
        if isinstance(header, Message):
            return _value(header, "Message-ID")
    return None


def _value(block: Message, name: str) -> str | None:
    """A field's value with folding and runs of white space collapsed, or ``None``."""
    value = block.get(name)
    if value is None:
        return None
    collapsed = " ".join(str(value).split())
    return collapsed or None


def _address(typed: str | None) -> str | None:
    """``rfc822; a@b`` -> ``a@b`` (RFC 3464 2.3.2: address-type ";" generic-address)."""
    if typed is None:
        return None
    kind, semicolon, address = typed.partition(";")
    return (address if semicolon else kind).strip().strip("<>") or None
