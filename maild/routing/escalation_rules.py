"""Escalation rules from the config: which notices go to whom at once, decided on what they say.

A rule is one ``[[escalation]]`` table (at the top of the config, or ``[[client.escalation]]``
for one client). Every condition it gives must hold; a list-valued condition holds when any of
its values does::

    [[escalation]]
    name = "Amazon Account Health at risk"
    platform = "amazon"                    # or a list; see DESIGN 4.1 for the names
    marketplace = ["amazon.de", "amazon.co.uk"]
    category = ["suspension", "policy_warning"]
    priority = "P1"                        # this priority or a more urgent one
    identifiers = [{ kind = "asin", value = "B0CX12345Z" }, { kind = "complaint_id" }]
    text = "counterfeit|gefälscht"         # a regex, case-insensitive, over the first 20,000 chars
    metric = "account_health_rating"       # a key of the parser's `metrics` (metric_labels)
    below = 200                            # and/or above = ...; both: strictly between
    escalate_to = ["lead@advisor.example"]

A metric condition holds only when the notice states that figure: a notice without a Valid
Tracking Rate never matches "valid_tracking_rate below 95". Matching is pure (no I/O); the
caller passes the parsed notice (or its stored row) and the text it was read from. Every
validation error names the file and the key (`config_table.Table`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from maild.config_table import Table
from maild.errors import ConfigError
from maild.routing.triage import CATEGORIES, PRIORITIES

TEXT_SCAN_CHARS = 20_000
MAX_PATTERN_CHARS = 500


class NoticeLike(Protocol):
    """What a rule reads of a notice: a `parsers.Notice`, or a stored row with the same fields."""

    @property
    def platform(self) -> str: ...
    @property
    def marketplace(self) -> str | None: ...
    @property
    def category(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def identifiers(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def metrics(self) -> Mapping[str, float] | None: ...  # None: a row stored before metrics


@dataclass(frozen=True)
class IdentifierCondition:
    """The notice carries an identifier of `kind`, equal to `value` (any value when None)."""

    kind: str
    value: str | None = None

    def holds(self, identifiers: Mapping[str, Sequence[str]]) -> bool:
        found = identifiers.get(self.kind, ())
        if self.value is None:
            return bool(found)
        want = self.value.casefold()
        return any(item.casefold() == want for item in found)


@dataclass(frozen=True)
class MetricCondition:
    """The notice states `metric`, strictly below `below` and/or strictly above `above`."""

    metric: str
    below: float | None = None
    above: float | None = None

    def holds(self, metrics: Mapping[str, float] | None) -> bool:
        value = (metrics or {}).get(self.metric)
        if value is None:
            return False
        if self.below is not None and not value < self.below:
            return False
        return self.above is None or value > self.above


@dataclass(frozen=True)
class Rule:
    """One ``[[escalation]]``: conditions (empty = any) and the addresses it escalates to."""

    name: str
    escalate_to: tuple[str, ...]
    platforms: frozenset[str] = frozenset()
    marketplaces: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    priority: str | None = None
    identifiers: tuple[IdentifierCondition, ...] = ()
    text: re.Pattern[str] | None = None
    metric: MetricCondition | None = None

    def matches(self, notice: NoticeLike, text: str) -> bool:
        """Whether every condition holds for `notice`, read from `text` (subject and body)."""
        if self.platforms and notice.platform not in self.platforms:
            return False
        if self.marketplaces and (notice.marketplace or "").lower() not in self.marketplaces:
            return False
        if self.categories and notice.category not in self.categories:
            return False
        if self.priority is not None and not _at_or_above(notice.priority, self.priority):
            return False
        if self.identifiers and not any(c.holds(notice.identifiers) for c in self.identifiers):
            return False
        if self.metric is not None and not self.metric.holds(notice.metrics):
            return False
        return self.text is None or self.text.search(text[:TEXT_SCAN_CHARS]) is not None


def matching_rules(rules: Sequence[Rule], notice: NoticeLike, text: str) -> list[Rule]:
    """The rules `notice` (read from `text`) matches, in config order."""
    return [rule for rule in rules if rule.matches(notice, text)]


def _at_or_above(priority: str, floor: str) -> bool:
    """P0 is the most urgent: "at or above P1" is P0 or P1; an unknown priority never is."""
    return priority in PRIORITIES and PRIORITIES.index(priority) <= PRIORITIES.index(floor)


@cache
def _platforms() -> tuple[str, ...]:
    # Imported on first use, as config_clients does: the parser registry is the one list of
    # platforms, and loading it costs a tenth of a second a config without rules need not pay.
    from maild.parsers.pipeline import REGISTRY

    return (*(spec.name for spec in REGISTRY), "other")


@cache
def _metric_keys() -> tuple[str, ...]:
    from maild.parsers.metric_labels import METRIC_KEYS

    return METRIC_KEYS


@cache
def _identifier_keys() -> tuple[str, ...]:
    from maild.parsers.notice import IDENTIFIER_KEYS

    return IDENTIFIER_KEYS


def rules_from(table: Table, key: str = "escalation") -> tuple[Rule, ...]:
    """The rules of the array of tables `key` in `table` (the config's top level for
    ``[[escalation]]``, a client's table for ``[[client.escalation]]``); a name may be used once."""
    rules: list[Rule] = []
    for i, item in enumerate(table.tables(key)):
        rule = parse_rule(item)
        if any(other.name == rule.name for other in rules):
            raise table.fail(f"{key}[{i}].name", f"{rule.name!r} is used by an earlier rule")
        rules.append(rule)
    return tuple(rules)


def parse_rule(table: Table) -> Rule:
    """Validate one ``[[escalation]]`` table."""
    rule = Rule(
        name=table.string("name"),
        escalate_to=table.addresses("escalate_to"),
        platforms=_one_or_many(table, "platform", _platforms()),
        marketplaces=frozenset(v.lower() for v in _one_or_many(table, "marketplace", None)),
        categories=_one_or_many(table, "category", CATEGORIES),
        priority=table.choice("priority", PRIORITIES, None),
        identifiers=tuple(_identifier(item) for item in table.tables("identifiers")),
        text=_pattern(table, "text"),
        metric=_metric(table),
    )
    table.check_unknown()
    if not (rule.platforms or rule.marketplaces or rule.categories or rule.priority
            or rule.identifiers or rule.text or rule.metric):
        raise ConfigError(
            f"{table.file}: {table.where.rstrip('.')}: rule {rule.name!r} has no condition; give "
            "at least one of platform, marketplace, category, priority, identifiers, text, metric"
            " (a client's escalate_to already gets every escalation of its clocks)"
        )
    return rule


def _one_or_many(table: Table, key: str, choices: tuple[str, ...] | None) -> frozenset[str]:
    """A string or a non-empty list of strings, each one of `choices` when given."""
    values: tuple[str, ...]
    raw: Any = table.data.get(key)
    if isinstance(raw, list):
        values = table.strings(key)
        names = [f"{key}[{i}]" for i in range(len(values))]
    else:
        value = table.string(key, None)
        values, names = ((value,), [key]) if value is not None else ((), [])
    if choices is not None:
        for name, value in zip(names, values, strict=True):
            if value not in choices:
                raise table.fail(name, f"must be one of {', '.join(choices)}, not {value!r}")
    return frozenset(values)


def _identifier(table: Table) -> IdentifierCondition:
    condition = IdentifierCondition(
        kind=table.choice("kind", _identifier_keys()), value=table.string("value", None)
    )
    table.check_unknown()
    return condition


def _pattern(table: Table, key: str) -> re.Pattern[str] | None:
    """A case-insensitive regex; refused when it does not compile or is longer than
    `MAX_PATTERN_CHARS` (a rule names a phrase, not a program)."""
    source: str | None = table.string(key, None)
    if source is None:
        return None
    if len(source) > MAX_PATTERN_CHARS:
        raise table.fail(key, f"must be at most {MAX_PATTERN_CHARS} characters, not {len(source)}")
    try:
        return re.compile(source, re.I)
    except re.error as exc:
        raise table.fail(key, f"is not a valid regular expression: {exc}") from exc


def _metric(table: Table) -> MetricCondition | None:
    metric: str | None = table.choice("metric", _metric_keys(), None)
    below: float | None = table.get("below", float, None)
    above: float | None = table.get("above", float, None)
    if metric is None:
        if below is not None or above is not None:
            bound = "below" if below is not None else "above"
            raise table.fail(bound, "needs metric = \"...\" (the figure it bounds)")
        return None
    if below is None and above is None:
        raise table.fail("metric", "needs below = N or above = N")
    if below is not None and above is not None and not above < below:
        raise table.fail("above", f"must be less than below ({below:g}) for a range, not {above:g}")
    return MetricCondition(metric=metric, below=below, above=above)
