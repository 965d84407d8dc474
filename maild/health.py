"""Is the desk healthy? The facts and checks behind /healthz, the board's health panel, the
stale-mailbox watch and ``maild status``, read from the database so every daemon of a fleet
(and the command line) gives the same answer.

Three checks, each with a threshold of ``[http]``:
- **database**: it answers;
- **mailboxes**: every configured mailbox synced within ``stale_mailbox_minutes`` (a mailbox
  never synced counts from ``since``, when the reader started looking);
- **outbox**: nothing has waited to be sent longer than ``outbox_max_age_minutes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from maild.config import Config
from maild.config_http import HttpSettings
from maild.models import Case, Digest, Draft, Mailbox, Message, Outbound, Timer
from maild.stages import Stage

# Outbound rows not sent yet: their age is how late the outbox is.
WAITING = (Stage.QUEUED.value, Stage.SENDING.value)
# The tables whose rows move through stages, for the queue depths.
STAGED: Mapping[str, Any] = {"message": Message, "outbound": Outbound, "timer": Timer,
                             "digest": Digest}


@dataclass(frozen=True)
class MailboxHealth:
    """One configured mailbox: when it last synced and whether that is too long ago."""

    id: int
    label: str
    last_sync: datetime | None
    age: timedelta | None  # since the last sync
    stale: bool
    lag_messages: int | None  # UIDs the server had at the last look, not archived yet
    last_error: str | None
    leased_by: str | None


@dataclass(frozen=True)
class OutboxHealth:
    waiting: int  # queued or sending
    retrying: int  # queued again after a temporary failure
    failed: int
    oldest_age: timedelta | None  # of the oldest waiting row
    held: int = 0  # platform replies cut off mid-send, waiting for the operator (uncertain)


@dataclass(frozen=True)
class WaitingApproval:
    """A draft version waiting for its decision-maker."""

    ticket: str
    client_id: str | None
    version: int
    author: str
    since: datetime


@dataclass(frozen=True)
class DeskFacts:
    mailboxes: tuple[MailboxHealth, ...]
    outbox: OutboxHealth
    depths: Mapping[str, Mapping[str, int]]  # table -> stage -> rows
    approvals: tuple[WaitingApproval, ...]  # the longest waiting first


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class HealthReport:
    """The checks, and the facts they were made from (None when the database is away)."""

    at: datetime
    checks: tuple[Check, ...]
    facts: DeskFacts | None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "at": self.at.isoformat(),
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                           for c in self.checks]}


def mailbox_health(session: Session, config: Config, limit: timedelta, now: datetime,
                   since: datetime) -> list[MailboxHealth]:
    """The configured sources' mailbox rows (a source removed from the config is not watched),
    in label order."""
    rows = session.scalars(select(Mailbox).where(Mailbox.source.in_(config.source_names()))
                           .order_by(Mailbox.source, Mailbox.folder))
    found = []
    for box in rows:
        seen = box.last_sync or since
        lease = box.lease_owner if box.lease_expires and box.lease_expires > now else None
        lag = max(0, box.server_uidnext - 1 - box.last_uid) if box.server_uidnext else None
        found.append(MailboxHealth(
            id=box.id, label=box.label, last_sync=box.last_sync,
            age=now - box.last_sync if box.last_sync else None, stale=now - seen > limit,
            lag_messages=lag, last_error=box.last_error, leased_by=lease))
    return found


def outbox_health(session: Session, now: datetime) -> OutboxHealth:
    oldest = session.scalar(select(func.min(Outbound.created_at))
                            .where(Outbound.stage.in_(WAITING)))
    return OutboxHealth(
        waiting=_count(session, Outbound.stage.in_(WAITING)),
        retrying=_count(session, Outbound.stage == Stage.QUEUED, Outbound.attempts > 0),
        failed=_count(session, Outbound.stage == Stage.FAILED),
        oldest_age=max(timedelta(0), now - oldest) if oldest else None,
        held=_count(session, Outbound.stage == Stage.UNCERTAIN))


def _count(session: Session, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(Outbound).where(*where)) or 0


def queue_depths(session: Session) -> dict[str, dict[str, int]]:
    """Rows per stage of every staged table (stages with no rows left out)."""
    return {name: {stage: count for stage, count in session.execute(
                select(model.stage, func.count()).group_by(model.stage).order_by(model.stage))}
            for name, model in STAGED.items()}


def waiting_approvals(session: Session) -> list[WaitingApproval]:
    rows = session.execute(select(Draft, Case.ticket, Case.client_id)
                           .join(Case, Case.id == Draft.case_id)
                           .where(Draft.state == "pending")
                           .order_by(Draft.created_at, Draft.id))
    return [WaitingApproval(ticket=ticket, client_id=client_id, version=draft.version,
                            author=draft.author, since=draft.created_at)
            for draft, ticket, client_id in rows]


def desk_facts(session: Session, config: Config, settings: HttpSettings, now: datetime,
               since: datetime) -> DeskFacts:
    return DeskFacts(
        mailboxes=tuple(mailbox_health(session, config, settings.stale_mailbox, now, since)),
        outbox=outbox_health(session, now), depths=queue_depths(session),
        approvals=tuple(waiting_approvals(session)))


def checks_of(facts: DeskFacts, settings: HttpSettings) -> tuple[Check, ...]:
    stale = [box for box in facts.mailboxes if box.stale]
    limit = _minutes(settings.stale_mailbox)
    mailboxes = Check("mailboxes", not stale, (
        "; ".join(f"{box.label}: no sync for over {limit}"
                  f"{f' (last error: {box.last_error})' if box.last_error else ''}"
                  for box in stale) if stale
        else f"{len(facts.mailboxes)} mailbox(es) synced within {limit}"))
    age = facts.outbox.oldest_age
    late = age is not None and age > settings.outbox_max_age
    held = facts.outbox.held
    said = (f"oldest unsent message waited {_minutes(age)} (limit "
            f"{_minutes(settings.outbox_max_age)})" if age is not None else "nothing waiting")
    if held:  # nobody but the operator can move them: `maild outbox release|mark-sent`
        said += f"; {held} platform repl{'y' if held == 1 else 'ies'} held as uncertain"
    outbox = Check("outbox", not late and not held, said)
    return Check("database", True, "answers"), mailboxes, outbox


def check_health(sessions: sessionmaker[Session], config: Config, settings: HttpSettings,
                 now: datetime, since: datetime) -> HealthReport:
    """Every check; a database that does not answer fails the report (and the other checks,
    which need it, are not made)."""
    try:
        with sessions() as session:
            facts = desk_facts(session, config, settings, now, since)
    except SQLAlchemyError as exc:
        detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        return HealthReport(now, (Check("database", False, detail),), None)
    return HealthReport(now, checks_of(facts, settings), facts)


def status_lines(report: HealthReport) -> list[str]:
    """What ``maild status`` adds under the mailboxes: the checks, the outbox, the queues and
    the approvals waiting."""
    lines = [f"health: {'ok' if report.ok else 'FAILING'}"]
    lines += [f"  {c.name}: {'ok' if c.ok else 'FAILING'}: {c.detail}" for c in report.checks]
    facts = report.facts
    if facts is None:
        return lines
    box = facts.outbox
    oldest = _minutes(box.oldest_age) if box.oldest_age is not None else "-"
    lines.append(f"outbox: {box.waiting} waiting (oldest {oldest}), {box.retrying} retrying, "
                 f"{box.failed} failed, {box.held} held as uncertain")
    for table, stages in facts.depths.items():
        counts = ", ".join(f"{stage} {count}" for stage, count in stages.items()) or "empty"
        lines.append(f"queue {table}: {counts}")
    lines.append(f"approvals waiting: {len(facts.approvals)}")
    lines += [f"  {a.ticket} v{a.version} by {a.author}, waiting {_minutes(report.at - a.since)}"
              for a in facts.approvals]
    return lines


def _minutes(span: timedelta | None) -> str:
    """"12 min", "3 h 05 min": how long, to the minute."""
    minutes = int((span or timedelta(0)).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"

