"""Platform rules that would get a seller penalised, checked before a platform reply goes out.

A reply that breaks a platform's messaging rules (an outside link or a phone number in an Amazon
buyer message, an email address in an eBay message) can get the seller's messages blocked or
selling privileges suspended, so the rules are checked before an approval request goes out and
again before the send. Which platform and category a rule covers, the reason shown to people and
the public source it comes from are data (`platform_rules.toml`, package data); the checks that
find an offence are code (`CHECKS`), one small function each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

from maild.config_table import Table, read_toml
from maild.parsers.authn import in_domains
from maild.parsers.pipeline import REGISTRY
from maild.routing.triage import CATEGORIES

ANY = "*"
PLATFORM_DOMAINS: dict[str, tuple[str, ...]] = {spec.name: spec.domains for spec in REGISTRY}

# A URL with a scheme, or a host written from "www." on; the host is what a rule judges.
_LINK = re.compile(
    r"(?:\bhttps?://(?:[^\s/?#@]+@)?(?P<host>[\w-]+(?:\.[\w-]+)*)"
    r"|(?<![\w.@/-])(?P<www>www\.[\w-]+(?:\.[\w-]+)+))[!-~]*",
    re.I,
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers in the forms sellers write them; order ids (111-2938475-6610293), item numbers
# and tracking numbers do not fit (no digit, word character or hyphen may touch a match).
_PHONE_FORMS = (
    r"\+\d{1,3}(?:[ .\-/]?\(?\d{1,5}\)?){2,6}",  # international: +49 30 1234567, +1 (206) 555-0133
    r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}",  # North American: 206-555-0133, (206) 555 0133
    r"1[3-9]\d{9}",  # Chinese mobile: 13812345678
)
_PHONE_LABELS = ("tel", "phone", "mobile", "cell", "fax", "whatsapp", "telefon", "téléphone",
                 "teléfono", "telefono", "电话", "手机", "電話", "手機", "微信")
_PHONE = re.compile(
    r"(?<![\w+-])(?:" + "|".join(_PHONE_FORMS) + r")(?![\w-])"
    # Labelled, in any national form: "Tel: 030 1234567", "电话：010-12345678". A Latin label
    # must start a word ("Hotel: 030 ..." is no label); Chinese has no spaces between words.
    r"|(?<![A-Za-z])(?i:" + "|".join(_PHONE_LABELS) + r")\s*[:：.]?\s*\+?[\d(][\d ().\-/]{5,}\d"
    r"(?![\w-])"
)
MIN_PHONE_DIGITS = 7  # fewer is a quantity or a model number, not a number anyone can call
_TRAILING = ".,;:!?)]}>'\""


@dataclass(frozen=True)
class Rule:
    """One row of the table: what it covers, the check that finds the offence, and why."""

    name: str
    platforms: frozenset[str]
    categories: frozenset[str]
    check: str
    reason: str  # may hold {found}: the offending links, numbers, files ...
    source: str
    allow_platform_domains: bool = False
    max_total_bytes: int | None = None
    extensions: frozenset[str] = frozenset()

    def covers(self, platform: str, category: str) -> bool:
        return ((ANY in self.platforms or platform in self.platforms)
                and (ANY in self.categories or category in self.categories))


Attachments = Sequence[tuple[str, int]]  # (filename, size in bytes)
# (rule, platform, body, attachments) -> None when the rule is kept, else what breaks it (the
# links, numbers, files ... the reason's {found} names; empty when there is nothing to name).
Check = Callable[[Rule, str, str, Attachments], Sequence[str] | None]


def _empty_body(rule: Rule, platform: str, body: str, attachments: Attachments) -> list[str] | None:
    return [] if not body.strip() else None


def _links(rule: Rule, platform: str, body: str, attachments: Attachments) -> list[str] | None:
    own = PLATFORM_DOMAINS.get(platform, ()) if rule.allow_platform_domains else ()
    found = [match.group(0).rstrip(_TRAILING) for match in _LINK.finditer(body)
             if not in_domains(match.group("host") or match.group("www"), own)]
    return found or None


def _email_addresses(rule: Rule, platform: str, body: str,
                     attachments: Attachments) -> list[str] | None:
    return _EMAIL.findall(body) or None


def _phone_numbers(rule: Rule, platform: str, body: str,
                   attachments: Attachments) -> list[str] | None:
    found = [match.group(0) for match in _PHONE.finditer(body)]
    return [number for number in found
            if sum(char.isdigit() for char in number) >= MIN_PHONE_DIGITS] or None


def _attachment_total(rule: Rule, platform: str, body: str,
                      attachments: Attachments) -> list[str] | None:
    total = sum(size for _name, size in attachments)
    assert rule.max_total_bytes is not None  # checked when the table is loaded
    return [f"{total / 1_000_000:.1f} MB"] if total > rule.max_total_bytes else None


def _attachment_types(rule: Rule, platform: str, body: str,
                      attachments: Attachments) -> list[str] | None:
    found = [name for name, _size in attachments
             if Path(name).suffix.lower() not in rule.extensions]
    return found or None


CHECKS: dict[str, Check] = {
    "empty_body": _empty_body,
    "links": _links,
    "email_addresses": _email_addresses,
    "phone_numbers": _phone_numbers,
    "attachment_total": _attachment_total,
    "attachment_types": _attachment_types,
}


def _names(row: Table, key: str, known: tuple[str, ...]) -> frozenset[str]:
    names = row.strings(key)
    for index, name in enumerate(names):
        if name != ANY and name not in known:
            raise row.fail(f"{key}[{index}]", f"must be {ANY!r} or one of {', '.join(known)}, "
                                              f"not {name!r}")
    return frozenset(names)


def _rule(row: Table) -> Rule:
    check: str = row.choice("check", tuple(CHECKS))
    reason: str = row.string("reason")
    try:
        reason.format(found="")
    except (KeyError, IndexError, ValueError) as exc:
        raise row.fail("reason", "may hold {found} and no other {...} placeholder") from exc
    max_total: int | None = None
    if check == "attachment_total":
        max_total = row.get("max_total_bytes", int)
        if max_total <= 0:
            raise row.fail("max_total_bytes", f"must be a positive integer, not {max_total}")
    extensions: tuple[str, ...] = (row.strings("extensions") if check == "attachment_types"
                                   else ())
    for index, extension in enumerate(extensions):
        if not re.fullmatch(r"\.[a-z0-9]+", extension):
            raise row.fail(f"extensions[{index}]", f"must be like '.pdf', not {extension!r}")
    rule = Rule(
        name=row.string("name"),
        platforms=_names(row, "platforms", tuple(PLATFORM_DOMAINS)),
        categories=_names(row, "categories", CATEGORIES),
        check=check,
        reason=reason,
        source=row.string("source"),
        allow_platform_domains=(row.get("allow_platform_domains", bool, False)
                                if check == "links" else False),
        max_total_bytes=max_total,
        extensions=frozenset(extensions),
    )
    row.check_unknown()  # a key another check takes is a mistake here too
    return rule


def load_rules(path: Path) -> tuple[Rule, ...]:
    """Every rule of the table at ``path``, checked; errors name the file and the rule's key."""
    table = Table(read_toml(path), "", str(path), path.parent)
    rules = tuple(_rule(row) for row in table.tables("rule"))
    table.check_unknown()
    names = [rule.name for rule in rules]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise table.fail(f"rule[{index}].name", f"{name!r} is used twice")
    return rules


@cache
def default_rules() -> tuple[Rule, ...]:
    """The table shipped with maild (package data), read once."""
    with as_file(files("maild.outbound") / "platform_rules.toml") as path:
        return load_rules(path)


def blockers(platform: str, category: str, body: str,
             attachments: Sequence[tuple[str, int]]) -> list[str]:
    """Why a reply of ``body`` with ``attachments`` ((filename, size in bytes)) to a ``platform``
    notice of ``category`` must not be sent, one human-readable reason per broken rule, in the
    table's order; empty when no rule objects."""
    reasons = []
    for rule in default_rules():
        if not rule.covers(platform, category):
            continue
        found = CHECKS[rule.check](rule, platform, body, attachments)
        if found is not None:
            reasons.append(rule.reason.format(found=", ".join(dict.fromkeys(found))))
    return reasons
