"""Schema upgrades are serialised: commands started together on a fresh database all succeed."""

from __future__ import annotations

import fcntl
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from maild.db import alembic_config, current_revision, make_engine, migration_lock_path, upgrade
from tests.support import spawn_maild

CONCURRENT = 6


def test_commands_started_together_on_a_fresh_database_all_upgrade_it(
        db_url: str, write_config: Callable[..., Path]) -> None:
    """GIVEN a fresh database (SQLite, then PostgreSQL)
    WHEN six `maild db upgrade` and `maild status` processes start at the same time
    THEN every one exits 0 and the schema is at the newest revision."""
    config = write_config("", database=db_url)
    commands = [["db", "upgrade"], ["status"]] * (CONCURRENT // 2)
    procs = [spawn_maild(["--config", config, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE) for args in commands]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, err.decode(errors="replace")[-500:]))
    assert [code for code, _ in results] == [0] * CONCURRENT, results
    engine = make_engine(db_url)
    try:
        head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
        assert current_revision(engine) == head
    finally:
        engine.dispose()


def test_a_database_at_head_is_not_held_up_by_a_running_upgrade(sqlite_url: str) -> None:
    """GIVEN a database at the newest revision and another process holding the upgrade lock
    WHEN a command upgrades on start THEN it returns at once instead of waiting for the lock."""
    upgrade(sqlite_url)
    done = threading.Event()
    with open(migration_lock_path(make_url(sqlite_url).database or ""), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: (upgrade(sqlite_url), done.set()), daemon=True)
        worker.start()
        assert done.wait(10), "upgrade waited for the lock although nothing was to be done"
