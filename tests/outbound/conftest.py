"""Fixtures of the sending tests: [smtp] settings for a test server, a private certificate."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maild.config_smtp import SmtpSettings
from tests.outbound.servers import make_certificate


def settings_for(port: int, **overrides: Any) -> SmtpSettings:
    """``[smtp]`` for a server on 127.0.0.1:``port``: plain SMTP (loopback) and a short timeout
    unless ``overrides`` say otherwise."""
    values: dict[str, Any] = {
        "from_address": "Advisor Desk <desk@advisor.example>",
        "reply_address": "desk+{token}@advisor.example",
        "operator": ("ops@advisor.example",),
        "host": "127.0.0.1", "port": port, "tls": "plain", "timeout": 5.0,
    }
    return SmtpSettings(**(values | overrides))


@pytest.fixture
def certificate() -> Iterator[tuple[Path, Path]]:
    """(certificate, key) of a self-signed certificate for 127.0.0.1, its own CA."""
    folder = Path(tempfile.mkdtemp(prefix="maild-smtp-tls-"))
    try:
        yield make_certificate(folder)
    finally:
        shutil.rmtree(folder)
