"""What ties a follow-up to its open case (issue 8 "Cases"): the keys, not the lookup.

DESIGN §2 links a notice to a case by platform case/complaint id, by ``References`` /
``In-Reply-To``, by identifiers plus category within a window, and by normalised subject. This
module computes each key from a message or a notice; the route step looks them up in that
order, always within one client and platform (a case id is only unique on its platform).

Named ``threads`` so that it does not shadow the stdlib ``threading`` module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from maild.parsers import mime

# A platform's case and complaint ids name one case: a follow-up that carries one joins it.
CASE_KEYS: tuple[str, ...] = ("case_id", "complaint_id")
# Orders, products, items and SKUs are shared by unrelated notices (an order has a claim and a
# buyer message, an ASIN many complaints): they join a case only with the same category within
# a window (`window_keys`).
WINDOW_KEYS: tuple[str, ...] = ("order_id", "asin", "item_id", "sku")

TICKET = re.compile(r"(?<![A-Za-z0-9])MD-(\d{4})-(\d{6,})(?![0-9])", re.I)

# Reply and forward prefixes of the mail clients sellers and advisors use, by language.
SUBJECT_PREFIXES: tuple[str, ...] = (
    "re", "fwd", "fw", "aw", "wg", "sv", "vs", "rif", "r", "i", "enc", "res", "tr", "rv",
    "antw", "odp", "ynt", "回复", "回覆", "答复", "转发", "轉寄", "转寄", "転送",
)
_PREFIX = re.compile(
    r"^\s*(?:(?:" + "|".join(map(re.escape, SUBJECT_PREFIXES)) + r")"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.I,
)
# maild's own marks (DESIGN §4.3, maild/templates/routing/*subject*): the tag chain that starts with
# a priority (and a follow-up's "Update:"), "— due 2026-03-15", "(MD-2026-000123)", the
# acknowledgement's "[MD-2026-000123]" or "[URGENT-MD-2026-000123]", the "(no subject)"
# placeholder, and the client's urgent marks.
_OWN_TAGS = re.compile(
    r"^\s*\[P[0-3]\](?:\s*\[[^\[\]]{1,60}\])*(?:\s*Update:)?"
    r"|\s*[—–-]+\s*due\s+\d{4}-\d{2}-\d{2}"
    r"|\s*\(\s*" + TICKET.pattern + r"\s*\)"
    r"|\s*\[\s*(?:URGENT-)?" + TICKET.pattern + r"\s*\]"
    r"|\(no subject\)"
    r"|^\s*(?:【\s*(?:URGENT|紧急)\s*】|\[\s*URGENT\s*\])",
    re.I,
)
# "[Fwd: subject]", as older clients forward.
_BRACKETED = re.compile(r"^\s*\[(?:fwd?|fw)\s*:\s*(.*)\]\s*$", re.I)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def normalise_subject(subject: str) -> str:
    """`subject` without reply/forward prefix chains (``Re: AW: 转发:`` ...), maild's tags and
    ticket marks, white space collapsed and case-folded: equal for a notice, its summary and
    the replies to either. An empty result is no key."""
    previous = None
    text = subject
    while text != previous:
        previous = text
        text = _OWN_TAGS.sub(" ", _PREFIX.sub("", _BRACKETED.sub(r"\1", text)))
    return " ".join(text.split()).casefold()


def ticket_in(subject: str) -> str | None:
    """The first ticket number (``MD-2026-000123``) in `subject`, upper case, or None."""
    found = TICKET.search(subject)
    return found.group(0).upper() if found else None


def thread_keys(identifiers: Mapping[str, Sequence[str]]) -> set[tuple[str, str]]:
    """``(kind, value)`` of the notice's platform case and complaint ids (`CASE_KEYS`): one in
    common with an open case of the same client and platform joins the notice to it."""
    return _keys(identifiers, CASE_KEYS)


def window_keys(identifiers: Mapping[str, Sequence[str]]) -> set[tuple[str, str]]:
    """``(kind, value)`` of the order, ASIN, item and SKU ids (`WINDOW_KEYS`): they join a case
    only together with the same category within a window."""
    return _keys(identifiers, WINDOW_KEYS)


def _keys(identifiers: Mapping[str, Sequence[str]], kinds: Sequence[str]) -> set[tuple[str, str]]:
    """Values compared without spaces and case (``cs 1234`` and ``CS1234`` are one id)."""
    keys: set[tuple[str, str]] = set()
    for kind in kinds:
        for value in identifiers.get(kind, ()):
            plain = "".join(value.split()).upper()
            if plain:
                keys.add((kind, plain))
    return keys


def references_of(raw: bytes) -> list[str]:
    """The Message-IDs `raw` answers (RFC 5322 §3.6.4): ``References`` oldest first, then an
    ``In-Reply-To`` not among them, each as ``<id>``, without repeats."""
    return references_in(BytesHeaderParser(policy=compat32).parsebytes(raw))


def references_in(message: Message) -> list[str]:
    """`references_of` for a message already parsed."""
    found: list[str] = []
    for name in ("References", "In-Reply-To"):
        for value in mime.all_headers(message, name):
            for message_id in message_ids_in(value):
                if message_id not in found:
                    found.append(message_id)
    return found


def message_ids_in(value: str) -> list[str]:
    """Each ``<id>`` of a header value; a value without angle brackets (some clients write
    ``In-Reply-To: id@host``) gives its ``@`` words, bracketed."""
    ids = _MESSAGE_ID.findall(value)
    if not ids:
        ids = [word for word in value.split() if "@" in word and "<" not in word]
    return [f"<{message_id}>" for message_id in ids]


def normalise_message_id(value: str) -> str | None:
    """A stored or read ``Message-ID`` in the form `references_of` gives, or None."""
    ids = message_ids_in(value)
    return ids[0] if ids else None
