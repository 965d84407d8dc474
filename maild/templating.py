"""The one jinja2 environment for every text a person reads (summaries, digests, alerts).

One environment, so every template gets the same rules: `StrictUndefined` (a missing fact is an
error, never an empty string in a client's mail), autoescape for `*.html.j2` (a notice's subject
cannot inject markup), and the same filters. Templates are package data (`maild/templates/`),
found through `template_loader()` only, so a wheel install reads the same files.

Filters (language-neutral: words stay in the templates):
- ``local(dt, zone, fmt)``: an aware datetime as wall time in a zone;
- ``utc_offset(dt, zone)``: "UTC+08:00", what a reader in any country can convert;
- ``day(d, zone)``: a date as it is, or an aware datetime's date in a zone (ISO 8601);
- ``time_left(due, now)``: a `TimeLeft` (days, hours, minutes, overdue) the template words;
- ``defang(text)``: links made unclickable (``hxxp://example[.]com``) for phishing suspects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"  # package data

_SCHEME = re.compile(r"\b(h)(tt)(ps?)(://)", re.IGNORECASE)
_OTHER_SCHEMES = re.compile(r"\b(ftp|file|javascript|data)(:)", re.IGNORECASE)
# A host name: labels joined by dots, ending in an alphabetic top-level label (so "3.5" and
# "e.g." are left alone); any script, for look-alikes such as Cyrillic "аmazon.com". Mail
# clients turn such names into links even without a scheme.
_HOST = re.compile(r"(?<![\w\[])((?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]+))"
                   r"(?![\w\]])")
_IPV4 = re.compile(r"(?<![\d.\[])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d\]])")


def template_loader() -> BaseLoader:
    """Where templates come from: the one place to change for package data."""
    return FileSystemLoader(TEMPLATES_DIR)


@dataclass(frozen=True)
class TimeLeft:
    """The time between now and a due moment, whole units, for a template to put in words."""

    days: int
    hours: int
    minutes: int
    overdue: bool

    @property
    def total_hours(self) -> int:
        return self.days * 24 + self.hours


def time_left(due: datetime, now: datetime) -> TimeLeft:
    """How long until `due` (or since, when `overdue`), rounded down to the minute."""
    delta = due - now
    overdue = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds()) // 60
    return TimeLeft(minutes // 1440, minutes % 1440 // 60, minutes % 60, overdue)


def local(moment: datetime, zone: ZoneInfo | str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`moment` (aware) as wall time in `zone`."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: times in mail must be aware")
    return moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone).strftime(fmt)


def utc_offset(moment: datetime, zone: ZoneInfo | str) -> str:
    """"UTC+08:00" for `moment` in `zone` (daylight saving included)."""
    offset = local(moment, zone, "%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def day(moment: date, zone: ZoneInfo | str) -> str:
    """"2026-03-15": a date as it is, an aware datetime as its date in `zone`."""
    if isinstance(moment, datetime):
        return local(moment, zone, "%Y-%m-%d")
    return moment.isoformat()


def defang(text: str) -> str:
    """Links made unclickable but still readable: ``hxxps://evil[.]example/x``, ``a@b[.]com``.

    Mail clients turn schemes and bare host names into links; a phishing summary must give a
    reader nothing to click, so every scheme and every host name is broken."""
    text = _SCHEME.sub(lambda m: m.group(1) + ("XX" if m.group(2).isupper() else "xx")
                       + m.group(3) + m.group(4), text)
    text = _OTHER_SCHEMES.sub(r"\1[:]", text)
    text = _HOST.sub(lambda m: m.group(1).replace(".", "[.]"), text)
    return _IPV4.sub(r"\1[.]\2[.]\3[.]\4", text)


@cache
def environment() -> Environment:
    """The shared environment (built once; templates are read-only data)."""
    env = Environment(
        loader=template_loader(),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "htm"),
                                     default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(local=local, utc_offset=utc_offset, day=day, time_left=time_left,
                       defang=defang)
    return env
