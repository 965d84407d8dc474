"""Temu: seller-centre notices, often in Chinese or bilingual; one marketplace, temu.com."""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec, short_brand

SPEC = PlatformSpec(
    name="temu",
    display_en="Temu",
    display_zh="Temu",
    domains=("temu.com", "kuajingmaihuo.com"),
    brand=short_brand("temu", "拼多多跨境", "kuajingmaihuo"),
    branding=re.compile(
        r"temu (?:seller|team|卖家|商家)|拼多多跨境|kuajingmaihuo|temu\s?(?:卖家中心|商家中心)",
        re.I,
    ),
    default_marketplace="temu.com",
    claimed_marketplace="temu.com",
)
