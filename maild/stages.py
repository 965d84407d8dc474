"""The generic stage runner (DESIGN §4.5): claim rows waiting at a stage, work each, move it on.

A message row's ``stage`` says what has been done to it (``archived``, ``parsed`` …). A *step*
is the work that takes rows waiting at one stage to the next: ``parse`` takes ``archived`` rows,
routing will take ``parsed`` ones. Every step runs through the same :class:`StepRunner`:

- claim a batch (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so daemons sharing the database never
  work the same row; a SQLite file has one daemon, see ``maild.daemon``);
- ``prepare`` each row outside the write transaction's critical part (parsing is CPU work that
  must not hold SQLite's write lock), then ``apply`` each result in its own savepoint;
- a row whose work fails is quarantined with its error, the step it failed in and its attempt
  count; it never rolls back or blocks the rest of its batch, and ``maild requeue --stage``
  replays it;
- the commit rings the bell of the stages the rows reached (:mod:`maild.bell`), so the next step
  wakes at once; polling is only the safety net.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from maild.audit import AuditLog
from maild.bell import Bell
from maild.db import begin_write, storable
from maild.models import Message

log = logging.getLogger("maild.stages")

BATCH = 50
# How a row's error starts when its step's earlier run was cut off (a crash between the mark and
# the outcome): a step whose work has outside effects reads it to reconcile before redoing it.
INTERRUPTED = "interrupted:"
RETRY_AFTER_FAILURE_SECONDS = 5.0


class Stage(StrEnum):
    """Where a row stands; each value names what has been done to it (or is being done)."""

    ARCHIVED = "archived"        # platform mail kept; waits for the parse step
    TICKET = "ticket"            # a client's mail to the service mailbox; waits for tickets
    RECEIVED = "received"        # mail of a replies mailbox; first checked for bounces
    INTAKE = "intake"            # not a bounce: waits for the reply path's intake
    BOUNCE = "bounce"            # a delivery status notification, linked to what it reports
    TAKEN = "taken"              # a reply taken by the reply path: a draft, decision or comment
    REFUSED = "refused"          # a reply that changed nothing (bad token, sender, auth); audited
    PARSED = "parsed"            # read as a notice; waits for the route step
    ROUTED = "routed"            # in its case, summaries queued
    QUARANTINED = "quarantined"  # an inbound row whose work failed; `maild requeue` replays it
    OUTGOING = "outgoing"        # the archived copy of a message maild sends
    QUEUED = "queued"            # an outbound message waiting to be sent (maybe at next_try_at)
    SENDING = "sending"          # being sent; left so by a crash, it is sent again
    UNCERTAIN = "uncertain"      # a platform reply cut off mid-send with no proof either way:
                                 # never sent again on its own (at most once); the operator decides
    SENT = "sent"
    FAILED = "failed"            # an outbound message refused for good; the operator is told
    BOUNCED = "bounced"          # accepted, then reported undeliverable by a DSN
    HELD = "held"                # a digest waiting for its time
    SCHEDULED = "scheduled"      # a timer waiting for its moment
    FIRED = "fired"              # a timer whose reminder or escalation was queued
    CANCELLED = "cancelled"      # a timer whose case moved on, or whose clock moved
    DIGESTED = "digested"        # a digest composed and queued


def first_stage(role: str) -> Stage:
    """Where a source's new rows start (DESIGN §4.6): only ``platform`` mail waits for the parse
    step; a ``service`` mailbox holds clients' tickets, a ``replies`` mailbox advisors' drafts and
    decisions; neither is ever read as a platform notice."""
    return {"platform": Stage.ARCHIVED, "service": Stage.TICKET}.get(role, Stage.RECEIVED)


class Step(Protocol):
    """The work that takes rows waiting at ``takes`` on to their next stage.

    Rows are of any mapped class with ``stage``, ``error``, ``failed_step`` and ``attempts``.
    A step with a ``working`` stage is worked in two transactions: its rows are first marked
    ``working`` (with ``claimed_by``/``claimed_until``) and committed, then each is prepared
    and its outcome committed at once. That is for work with effects outside the database
    (sending mail): a crash in between leaves the one row in hand visibly interrupted, and once
    its claim expires it is claimed again; rows done before it stay done.
    """

    name: ClassVar[str]
    takes: ClassVar[Stage]
    failed: ClassVar[Stage]
    working: ClassVar[Stage | None]
    wakes: ClassVar[tuple[Stage, ...]]  # stages of other rows the step fills (outbox)

    def claim(self, now: datetime) -> Select[Any]:
        """The rows ready for this step, oldest first."""

    def prepare(self, row: Any) -> Any:
        """The slow part, run outside the row's savepoint; raising fails the row."""

    def apply(self, session: Session, row: Any, result: Any) -> Stage:
        """Record ``result`` in the row's savepoint and return the row's next stage."""

    def reset(self, session: Session, row: Any) -> None:
        """Undo what an earlier failed run of this step left, before a replay."""


class Interrupted(Exception):
    """The step's work was cut short because the daemon is stopping: the batch is abandoned
    (nothing recorded, its rows stay where they were) rather than failed."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


class StepRunner:
    """Runs one step in batches; shared by the daemon's workers, ``--once`` and the tests."""

    def __init__(self, step: Step, sessions: sessionmaker[Session], bell: Bell | None = None,
                 batch: int = BATCH, owner: str = "maild", claim_seconds: float = 300.0,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.step = step
        self.sessions = sessions
        self.bell = bell or Bell()
        self.batch = batch
        self.owner = owner
        self.claim_seconds = claim_seconds
        self.clock = clock or (lambda: datetime.now(UTC))

    def run_batch(self) -> int:
        """Work up to one batch; returns how many rows were claimed (0: nothing waits)."""
        if self.step.working is not None:
            return self._run_marked()
        reached: set[str] = set(self.step.wakes)
        with self.sessions() as session, session.begin():
            rows = session.scalars(self.step.claim(self.clock()).limit(self.batch)
                                   .with_for_update(skip_locked=True)).all()
            if not rows:
                return 0
            results = [self._prepare(row) for row in rows]
            begin_write(session)
            for row, result in zip(rows, results, strict=True):
                reached.add(self._apply(session, row, result))
            self.bell.announce(session, reached)
        self.bell.ring(reached)
        return len(rows)

    def _run_marked(self) -> int:
        """Claim one row and mark it ``working`` (commit), then prepare and apply it (commit),
        up to a batch of rows. One at a time: a row is marked only just before its work, so a
        crash leaves at most the row really in hand ``working`` — the others of a batch were
        never tried and must not look interrupted (a platform reply that looks interrupted is
        held for the operator instead of being sent)."""
        reached: set[str] = set(self.step.wakes)
        done = 0
        while done < self.batch:
            now = self.clock()
            with self.sessions() as session, session.begin():
                row = session.scalars(self.step.claim(now).limit(1)
                                      .with_for_update(skip_locked=True)).first()
                if row is None:
                    break
                if row.stage == self.step.working:
                    log.warning("%s of %s %d was interrupted (claimed by %s); doing it again",
                                self.step.name, type(row).__name__.lower(), row.id,
                                row.claimed_by)
                    row.error = f"{INTERRUPTED} {self.step.name} by {row.claimed_by} did not finish"
                row.stage = self.step.working
                row.claimed_by = self.owner
                row.claimed_until = now + timedelta(seconds=self.claim_seconds)
                row.attempts = (row.attempts or 0) + 1
            done += 1
            result = self._prepare(row)
            with self.sessions() as session, session.begin():
                begin_write(session)
                current = session.get_one(type(row), row.id, with_for_update=True)
                if current.stage != self.step.working or current.claimed_by != self.owner:
                    # The work outlived the claim and another daemon took the row over: its
                    # outcome, not ours, is the row's (ours would overwrite what it decided).
                    log.error("%s of %s %d: the claim was lost to %s; this outcome is not "
                              "recorded", self.step.name, type(row).__name__.lower(), row.id,
                              current.claimed_by)
                    continue
                reached.add(self._apply(session, current, result))
                current.claimed_by = current.claimed_until = None
                self.bell.announce(session, reached)
        if done:
            self.bell.ring(reached)
        return done

    def drain(self) -> int:
        """Run batches until nothing is ready at the step's stage (``maild run --once``)."""
        total = 0
        while count := self.run_batch():
            total += count
        return total

    def _prepare(self, row: Any) -> Any:
        try:
            return self.step.prepare(row)
        except Interrupted:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded on the row by _apply
            return _Failure(exc)

    def _apply(self, session: Session, row: Any, result: Any) -> Stage:
        if not isinstance(result, _Failure):
            try:
                with session.begin_nested():
                    stage = self.step.apply(session, row, result)
                    row.stage = stage
            except Exception as exc:  # noqa: BLE001 - recorded on the row below
                if self.step.working is None and _transient(exc):
                    # A deadlock or serialisation failure between daemons (or steps) of a
                    # PostgreSQL fleet says nothing about the row: its savepoint is undone and
                    # the next batch does it again (a step with outside effects never gets here).
                    log.warning("%s of %s %d: %s; trying again", self.step.name,
                                type(row).__name__.lower(), row.id, type(exc).__name__)
                    return self.step.takes
                result = _Failure(exc)
            else:
                if stage == self.step.failed:
                    self._count_failure(row)
                return stage
        text = f"{type(result.error).__name__}: {result.error}"
        row.stage, row.error = self.step.failed, storable(text)
        self._count_failure(row)
        log.error("%s failed %s=%d error=%s", self.step.name, type(row).__name__.lower(),
                  row.id, text)
        return self.step.failed

    def _count_failure(self, row: Any) -> None:
        row.failed_step = self.step.name
        if self.step.working is None:  # marked steps count every attempt when claiming
            row.attempts = (row.attempts or 0) + 1


class StepWorker:
    """Runs a step in the daemon: drains its stage, then sleeps until the stage's bell rings
    (or ``poll_seconds`` pass, the safety net)."""

    def __init__(self, runner: StepRunner, stop: threading.Event, poll_seconds: float) -> None:
        self.runner = runner
        self.stop = stop
        self.poll_seconds = poll_seconds
        self.label = f"{runner.step.name}-stage"

    def run_once(self) -> int:
        return self.runner.drain()

    def run(self) -> None:
        wake = self.runner.bell.event(self.runner.step.takes)
        while not self.stop.is_set():
            wake.clear()  # before looking: a ring during the batch is then not lost
            try:
                if self.runner.run_batch():
                    continue
                wait = self._until_next_due()
            except Interrupted:
                if self.stop.is_set():
                    return
                raise
            except Exception:  # noqa: BLE001 - rows stay where they are and are retried
                log.exception("%s failed; retrying in %.0fs", self.label,
                              RETRY_AFTER_FAILURE_SECONDS)
                self.stop.wait(RETRY_AFTER_FAILURE_SECONDS)
                continue
            wake.wait(wait)

    def _until_next_due(self) -> float:
        """Seconds until the step's earliest scheduled row (a retry, a digest) is due, capped
        by the safety-net poll; steps without schedules just poll."""
        next_due = getattr(self.runner.step, "next_due", None)
        if next_due is None:
            return self.poll_seconds
        with self.runner.sessions() as session:
            due: datetime | None = next_due(session)
        if due is None:
            return self.poll_seconds
        left = (due - self.runner.clock()).total_seconds()
        return min(self.poll_seconds, max(0.05, left))


class MessageStep:
    """Base of the steps that work inbound message rows in one transaction (lock mode)."""

    name: ClassVar[str]
    takes: ClassVar[Stage]
    failed: ClassVar[Stage] = Stage.QUARANTINED
    working: ClassVar[Stage | None] = None
    wakes: ClassVar[tuple[Stage, ...]] = ()

    def claim(self, now: datetime) -> Select[Any]:
        return select(Message).where(Message.stage == self.takes).order_by(Message.id)

    def reset(self, session: Session, row: Any) -> None:
        """Nothing to undo unless the step says otherwise."""


class RequeueError(Exception):
    """Some named rows are not quarantined by the step: nothing was requeued."""


def requeue(sessions: sessionmaker[Session], step: MessageStep, actor: str,
            ids: Sequence[int] = (), bell: Bell | None = None) -> int:
    """Send rows quarantined by ``step`` back to it (all of them, or exactly ``ids``).

    A named row that this step did not quarantine (already worked on further, or failed
    elsewhere) is refused, so a replay never redoes work a later step built on. The replay is
    audited and wakes the step.
    """
    query = select(Message).where(Message.stage == Stage.QUARANTINED,
                                  Message.failed_step == step.name)
    if ids:
        query = query.where(Message.id.in_(ids))
    with sessions.begin() as session:
        rows = session.scalars(query.order_by(Message.id)).all()
        missing = sorted(set(ids) - {row.id for row in rows})
        if missing:
            raise RequeueError(f"message(s) {', '.join(map(str, missing))} are not quarantined "
                               f"by the {step.name} step; nothing requeued")
        for row in rows:
            step.reset(session, row)
            row.stage, row.error = step.takes, None
        if rows:
            AuditLog(session).record(actor, "requeued", f"{len(rows)} message(s)",
                                     step=step.name, ids=[row.id for row in rows])
            if bell is not None:
                bell.announce(session, step.takes)
    if rows and bell is not None:
        bell.ring(step.takes)
    return len(rows)


# PostgreSQL's "try the transaction again" errors: serialization_failure, deadlock_detected.
TRANSIENT_SQLSTATES = ("40001", "40P01")


def _transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a database error that only says "run it again" (SQLSTATE class 40)."""
    cause = getattr(exc, "orig", None)
    return getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES
