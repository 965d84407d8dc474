"""Multilingual dates, times and time zones as platforms write them, resolved to UTC.

Finds "March 18, 2026", "18.03.2026", "18 mars 2026", "18 de marzo de 2026", "2026年3月18日",
"2026-03-18", with an optional time ("11:59 PM", "23:59 Uhr", "23時59分") and zone ("PST",
"MEZ", "北京时间", "UTC+8"). Month names and zone names are tables, so a new language is a few
lines. Used by the deadline finder and by the inline-forward header reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from maild.parsers.regexkit import trie_alternation

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januar jänner janvier janv enero ene gennaio gen januari stycznia styczeń",
        "february feb februar février fevrier févr fevr febrero febbraio februari lutego",
        "march mar märz maerz mär mars marzo mrz maart marca",
        "april apr avril avr abril aprile kwietnia",
        "may mai mayo maggio mag mei maja maj",
        "june jun juni juin junio giugno giu czerwca",
        "july jul juli juillet juil julio luglio lug lipca",
        "august aug août aout agosto ago augustus augusti sierpnia",
        "september sep sept septembre septiembre setiembre settembre set września",
        "october oct oktober okt octobre octubre ottobre ott października",
        "november nov novembre noviembre listopada",
        "december dec dezember dez décembre decembre déc diciembre dic dicembre grudnia",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

# Zone names seen in notices: literal abbreviations are fixed offsets (that is what they say);
# names of regions ("Pacific Time", "北京时间") follow the region's daylight saving.
ZONE_NAMES: dict[str, tzinfo] = {
    "pst": timezone(timedelta(hours=-8)),
    "pdt": timezone(timedelta(hours=-7)),
    "mst": timezone(timedelta(hours=-7)),
    "mdt": timezone(timedelta(hours=-6)),
    "cdt": timezone(timedelta(hours=-5)),
    "est": timezone(timedelta(hours=-5)),
    "edt": timezone(timedelta(hours=-4)),
    "gmt": UTC,
    "utc": UTC,
    "z": UTC,
    "bst": timezone(timedelta(hours=1)),
    "cet": timezone(timedelta(hours=1)),
    "mez": timezone(timedelta(hours=1)),
    "cest": timezone(timedelta(hours=2)),
    "mesz": timezone(timedelta(hours=2)),
    "jst": timezone(timedelta(hours=9)),
    "aest": timezone(timedelta(hours=10)),
    "aedt": timezone(timedelta(hours=11)),
    "ist": timezone(timedelta(hours=5, minutes=30)),
    "gst": timezone(timedelta(hours=4)),
    "pt": ZoneInfo("America/Los_Angeles"),
    "pacific time": ZoneInfo("America/Los_Angeles"),
    "pacific standard time": timezone(timedelta(hours=-8)),
    "pacific daylight time": timezone(timedelta(hours=-7)),
    "et": ZoneInfo("America/New_York"),
    "eastern time": ZoneInfo("America/New_York"),
    "ct": ZoneInfo("America/Chicago"),
    "central time": ZoneInfo("America/Chicago"),
    "北京时间": ZoneInfo("Asia/Shanghai"),
    "北京時間": ZoneInfo("Asia/Shanghai"),
    "中国时间": ZoneInfo("Asia/Shanghai"),
    "日本時間": ZoneInfo("Asia/Tokyo"),
}
# "CST" is China Standard Time at Chinese platforms and US Central elsewhere.
CST_CHINA = timezone(timedelta(hours=8))
CST_US = timezone(timedelta(hours=-6))

_MONTH = r"(?P<{g}>" + trie_alternation(list(MONTHS)) + r")"
_DATE = re.compile(
    r"(?<![\d.])(?:"
    r"(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?!\d)"
    r"|(?P<cy>\d{4})\s?年\s?(?P<cm>\d{1,2})\s?月\s?(?P<cd>\d{1,2})\s?[日号號]"
    r"|(?<!\d)(?P<km>\d{1,2})\s?月\s?(?P<kd>\d{1,2})\s?[日号號]"
    r"|(?P<na>\d{1,2})(?P<sep>[./])(?P<nb>\d{1,2})(?P=sep)(?P<ny>\d{4}|\d{2})(?![\d])"
    r"|" + _MONTH.format(g="mm") + r"\.?\s{1,3}(?P<md>\d{1,2})(?:st|nd|rd|th)?(?!\d)"
    r"(?:,?\s{1,3}(?P<my>\d{4}))?"
    r"|(?P<dd>\d{1,2})(?:st|nd|rd|th|er|\.|º|°|ª)?(?:\s{0,3}(?:de\s)?|-)"
    + _MONTH.format(g="dm")
    + r"\.?(?:(?:,?\s{1,3}(?:de\s|del\s)?|-)(?P<dy>\d{4}))?"
    # ISO 8601 "2026-03-20T23:59:00Z": a T before the time is not a word.
    r")(?!(?!T\d)[a-zà-ÿ])",
    re.I,
)
_TIME = re.compile(
    r"(?:(?:T(?=\d)|\s{0,3}(?:,|at|um|à|a\s+las|alle(?:\s+ore)?|ore|の|，|\(|[（(]?[^\W\d_]{1,4}"
    r"[)）])?\s{0,3})"
    r"(?:(?P<ampm_pre>上午|下午|午前|午後|晚上)\s?)?"
    r"(?P<h>\d{1,2})(?:\s?(?::|：|h|時|时|点|點)\s?(?P<m>\d{2})?(?::(?P<s>\d{2}))?)"
    r"(?:\s?(?:分|Uhr|hrs?|h))?"
    r"(?:\s?(?P<ampm>[ap]\.?\s?m\.?)(?![a-z]))?)",
    re.I,
)
_ZONE = re.compile(
    r"\s{0,3}[(（]?\s?(?P<zone>(?:UTC|GMT)\s?[+-]\s?\d{1,2}(?::?\d{2})?"
    r"|(?<=\d)Z|(?<=\d)[+-](?:0\d|1[0-4]):?[0-5]\d"
    r"|pacific (?:standard |daylight )?time|eastern time|central time"
    r"|北京时间|北京時間|中国时间|日本時間"
    r"|PST|PDT|PT|MST|MDT|CST|CDT|EST|EDT|ET|CT|GMT|UTC|BST|CET|CEST|MEZ|MESZ|JST|AEST|AEDT|IST|GST)"
    r"(?![A-Za-z])",
    re.I,
)
_TIME_BEFORE = re.compile(
    r"(?<!\d)(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s?(?P<ampm>[ap]\.?\s?m\.?)?"
    r"(?:\s?[(（]?(?P<zone>[A-Z]{2,4}|(?:UTC|GMT)\s?[+-]\s?\d{1,2}(?::?\d{2})?)[)）]?)?"
    r"\s?(?:on|,|am|le|el|il|del|den)?\s{0,3}$",
    re.I,
)
_ZONE_BEFORE = re.compile(r"(北京时间|北京時間|中国时间|日本時間)\s?$")
_RFC5322_DATE = re.compile(
    r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}"
)
_OFFSET = re.compile(r"(?:UTC|GMT|(?=[+-]))\s?([+-])\s?(\d{1,2})(?::?(\d{2}))?", re.I)


@dataclass(frozen=True)
class DateMatch:
    """One date found in text, with what was written around it (time and zone optional)."""

    start: int
    end: int
    year: int | None
    month: int
    day: int
    hour: int | None
    minute: int
    second: int
    zone: str | None
    numeric: tuple[int, int] | None = None


def zone_for(name: str, china: bool = False) -> tzinfo | None:
    """The tzinfo a zone token means; `china` reads "CST" as China Standard Time."""
    key = name.strip().lower()
    if key == "cst":
        return CST_CHINA if china else CST_US
    offset = _OFFSET.fullmatch(name.strip())
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return timezone(sign * delta)
    return ZONE_NAMES.get(key)


_DIGITS = re.compile(r"\d+")
# Every date has a digit, starts at most REGION_BEFORE characters before its first one
# ("septiembre 15") and ends well within REGION_AFTER after its last one.
REGION_BEFORE = 24
REGION_AFTER = 48


def _date_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of `_DATE.finditer(text)`, looked for only in the regions around digits, so
    that long stretches of prose are not walked character by character."""
    start = end = -1
    for digits in _DIGITS.finditer(text):
        if start >= 0 and digits.start() - REGION_BEFORE <= end:
            end = digits.end() + REGION_AFTER
            continue
        if start >= 0:
            yield from _DATE.finditer(text, start, min(end, len(text)))
        start, end = max(0, digits.start() - REGION_BEFORE), digits.end() + REGION_AFTER
    if start >= 0:
        yield from _DATE.finditer(text, start, min(end, len(text)))


def find_dates(text: str) -> list[DateMatch]:
    """Every date in `text`, in order, with the time and zone written right after it."""
    found: list[DateMatch] = []
    for match in _date_matches(text):
        parsed = _fields(match)
        if parsed is None:
            continue
        year, month, day, numeric = parsed
        end = match.end()
        hour: int | None = None
        minute = second = 0
        timed = _TIME.match(text, end)
        if timed and (timed.group("m") or timed.group("ampm")):
            hour = int(timed.group("h"))
            minute = int(timed.group("m") or 0)
            second = int(timed.group("s") or 0)
            hour = _twelve_hour(hour, timed.group("ampm") or timed.group("ampm_pre"))
            end = timed.end()
        zone: str | None = None
        zoned = _ZONE.match(text, end)
        if zoned:
            zone = zoned.group("zone")
            end = zoned.end()
            if text[end : end + 1] in ")）":
                end += 1
        else:
            before = _ZONE_BEFORE.search(text, max(0, match.start() - 8), match.start())
            zone = before.group(1) if before else None
        start = match.start()
        if hour is None:
            early = _TIME_BEFORE.search(text, max(0, start - 40), start)
            if early and (early.group("m") or early.group("ampm")):
                hour = _twelve_hour(int(early.group("h")), early.group("ampm"))
                minute = int(early.group("m") or 0)
                early_zone = early.group("zone")
                if early_zone and zone_for(early_zone) is not None:
                    zone = zone or early_zone
                start = early.start()
        if hour is not None and not (0 <= hour <= 24 and 0 <= minute < 60 and second < 61):
            hour, minute, second = None, 0, 0
        found.append(DateMatch(start, end, year, month, day, hour, minute, second, zone, numeric))
    return found


def _twelve_hour(hour: int, marker: str | None) -> int:
    if not marker:
        return hour
    mark = marker.lower().replace(".", "").replace(" ", "")
    if mark in ("pm", "下午", "午後", "晚上") and hour < 12:
        return hour + 12
    if mark in ("am", "上午", "午前") and hour == 12:
        return 0
    return hour


def _fields(match: re.Match[str]) -> tuple[int | None, int, int, tuple[int, int] | None] | None:
    group = match.group
    if group("iy"):
        return int(group("iy")), int(group("im")), int(group("id")), None
    if group("cy"):
        return int(group("cy")), int(group("cm")), int(group("cd")), None
    if group("km"):
        return None, int(group("km")), int(group("kd")), None
    if group("na"):
        year = int(group("ny"))
        year = year + 2000 if year < 100 else year
        first, second = int(group("na")), int(group("nb"))
        if group("sep") == ".":
            return year, second, first, None
        return year, 0, 0, (first, second)
    if group("mm"):
        year_text = group("my")
        return (
            (int(year_text) if year_text else None),
            MONTHS[group("mm").lower()],
            int(group("md")),
            None,
        )
    if group("dm"):
        year_text = group("dy")
        return (
            (int(year_text) if year_text else None),
            MONTHS[group("dm").lower()],
            int(group("dd")),
            None,
        )
    return None


def resolve(
    found: DateMatch,
    *,
    default_zone: tzinfo,
    reference: datetime,
    month_first: bool,
    china: bool = False,
) -> datetime | None:
    """The aware moment a found date means; a bare date is 23:59:59 of that day.

    `reference` (the message's Date) supplies a missing year; `month_first` settles 03/04/2026.
    """
    month, day = found.month, found.day
    if found.numeric is not None:
        first, second = found.numeric
        if first > 12:
            day, month = first, second
        elif second > 12 or month_first:
            month, day = first, second
        else:
            day, month = first, second
    zone = zone_for(found.zone, china) if found.zone else None
    zone = zone or default_zone
    year = found.year if found.year is not None else reference.year
    if found.hour is None or found.hour == 24:
        clock = time(23, 59, 59)
    else:
        clock = time(found.hour, found.minute, min(found.second, 59))
    try:
        moment = datetime.combine(datetime(year, month, day).date(), clock, tzinfo=zone)
    except ValueError:
        return None
    if found.year is None and moment < reference - timedelta(days=60):
        moment = moment.replace(year=year + 1)
    return moment


def parse_header_date(value: str, fallback_zone: tzinfo) -> datetime | None:
    """A date as mail clients print it in a forwarded header block, or in a Date: header."""
    from email.utils import parsedate_to_datetime

    value = value.strip()
    if not value:
        return None
    parsed = None
    if _RFC5322_DATE.match(value):
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=fallback_zone)
    for found in find_dates(value):
        if found.hour is None:
            continue
        zone = (zone_for(found.zone) if found.zone else None) or fallback_zone
        resolved = resolve(
            found,
            default_zone=zone,
            reference=datetime.now(UTC),
            month_first=True,
        )
        if resolved is not None:
            return resolved
    return None
