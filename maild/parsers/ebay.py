"""eBay: account and policy notices, member messages via members.ebay.*, cases, returns and VeRO."""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec, tld_pattern

TLDS = "com co.uk de fr it es ca com.au"
# eBay sites that are not marketplaces of the contract but send genuine mail all the same.
OTHER_SITES = "at ch ie nl be pl com.hk com.sg com.my ph in"
_TEXT, _DOMAIN = tld_pattern("ebay", TLDS)

SPEC = PlatformSpec(
    name="ebay",
    display_en="eBay",
    display_zh="eBay",
    domains=(
        "ebay.com",
        *(f"ebay.{tld}" for tld in TLDS.split() if tld != "com"),
        *(f"ebay.{tld}" for tld in OTHER_SITES.split()),
    ),
    brand=re.compile(r"\bebay|易贝", re.I),
    branding=re.compile(
        r"the ebay team|ebay customer (?:service|support)|ebay inc|dein ebay|votre compte ebay"
        r"|your ebay account|ebay-team|ebay money back|\bvero\b",
        re.I,
    ),
    marketplace_text=_TEXT,
    marketplace_domain=_DOMAIN,
    marketplace_prefix="ebay.",
    default_marketplace="ebay.com",
    buyer_domains=("members.ebay",),
)
