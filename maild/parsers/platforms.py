"""What a platform looks like in mail: the `PlatformSpec` each platform module fills in.

A spec is data: the platform's genuine sender domains, the words that brand a message as
coming from it (display name, subject, body sign-offs), the sender domains of buyer messages,
and how to read the marketplace. `parse_message` consults the specs in `REGISTRY` order.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
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


# What look-alike senders glue onto a short brand ("sheinseller", "temu-support"); a short brand
# followed by other letters (Sheinberg) is someone's name, not the platform.
LURE_WORDS = (
    r"(?:sellers?|support|services?|team|verify|verification|accounts?|security|secure|help"
    r"|notices?|center|centre|partners?|merchants?|mall|shop|store|official|pay|payments?"
    r"|login|signin|update|alerts?|resolution|care|info|mail|online|global|billing|review)"
)


def short_brand(word: str, *others: str) -> re.Pattern[str]:
    """The brand pattern of a platform with a short name: `word` standing alone or before a lure."""
    alternatives = "|".join((rf"\b{word}(?![a-z])", rf"\b{word}(?={LURE_WORDS})", *others))
    return re.compile(alternatives, re.I)


def domain_of(address: str) -> str:
    """The lower-cased domain of an address, '' when it has none."""
    return address.rsplit("@", 1)[-1].lower().strip(". >") if "@" in address else ""


_LOOKALIKE = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "3": "e",
        "4": "a",
        "5": "s",
        "@": "a",
        "!": "i",
        "|": "l",
        # Cyrillic and Greek letters that look Latin (IDN homograph domains, display names)
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "һ": "h",
        "ӏ": "l",
        "ո": "n",
        "м": "m",
        "т": "t",
        "к": "k",
        "в": "b",
        "α": "a",
        "ο": "o",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "τ": "t",
        "ρ": "p",
        "μ": "m",
    }
)


def unmask(text: str) -> str:
    """Undo the usual look-alike spellings before brand matching.

    amaz0n, paypa1, rn for m, vv for w, full-width and Cyrillic/Greek homoglyphs, and IDN
    (punycode `xn--`) labels decoded to the letters they show.
    """
    if "xn--" in text.lower():
        text = _decode_idn(text)
    text = unicodedata.normalize("NFKC", text).lower().translate(_LOOKALIKE)
    return text.replace("rn", "m").replace("vv", "w")


def _decode_idn(text: str) -> str:
    labels = []
    for label in re.split(r"([.@])", text):
        if label.lower().startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # a broken label stays as written
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return "".join(labels)


def joined_tokens(text: str) -> list[str]:
    """The words of a domain or local part, and each pair joined: `e-bay-help` gives `ebay`.

    Look-alike senders split a brand with hyphens or dots (e-bay, ama.zon); joining neighbours
    lets a brand be matched as a whole word without matching inside unrelated names.
    """
    words = [word for word in re.split(r"[^0-9a-z]+", unmask(text)) if word]
    return words + [first + second for first, second in zip(words, words[1:], strict=False)]


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
