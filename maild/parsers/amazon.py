"""Amazon: Seller Central notices for every marketplace and buyer messages via marketplace.amazon.*.

Amazon names the marketplace in `X-Marketplace-ID` (obfuscated ids below), in the text
("Amazon.de", "sellercentral.amazon.co.uk") or in the sender's domain; notices also carry
`X-Space-Notification-Type`, whose words feed the classifier.
"""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec, tld_pattern

TLDS = "com ca com.mx co.uk de fr it es nl se pl co.jp com.au ae sa in"
# Amazon sites outside the contract's marketplace list: still Amazon's own sender domains.
OTHER_SITES = "com.br com.tr com.be eg sg ie cn"
MARKETPLACE_IDS: dict[str, str] = {
    "ATVPDKIKX0DER": "amazon.com",
    "A2EUQ1WTGCTBG2": "amazon.ca",
    "A1AM78C64UM0Y8": "amazon.com.mx",
    "A1F83G8C2ARO7P": "amazon.co.uk",
    "A1PA6795UKMFR9": "amazon.de",
    "A13V1IB3VIYZZH": "amazon.fr",
    "APJ6JRA9NG5V4": "amazon.it",
    "A1RKKUPIHCS9HS": "amazon.es",
    "A1805IZSGTT6HS": "amazon.nl",
    "A2NODRKZP88ZB9": "amazon.se",
    "A1C3SOZRARQ6R3": "amazon.pl",
    "A1VC38T7YXB528": "amazon.co.jp",
    "A39IBJ37TRP1C6": "amazon.com.au",
    "A2VIGQ35RCS4UG": "amazon.ae",
    "A17E79C6D8DWNP": "amazon.sa",
    "A21TJRUUN4KGV": "amazon.in",
}
_TEXT, _DOMAIN = tld_pattern("amazon", TLDS)

SPEC = PlatformSpec(
    name="amazon",
    display_en="Amazon",
    display_zh="亚马逊",
    domains=(
        "amazon.com",
        *(f"amazon.{tld}" for tld in TLDS.split() if tld != "com"),
        *(f"amazon.{tld}" for tld in OTHER_SITES.split()),
    ),
    brand=re.compile(r"amazon|亚马逊|亞馬遜|アマゾン|seller\s?central", re.I),
    branding=re.compile(
        r"seller\s?central|seller performance|amazon services|the amazon team|amazon\.\w{2,3}"
        r" (?:team|seller)|amazon seller|亚马逊(?:卖家|团队)"
        r"|amazon\s?(?:selling|account) (?:team|health)"
        r"|amazon verkäufer|vendeur amazon|vendedor de amazon|venditore amazon|amazon出品",
        re.I,
    ),
    marketplace_text=_TEXT,
    marketplace_domain=_DOMAIN,
    marketplace_prefix="amazon.",
    default_marketplace="amazon.com",
    marketplace_ids=MARKETPLACE_IDS,
    buyer_domains=("marketplace.amazon",),
    category_headers=("X-Space-Notification-Type",),
)
