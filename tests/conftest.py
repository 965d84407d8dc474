"""Shared fixtures: real servers on loopback and throw-away databases.

- ``dovecot`` / ``dovecot_module`` / ``dovecot_factory``: a private Dovecot IMAP+LMTP server
  (:class:`tests.support.DovecotServer`).
- ``postfix``: a private Postfix on a loopback SMTP port delivering ``@example.test`` into the
  ``dovecot`` of the same test over LMTP (:class:`tests.support.PostfixServer`).
- ``smtp_sink``: an aiosmtpd server that keeps what it gets and fails on request
  (:class:`tests.support.SmtpSink`).
- ``sqlite_url``, ``postgres_url`` and ``db_url`` (both, parametrized): empty databases.
- ``maild_process``: start ``maild`` in the background; whatever is still running is stopped.

- ``shared_corpora``: ``../shared/corpora`` (real-world ham, malformed and phishing mail).

A missing Dovecot or Postfix or a stopped PostgreSQL *fails* the tests that need them, with a
message that says what to do: ``./scripts/test.sh`` installs and starts them, and the suite exists
to prove the daemon against them. The shared corpora ship beside the repository, not in a clone:
without them their tests skip, except under CI (``CI=true``), where they must run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[1]
if str(_REPO_ROOT) not in sys.path:  # `tests.support` must import under any pytest entry point
    sys.path.insert(0, str(_REPO_ROOT))

from tests.support import (  # noqa: E402
    DovecotError,
    DovecotServer,
    PostfixError,
    PostfixServer,
    PostgresDatabase,
    PostgresUnavailable,
    SmtpSink,
    spawn_maild,
)

DOVECOT_FIXTURES = {"dovecot", "dovecot_module", "dovecot_factory"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they use, so ``-m "not postgres"`` and friends select well."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & DOVECOT_FIXTURES:
            item.add_marker(pytest.mark.dovecot)
        if "postgres_url" in names and "db_url" not in names:
            item.add_marker(pytest.mark.postgres)


# --------------------------------------------------------------------------- shared corpora

SHARED_CORPORA = _REPO_ROOT.parent / "shared" / "corpora"
SHARED_CORPUS_FOLDERS = ("ham", "malformed", "phishing")


def running_in_ci() -> bool:
    """True under CI, which sets ``CI=true`` (as GitHub Actions, GitLab and most others do)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def shared_corpora() -> Path:
    """``../shared/corpora`` with its ham, malformed and phishing folders.

    Absent in a plain clone: the test skips with the path it looked for. CI has the corpora, so
    there a missing folder fails the test instead: a skip would pass CI with the real-world mail
    never read.
    """
    missing = [name for name in SHARED_CORPUS_FOLDERS if not (SHARED_CORPORA / name).is_dir()]
    if missing:
        reason = (f"real-world corpora not found at {SHARED_CORPORA} (missing {', '.join(missing)}"
                  "; they ship beside the repository, not in a clone)")
        if running_in_ci():
            pytest.fail(f"{reason}; CI=true, where they must be present", pytrace=False)
        pytest.skip(reason)
    return SHARED_CORPORA


# --------------------------------------------------------------------------- Dovecot


def _started_dovecot(**kwargs: object) -> DovecotServer:
    try:
        server = DovecotServer(**kwargs)
    except DovecotError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    return server


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A running private Dovecot for this test only (user ``alice``; see ``DovecotServer``)."""
    server = _started_dovecot()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def dovecot_module() -> Iterator[DovecotServer]:
    """One Dovecot shared by the tests of a module: faster, but tests must use their own folders
    and must leave the server running."""
    server = _started_dovecot()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def dovecot_factory() -> Iterator[Callable[..., DovecotServer]]:
    """Start extra Dovecot servers: ``dovecot_factory(users={"bob": "pw"}, lmtp=False)``.

    Each call returns a running server; all are stopped and removed at teardown.
    """
    servers: list[DovecotServer] = []

    def make(**kwargs: object) -> DovecotServer:
        server = _started_dovecot(**kwargs)
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.close()


# --------------------------------------------------------------------------- Postfix


@pytest.fixture
def postfix(dovecot: DovecotServer) -> Iterator[PostfixServer]:
    """A running private Postfix whose ``send()`` delivers ``alice@example.test`` into
    ``dovecot`` (the same test's server) over LMTP, as a real MTA would."""
    if dovecot.lmtp_port is None:
        pytest.fail("the dovecot fixture has no LMTP listener", pytrace=False)
    try:
        server = PostfixServer(lmtp_port=dovecot.lmtp_port)
    except PostfixError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        server.start()
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- SMTP


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP sink on 127.0.0.1 (no AUTH); ``fail_next()`` injects failure replies."""
    with SmtpSink() as sink:
        yield sink


# --------------------------------------------------------------------------- databases


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of a SQLite file (not yet created) in this test's ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'maild.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a new empty PostgreSQL database, dropped after the test.

    Fails (does not skip) when PostgreSQL on 127.0.0.1:5432 is down.
    """
    try:
        database = PostgresDatabase()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    with database:
        yield database.url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL, for storage tests."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


# --------------------------------------------------------------------------- maild subprocesses


@pytest.fixture
def maild_process() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``maild ARGS`` in the background: ``proc = maild_process(["run", "--config", c])``.

    Takes the arguments of :func:`tests.support.spawn_maild`. At teardown every process still
    running gets SIGTERM, then SIGKILL after 10 s, and is waited for.
    """
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        args: Sequence[str | os.PathLike[str]],
        env: Mapping[str, str] | None = None,
        **kwargs: object,
    ) -> subprocess.Popen[bytes]:
        proc = spawn_maild(args, env, **kwargs)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
