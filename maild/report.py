"""The monthly communication-effectiveness report of one client (issue 13): every figure of a
month of the client's local calendar, with the month before beside it, for the client, each
platform and each store. Pure arithmetic over :mod:`maild.report_facts`; no I/O but the read.

How each figure is counted. A figure counts the events that *happened in the month* (in the
client's zone, up to the report's ``now`` for the running month), so a past month's report
never changes when it is made again later, and the report sent on the 1st is final.

- **Notices** by category and priority: platform notices archived in the month; the priority
  is the one triage gave (the client's table applied to the stored notice, as the route step).
- **SLA attainment**: a case's SLA clock is *met* when its first draft came at or before the
  due moment (counted in the month of the draft), *missed* when the due moment passed without
  one (counted in the month of the due moment, even if a draft came later). A case closed
  before its due moment without a draft needed none and is not counted; one still open whose
  due moment has not come yet is not counted yet. Service hours and holidays are in the
  clock's due moment already (:mod:`maild.routing.calendar`).
- **Platform-deadline attainment**: the same for the platform clock, met by a platform reply
  the platform's server took between the clock's start and its due moment. A case without a
  platform clock (no deadline stated, no standing rule) is not counted: it has none to meet.
- **Times** from the case's notice to its first summary, first draft, first approval and first
  platform reply sent: mean and 90th percentile (nearest rank) in hours, each counted in the
  month its end moment happened. Summaries held for the daily digest have no time.
- **First-pass approval rate**: approvals in the month that had no rejection or change request
  before them in their round (``Decision.first_pass``), over all approvals in the month.
- **Risk alerts**: P0 cases (whose notice came in the month), escalation timers that fired
  (breached clocks, P0 at once, overdue approvals), phishing suspects (notices), and escalation
  rules that matched (metric thresholds, keywords: the route step's ``escalation`` events).
- **Decisions that waited over 48 hours**: decisions of the month taken more than 48 hours
  after their draft; and drafts still waiting at the month's end for more than 48 hours.
- **Open at the month's end**: cases whose newest event before the end was a notice, not a
  platform reply sent nor a closing; listed with their platform and (running) SLA due moments.
- **Usage**, what an advisory firm bills by: notices handled, draft versions written, of them
  appeals (drafts on cases of an appeal-like category, ``APPEAL_CATEGORIES``), expedited cases
  (opened in the month whose SLA clock ran under the ``expedited`` tier *then*: the clock's
  source names the tier it was started with), and chat alerts delivered (webhook cards sent).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from maild.config_clients import Client
from maild.report_facts import CaseFacts, DraftFacts, Facts, load_facts
from maild.routing.triage import CATEGORIES, PRIORITIES, TriageRules, load_rules

# Categories whose answer is an appeal: a plan of action against a suspension, an account
# health or policy warning, a removed listing, a rights owner's complaint (counter-notice or
# retraction request), or a further appeal after a decision. Claims, buyer messages and
# document requests are answered, not appealed.
APPEAL_CATEGORIES = frozenset({"suspension", "policy_warning", "listing_removed",
                               "ip_complaint", "appeal_decision"})
EXPEDITED_TIER = "expedited"  # the SLA clock's source reads "SLA <tier>" (routing.clocks)
DECISION_WAIT = timedelta(hours=48)
TIMINGS = ("summary", "first_draft", "approval", "sent")
TREND_MONTHS = 6
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_T = TypeVar("_T")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; its moments are taken in a zone (the client's)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.fullmatch(text.strip())
        if not found or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"{text!r} is not a month like 2026-03")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, moment: datetime, zone: ZoneInfo) -> Month:
        local = moment.astimezone(zone)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def start(self, zone: ZoneInfo) -> datetime:
        """Local midnight of the 1st, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC)

    def end(self, zone: ZoneInfo) -> datetime:
        return self.next().start(zone)

    def days(self) -> int:
        return (datetime(self.next().year, self.next().month, 1)
                - datetime(self.year, self.month, 1)).days


def months_between(first: Month, last: Month) -> list[Month]:
    """``first`` to ``last`` inclusive (empty when ``last`` comes before ``first``)."""
    found = []
    while first <= last:
        found.append(first)
        first = first.next()
    return found


@dataclass(frozen=True)
class Share:
    """``hit`` of ``total``; ``percent`` rounded to one decimal, None when there is nothing."""

    hit: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.hit / self.total, 1) if self.total else None


@dataclass(frozen=True)
class Timing:
    """How long ``count`` cases took: mean and 90th percentile in hours (two decimals)."""

    count: int
    mean_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class RiskAlerts:
    p0_cases: int
    escalations: int
    phishing_suspects: int
    rule_alerts: int

    @property
    def total(self) -> int:
        return self.p0_cases + self.escalations + self.phishing_suspects + self.rule_alerts


@dataclass(frozen=True)
class Usage:
    notices: int
    drafts: int
    appeals: int
    expedited_cases: int
    chat_alerts: int


@dataclass(frozen=True)
class Figures:
    """One scope's figures for one month."""

    notices: int
    by_category: Mapping[str, int]
    by_priority: Mapping[str, int]
    sla: Share
    platform_deadline: Share
    timings: Mapping[str, Timing]
    first_pass: Share
    risk: RiskAlerts
    slow_decisions: int
    waiting_decisions: int
    open_at_end: int
    usage: Usage


@dataclass(frozen=True)
class Scope:
    """The whole client, one platform, or one store (of a platform)."""

    kind: Literal["client", "platform", "store"]
    platform: str | None = None
    store: str | None = None

    def holds(self, case: CaseFacts) -> bool:
        if self.kind == "client":
            return True
        return case.platform == self.platform and (self.kind == "platform"
                                                   or case.store == self.store)


@dataclass(frozen=True)
class ScopeFigures:
    scope: Scope
    current: Figures
    previous: Figures


@dataclass(frozen=True)
class OpenCase:
    """A case open at the month's end and the moments it is due by."""

    ticket: str
    platform: str
    marketplace: str | None
    store: str | None
    category: str
    priority: str
    notice_at: datetime
    platform_due: datetime | None
    sla_due: datetime | None

    @property
    def next_due(self) -> datetime | None:
        return min((d for d in (self.platform_due, self.sla_due) if d is not None), default=None)


@dataclass(frozen=True)
class TrendPoint:
    month: Month
    sla: Share
    platform_deadline: Share


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the renderings show; ``scopes[0]`` is the whole client."""

    client_id: str
    client_name: str
    languages: tuple[str, ...]
    timezone: str
    month: Month
    previous: Month
    start: datetime
    end: datetime
    now: datetime
    scopes: tuple[ScopeFigures, ...]
    open_cases: tuple[OpenCase, ...]
    trend: tuple[TrendPoint, ...]
    daily_notices: tuple[int, ...]

    @property
    def total(self) -> ScopeFigures:
        return self.scopes[0]

    @property
    def complete(self) -> bool:
        """Whether the month had ended when the report was made."""
        return self.now >= self.end


@dataclass(frozen=True)
class Window:
    """[start, until): a month, cut at the report's ``now`` while it runs."""

    start: datetime
    until: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.until


def triage_of(client: Client) -> TriageRules:
    return client.triage if client.triage is not None else load_rules()


def monthly_report(session: Session, client: Client, month: Month,
                   now: datetime) -> MonthlyReport:
    """The report of ``client`` for ``month`` as the database stands at ``now``."""
    facts = load_facts(session, client.id, triage_of(client), month.end(client.zone))
    return report_from(facts, client, month, now)


def report_from(facts: Facts, client: Client, month: Month, now: datetime) -> MonthlyReport:
    """The report of ``month`` from facts read up to its end or later (a year's reports read
    the database once)."""
    zone = client.zone
    window = _window(month, zone, now)
    daily = [0] * month.days()
    for notice in facts.notices:
        if window.holds(notice.received_at):
            daily[notice.received_at.astimezone(zone).day - 1] += 1
    return MonthlyReport(
        client_id=client.id, client_name=client.name, languages=client.languages,
        timezone=client.timezone, month=month, previous=month.previous(),
        start=window.start, end=month.end(zone), now=now,
        scopes=tuple(_scopes(facts, client, window, _window(month.previous(), zone, now))),
        open_cases=tuple(open_cases(facts, window.until)),
        trend=tuple(_trend(facts, month, zone, now)), daily_notices=tuple(daily))


def _scopes(facts: Facts, client: Client, window: Window,
            earlier: Window) -> list[ScopeFigures]:
    """The client, then its platforms, then its stores: the configured ones always, others
    found in the data while they have notices or open cases."""
    cases = facts.cases.values()
    configured = [Scope("platform", s.platform) for s in client.stores] + [
        Scope("store", s.platform, s.name) for s in client.stores]
    found = _ordered(configured, [Scope("platform", c.platform) for c in cases]
                     + [Scope("store", c.platform, c.store) for c in cases if c.store])
    shown = []
    for scope in [Scope("client"), *sorted(found, key=lambda s: s.kind)]:
        pair = ScopeFigures(scope, figures(facts, scope.holds, window),
                            figures(facts, scope.holds, earlier))
        if scope.kind == "client" or scope in configured or pair.current.notices \
                or pair.previous.notices or pair.current.open_at_end:
            shown.append(pair)
    return shown


def _trend(facts: Facts, month: Month, zone: ZoneInfo, now: datetime) -> list[TrendPoint]:
    """SLA and platform-deadline attainment of the ``TREND_MONTHS`` months up to ``month``."""
    sla = _share(_sla_outcome(c) for c in facts.cases.values())
    deadline = _share(_deadline_outcome(c) for c in facts.cases.values())
    spans = [(m, _window(m, zone, now))
             for m in months_between(_back(month, TREND_MONTHS - 1), month)]
    return [TrendPoint(m, sla(span), deadline(span)) for m, span in spans]


def figures(facts: Facts, holds: Callable[[CaseFacts], bool], window: Window) -> Figures:
    """The figures of the cases ``holds`` picks, for ``window``."""
    cases = {i: c for i, c in facts.cases.items() if holds(c)}
    notices = [n for n in facts.notices if n.case_id in cases and window.holds(n.received_at)]
    by_category = _counts([n.category for n in notices], CATEGORIES)
    drafts = [d for d in facts.drafts if d.case_id in cases]
    decisions = [(d, x) for d in drafts for x in d.decisions if window.holds(x.at)]
    approvals = [x for _d, x in decisions if x.decision == "approved"]
    written = [d for d in drafts if window.holds(d.created_at)]

    def moments(pairs: Iterable[tuple[int, datetime]]) -> int:
        return sum(1 for case_id, at in pairs if case_id in cases and window.holds(at))

    return Figures(
        notices=len(notices), by_category=by_category,
        by_priority=_counts([n.priority for n in notices], PRIORITIES),
        sla=_share(_sla_outcome(c) for c in cases.values())(window),
        platform_deadline=_share(_deadline_outcome(c) for c in cases.values())(window),
        timings={name: _timing([end - c.notice_at for c in cases.values()
                                if (end := _end_of(c, name)) is not None
                                and window.holds(end)]) for name in TIMINGS},
        first_pass=Share(sum(x.first_pass for x in approvals), len(approvals)),
        risk=RiskAlerts(
            p0_cases=sum(c.priority == "P0" and window.holds(c.notice_at)
                         for c in cases.values()),
            escalations=moments(facts.escalations),
            phishing_suspects=by_category["phishing_suspect"],
            rule_alerts=moments(facts.rule_alerts)),
        slow_decisions=sum(x.at - d.created_at > DECISION_WAIT for d, x in decisions),
        waiting_decisions=sum(_waiting(d, window.until) for d in drafts),
        open_at_end=sum(_open_at(c, window.until) for c in cases.values()),
        usage=Usage(
            notices=len(notices), drafts=len(written),
            appeals=sum(cases[d.case_id].category in APPEAL_CATEGORIES for d in written),
            expedited_cases=sum(window.holds(c.notice_at) and c.sla is not None
                                and c.sla.source == f"SLA {EXPEDITED_TIER}"
                                for c in cases.values()),
            chat_alerts=moments(facts.chat_alerts)))


def open_cases(facts: Facts, moment: datetime) -> list[OpenCase]:
    """The cases open at ``moment``, the nearest due moment first (none last)."""
    found = [OpenCase(
        ticket=c.ticket, platform=c.platform, marketplace=c.marketplace, store=c.store,
        category=c.category, priority=c.priority, notice_at=c.notice_at,
        platform_due=c.platform_clock.due_at if c.platform_clock else None,
        sla_due=c.sla.due_at if c.sla is not None and (
            c.sla.stopped_at is None or c.sla.stopped_at >= moment) else None)
        for c in facts.cases.values() if _open_at(c, moment)]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda o: (o.next_due or far, o.notice_at, o.ticket))


def _window(month: Month, zone: ZoneInfo, now: datetime) -> Window:
    return Window(month.start(zone), min(month.end(zone), now))


def _back(month: Month, count: int) -> Month:
    for _ in range(count):
        month = month.previous()
    return month


def _ordered(first: Sequence[_T], then: Sequence[_T]) -> list[_T]:
    """``first`` in its order, then the rest of ``then`` in a stable order; each once."""
    rest = sorted(set(then) - set(first), key=repr)
    return list(dict.fromkeys([*first, *rest]))


def _counts(values: Sequence[str], keys: Sequence[str]) -> dict[str, int]:
    """How often each key occurs, every key present in ``keys``' order (unknown ones after)."""
    found = dict.fromkeys(keys, 0)
    for value in values:
        found[value] = found.get(value, 0) + 1
    return found


Outcome = tuple[datetime, bool] | None  # (when it was decided, met)


def _sla_outcome(case: CaseFacts) -> Outcome:
    clock = case.sla
    if clock is None:
        return None
    if clock.stopped_at is not None and clock.stopped_at <= clock.due_at:
        return clock.stopped_at, True
    if clock.stopped_at is None and case.closed_at is not None \
            and case.closed_at <= clock.due_at:
        return None  # closed as needing no draft
    return clock.due_at, False


def _deadline_outcome(case: CaseFacts) -> Outcome:
    clock = case.platform_clock
    if clock is None:
        return None
    in_time = [t for t in case.replies if clock.started_at <= t <= clock.due_at]
    if in_time:
        return in_time[0], True
    if case.closed_at is not None and case.closed_at <= clock.due_at:
        return None  # closed as needing no reply
    return clock.due_at, False


def _share(outcomes: Iterable[Outcome]) -> Callable[[Window], Share]:
    decided = [o for o in outcomes if o is not None]

    def within(window: Window) -> Share:
        mine = [met for at, met in decided if window.holds(at)]
        return Share(sum(mine), len(mine))
    return within


def _end_of(case: CaseFacts, timing: str) -> datetime | None:
    return {"summary": case.summary_at, "first_draft": case.first_draft_at,
            "approval": case.approval_at, "sent": case.sent_at}[timing]


def _timing(durations: Sequence[timedelta]) -> Timing:
    if not durations:
        return Timing(0, None, None)
    seconds = sorted(d.total_seconds() for d in durations)
    p90 = seconds[math.ceil(0.9 * len(seconds)) - 1]  # nearest rank
    return Timing(len(seconds), round(sum(seconds) / len(seconds) / 3600, 2),
                  round(p90 / 3600, 2))


def _waiting(draft: DraftFacts, moment: datetime) -> bool:
    """A draft still waiting for a decision at ``moment``, written more than 48 h before."""
    return (not draft.blocked and draft.created_at <= moment - DECISION_WAIT
            and not any(x.at < moment for x in draft.decisions)
            and (draft.replaced_at is None or draft.replaced_at >= moment))


def _open_at(case: CaseFacts, moment: datetime) -> bool:
    """Open at ``moment``: its newest event before then was a notice (not a reply sent to the
    platform, not a closing)."""
    if case.notice_at >= moment:
        return False
    arrived = max((t for t in case.notices if t < moment), default=case.notice_at)
    finished = [t for t in case.replies if t < moment]
    if case.closed_at is not None and case.closed_at < moment:
        finished.append(case.closed_at)
    return not finished or arrived > max(finished)
