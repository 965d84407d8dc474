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
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.audit import AuditLog
from maild.bell import Bell
from maild.db import begin_write, storable
from maild.models import Message

log = logging.getLogger("maild.stages")

BATCH = 50
RETRY_AFTER_FAILURE_SECONDS = 5.0


class Stage(StrEnum):
    """Where a message row stands; each value names what has been done to it."""

    ARCHIVED = "archived"
    RECEIVED = "received"
    PARSED = "parsed"
    QUARANTINED = "quarantined"


def first_stage(role: str) -> Stage:
    """Where a source's new rows start (DESIGN §4.6): only ``platform`` mail waits for the parse
    step; mail of ``replies`` and ``service`` mailboxes (advisors' drafts, decisions, clients'
    tickets) is ``received``, kept for the intake of the reply path, never read as a notice."""
    return Stage.ARCHIVED if role == "platform" else Stage.RECEIVED


class Step(Protocol):
    """The work that takes rows waiting at ``takes`` on to their next stage."""

    name: ClassVar[str]
    takes: ClassVar[Stage]

    def prepare(self, message: Message) -> Any:
        """The slow part, run before the row's savepoint; raising quarantines the row."""

    def apply(self, session: Session, message: Message, result: Any) -> Stage:
        """Record ``result`` in the row's savepoint and return the row's next stage."""

    def reset(self, session: Session, message: Message) -> None:
        """Undo what an earlier failed run of this step left, before a replay."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


class StepRunner:
    """Runs one step in batches; shared by the daemon's workers, ``--once`` and the tests."""

    def __init__(self, step: Step, sessions: sessionmaker[Session], bell: Bell | None = None,
                 batch: int = BATCH) -> None:
        self.step = step
        self.sessions = sessions
        self.bell = bell or Bell()
        self.batch = batch

    def run_batch(self) -> int:
        """Work up to one batch; returns how many rows were claimed (0: nothing waits)."""
        reached: set[str] = set()
        with self.sessions() as session, session.begin():
            rows = session.scalars(
                select(Message).where(Message.stage == self.step.takes)
                .order_by(Message.id).limit(self.batch).with_for_update(skip_locked=True)).all()
            if not rows:
                return 0
            results = [self._prepare(row) for row in rows]
            begin_write(session)
            for row, result in zip(rows, results, strict=True):
                reached.add(self._apply(session, row, result))
            self.bell.announce(session, reached)
        self.bell.ring(reached)
        return len(rows)

    def drain(self) -> int:
        """Run batches until nothing waits at the step's stage (``maild run --once``)."""
        total = 0
        while count := self.run_batch():
            total += count
        return total

    def _prepare(self, row: Message) -> Any:
        try:
            return self.step.prepare(row)
        except Exception as exc:  # noqa: BLE001 - recorded on the row by _apply
            return _Failure(exc)

    def _apply(self, session: Session, row: Message, result: Any) -> Stage:
        if not isinstance(result, _Failure):
            try:
                with session.begin_nested():
                    stage = self.step.apply(session, row, result)
                    row.stage = stage
            except Exception as exc:  # noqa: BLE001 - recorded on the row below
                result = _Failure(exc)
            else:
                if stage == Stage.QUARANTINED:
                    self._count_failure(row)
                return stage
        text = f"{type(result.error).__name__}: {result.error}"
        row.stage, row.error = Stage.QUARANTINED, storable(text)
        self._count_failure(row)
        log.error("quarantined message=%d step=%s error=%s", row.id, self.step.name, text)
        return Stage.QUARANTINED

    def _count_failure(self, row: Message) -> None:
        row.failed_step = self.step.name
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
            except Exception:  # noqa: BLE001 - rows stay where they are and are retried
                log.exception("%s failed; retrying in %.0fs", self.label,
                              RETRY_AFTER_FAILURE_SECONDS)
                self.stop.wait(RETRY_AFTER_FAILURE_SECONDS)
                continue
            wake.wait(self.poll_seconds)


class RequeueError(Exception):
    """Some named rows are not quarantined by the step: nothing was requeued."""


def requeue(sessions: sessionmaker[Session], step: Step, actor: str,
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
