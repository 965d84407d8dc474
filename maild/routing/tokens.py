"""Reply tokens: the ``{token}`` of ``reply_address = "desk+{token}@advisor.example"`` (DESIGN §6).

A token names a case's ticket and a scope ("case" for the summary's Reply-To; the reply path
signs draft versions, "v3") and carries an HMAC-SHA256 of both under the configured secret, so a
reply can be tied to its case without a lookup table and cannot be guessed or forged.

It lives in the local part of an address, which servers and mail clients may lower-case, so it
is written in lower case only and read in any case: ``md-2026-000123-case-<16 base32 chars>``.
Only letters, digits and ``-`` are used (no ``.``, which some providers drop, no ``+``, which
starts the plus-address). 16 base32 characters are 80 bits of the MAC: a forger's chance per
try is 2⁻⁸⁰. Tickets are case-insensitive: the claim gives the ticket in upper case.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from maild.config_smtp import TOKEN

MAC_CHARS = 16  # base32 characters: 80 bits
LOCAL_PART_MAX = 64  # RFC 5321 §4.5.3.1.1
# Keys the MAC to its purpose, so that the same secret signing something else later (an
# approval link, a webhook) can never produce a valid reply token.
_PURPOSE = b"maild reply token v1"
_TICKET = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SCOPE = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(rf"({_TICKET.pattern})-({_SCOPE.pattern})-([a-z2-7]{{{MAC_CHARS}}})")


@dataclass(frozen=True)
class TokenClaim:
    """What a genuine token says: the case's ticket (upper case) and the scope signed."""

    ticket: str
    scope: str


def make_token(secret: str, ticket: str, scope: str = "case") -> str:
    """The token of `ticket` in `scope`: ``md-2026-000123-case-<mac>``, lower case.

    `ticket` is letters, digits and single dashes (``MD-2026-000123``); `scope` letters and
    digits. Anything else is a programming error (ValueError), as is an empty secret.
    """
    if not secret:
        raise ValueError("reply tokens need a secret ([maild] secret_env or secret_file)")
    ticket_part, scope_part = ticket.strip().lower(), scope.strip().lower()
    if not _TICKET.fullmatch(ticket_part):
        raise ValueError(f"a ticket is letters, digits and single dashes, not {ticket!r}")
    if not _SCOPE.fullmatch(scope_part):
        raise ValueError(f"a token scope is letters and digits, not {scope!r}")
    return f"{ticket_part}-{scope_part}-{_mac(secret, ticket_part, scope_part)}"


def read_token(secret: str, token: str) -> TokenClaim | None:
    """The claim of a genuine `token` (any case); None when it is garbled, forged, altered or
    made with another secret. The MAC is compared in constant time."""
    if not secret:
        return None
    found = _TOKEN.fullmatch(token.strip().lower())
    if found is None:
        return None
    ticket, scope, mac = found.groups()
    if not hmac.compare_digest(mac, _mac(secret, ticket, scope)):
        return None
    return TokenClaim(ticket=ticket.upper(), scope=scope)


def _mac(secret: str, ticket: str, scope: str) -> str:
    message = b"\0".join((_PURPOSE, ticket.encode("ascii"), scope.encode("ascii")))
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b32encode(digest[: MAC_CHARS * 5 // 8]).decode("ascii").lower()


def reply_address(template: str, token: str) -> str:
    """`template` (``[smtp] reply_address``, validated by the config to hold ``{token}`` once in
    its local part) with `token` filled in; ValueError when the local part grows past the 64
    characters RFC 5321 allows, which a server may refuse."""
    _split(template)
    address = template.replace(TOKEN, token)
    local = address.rsplit("@", 1)[0].rsplit("<", 1)[-1]
    if len(local) > LOCAL_PART_MAX:
        raise ValueError(f"reply address {address!r}: local part longer than "
                         f"{LOCAL_PART_MAX} characters")
    return address


def token_from_addresses(template: str, addresses: Iterable[str]) -> str | None:
    """The token of the first of `addresses` (bare, in the order a reply arrived through them)
    that has the shape of `template` around a token; not yet checked: see `read_token`."""
    prefix, suffix = _split(template)
    shape = re.compile(re.escape(prefix.lower()) + rf"({_TOKEN.pattern})"
                       + re.escape(suffix.lower()))
    for address in addresses:
        found = shape.fullmatch(address.strip().lower())
        if found:
            return found.group(1)
    return None


def _split(template: str) -> tuple[str, str]:
    """The bare address of `template` before and after ``{token}``."""
    if template.count(TOKEN) != 1:
        raise ValueError(f"reply address template must hold {TOKEN} once, not {template!r}")
    bare = template.strip()
    if "<" in bare:  # "Advisor Desk <desk+{token}@advisor.example>"
        bare = bare.rsplit("<", 1)[1].split(">", 1)[0]
    prefix, _, suffix = bare.partition(TOKEN)
    return prefix, suffix
