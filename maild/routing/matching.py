"""Which client a notice belongs to: by every address it arrived through, then by the text.

Sellers forward their platform mail from their own mailbox to a per-client alias or
plus-address of the monitored inbox (DESIGN §6), so the client shows in the envelope headers
servers add (``Delivered-To``, ``X-Original-To`` ...), in the outer and the forwarded message's
``To``/``Cc``, and in the forwarder's own address. Addresses are compared whole and lower-cased:
``inbox+acme@advisor.example`` matches a store listing exactly ``inbox+acme@advisor.example``,
not one listing ``inbox@advisor.example`` (a store lists each alias and plus-address its mail
arrives through). When no address decides, a store's name or merchant id in the text does.

The decision is a `Match` whose ``reason`` is the sentence the route step writes into the audit
event; it never drops a notice: no client, or several, leaves ``client`` None for the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from functools import cache

from maild.config_clients import Client, Store
from maild.config_table import bare_address
from maild.parsers import forwards, mime
from maild.parsers.pipeline import REGISTRY
from maild.parsers.platforms import domain_of

# Envelope headers that servers and forwarders add, in the order they are read.
ENVELOPE_HEADERS: tuple[str, ...] = (
    "Delivered-To",
    "X-Original-To",
    "X-Forwarded-To",
    "X-Forwarded-For",
    "Resent-To",
    "Resent-Cc",
    "Envelope-To",
)
RECIPIENT_HEADERS: tuple[str, ...] = ("To", "Cc")
# Labels of an inline forward's header block (forwards.HEADER_LABELS files them under "to")
# that name where the original went: Reply-To is where answers go, not how it arrived.
_REPLY_LABELS = frozenset({"reply-to", "antwort an"})
_CC_LABELS = frozenset({"cc", "抄送"})
_VERBS = {
    **dict.fromkeys(("To", "Cc", "forwarded To", "forwarded Cc"), "addressed to"),
    **dict.fromkeys(("forwarder's From", "Resent-From"), "forwarded by"),
}
# The platform the notice is about is unknown or not a marketplace: any store of a client fits.
ANY_PLATFORM = "other"
# A name or id is a whole word when no letter or digit of a Latin script touches it; CJK text
# has no spaces, so a store name written next to Chinese characters still counts.
_WORD_EDGE = "0-9A-Za-z\u00c0-\u024f"


@dataclass(frozen=True)
class Arrival:
    """One address a message arrived through, and the header (kind) it was read from."""

    address: str
    header: str

    def describe(self) -> str:
        """``delivered to acme@inbox.advisor.example (Delivered-To)``, for the audit event."""
        return f"{_VERBS.get(self.header, 'delivered to')} {self.address} ({self.header})"


@dataclass(frozen=True)
class Match:
    """The routing decision: ``client`` and ``store`` when decided (``store`` is None when the
    client is known but none of its stores, or no single one, is the notice's), the ``candidates``
    considered (the chosen client, the clients of an ambiguous match, or none), and a
    ``reason`` for the audit event."""

    client: Client | None
    store: Store | None
    candidates: tuple[Client, ...]
    reason: str


def arrivals(raw: bytes) -> list[Arrival]:
    """Every address `raw` arrived through, with the header it came from (see `arrival_addresses`
    for the order); the first header an address appears in is the one kept."""
    message = mime.parse_bytes(raw)
    return _arrivals(message, forwards.find_original(message, is_platform_address))


def arrival_addresses(raw: bytes) -> list[str]:
    """Every address the mail arrived through, lower-cased, bare, de-duplicated in this order:
    each ``Delivered-To``, ``X-Original-To``, ``X-Forwarded-To``, ``X-Forwarded-For``,
    ``Resent-To``, ``Resent-Cc`` and ``Envelope-To`` (topmost first), the outer ``To``/``Cc``,
    the forwarded message's ``To``/``Cc`` (inline or attached, as `forwards.find_original`
    finds it), then the forwarder: the outer ``From`` of a forward, or ``Resent-From`` of a
    redirect."""
    return [arrival.address for arrival in arrivals(raw)]


def _arrivals(message: Message, original: forwards.Original) -> list[Arrival]:
    found: dict[str, Arrival] = {}

    def add(values: Sequence[str], header: str) -> None:
        for value in values:
            for address in addresses_in(value):
                found.setdefault(address, Arrival(address, header))

    for name in (*ENVELOPE_HEADERS, *RECIPIENT_HEADERS):
        add(mime.all_headers(message, name), name)
    if original.via == "attached":
        for name in RECIPIENT_HEADERS:
            add(mime.all_headers(original.headers, name), f"forwarded {name}")
    elif original.via == "inline":
        for label, value in _inline_recipients(message):
            add([value], "forwarded Cc" if label in _CC_LABELS else "forwarded To")
    if original.via != "direct":
        add([mime.header(message, "From")], "forwarder's From")
    add(mime.all_headers(message, "Resent-From"), "Resent-From")
    return list(found.values())


def addresses_in(value: str) -> list[str]:
    """The bare, lower-cased addresses of one header value or quoted header line.

    Beyond RFC 5322 lists this reads what mail clients and servers write: ``;`` between
    addresses (Outlook, QQ, 163), ``[mailto:...]`` (Outlook's quoted blocks), and
    space-separated bare addresses (``X-Forwarded-For: seller@x inbox@y``).
    """
    value = value.replace(";", ",").replace("；", ",")
    value = re.sub(r"\[mailto:([^\]\s]+)\]", r"<\1>", value, flags=re.I)
    if "<" in value or '"' in value or "(" in value:
        candidates = [addr for _name, addr in getaddresses([value])]
    else:
        candidates = re.split(r"[\s,]+", value)
    addresses = (bare_address(candidate.removeprefix("mailto:")) for candidate in candidates)
    return [address for address in addresses if address]


def is_platform_address(address: str) -> bool:
    """An address of a domain one of the platforms really sends from (amazon.de, ebay.com…)."""
    domain = domain_of(address)
    return any(spec.is_genuine(domain) for spec in REGISTRY)


def _inline_recipients(message: Message) -> Iterator[tuple[str, str]]:
    """(label, value) of each To/Cc line of an inline forward's quoted header block.

    The block is the one `forwards` reads the original's From, Date and Subject from (same
    marker, same labels, same end); `forwards.Original` keeps only what the parser needs, so
    its recipients are read here, from the parser's own tables.
    """
    text = mime.body_text(message)
    marker = forwards._MARKER.search(text)
    start = marker.end() if marker else 0
    block = forwards._header_block(text, start)
    if block is None:
        return
    for line in text[start : block[1]].split("\n"):
        found = forwards._HEADER_LINE.match(line)
        if found is None:
            continue
        label = found.group(1).lower()
        if forwards._LABEL_FIELD[label] == "to" and label not in _REPLY_LABELS:
            yield label, found.group(2)


def match_client(
    raw: bytes,
    platform: str,
    marketplace: str | None,
    body_text: str,
    clients: Sequence[Client],
) -> Match:
    """The client (and store) of a notice of `platform`/`marketplace` that arrived as `raw`.

    1. Addresses: stores of the notice's platform (and marketplace, when the store lists
       marketplaces and the notice's is known) whose addresses the mail arrived through. One
       client: matched. Several clients: ambiguous. For platform "other" (non-platform mail,
       phishing that claims no platform) every store of a client fits.
    2. An address of a store on another platform (or marketplace) names the client but not the
       store: the store is then looked for by name or merchant id in that client's text, and
       otherwise left None ("no store for platform X") — the client still gets the notice;
       when the client has one store of the platform (and marketplace), that is the store.
    3. No address: store names and merchant ids in the text (whole words, any case): `body_text`
       and the original's subject, and an attached original's body (which the outer message's
       body text does not hold).
    4. Nothing: no client. Several stores of one client and nothing to tell them apart: the
       client with store None.
    """
    message = mime.parse_bytes(raw)
    original = forwards.find_original(message, is_platform_address)
    seen = _arrivals(message, original)
    attached = original.body if original.via == "attached" else ""
    body_text = "\n".join((original.subject, body_text, attached))
    fitting = [(c, s) for c in clients for s in c.stores if _fits(s, platform, marketplace)]
    hits = _address_hits(fitting, seen)
    if hits:
        return _decide(hits, body_text)
    hits = _address_hits([(c, s) for c in clients for s in c.stores], seen)
    if hits:
        named = _clients_of(hits)
        if len(named) > 1:
            return _ambiguous(named, hits)
        where = f"marketplace {marketplace}" if marketplace else f"platform {platform}"
        return _store_of(named[0], [s for c, s in fitting if c is named[0]], body_text,
                         f"client {named[0].id} matched by address ({hits[0][2]})", where)
    hits = _text_hits(fitting, body_text)
    if hits:
        return _decide(hits, body_text)
    return Match(None, None, (), "no client matches")


def _fits(store: Store, platform: str, marketplace: str | None) -> bool:
    """A marketplace the parser could not tell does not rule a store out."""
    if platform == ANY_PLATFORM:
        return True
    return store.platform == platform and (marketplace is None or store.sells_on(marketplace))


Hit = tuple[Client, Store, str]  # a client, its store, and why (a sentence)


def _address_hits(pairs: Sequence[tuple[Client, Store]], seen: Sequence[Arrival]) -> list[Hit]:
    """Stores whose addresses the mail arrived through, in the order of the arrivals."""
    listing: dict[str, list[tuple[Client, Store]]] = {}
    for client, store in pairs:
        for address in store.addresses:
            listing.setdefault(address.lower(), []).append((client, store))
    hits: list[Hit] = []
    for arrival in seen:
        for client, store in listing.get(arrival.address, ()):
            if not any(h[1] is store for h in hits):
                hits.append((client, store, f"{arrival.describe()}: store {store.name!r}"))
    return hits


def _text_hits(pairs: Sequence[tuple[Client, Store]], text: str) -> list[Hit]:
    """Stores whose name or a merchant id is a whole word of `text` (any case)."""
    lowered = text.lower()
    hits: list[Hit] = []
    for client, store in pairs:
        if _mentions(store.name, text, lowered):
            hits.append((client, store, f"store name {store.name!r} in the text"))
            continue
        merchant = next((m for m in store.merchant_ids if _mentions(m, text, lowered)), None)
        if merchant is not None:
            hits.append((client, store, f"merchant id {merchant!r} in the text"))
    return hits


def _mentions(term: str, text: str, lowered: str) -> bool:
    """`term` is a whole word of `text`. A plain substring test of its first word comes first:
    with hundreds of stores, most are ruled out at C speed before any regex runs."""
    words = term.split()
    if not words:
        return False
    if words[0].isascii() and words[0].lower() not in lowered:
        return False
    return _word(term).search(text) is not None


@cache
def _word(term: str) -> re.Pattern[str]:
    """`term` as a whole word, any case, any run of white space where it has a space."""
    body = r"\s+".join(re.escape(part) for part in term.split())
    return re.compile(rf"(?<![{_WORD_EDGE}]){body}(?![{_WORD_EDGE}])", re.I)


def _clients_of(hits: Sequence[Hit]) -> list[Client]:
    clients: list[Client] = []
    for client, _store, _why in hits:
        if not any(c is client for c in clients):
            clients.append(client)
    return clients


def _decide(hits: Sequence[Hit], body_text: str) -> Match:
    """One client or several; of one client's stores, the one the text names when several fit."""
    clients = _clients_of(hits)
    if len(clients) > 1:
        return _ambiguous(clients, hits)
    client, store, why = hits[0]
    if len(hits) == 1:
        return Match(client, store, (client,), why)
    stores = [(client, s) for _c, s, _why in hits]
    named = _text_hits(stores, body_text)
    if len(named) == 1:
        return Match(client, named[0][1], (client,), f"{why}; {named[0][2]}")
    names = ", ".join(repr(s.name) for _c, s in stores)
    return Match(client, None, (client,),
                 f"{why}; stores {names} of client {client.id} all fit, "
                 f"the text names no single one")


def _store_of(client: Client, stores: Sequence[Store], body_text: str, why: str,
              where: str) -> Match:
    """The store of a client named by an address of another of its stores: its only store of
    the notice's platform, or the one the text names; else the client alone."""
    if len(stores) == 1:
        return Match(client, stores[0], (client,),
                     f"{why}; its only store for {where}: {stores[0].name!r}")
    named = _text_hits([(client, s) for s in stores], body_text)
    if len(named) == 1:
        return Match(client, named[0][1], (client,), f"{why}; {named[0][2]}")
    if stores:
        return Match(client, None, (client,),
                     f"{why}; the text names no single one of its stores for {where}")
    return Match(client, None, (client,), f"{why}, no store for {where}")


def _ambiguous(clients: Sequence[Client], hits: Sequence[Hit]) -> Match:
    ids = ", ".join(c.id for c in clients)
    details = "; ".join(f"{c.id}: {why}" for c, _store, why in hits)
    return Match(None, None, tuple(clients), f"ambiguous: {ids} ({details})")
