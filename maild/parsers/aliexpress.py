"""AliExpress: seller notices, often in Chinese or bilingual; one marketplace, aliexpress.com."""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="aliexpress",
    display_en="AliExpress",
    display_zh="速卖通",
    domains=(
        "aliexpress.com",
        "alibaba.com",
        "service.alibaba.com",
        "alibaba-inc.com",
        "aliexpress.us",
    ),
    brand=re.compile(r"ali-?express|速卖通|alibaba|阿里巴巴", re.I),
    branding=re.compile(r"aliexpress (?:seller|team|卖家|商家)|速卖通|全球速卖通|阿里巴巴", re.I),
    default_marketplace="aliexpress.com",
    claimed_marketplace="aliexpress.com",
)
