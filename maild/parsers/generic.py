"""The fallback for mail from no known platform: platform `other`, no marketplace, UTC dates.

It still goes through the same category, deadline and identifier tables, so a law firm's TRO
notice or a forwarded court letter is recognised even though no platform sent it.
"""

from __future__ import annotations

import re

from maild.parsers.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="other",
    display_en="The sender",
    display_zh="发件方",
    domains=(),
    brand=re.compile(r"(?!x)x"),
    branding=re.compile(r"(?!x)x"),
)
