"""The step runner on a database's "run it again" errors: a deadlock between daemons of a
PostgreSQL fleet (SQLSTATE 40P01; bench/fleet.py met them in the route step) leaves the row
where it was for the next batch; any other error quarantines it as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import psycopg.errors
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.db import make_engine, session_factory, upgrade
from maild.ingest import Incoming, Ingestor
from maild.models import Message
from maild.stages import MessageStep, Stage, StepRunner
from tests.ingestion.conftest import notice


class Flaky(MessageStep):
    """Fails its first ``failures`` applies with ``error``, then parses (moves rows on)."""

    name: ClassVar[str] = "flaky"
    takes: ClassVar[Stage] = Stage.ARCHIVED

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures = error, failures

    def prepare(self, row: Any) -> None:
        """Nothing to read."""

    def apply(self, session: Session, row: Message, result: None) -> Stage:
        if self.failures:
            self.failures -= 1
            row.error = "half done"  # undone with the savepoint
            raise self.error
        return Stage.PARSED


def deadlock() -> OperationalError:
    return OperationalError("UPDATE timer ...", {}, psycopg.errors.DeadlockDetected(
        "deadlock detected"))


def stages_after(tmp_path: Path, sqlite_url: str, step: Flaky, batches: int) -> list[str]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        sessions = session_factory(engine)
        Ingestor(RawStore(tmp_path / "archive"), sessions, actor="test").ingest(
            [Incoming(raw=notice(1), origin="test:1")])
        runner = StepRunner(step, sessions)
        for _ in range(batches):
            runner.run_batch()
        with sessions() as session:
            return [f"{m.stage}:{m.error}" for m in session.scalars(select(Message))]
    finally:
        engine.dispose()


def test_a_deadlock_leaves_the_row_for_the_next_batch(tmp_path: Path, sqlite_url: str) -> None:
    """GIVEN a step whose first apply meets a deadlock WHEN two batches run THEN the first
    leaves the row at its stage with nothing of the failed work kept, the second moves it on."""
    assert stages_after(tmp_path, sqlite_url, Flaky(deadlock(), 1), 1) == ["archived:None"]


def test_after_the_deadlock_the_next_batch_does_the_work(tmp_path: Path,
                                                         sqlite_url: str) -> None:
    assert stages_after(tmp_path, sqlite_url, Flaky(deadlock(), 1), 2) == ["parsed:None"]


def test_any_other_database_error_still_quarantines(tmp_path: Path, sqlite_url: str) -> None:
    """GIVEN an OperationalError that is not transient (a disk I/O error) WHEN the batch runs
    THEN the row is quarantined with the error, as every failure is."""
    error = OperationalError("INSERT ...", {}, psycopg.errors.DiskFull("no space left"))
    (found,) = stages_after(tmp_path, sqlite_url, Flaky(error, 1), 1)
    assert found.startswith("quarantined:OperationalError")
