"""Time zones of marketplaces, for bare dates and business days (parsing-rules "time zones")."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo

MARKETPLACE_ZONES: dict[str, str] = {
    "amazon.com": "America/Los_Angeles",
    "amazon.ca": "America/Los_Angeles",
    "amazon.com.mx": "America/Los_Angeles",
    "ebay.com": "America/Los_Angeles",
    "ebay.ca": "America/Los_Angeles",
    "walmart.com": "America/Chicago",
    "walmart.ca": "America/Chicago",
    "walmart.com.mx": "America/Chicago",
    "amazon.co.uk": "Europe/London",
    "ebay.co.uk": "Europe/London",
    "amazon.de": "Europe/Berlin",
    "amazon.fr": "Europe/Berlin",
    "amazon.it": "Europe/Berlin",
    "amazon.es": "Europe/Berlin",
    "amazon.nl": "Europe/Berlin",
    "amazon.se": "Europe/Berlin",
    "amazon.pl": "Europe/Berlin",
    "ebay.de": "Europe/Berlin",
    "ebay.fr": "Europe/Berlin",
    "ebay.it": "Europe/Berlin",
    "ebay.es": "Europe/Berlin",
    "amazon.co.jp": "Asia/Tokyo",
    "amazon.com.au": "Australia/Sydney",
    "ebay.com.au": "Australia/Sydney",
    "amazon.ae": "Asia/Dubai",
    "amazon.sa": "Asia/Riyadh",
    "amazon.in": "Asia/Kolkata",
    "temu.com": "Asia/Shanghai",
    "shein.com": "Asia/Shanghai",
    "aliexpress.com": "Asia/Shanghai",
}
# Marketplaces that write 03/04/2026 month first.
MONTH_FIRST: frozenset[str] = frozenset({"amazon.com", "walmart.com", "ebay.com"})
CHINESE_PLATFORMS: frozenset[str] = frozenset({"temu", "shein", "aliexpress"})


def zone_of(marketplace: str | None) -> tzinfo:
    """The marketplace's zone; UTC when there is no marketplace."""
    name = MARKETPLACE_ZONES.get(marketplace or "")
    return ZoneInfo(name) if name else UTC
