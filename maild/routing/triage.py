"""Triage: the priority of a notice from its category and deadline (DESIGN 4.2).

The table lives in `triage.toml` beside this module (package data); a client's override, of the
same shape, is merged over it key by key. On top of the table, a deadline at most
`within_hours` after the notice's Date: raises the priority to at least `at_least` (P1 by
default).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maild.errors import ConfigError

DEFAULT_TABLE = Path(__file__).resolve().parent / "triage.toml"  # package data
PRIORITIES = ("P0", "P1", "P2", "P3")
CATEGORIES = (
    "suspension",
    "legal",
    "ip_complaint",
    "policy_warning",
    "listing_removed",
    "verification_request",
    "phishing_suspect",
    "appeal_decision",
    "claim_dispute",
    "buyer_message",
    "payment",
    "policy_update",
    "other",
)


@dataclass(frozen=True)
class TriageRules:
    """Priority per category plus the urgent-deadline floor."""

    priorities: dict[str, str]
    urgent_hours: float
    urgent_floor: str

    def priority(self, category: str, sent_at: datetime | None, deadline: datetime | None) -> str:
        """The priority of a notice of `category` sent at `sent_at` that is due at `deadline`."""
        base = self.priorities.get(category, self.priorities.get("other", "P3"))
        if (
            deadline is not None
            and sent_at is not None
            and deadline - sent_at <= timedelta(hours=self.urgent_hours)
            and PRIORITIES.index(self.urgent_floor) < PRIORITIES.index(base)
        ):
            return self.urgent_floor
        return base


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read triage table ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc


def _validated(table: dict[str, Any], where: str) -> TriageRules:
    priorities = table.get("priorities", {})
    urgent = table.get("urgent_deadline", {})
    missing = [category for category in CATEGORIES if category not in priorities]
    if missing:
        raise ConfigError(f"{where}: [priorities] lacks {', '.join(missing)}")
    for category, priority in priorities.items():
        if category not in CATEGORIES:
            raise ConfigError(f"{where}: [priorities] {category}: unknown category")
        if priority not in PRIORITIES:
            raise ConfigError(f"{where}: [priorities] {category} = {priority!r}: use P0..P3")
    hours = urgent.get("within_hours")
    floor = urgent.get("at_least")
    if not isinstance(hours, int | float) or isinstance(hours, bool) or hours < 0:
        raise ConfigError(f"{where}: [urgent_deadline] within_hours must be a number of hours")
    if floor not in PRIORITIES:
        raise ConfigError(f"{where}: [urgent_deadline] at_least = {floor!r}: use P0..P3")
    return TriageRules(dict(priorities), float(hours), floor)


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`, one level of tables deep."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def rules_with(override: dict[str, Any], where: str) -> TriageRules:
    """The default table with ``override`` (a client's ``triage`` table) merged over it;
    errors name ``where``."""
    return _validated(merge(_read(DEFAULT_TABLE), override), where)


def load_rules(override: Path | None = None, default: Path = DEFAULT_TABLE) -> TriageRules:
    """The default table (`triage.toml`) with a client's `override` file merged over it."""
    table = _read(default)
    where = str(default)
    if override is not None:
        table = merge(table, _read(override))
        where = str(override)
    return _validated(table, where)
