"""Test support: real servers on loopback (Dovecot, Postfix, an SMTP sink, PostgreSQL), CLI helpers.

The fixtures in ``tests/conftest.py`` wrap these; import from here for types and helpers::

    from tests.support import DovecotServer, PostfixServer, SmtpSink, free_port, run_maild
"""

from .cli import REPO_ROOT, maild_command, run_maild, spawn_maild
from .db import PostgresDatabase, PostgresUnavailable
from .dovecot import DovecotError, DovecotServer
from .net import LOOPBACK, free_port, port_open, wait_for_port
from .postfix import Accepted, PostfixError, PostfixServer, submit, with_message_id
from .smtp import ReceivedMail, Rejection, SmtpSink

__all__ = [
    "LOOPBACK",
    "REPO_ROOT",
    "Accepted",
    "DovecotError",
    "DovecotServer",
    "PostfixError",
    "PostfixServer",
    "PostgresDatabase",
    "PostgresUnavailable",
    "ReceivedMail",
    "Rejection",
    "SmtpSink",
    "free_port",
    "maild_command",
    "port_open",
    "run_maild",
    "spawn_maild",
    "submit",
    "wait_for_port",
    "with_message_id",
]
