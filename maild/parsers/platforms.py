"""What a platform looks like in mail: the `PlatformSpec` each platform module fills in.

A spec is data: the platform's genuine sender domains, the words that brand a message as
coming from it (display name, subject, body sign-offs), the sender domains of buyer messages,
and how to read the marketplace. `parse_message` consults the specs in `REGISTRY` order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from maild.parsers.authn import in_domains


@dataclass(frozen=True)
class PlatformSpec:
    """Everything the parser needs to know about one platform, as data."""

    name: str
    display_en: str
    display_zh: str
    domains: tuple[str, ...]
    brand: re.Pattern[str]
    branding: re.Pattern[str]
    marketplace_text: re.Pattern[str] | None = None
    marketplace_domain: re.Pattern[str] | None = None
    marketplace_prefix: str = ""
    default_marketplace: str | None = None
    # What a sender that only poses as the platform is taken to mean, when the text names none.
    claimed_marketplace: str | None = None
    marketplace_ids: dict[str, str] = field(default_factory=dict)
    buyer_domains: tuple[str, ...] = ()
    category_headers: tuple[str, ...] = ()

    def is_genuine(self, domain: str) -> bool:
        """The sender domain is one of the platform's own (or a subdomain of one)."""
        return bool(domain) and in_domains(domain, self.domains)

    def is_buyer_relay(self, domain: str) -> bool:
        """The sender domain relays buyer messages (marketplace.amazon.*, relay.walmart.com ...)."""
        return any(
            in_domains(domain, (relay,)) or domain.startswith(relay + ".")
            for relay in self.buyer_domains
        )

    def marketplace(
        self, headers: Message, subject: str, body: str, domain: str, *, genuine: bool
    ) -> str | None:
        """Header id, then a marketplace named in subject/body, then the sender's domain.

        A sender that only poses as the platform gets no default marketplace.
        """
        for header_value in (headers.get("X-Marketplace-ID"), headers.get("X-Marketplace-Id")):
            if isinstance(header_value, str) and header_value.strip() in self.marketplace_ids:
                return self.marketplace_ids[header_value.strip()]
        if self.marketplace_text is not None:
            for text in (subject, body[:100_000]):
                found = self.marketplace_text.search(text)
                if found:
                    return self.marketplace_prefix + found.group(1).lower()
        if not genuine:
            return self.claimed_marketplace
        if self.marketplace_domain is not None and self.is_genuine(domain):
            found = self.marketplace_domain.search(domain)
            if found:
                return self.marketplace_prefix + found.group(1).lower()
        return self.default_marketplace


def domain_of(address: str) -> str:
    """The lower-cased domain of an address, '' when it has none."""
    return address.rsplit("@", 1)[-1].lower().strip(". >") if "@" in address else ""


_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "@": "a", "!": "i"})


def unmask(text: str) -> str:
    """Undo the usual look-alike spellings (amaz0n, paypa1, rn for m) before brand matching."""
    return text.lower().translate(_LOOKALIKE).replace("rn", "m").replace("vv", "w")


def tld_pattern(brand: str, tlds: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(text pattern, domain pattern) capturing `brand.<tld>` for the marketplace."""
    ordered = "|".join(sorted(tlds.split(), key=len, reverse=True))
    text = re.compile(
        r"(?<![@\w.-])(?:www\.|sellercentral(?:-\w+)?\.|seller\.)?"
        + brand
        + r"\.("
        + ordered
        + r")(?![\w-]|\.\w)",
        re.I,
    )
    domain = re.compile(r"(?:^|\.)" + brand + r"\.(" + ordered + r")$", re.I)
    return text, domain
