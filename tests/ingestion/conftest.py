"""Fixtures of the ingestion tests: a migrated store on SQLite or PostgreSQL, and config files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from maild.db import make_engine, session_factory, upgrade
from tests.support import DovecotServer


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """An empty database (SQLite, then PostgreSQL) brought to the newest schema."""
    upgrade(db_url)
    return db_url


@pytest.fixture
def migrated_sessions(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a maild TOML config into ``tmp_path``; ``body`` holds the source tables."""

    def write(body: str, *, database: str | None = None, name: str = "maild.toml") -> Path:
        database = database or f"sqlite:///{tmp_path / 'maild.sqlite3'}"
        path = tmp_path / name
        path.write_text(
            f'[maild]\ndatabase = "{database}"\narchive_dir = "{tmp_path / "archive"}"\n'
            f'log_level = "DEBUG"\n\n{body}', encoding="utf-8")
        return path

    return write


IMAP_PASSWORD_ENV = "MAILD_TEST_IMAP_PASSWORD"


def imap_table(server: DovecotServer, *, name: str = "platform",
               folders: tuple[str, ...] = ("INBOX",), extra: str = "") -> str:
    """A ``[[imap]]`` table for a test Dovecot; the password comes from IMAP_PASSWORD_ENV."""
    folder_list = ", ".join(f'"{f}"' for f in folders)
    return (f'[[imap]]\nname = "{name}"\nhost = "127.0.0.1"\nport = {server.port}\n'
            f'tls = "plain"\nusername = "{server.user}"\n'
            f'password_env = "{IMAP_PASSWORD_ENV}"\nfolders = [{folder_list}]\n'
            f'reconnect_min_seconds = 0.2\nreconnect_max_seconds = 1.0\n{extra}\n')


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds pass; returns its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def notice(i: int, *, size: int = 0, subject: str = "Account Health warning") -> bytes:
    """A distinct, realistic-looking platform notice; ``size`` pads the body to that many bytes."""
    body = (f"Hello,\r\n\r\nYour listing ASIN B0{i:08d} was flagged (notice {i}).\r\n"
            "Please respond within 72 hours.\r\n")
    if size > len(body):
        body += ("x" * 76 + "\r\n") * ((size - len(body)) // 78)
    return (f"From: Amazon Seller Performance <seller-performance@amazon.com>\r\n"
            f"To: seller@example-shop.cn\r\nSubject: {subject} {i}\r\n"
            f"Date: Tue, 10 Mar 2026 08:{i % 60:02d}:00 +0000\r\n"
            f"Message-ID: <notice-{i}@amazon.com>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()
