"""The real ``maild run`` process: crash safety, signals, reloads, isolation of failures.

These start the daemon as users do (``python maild.py run``) against a real Dovecot.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from maild.db import make_engine, session_factory, upgrade
from maild.models import AuditEvent, Message
from tests.support import DovecotServer, PostgresDatabase, run_maild

from .conftest import IMAP_PASSWORD_ENV, imap_table, notice, wait_until

Spawn = Callable[..., subprocess.Popen[bytes]]



def sessions_for(config: Path) -> sessionmaker[Session]:
    url = next(line.split('"')[1] for line in config.read_text().splitlines()
               if line.startswith("database"))
    upgrade(url)
    return session_factory(make_engine(url))


def archived(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Message.sha256)))


def output_of(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    return proc.stdout.read().decode("utf-8", "replace")


@pytest.mark.slow
def test_kill_9_mid_backfill_then_restart_archives_each_message_once(
        dovecot: DovecotServer, write_config: Callable[..., Path],
        maild_process: Spawn) -> None:
    """GIVEN 2,000 messages WHEN the daemon is killed -9 mid-backfill and run again
    THEN every message is archived exactly once: same count, same SHA-256 set."""
    raws = [notice(i, size=1500 + (i * 37) % 4000) for i in range(2000)]
    dovecot.append_many(raws)
    config = write_config(imap_table(dovecot, extra="batch_size = 25"))
    sessions = sessions_for(config)
    env = {IMAP_PASSWORD_ENV: dovecot.password}
    proc = maild_process(["--config", config, "run"], env, stdout=subprocess.DEVNULL)
    assert wait_until(lambda: len(archived(sessions)) >= 300, 60), "backfill did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    partial = len(archived(sessions))
    assert 300 <= partial < 2000, f"kill came too late to prove anything ({partial})"

    done = run_maild(["--config", config, "run", "--once"], env, timeout=180)
    assert done.returncode == 0, done.stderr
    hashes = archived(sessions)
    assert len(hashes) == 2000
    assert set(hashes) == {hashlib.sha256(r).hexdigest() for r in raws}
    with sessions() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "archived"))
    assert events == 2000
    assert run_maild(["--config", config, "archive", "verify"]).returncode == 0


def test_sigterm_exits_cleanly_and_logs_never_show_the_password(
        dovecot: DovecotServer, write_config: Callable[..., Path],
        maild_process: Spawn) -> None:
    """GIVEN a running daemon WHEN SIGTERM arrives THEN it logs out and exits 0, and no log
    line contains the mailbox password."""
    dovecot.append(notice(1))
    config = write_config(imap_table(dovecot))
    sessions = sessions_for(config)
    proc = maild_process(["--config", config, "run"], {IMAP_PASSWORD_ENV: dovecot.password})
    assert wait_until(lambda: len(archived(sessions)) == 1, 20)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    log = output_of(proc)
    assert "signal=SIGTERM stopping" in log and "stopped" in log
    assert dovecot.password not in log


def test_one_failing_mailbox_does_not_stop_another(
        dovecot: DovecotServer, write_config: Callable[..., Path],
        maild_process: Spawn) -> None:
    """GIVEN two accounts, one with a wrong password WHEN the daemon runs
    THEN the good one archives its mail and status shows the bad one's error."""
    dovecot.append(notice(1))
    good = imap_table(dovecot, name="good")
    bad = imap_table(dovecot, name="bad").replace(IMAP_PASSWORD_ENV, "MAILD_TEST_WRONG_PW")
    config = write_config(good + bad)
    sessions = sessions_for(config)
    env = {IMAP_PASSWORD_ENV: dovecot.password, "MAILD_TEST_WRONG_PW": "wrong-password"}
    proc = maild_process(["--config", config, "run"], env, stdout=subprocess.DEVNULL)
    assert wait_until(lambda: len(archived(sessions)) == 1, 20)

    def bad_error() -> bool:
        status = run_maild(["--config", config, "status", "--json"])
        rows = {row["mailbox"]: row for row in json.loads(status.stdout)}
        return bool(rows.get("bad/INBOX", {}).get("last_error"))

    assert wait_until(bad_error, 20, interval=0.5)
    rows = {r["mailbox"]: r for r in json.loads(
        run_maild(["--config", config, "status", "--json"]).stdout)}
    assert rows["good/INBOX"]["archived"] == 1 and rows["good/INBOX"]["last_error"] is None
    assert rows["good/INBOX"]["last_uid"] == 1
    assert str(proc.pid) in rows["good/INBOX"]["leased_by"]
    text = run_maild(["--config", config, "status"]).stdout
    assert "good/INBOX: last sync" in text and "1 archived" in text
    assert "wrong-password" not in json.dumps(rows)


def test_invalid_reload_keeps_running_config_and_valid_reload_applies(
        dovecot: DovecotServer, write_config: Callable[..., Path], tmp_path: Path,
        maild_process: Spawn) -> None:
    """GIVEN a running daemon WHEN its config file becomes invalid THEN it logs the error and
    keeps archiving; WHEN a valid config adds a folder THEN that folder is archived too."""
    dovecot.create_folder("Walmart")
    config = write_config(imap_table(dovecot))
    sessions = sessions_for(config)
    good_text = config.read_text()
    log_file = tmp_path / "daemon.log"
    with log_file.open("wb") as out:
        proc = maild_process(["--config", config, "run"], {IMAP_PASSWORD_ENV: dovecot.password},
                             stdout=out)
    dovecot.append(notice(1))
    assert wait_until(lambda: len(archived(sessions)) == 1, 20)

    config.write_text(good_text + "\n[[imap]]\nname = 1\n")
    proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "config reload rejected" in log_file.read_text(), 10)
    dovecot.append(notice(2))
    assert wait_until(lambda: len(archived(sessions)) == 2, 10), "old config stopped working"

    config.write_text(good_text.replace('folders = ["INBOX"]', 'folders = ["INBOX", "Walmart"]'))
    dovecot.append(notice(3), folder="Walmart")
    assert wait_until(lambda: len(archived(sessions)) == 3, 20), "new folder not watched"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    log = log_file.read_text()
    assert "config reload rejected" in log and "imap[1].name" in log
    assert "config reloaded" in log


def test_invalid_config_exits_2_with_file_and_key(write_config: Callable[..., Path]) -> None:
    """GIVEN a config with a bad value WHEN any command runs THEN exit 2 and one clear line."""
    config = write_config('[[imap]]\nname = "x"\nhost = "127.0.0.1"\ntls = "bogus"\n')
    result = run_maild(["--config", config, "status"])
    assert result.returncode == 2
    assert f"{config}: imap[0].tls: must be one of" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_json_logs_are_one_object_per_line(dovecot: DovecotServer, tmp_path: Path) -> None:
    """GIVEN log_format = "json" WHEN `run --once` archives mail THEN every stderr line is one
    JSON object with ts, level, logger and msg, and none holds the password."""
    dovecot.append(notice(1))
    config = tmp_path / "json.toml"
    config.write_text(f'[maild]\ndatabase = "sqlite:///{tmp_path}/m.db"\n'
                      f'archive_dir = "{tmp_path}/archive"\nlog_format = "json"\n\n'
                      + imap_table(dovecot))
    result = run_maild(["--config", config, "run", "--once"],
                       {IMAP_PASSWORD_ENV: dovecot.password})
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= set(e) for e in entries)
    assert any(e["logger"] == "maild.imap" and "archived" in e["msg"] for e in entries)
    assert dovecot.password not in result.stderr


@pytest.mark.slow
def test_daemon_survives_a_database_outage(
        dovecot: DovecotServer, write_config: Callable[..., Path],
        maild_process: Spawn) -> None:
    """GIVEN a daemon on PostgreSQL WHEN the database refuses connections for a while and mail
    arrives meanwhile THEN the daemon keeps running, and archives that mail once the database
    is back; nothing is lost or doubled."""
    with PostgresDatabase() as database:
        config = write_config(imap_table(dovecot), database=database.url)
        sessions = sessions_for(config)
        proc = maild_process(["--config", config, "run"], {IMAP_PASSWORD_ENV: dovecot.password},
                             stdout=subprocess.DEVNULL)
        dovecot.append(notice(1))
        assert wait_until(lambda: len(archived(sessions)) == 1, 20)
        sessions.kw["bind"].dispose()
        database.set_reachable(False)
        dovecot.append_many([notice(2), notice(3)])
        time.sleep(4)
        assert proc.poll() is None, "the daemon died with its database"
        database.set_reachable(True)
        assert wait_until(lambda: len(archived(sessions)) == 3, 40), "mail lost in the outage"
        assert sorted(archived(sessions)) == sorted(
            hashlib.sha256(notice(i)).hexdigest() for i in (1, 2, 3))
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        sessions.kw["bind"].dispose()


def test_unreachable_database_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    """GIVEN a config whose PostgreSQL database does not exist WHEN status runs THEN exit 1 and
    a single line naming the problem, no traceback."""
    config = tmp_path / "c.toml"
    config.write_text('[maild]\ndatabase = "postgresql+psycopg://postgres@127.0.0.1:5432/'
                      f'maild_no_such_db"\narchive_dir = "{tmp_path}/a"\n')
    result = run_maild(["--config", config, "status"])
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "OperationalError" in result.stderr and "maild_no_such_db" in result.stderr


CLIENT_FILE = """id = "{id}"
name = "Client {id}"
languages = ["zh", "en"]
timezone = "Asia/Shanghai"
calendar = "CN"
hours = "09:00-21:00"
sla = "standard"
decision_maker = "boss@{id}.example"
summary_to = ["ops@{id}.example"]
advisors = ["anna@advisor.example"]

[[store]]
platform = "amazon"
name = "{id} EU"
addresses = ["{id}@inbox.advisor.example"]
sender = "amazon@{id}.example"
"""


def test_clients_d_files_are_reloaded_without_restart_and_a_bad_one_keeps_the_old(
        write_config: Callable[..., Path], tmp_path: Path, maild_process: Spawn) -> None:
    """GIVEN a running daemon WHEN a client file appears in clients.d THEN the config is
    reloaded with no signal; WHEN a broken client file appears THEN the reload is rejected
    naming that file and key, and the daemon keeps running."""
    config = write_config("")
    clients = config.parent / "clients.d"
    clients.mkdir()
    log_file = tmp_path / "daemon.log"
    with log_file.open("wb") as out:
        proc = maild_process(["--config", config, "run"], stdout=out)
    assert wait_until(lambda: "started workers" in log_file.read_text(), 20)
    (clients / "acme.toml").write_text(CLIENT_FILE.format(id="acme"))
    assert wait_until(lambda: "config reloaded" in log_file.read_text(), 10), \
        log_file.read_text()
    (clients / "broken.toml").write_text(CLIENT_FILE.format(id="broken").replace(
        'timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'))
    assert wait_until(lambda: "config reload rejected" in log_file.read_text(), 10)
    rejected = next(line for line in log_file.read_text().splitlines()
                    if "config reload rejected" in line)
    assert "broken.toml" in rejected and "timezone" in rejected
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
