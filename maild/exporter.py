"""/metrics: the desk's figures in the Prometheus text format, counted from the database when
scraped.

Rows are the truth (every stage hands off through them), so a count taken at scrape time is
exact, survives restarts and is the same from every daemon of a fleet sharing PostgreSQL; no
in-process counter has to be kept in step with them. Only what never reaches a row is counted in
the process: IMAP reconnects, read from the running folder workers.

Counters (``*_total``) count rows that never leave their state; gauges are the present state:
- messages archived (inbound rows), parsed (notices), routed (notices in their case),
  quarantined now;
- outbox: sent (ever), failed now, retrying now, the oldest unsent row's age;
- reminders and escalations fired; approvals waiting and the longest wait;
- per mailbox: lag in messages, seconds since the last sync, stale (0/1), IMAP reconnects;
- rows per stage of every staged table (the queue depths); whether the database answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from maild.config import Config
from maild.config_http import HttpSettings
from maild.health import DeskFacts, desk_facts
from maild.models import Message, Notice, Outbound, Timer
from maild.stages import Stage

log = logging.getLogger("maild.web")


@runtime_checkable
class Reconnecting(Protocol):
    """A source worker that counts its reconnections (``FolderWorker``)."""

    label: str
    reconnects: int


class DeskCollector:
    """A prometheus_client collector: ``collect()`` queries the database on every scrape."""

    def __init__(self, config: Config, settings: HttpSettings,
                 sessions: sessionmaker[Session], workers: Sequence[object],
                 clock: Callable[[], datetime], since: datetime) -> None:
        self.config = config
        self.settings = settings
        self.sessions = sessions
        self.sources = [w for w in workers if isinstance(w, Reconnecting)]
        self.clock = clock
        self.since = since

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("maild_database_up", "1 when the database answered this scrape")
        try:
            with self.sessions() as session:
                now = self.clock()
                facts = desk_facts(session, self.config, self.settings, now, self.since)
                totals = list(_totals(session))
        except SQLAlchemyError as exc:
            log.warning("metrics: database did not answer: %s: %s", type(exc).__name__,
                        str(exc).strip().splitlines()[0])
            up.add_metric([], 0)
            yield up
            yield from self._reconnects()
            return
        up.add_metric([], 1)
        yield up
        yield from totals
        yield from _outbox(facts)
        yield from _mailboxes(facts)
        yield from self._reconnects()
        yield from _depths(facts)
        yield from _approvals(facts, now)

    def _reconnects(self) -> Iterator[Metric]:
        family = CounterMetricFamily("maild_imap_reconnects",
                                     "IMAP reconnections after a failure, since this daemon "
                                     "started the folder", labels=["mailbox"])
        for worker in self.sources:
            family.add_metric([worker.label], worker.reconnects)
        yield family


def _count(session: Session, query: Select[int]) -> int:
    return session.scalar(query) or 0


def _totals(session: Session) -> Iterator[Metric]:
    inbound = select(func.count()).select_from(Message).where(Message.direction == "in")
    figures = [
        ("maild_messages_archived", "Inbound messages archived", _count(session, inbound)),
        ("maild_messages_parsed", "Inbound messages read as a platform notice",
         _count(session, select(func.count()).select_from(Notice))),
        ("maild_messages_routed", "Notices routed into their case",
         _count(session, inbound.where(Message.stage == Stage.ROUTED))),
        ("maild_outbox_sent", "Outbound messages sent (the server took them)",
         _count(session, select(func.count()).select_from(Outbound)
                .where(Outbound.sent_at.is_not(None)))),
    ]
    for name, text, value in figures:
        yield CounterMetricFamily(name, text, value=value)
    fired = dict(session.execute(select(Timer.kind, func.count())
                                 .where(Timer.stage == Stage.FIRED).group_by(Timer.kind)).all())
    yield CounterMetricFamily("maild_reminders", "Reminders fired",
                              value=fired.get("reminder", 0))
    yield CounterMetricFamily("maild_escalations", "Escalations fired",
                              value=fired.get("escalation", 0))
    yield GaugeMetricFamily("maild_messages_quarantined", "Inbound messages quarantined now",
                            value=_count(session, inbound.where(
                                Message.stage == Stage.QUARANTINED)))


def _outbox(facts: DeskFacts) -> Iterator[Metric]:
    box = facts.outbox
    yield GaugeMetricFamily("maild_outbox_failed", "Outbound messages failed for good, now",
                            value=box.failed)
    yield GaugeMetricFamily("maild_outbox_retrying",
                            "Outbound messages queued again after a temporary failure",
                            value=box.retrying)
    yield GaugeMetricFamily("maild_outbox_waiting", "Outbound messages queued or being sent",
                            value=box.waiting)
    yield GaugeMetricFamily("maild_outbox_oldest_age_seconds",
                            "Age of the oldest outbound message not sent yet (0: none)",
                            value=box.oldest_age.total_seconds() if box.oldest_age else 0)


def _mailboxes(facts: DeskFacts) -> Iterator[Metric]:
    lag = GaugeMetricFamily("maild_mailbox_lag_messages",
                            "Messages the server had at the last look, not archived yet",
                            labels=["mailbox"])
    age = GaugeMetricFamily("maild_mailbox_last_sync_age_seconds",
                            "Seconds since the mailbox last synced (absent: never)",
                            labels=["mailbox"])
    stale = GaugeMetricFamily("maild_mailbox_stale",
                              "1 when the mailbox has not synced within stale_mailbox_minutes",
                              labels=["mailbox"])
    for box in facts.mailboxes:
        if box.lag_messages is not None:
            lag.add_metric([box.label], box.lag_messages)
        if box.age is not None:
            age.add_metric([box.label], box.age.total_seconds())
        stale.add_metric([box.label], int(box.stale))
    yield from (lag, age, stale)


def _depths(facts: DeskFacts) -> Iterator[Metric]:
    depth = GaugeMetricFamily("maild_stage_rows", "Rows at each stage of each staged table "
                              "(the queue depths)", labels=["table", "stage"])
    for table, stages in facts.depths.items():
        for stage, count in stages.items():
            depth.add_metric([table, stage], count)
    yield depth


def _approvals(facts: DeskFacts, now: datetime) -> Iterator[Metric]:
    yield GaugeMetricFamily("maild_approvals_waiting",
                            "Draft versions waiting for the decision-maker",
                            value=len(facts.approvals))
    oldest = facts.approvals[0].since if facts.approvals else None
    yield GaugeMetricFamily("maild_approval_oldest_wait_seconds",
                            "How long the longest-waiting draft has waited (0: none)",
                            value=(now - oldest).total_seconds() if oldest else 0)
