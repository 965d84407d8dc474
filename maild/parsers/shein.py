"""SHEIN: seller-centre notices, often in Chinese or bilingual; one marketplace, shein.com."""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec, short_brand

SPEC = PlatformSpec(
    name="shein",
    display_en="SHEIN",
    display_zh="SHEIN",
    domains=("shein.com", "sheingroup.com"),
    brand=short_brand("shein", "希音"),
    branding=re.compile(
        r"shein (?:seller|team|marketplace|卖家|商家|供应商)|希音|sheingroup", re.I
    ),
    default_marketplace="shein.com",
    claimed_marketplace="shein.com",
)
