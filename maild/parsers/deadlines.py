"""Find when the seller must act, in UTC, from the wording tables in `deadline_patterns`.

Relative limits ("within 72 hours", "3个工作日内") count from the original notice's Date:
hours and days as fixed spans, business days stepping over Saturday and Sunday in the
marketplace's zone keeping the time of day. Absolute dates count only after a cue ("by",
"bis zum", "请于") or before a CJK tail ("前", "までに"); a bare date ends at 23:59:59 in the
marketplace's zone unless the text names a zone. A limit in a clause about the platform's own
turnaround or a retention period is skipped. The earliest remaining candidate wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from maild.parsers import deadline_patterns as table
from maild.parsers.dates import find_dates, resolve
from maild.parsers.regexkit import trie_alternation

SCAN_CHARS = 60_000


def _alternation(items: tuple[str, ...] | list[str]) -> str:
    return "|".join(f"(?:{item})" for item in items)


_NUMBER = r"\d{1,3}|" + trie_alternation(list(table.NUMBER_WORDS))
_UNIT_GROUPS = "|".join(f"(?P<{kind}>{_alternation(words)})" for kind, words in table.UNITS.items())
# "N units" anywhere (cheap: it starts with a number); a lead before it ("within") or a CJK
# tail after it ("内") makes it a time limit.
_AMOUNT = re.compile(
    r"(?<![0-9A-Za-zà-ÿ.,:/-])(?P<n>"
    + _NUMBER
    + r")(?:\s?[(（]\d{1,3}[)）])?\s{0,2}(?:"
    + _UNIT_GROUPS
    + r")(?![a-zà-ÿ])",
    re.I,
)
_LEAD_BEFORE = re.compile(r"\b(?:" + _alternation(table.RELATIVE_LEADS) + r")\s{0,3}$", re.I)
_CJK_LEAD_BEFORE = re.compile(r"(?:" + _alternation(table.CJK_RELATIVE_LEADS) + r")\s{0,2}$")
_TAIL_AFTER = re.compile(r"\s?(?:" + _alternation(table.RELATIVE_TAILS) + r")")
_CUE = re.compile(
    r"(?:^|[\s(（,，:：]|(?<=[\u3040-\u9fff]))(?:"
    + _alternation(table.ABSOLUTE_CUES)
    + r")[\s:：]{0,3}(?:the\s|le\s|el\s|il\s)?$",
    re.I,
)
_TAIL = re.compile(r"^\s{0,2}(?:" + _alternation(table.ABSOLUTE_TAILS) + r")")
_PROMOTION = re.compile(_alternation(table.PROMOTION_AFTER), re.I)
_SENTENCE_END = re.compile(r"[.!?。！？\n]")
_RULE_TAIL = re.compile(r"\s{0,2}(?:" + _alternation(table.RULE_TAILS) + r")", re.I)
_NOT_SELLER = re.compile(_alternation(table.NOT_SELLER), re.I)
_PLATFORM_AFTER = re.compile(_alternation(table.PLATFORM_AFTER), re.I)
_EFFECTIVE = re.compile(
    r"(?:^|[\s(（,，])(?:"
    + _alternation(table.EFFECTIVE_CUES)
    + r")[\s:：]{0,3}(?:the\s|le\s|el\s|il\s)?$",
    re.I,
)
_EFFECTIVE_TAIL = re.compile(r"^\s{0,2}(?:起|开始|生效|から|より)")
# "26.02.2026 bis 11.03.2026", "March 1 – March 15": the second date ends a period, it is no
# deadline.
_RANGE_JOIN = re.compile(
    r"\s{0,2}(?:bis|to|until|till|through|au|al|a|fino al|-|–|—|~|〜|至|到)\s{0,2}", re.I
)
_CLAUSE_BREAK = re.compile(
    r"[.!?;。！？；\n]|\b(?:if|unless|wenn|falls|sofern|si|se|sauf)\b|如果|若|否则", re.I
)


@dataclass(frozen=True)
class Deadline:
    """The moment the seller must act by, and the phrase that said so."""

    due: datetime
    text: str


@dataclass(frozen=True)
class Context:
    """What a deadline is counted from: the notice's Date, zone and date order."""

    sent_at: datetime | None
    zone: tzinfo
    month_first: bool
    china: bool


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - 160) : start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _is_seller_limit(text: str, start: int, end: int) -> bool:
    """Neither the clause before the limit nor the words right after it give it to the platform."""
    if _NOT_SELLER.search(_clause_before(text, start)) is not None:
        return False
    window = text[end : end + 60]
    stop = _SENTENCE_END.search(window)
    return _PLATFORM_AFTER.search(window[: stop.start()] if stop else window) is None


def _is_promotion(text: str, end: int) -> bool:
    """The sentence after `end` offers something (a discount) rather than demanding an action."""
    window = text[end : end + 120]
    stop = _SENTENCE_END.search(window)
    return _PROMOTION.search(window[: stop.start()] if stop else window) is not None


def _count(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    return table.NUMBER_WORDS.get(value.lower())


def add_business_days(start: datetime, days: int, zone: tzinfo) -> datetime:
    """Step `days` Monday-to-Friday days forward from `start` in `zone`, keeping the time of day."""
    local = start.astimezone(zone)
    day = local.replace(tzinfo=None)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return day.replace(tzinfo=zone)


def relative_deadlines(text: str, ctx: Context) -> list[Deadline]:
    """Every "within N units" limit in `text` meant for the seller, resolved from the Date."""
    if ctx.sent_at is None:
        return []
    found: list[Deadline] = []
    for match in _AMOUNT.finditer(text):
        start, end = match.start(), match.end()
        lead = _LEAD_BEFORE.search(text, max(0, start - 40), start)
        tail = None if lead else _TAIL_AFTER.match(text, end)
        if lead is None and tail is None:
            continue
        amount = _count(match.group("n"))
        if not amount or amount > 400 or not _is_seller_limit(text, start, end):
            continue
        if _RULE_TAIL.match(text, end) or _is_promotion(text, end):
            continue
        if lead is not None:
            start = lead.start()
        else:
            assert tail is not None
            end = tail.end()
            cjk_lead = _CJK_LEAD_BEFORE.search(text, max(0, start - 6), start)
            start = cjk_lead.start() if cjk_lead else start
        kind = next(k for k in table.UNITS if match.group(k))
        if kind == "hours":
            due = ctx.sent_at + timedelta(hours=amount)
        elif kind == "business":
            due = add_business_days(ctx.sent_at, amount, ctx.zone)
        else:
            due = ctx.sent_at + timedelta(days=amount * (7 if kind == "weeks" else 1))
        found.append(Deadline(due, " ".join(text[start:end].split())))
    return found


def absolute_deadlines(text: str, ctx: Context) -> tuple[list[Deadline], list[datetime]]:
    """Cued dates meant for the seller, and dates announced as the day a rule takes effect."""
    reference = ctx.sent_at or datetime(2000, 1, 1, tzinfo=ctx.zone)
    deadlines: list[Deadline] = []
    effective: list[datetime] = []
    previous_end: int | None = None
    for found in find_dates(text):
        ends_period = (
            previous_end is not None
            and _RANGE_JOIN.fullmatch(text, previous_end, found.start) is not None
        )
        previous_end = found.end
        if ends_period:
            continue
        before = text[max(0, found.start - 40) : found.start]
        after = text[found.end : found.end + 8]
        cue = _CUE.search(before)
        tail = _TAIL.match(after)
        moment = None
        if cue or tail or _EFFECTIVE.search(before) or _EFFECTIVE_TAIL.match(after):
            moment = resolve(
                found,
                default_zone=ctx.zone,
                reference=reference,
                month_first=ctx.month_first,
                china=ctx.china,
            )
        if moment is None:
            continue
        if _EFFECTIVE.search(before) or _EFFECTIVE_TAIL.match(after):
            effective.append(moment)
            continue
        if ctx.sent_at is not None and moment < ctx.sent_at - timedelta(days=1):
            continue
        if not _is_seller_limit(text, found.start, found.end) or _is_promotion(text, found.end):
            continue
        start = found.start - len(cue.group(0).lstrip(" (（,，")) if cue else found.start
        end = found.end + (tail.end() if tail else 0)
        deadlines.append(Deadline(moment, " ".join(text[start:end].split())))
    return deadlines, effective


def find_deadline(subject: str, body: str, ctx: Context) -> tuple[Deadline | None, datetime | None]:
    """The earliest seller deadline in the notice, and the first effective date if any."""
    text = f"{subject}\n{body[:SCAN_CHARS]}"
    candidates = relative_deadlines(text, ctx)
    absolute, effective = absolute_deadlines(text, ctx)
    candidates.extend(absolute)
    best = min(candidates, key=lambda d: d.due) if candidates else None
    return best, (effective[0] if effective else None)
