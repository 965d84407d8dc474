"""`[[client]]` with its stores and webhooks (DESIGN §6), from the main file or `clients.d/`.

A client is who maild works for: the stores whose mail it matches, the people who get
summaries, draft, approve and are escalated to, and the clocks' frame (time zone, business
calendar, service hours, SLA tier). Everything a later stage relies on is checked here, at load
time, so a typo in one client's file is a ConfigError naming that file and key and a reload
keeps the running clients.

Clients may live one per file in a `clients.d/` folder beside the config file. Such a file
holds one client's keys at the top level, with `[[store]]` and `[[webhook]]` tables
(instead of `[[client.store]]`); only `*.toml` files not starting with a dot are read, in name
order. Webhook URLs and signing secrets are `Secret`s, read when an alert is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maild.config_smtp import SmtpSettings, parse_account
from maild.config_table import Secret, Table, plain_of, read_toml
from maild.errors import ConfigError
from maild.routing.escalation_rules import Rule, rules_from
from maild.routing.triage import PRIORITIES, TriageRules, rules_with

if TYPE_CHECKING:
    from maild.outbound.sent_folder import SentFolder

CLIENTS_DIR = "clients.d"
SERVICE_DAYS = ("business", "every")
WEBHOOK_KINDS = ("feishu", "dingtalk", "wecom", "slack")
# Feishu/Lark and DingTalk sign a bot's messages with a secret; WeCom and Slack incoming
# webhooks have no signature (the key is in the URL), so a secret there would be a mistake.
SIGNED_WEBHOOKS = ("feishu", "dingtalk")
# Languages a summary may be asked for (ISO 639-1): the platforms' markets.
LANGUAGES = ("zh", "en", "de", "ja", "fr", "es", "it", "nl", "pl", "sv", "pt", "ko", "ar", "tr")
_CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class ServiceHours:
    """The daily service window in the client's zone: ``opens``/``closes`` in minutes after
    midnight (``closes`` up to 1440, "24:00"), on the calendar's business days or, with
    ``days = "every"``, every day (a 7x12 service)."""

    opens: int
    closes: int
    days: str = "business"

    def __str__(self) -> str:
        def clock(minutes: int) -> str:
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        return f"{clock(self.opens)}-{clock(self.closes)} ({self.days} days)"


@dataclass(frozen=True)
class Store:
    """One seller account on one platform, and every address its mail arrives through."""

    platform: str
    name: str
    addresses: tuple[str, ...]
    sender: str | None = None
    marketplaces: tuple[str, ...] = ()
    merchant_ids: tuple[str, ...] = ()
    # Where approved replies go when the notice's own Reply-To/From is not the place: category
    # (or "*") -> address, e.g. {"policy_warning": "seller-performance@amazon.de"}.
    reply_to: tuple[tuple[str, str], ...] = ()
    smtp: SmtpSettings | None = None  # the store's own account; else maild's [smtp] sends
    sent: SentFolder | None = None  # its Sent folder: replies are filed and looked for there

    def sells_on(self, marketplace: str | None) -> bool:
        """No ``marketplaces`` means every marketplace of the platform."""
        return not self.marketplaces or marketplace in self.marketplaces


@dataclass(frozen=True)
class Webhook:
    """A chat alert channel; ``url`` and ``secret`` are read when an alert is sent."""

    kind: str
    url: Secret
    secret: Secret | None = None
    min_priority: str = "P1"

    def wants(self, priority: str) -> bool:
        """Alerts go out at ``min_priority`` or above (P0 is the highest)."""
        return PRIORITIES.index(priority) <= PRIORITIES.index(self.min_priority)


@dataclass(frozen=True)
class Client:
    """A client of the advisory desk, as validated from ``[[client]]`` or ``clients.d``."""

    id: str
    name: str
    languages: tuple[str, ...]
    timezone: str
    calendar: str
    hours: ServiceHours
    decision_maker: str
    summary_to: tuple[str, ...]
    advisors: tuple[str, ...]
    stores: tuple[Store, ...]
    sla: str = "standard"
    escalate_to: tuple[str, ...] = ()
    webhooks: tuple[Webhook, ...] = ()
    source: Path | None = None
    triage: TriageRules | None = None  # the default table with this client's overrides
    at_once: tuple[str, ...] = ("P0", "P1", "P2")  # priorities summarised at once
    escalations: tuple[Rule, ...] = ()  # [[client.escalation]]: this client's own rules
    sla_reminders: tuple[float, ...] = (50.0, 80.0)  # percent of the SLA time elapsed
    deadline_reminders: tuple[float, ...] = (24.0, 4.0)  # hours before the platform deadline
    digest_at: time = time(18, 0)  # when the others go out together, in the client's zone
    approval_reminders: tuple[float, ...] = (24.0,)  # hours a draft waits: remind the decider
    approval_escalate_after: float | None = 48.0  # hours a draft waits: escalate

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def summary_recipients(self) -> tuple[str, ...]:
        """Who reads the client's summaries and digests: ``summary_to``, else the
        decision-maker."""
        return self.summary_to or (self.decision_maker_address,)

    def escalation_recipients(self, *extra: str) -> tuple[str, ...]:
        """Who hears of an escalation: ``extra`` (a rule's own ``escalate_to``), the client's
        ``escalate_to`` and its advisors, each once, in that order."""
        return tuple(dict.fromkeys((*extra, *self.escalate_to, *self.advisors)))

    @property
    def decision_maker_address(self) -> str:
        """The decision-maker's bare address, lower-cased: what an approval's sender must be."""
        return plain_of(self.decision_maker) or self.decision_maker

    @property
    def calendar_country(self) -> str:
        """"CN" of "CN", "DE" of "DE-BY"."""
        return self.calendar.split("-", 1)[0]

    @property
    def calendar_subdivision(self) -> str | None:
        """"BY" of "DE-BY" (a German state's own holidays), None for a whole country."""
        return self.calendar.split("-", 1)[1] if "-" in self.calendar else None


@cache
def _platforms() -> tuple[str, ...]:
    # Imported on first use: the parser registry is the one list of platforms, and loading it
    # costs a tenth of a second that configs without clients need not pay.
    from maild.parsers.pipeline import REGISTRY

    return tuple(spec.name for spec in REGISTRY)


@cache
def _calendars() -> dict[str, tuple[str, ...]]:
    import holidays

    return {country: tuple(subdivisions)
            for country, subdivisions in holidays.list_supported_countries().items()}


def parse_client(table: Table, source: Path | None,
                 tiers: Sequence[str] = ("standard", "expedited")) -> Client:
    """Validate one client table (``[[client]]`` or a whole ``clients.d`` file)."""
    client_id: str = table.string("id")
    if not _CLIENT_ID.fullmatch(client_id):
        raise table.fail("id", f"must be lower-case letters, digits, - and _ (up to 63), "
                               f"not {client_id!r}")
    fields = {
        "name": table.string("name"), "languages": _languages(table),
        "timezone": _timezone(table), "calendar": _calendar(table), "hours": _hours(table),
        "sla": table.choice("sla", tuple(tiers), "standard"),  # a tier of [sla]
        "decision_maker": table.address("decision_maker", table.string("decision_maker"),
                                        display=True),
        "summary_to": table.addresses("summary_to"), "advisors": table.addresses("advisors"),
        "escalate_to": table.addresses("escalate_to", ()),
    }
    stores = tuple(_store(t) for t in table.tables("store"))
    if not stores:
        raise table.fail("store", "at least one [[store]] is required (its addresses are how "
                                  "mail is matched to the client)")
    for i, store in enumerate(stores):
        if any((s.platform, s.name) == (store.platform, store.name) for s in stores[:i]):
            raise table.fail(f"store[{i}].name", f"{store.platform} store {store.name!r} "
                                                 f"is listed twice")
    client = Client(id=client_id, stores=stores, source=source,
                    webhooks=tuple(_webhook(t) for t in table.tables("webhook")),
                    triage=_triage(table), at_once=_at_once(table),
                    escalations=rules_from(table),
                    sla_reminders=_numbers(table, "sla_reminders", (50.0, 80.0), top=100.0),
                    deadline_reminders=_numbers(table, "deadline_reminders", (24.0, 4.0)),
                    digest_at=_digest_at(table),
                    approval_reminders=_numbers(table, "approval_reminders", (24.0,)),
                    approval_escalate_after=_escalate_after(table), **fields)
    table.check_unknown()
    return client


def _numbers(table: Table, key: str, default: tuple[float, ...], *,
             top: float | None = None) -> tuple[float, ...]:
    """A list of positive numbers (percents below ``top``, or hours), e.g. the reminder moments
    ``sla_reminders = [50, 80]`` or ``deadline_reminders = [24, 4]``; ``[]`` turns them off."""
    values = table.get(key, list, list(default))
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 \
                or (top is not None and value >= top):
            limit = f" and below {top:g}" if top is not None else ""
            raise table.fail(f"{key}[{i}]", f"must be a number above 0{limit}, not {value!r}")
    return tuple(float(v) for v in values)


def _escalate_after(table: Table) -> float | None:
    """``approval_escalate_after``: hours a draft may wait for the decision-maker before the
    escalation (default 48; 0 turns it off)."""
    value: float = table.get("approval_escalate_after", float, 48.0)
    if value < 0:
        raise table.fail("approval_escalate_after", f"must be a number of hours (0: never), "
                                                    f"not {value!r}")
    return value or None


def _at_once(table: Table) -> tuple[str, ...]:
    """``at_once``: the priorities whose summaries go out at once; the rest wait for the
    daily digest (default P0–P2; P3 waits)."""
    values: tuple[str, ...] = table.strings("at_once", ("P0", "P1", "P2"))
    for i, value in enumerate(values):
        if value not in PRIORITIES:
            raise table.fail(f"at_once[{i}]", f"must be one of {', '.join(PRIORITIES)}, "
                                              f"not {value!r}")
    return values


def _digest_at(table: Table) -> time:
    """``digest_at = "HH:MM"``: when the daily digest goes out, in the client's zone."""
    value: str = table.string("digest_at", "18:00")
    found = re.fullmatch(r"(\d\d):(\d\d)", value)
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise table.fail("digest_at", f"must be a time HH:MM such as 18:00, not {value!r}")
    return time(int(found[1]), int(found[2]))


def _triage(table: Table) -> TriageRules | None:
    """``[client.triage]``: the client's overrides of ``maild/routing/triage.toml``, in its shape
    (``[client.triage.priorities]``, ``[client.triage.urgent_deadline]``)."""
    override = table.table("triage")
    if override is None:
        return None
    return rules_with(override.data, f"{table.file}: {table.where}triage")


def _languages(table: Table) -> tuple[str, ...]:
    languages: tuple[str, ...] = table.strings("languages")
    for i, language in enumerate(languages):
        if language not in LANGUAGES:
            raise table.fail(f"languages[{i}]", f"must be one of {', '.join(LANGUAGES)}, "
                                                f"not {language!r}")
        if language in languages[:i]:
            raise table.fail(f"languages[{i}]", f"{language} is listed twice")
    return languages


def _timezone(table: Table) -> str:
    name: str = table.string("timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise table.fail("timezone", f"must be an IANA time zone like Asia/Shanghai or "
                                     f"Europe/Berlin, not {name!r}") from None
    return name


def _calendar(table: Table) -> str:
    """A country code the `holidays` package knows, optionally with a subdivision (DE-BY)."""
    value: str = table.string("calendar")
    country, _, subdivision = value.partition("-")
    known = _calendars()
    if country not in known:
        raise table.fail("calendar", f"must be a country code such as CN, DE or US (with "
                                     f"public holidays known), not {value!r}")
    if subdivision and subdivision not in known[country]:
        raise table.fail("calendar", f"{country} has no subdivision {subdivision!r} "
                                     f"(known: {', '.join(known[country]) or 'none'})")
    return value


def _hours(table: Table) -> ServiceHours:
    value: str = table.string("hours")
    found = _HOURS.fullmatch(value.strip())
    opens = closes = -1
    if found:
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        opens, closes = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or closes > _MINUTES_PER_DAY:
            opens = -1
    if opens < 0 or closes <= opens:
        raise table.fail("hours", f"must be a window HH:MM-HH:MM within one day, like "
                                  f"09:00-21:00 (24:00 for midnight), not {value!r}")
    return ServiceHours(opens, closes, table.choice("days", SERVICE_DAYS, "business"))


def _store(table: Table) -> Store:
    platform: str = table.string("platform")
    if platform not in _platforms():
        raise table.fail("platform", f"must be one of {', '.join(_platforms())}, "
                                     f"not {platform!r}")
    marketplaces: tuple[str, ...] = table.strings("marketplaces", ())
    for i, marketplace in enumerate(marketplaces):
        if marketplace != marketplace.lower() or not marketplace.startswith(f"{platform}."):
            raise table.fail(f"marketplaces[{i}]", f"must be a lower-case {platform} "
                                                   f"marketplace like {platform}.de, "
                                                   f"not {marketplace!r}")
    sender = table.get("sender", str, None)
    store = Store(
        platform=platform, name=table.string("name"),
        addresses=table.addresses("addresses", display=False),
        sender=None if sender is None else table.address("sender", sender),
        marketplaces=marketplaces,
        merchant_ids=table.strings("merchant_ids", ()),
        reply_to=_reply_to(table),
        smtp=_store_smtp(table, sender),
        sent=_sent_folder(table),
    )
    table.check_unknown()
    return store


def _reply_to(table: Table) -> tuple[tuple[str, str], ...]:
    """``[client.store.reply_to]``: category (or ``"*"``) = the platform address that answers
    of that category go to, instead of the notice's own Reply-To or From."""
    section = table.table("reply_to")
    if section is None:
        return ()
    from maild.routing.triage import CATEGORIES

    pairs = []
    for category in list(section.data):
        if category != "*" and category not in CATEGORIES:
            raise section.fail(category, f"must be \"*\" or a category "
                                         f"({', '.join(CATEGORIES)})")
        pairs.append((category, section.address(category, section.string(category))))
    section.check_unknown()
    return tuple(pairs)


def _store_smtp(table: Table, sender: str | None) -> SmtpSettings | None:
    """``[client.store.smtp]``: the store's own SMTP account (platforms take replies only from
    the seller's registered address, and some only through its provider)."""
    section = table.table("smtp")
    if section is None:
        return None
    if sender is None:
        raise table.fail("sender", "is required with [smtp]: replies go from the store's "
                                   "registered sender")
    return parse_account(section, sender)


def _sent_folder(table: Table) -> SentFolder | None:
    """``[client.store.sent]``: the store's Sent folder over IMAP, where each platform reply is
    filed and, after a crash mid-send, looked for before anything is sent again."""
    section = table.table("sent")
    if section is None:
        return None
    from maild.outbound.sent_folder import parse_sent_folder  # it needs maild.config's types

    return parse_sent_folder(section)


def _webhook(table: Table) -> Webhook:
    kind: str = table.choice("kind", WEBHOOK_KINDS)
    if "url" in table.data:
        raise table.fail("url", "inline webhook URLs are not accepted; use url_env or url_file")
    url = table.secret("url")
    if url is None:
        raise table.fail("url_env", "is required (or url_file): the webhook URL is a secret, "
                                    "not written in the config")
    secret = table.secret("secret")
    if secret is not None and kind not in SIGNED_WEBHOOKS:
        raise table.fail("secret_env" if table.has("secret_env") else "secret_file",
                         f"{kind} webhooks are not signed; only "
                         f"{' and '.join(SIGNED_WEBHOOKS)} take a secret")
    webhook = Webhook(kind=kind, url=url, secret=secret,
                      min_priority=table.choice("min_priority", PRIORITIES, "P1"))
    table.check_unknown()
    return webhook


def clients_dir_files(folder: Path) -> list[Path]:
    """The client files of ``folder``: ``*.toml`` not starting with a dot, in name order (an
    editor's ``.acme.toml.swp`` or ``acme.toml~`` is not a client)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise ConfigError(f"{folder}: must be a folder of client files (one *.toml per client)")
    files = sorted(p for p in folder.iterdir()
                   if p.suffix == ".toml" and not p.name.startswith("."))
    for path in files:
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file")
    return files


def load_clients_dir(folder: Path, base: Path,
                     tiers: Sequence[str] = ("standard", "expedited")) -> Iterator[Client]:
    """Each file of ``clients.d`` as one client; errors name that file and the key."""
    for path in clients_dir_files(folder):
        data = read_toml(path)
        table = Table(data, "", str(path), base)
        if "client" in data:
            raise table.fail("client", "a clients.d file holds one client's keys at the top "
                                       "level (id = ..., [[store]], [[webhook]]), "
                                       "not [[client]]")
        yield parse_client(table, path, tiers)
