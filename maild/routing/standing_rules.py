"""Standing rules: a platform's deadline for a notice that states none (issue 9).

Platforms publish how long a seller has to answer (Amazon: buyer messages within 24 hours; eBay
UK: returns and item-not-received within 3 business days), but their notices often do not repeat
it. The figures live in `deadlines.toml` beside this module (package data), one row per platform,
category and optionally marketplace, each with the public source it was read from, so a changed
figure is a one-line edit that names where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maild.config_table import Table, read_toml
from maild.routing.calendar import add_business_days, add_calendar_time
from maild.routing.triage import CATEGORIES

DEFAULT_TABLE = Path(__file__).resolve().parent / "deadlines.toml"  # package data
UNITS = ("hours", "days", "business_days")

Unit = Literal["hours", "days", "business_days"]


@dataclass(frozen=True)
class Rule:
    """One row of the table: ``duration`` ``unit``s after the notice, and where that comes from.

    ``calendar`` ("GB", "DE-BY") and ``timezone`` say how a platform counts business days;
    without a ``timezone`` they are counted in the client's zone.
    """

    platform: str
    category: str
    duration: int
    unit: Unit
    source: str
    marketplace: str | None = None
    calendar: str | None = None
    timezone: str | None = None

    def due(self, received: datetime, zone: ZoneInfo) -> datetime:
        """The deadline, in UTC, of a notice received at ``received`` by a client in ``zone``."""
        if self.unit == "hours":
            return add_calendar_time(received, timedelta(hours=self.duration))
        if self.unit == "days":
            # Same wall-clock time N days later: Python adds days to a zoned datetime on the wall
            # clock, and the conversion to UTC takes the offset of the day it lands on.
            return (received.astimezone(zone) + timedelta(days=self.duration)).astimezone(UTC)
        assert self.calendar is not None  # checked when the table is loaded
        country, _, subdivision = self.calendar.partition("-")
        return add_business_days(
            received,
            self.duration,
            zone=ZoneInfo(self.timezone) if self.timezone else zone,
            country=country,
            subdivision=subdivision or None,
        )


def _rule(row: Table) -> Rule:
    unit: Unit = row.choice("unit", UNITS)
    calendar = row.string("calendar", None)
    if unit == "business_days" and calendar is None:
        raise row.fail("calendar", "is required for business_days (whose business days?)")
    timezone = row.string("timezone", None)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise row.fail("timezone", f"unknown time zone {timezone!r}") from exc
    duration: int = row.get("duration", int)
    if duration <= 0:
        raise row.fail("duration", f"must be a positive integer, not {duration}")
    rule = Rule(
        platform=row.string("platform"),
        category=row.choice("category", CATEGORIES),
        duration=duration,
        unit=unit,
        source=row.string("source"),
        marketplace=row.string("marketplace", None),
        calendar=calendar,
        timezone=timezone,
    )
    row.check_unknown()
    return rule


def load_rules(path: Path = DEFAULT_TABLE) -> tuple[Rule, ...]:
    """Every row of the table at ``path``, checked; errors name the file and the row's key."""
    table = Table(read_toml(path), "", str(path), path.parent)
    rules = tuple(_rule(row) for row in table.tables("rule"))
    table.check_unknown()
    seen: set[tuple[str, str, str | None]] = set()
    for index, rule in enumerate(rules):
        key = (rule.platform, rule.category, rule.marketplace)
        if key in seen:
            raise table.fail(f"rule[{index}]", f"a second row for {'/'.join(filter(None, key))}")
        seen.add(key)
    return rules


@cache
def default_rules() -> tuple[Rule, ...]:
    """The table shipped with maild, read once."""
    return load_rules()


def find_rule(
    platform: str, category: str, marketplace: str | None, rules: tuple[Rule, ...]
) -> Rule | None:
    """The marketplace's own row, else the platform's row without a marketplace."""
    candidates = [r for r in rules if r.platform == platform and r.category == category]
    own = [r for r in candidates if marketplace is not None and r.marketplace == marketplace]
    general = [r for r in candidates if r.marketplace is None]
    return next(iter(own + general), None)


def platform_deadline(
    platform: str,
    category: str,
    marketplace: str | None,
    received: datetime,
    zone: ZoneInfo,
    *,
    rules: tuple[Rule, ...] | None = None,
) -> tuple[datetime, Rule] | None:
    """The standing deadline (UTC) of a notice that states none, with the rule it comes from;
    None when no sourced rule covers the platform, category and marketplace."""
    rule = find_rule(platform, category, marketplace, default_rules() if rules is None else rules)
    return None if rule is None else (rule.due(received, zone), rule)
