"""Walmart: Marketplace notices, relay.walmart.com customer messages, wal-mart.com partner help."""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="walmart",
    display_en="Walmart",
    display_zh="沃尔玛",
    domains=(
        "walmart.com",
        "wal-mart.com",
        "relay.walmart.com",
        "email.walmart.com",
        "walmart.ca",
        "walmart.com.mx",
    ),
    brand=re.compile(r"wal-?mart|沃尔玛", re.I),
    branding=re.compile(
        r"walmart (?:marketplace|seller|partner) (?:team|support|center|performance)|the walmart"
        r" team"
        r"|walmart seller center|沃尔玛(?:卖家|商家)",
        re.I,
    ),
    marketplace_text=re.compile(
        r"(?<![@\w.-])(?:www\.|seller\.)?(walmart\.(?:com\.mx|ca))(?![\w-]|\.\w)", re.I
    ),
    marketplace_domain=re.compile(r"(?:^|\.)(walmart\.(?:com\.mx|ca))$", re.I),
    default_marketplace="walmart.com",
    claimed_marketplace="walmart.com",
    buyer_domains=("relay.walmart.com",),
)
