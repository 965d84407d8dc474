"""Read the performance figures a notice states: rates in percent, Account Health Rating, points.

Escalation rules fire on them ("Account Health Rating below 200", "valid tracking rate below
95%"), so a figure is taken only where a label of `metric_labels` names it and the value follows
closely in the same clause: "Your Valid Tracking Rate (VTR) for orders on Amazon.com.au is 88%",
"Quote verspäteter Lieferungen liegt derzeit bei 9,8 %", "累计违规积分已达48分". A figure behind a
threshold word ("below our target of 95%", "Late shipment rate above 4%") is the platform's
standard, not the store's, and is skipped; so is a figure after a comma or a sentence end (a
"rolling reserve of 20%" after "order defect rate, we've applied").

Cost is bounded for the parser's budget: rates are looked for only in the few dozen characters
before each percent sign (at most `MAX_FIGURES` of them), the rating and points patterns only
when one of their literals occurs, and only the first `SCAN_CHARS` of the text are read. HTML
tables (`tables`) are read as "label: value" lines, by row (the metric's name in the first cell,
Walmart's scorecard) and by column header; a figure from a table wins over the flattened text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from maild.parsers import tables
from maild.parsers.metric_labels import (
    BOUNDS,
    POINT_PATTERNS,
    POINT_UNITS,
    RATE_LABELS,
    RATING_LABELS,
    RULE_CUES,
    TOTAL_CUES,
)
from maild.parsers.regexkit import required_literals

SCAN_CHARS = 20_000
WINDOW = 90  # characters before a percent sign in which its label must stand
MAX_FIGURES = 30  # percent signs looked at per text (a fee table may list hundreds)
MAX_RATING = 1000
RATING_BEFORE, RATING_AFTER = 40, 120  # around a literal of a rating label: label, gap, value
MAX_POINTS = 999
# Between a label and its figure: no line break, comma, semicolon or other percent figure, and no
# sentence end (a dot before a space); dots inside "Amazon.com.au" and dot leaders "..... 95.1%"
# are fine. Possessive, so that a failing gap over a long dot leader is given up at once.
_GAP = r"(?:[^\n%％,;!?。；，！？.]|\.++(?!\s)|\.{2,}+)"
_RATE_GAP = re.compile(_GAP + "*+")
_NUMBER_AT_END = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,3})?)\s?$")
_PERCENT = re.compile(r"[%％]")
_STOPS = ("\n", "%", "％", ",", ";", "，", "；", "。")
_BOUND = re.compile("|".join(BOUNDS), re.I)
_TOTAL = re.compile(TOTAL_CUES, re.I)
_RULE = re.compile(RULE_CUES, re.I)
_CLAUSE_END = re.compile(r"[\n。；;，,.!?！？（(]")
_UNIT_AFTER = r"(?!\s?(?:[%％]|days?\b|hours?\b|Tage|jours|días|giorni|日|天|小时|時間))"


def _by_key(table: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for labels in table.values():
        for key, patterns in labels.items():
            merged.setdefault(key, []).extend(patterns)
    return merged


def _gate(patterns: Iterable[str]) -> tuple[str, ...] | None:
    """The literals one of which must occur for any of `patterns` to match; None: no gate."""
    literals: set[str] = set()
    for pattern in patterns:
        found = required_literals(pattern)
        if found is None:
            return None
        literals.update(found)
    return tuple(sorted(literals))


# One group per metric key, the labels of every language in it: `lastgroup` names the metric.
_RATE_LABEL = re.compile(
    "|".join(f"(?P<{key}>{'|'.join(labels)})" for key, labels in _by_key(RATE_LABELS).items()),
    re.I,
)
_RATING_PATTERNS = [label for labels in RATING_LABELS.values() for label in labels]
_RATING = re.compile(
    "(?:" + "|".join(_RATING_PATTERNS) + ")"
    rf"(?P<gap>(?:(?!\d){_GAP}){{0,60}}?)(?<![\d.,])(\d{{1,4}})(?![\d]|[.,]\d){_UNIT_AFTER}",
    re.I,
)
_RATING_GATE = _gate(_RATING_PATTERNS)
_POINT_PATTERNS = [pattern for patterns in POINT_PATTERNS.values() for pattern in patterns]
_POINTS = re.compile("|".join(f"(?:{p})" for p in _POINT_PATTERNS), re.I)
_POINTS_GATE = _gate(_POINT_PATTERNS)


def extract(text: str, grid: Sequence[Sequence[tables.Row]] = ()) -> dict[str, float]:
    """The figures `text` (subject + body) and the notice's HTML tables `grid` state, by metric
    key (`metric_labels.METRIC_KEYS`); percentages in percent (93.5 for "93.5%")."""
    found = _read(text[:SCAN_CHARS])
    if grid:
        found.update(_read("\n".join(_table_lines(grid))[:SCAN_CHARS]))
    return found


def _table_lines(grid: Sequence[Sequence[tables.Row]]) -> list[str]:
    """Each row as "first cell: other cells", and each (column header, value) pair."""
    lines = [
        f"{row[0][0]}: {' | '.join(text for text, _ in row[1:])}"
        for table in grid
        for row in table
        if len(row) >= 2
    ]
    lines.extend(f"{label}: {value}" for label, value in tables.pairs([list(t) for t in grid]))
    return lines


def _read(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    lowered = text.lower()
    if "%" in text or "％" in text:
        for key, value in _rates(text):
            found.setdefault(key, value)
    rating = _rating(text, lowered)
    if rating is not None:
        found["account_health_rating"] = rating
    points = _points(text, lowered)
    if points is not None:
        found["violation_points"] = points
    return found


def _rates(text: str) -> Iterable[tuple[str, float]]:
    """(metric, percent) for each percent sign whose figure follows a rate label closely."""
    for count, sign in enumerate(_PERCENT.finditer(text)):
        if count >= MAX_FIGURES:
            return
        window = text[max(0, sign.start() - WINDOW) : sign.start()]
        number = _NUMBER_AT_END.search(window)
        if number is None:
            continue
        head = window[: number.start()]
        # Neither a label nor the gap after it holds these: look only after the last one.
        head = head[max(head.rfind(stop) for stop in _STOPS) + 1 :]
        labels = list(_RATE_LABEL.finditer(head))
        label = labels[-1] if labels else None  # the label nearest the figure names it
        if label is None or label.lastgroup is None:
            continue
        gap = head[label.end() :]
        if not _RATE_GAP.fullmatch(gap) or _BOUND.search(gap):
            continue
        value = float(number.group(1).replace(",", "."))
        if value <= 100:
            yield label.lastgroup, value


def _rating(text: str, lowered: str) -> float | None:
    """The first Account Health Rating stated as a number 0-1000 (not a threshold), looked for
    only around the places where a literal of its labels occurs ("ahr" also sits in "Jahr")."""
    if _RATING_GATE is None:
        return _first_rating(text)
    starts = sorted(
        position
        for literal in _RATING_GATE
        for position in _occurrences(lowered, literal, MAX_FIGURES)
    )
    for position in starts[:MAX_FIGURES]:
        window = text[max(0, position - RATING_BEFORE) : position + RATING_AFTER]
        rating = _first_rating(window)
        if rating is not None:
            return rating
    return None


def _occurrences(lowered: str, literal: str, limit: int) -> list[int]:
    found: list[int] = []
    position = lowered.find(literal)
    while position >= 0 and len(found) < limit:
        found.append(position)
        position = lowered.find(literal, position + 1)
    return found


def _first_rating(text: str) -> float | None:
    for match in _RATING.finditer(text):
        if _BOUND.search(match.group("gap")):
            continue
        value = int(match.group(2))
        if value <= MAX_RATING:
            return float(value)
    return None


def _points(text: str, lowered: str) -> float | None:
    """Violation points: the first running total stated, else the first count; rules ("每单扣除
    2分", "2 points per order") are not the store's count."""
    if not any(unit in lowered for unit in POINT_UNITS) or (
        _POINTS_GATE is not None and not any(literal in lowered for literal in _POINTS_GATE)
    ):
        return None
    totals: list[tuple[int, int]] = []
    counts: list[tuple[int, int]] = []
    for match in _POINTS.finditer(text):
        start = match.start()
        ends = list(_CLAUSE_END.finditer(text, max(0, start - 40), start))
        after = _CLAUSE_END.search(text, match.end(), match.end() + 20)
        clause = text[
            ends[-1].end() if ends else max(0, start - 40) : after.start() if after else
            match.end() + 20
        ]
        value = int(next(group for group in match.groups() if group is not None))
        if _RULE.search(clause) or value > MAX_POINTS:
            continue
        (totals if _TOTAL.search(clause) else counts).append((start, value))
    chosen = min(totals or counts, default=None)
    return float(chosen[1]) if chosen is not None else None
