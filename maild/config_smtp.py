"""`[smtp]` and `[fallback]` (DESIGN §6): how maild sends, and who gets what matches no client.

Validated at load so that a send never fails on a key: the TLS mode and the loopback rule for
plain SMTP, AUTH only as a username with a password reference, From/Reply-To/operator addresses
well formed, and a Reply-To that carries the reply token. The password is a `Secret`, read when a
connection is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from maild.config_table import Secret, Table, is_loopback, plain_of, resolve

SMTP_TLS = ("implicit", "starttls", "plain")
DEFAULT_PORTS = {"implicit": 465, "starttls": 587, "plain": 25}
TOKEN = "{token}"
MAILDIR_TRANSPORT = "maildir:"


@dataclass(frozen=True)
class SmtpSettings:
    """How maild sends: through an SMTP server (aiosmtplib), or, when ``outbox_maildir`` is set
    (``transport = "maildir:PATH"``), into local Maildirs under it, one per recipient — the
    embedded default, with no server at all."""

    from_address: str
    reply_address: str
    operator: tuple[str, ...]
    host: str | None = None
    port: int = DEFAULT_PORTS["starttls"]
    tls: str = "starttls"
    username: str | None = None
    password: Secret | None = None
    outbox_maildir: Path | None = None
    timeout: float = 30.0
    ca_file: Path | None = None
    rate_limit_per_hour: int | None = None  # None: the outbox's default (RATE_LIMIT)

    def reply_to(self, token: str) -> str:
        """The Reply-To of a summary: ``reply_address`` with its ``{token}`` filled in."""
        return self.reply_address.replace(TOKEN, token)


def parse_smtp(table: Table) -> SmtpSettings:
    """Validate ``[smtp]``; host and TLS are optional only with a Maildir transport."""
    transport: str = table.string("transport", "smtp")
    outbox = None
    if transport.startswith(MAILDIR_TRANSPORT):
        folder = transport[len(MAILDIR_TRANSPORT):].strip()
        if not folder:
            raise table.fail("transport", "needs a folder: maildir:var/demo/outbox")
        outbox = resolve(table.base, folder)
    elif transport != "smtp":
        raise table.fail("transport", f"must be \"smtp\" or \"maildir:PATH\", not {transport!r}")
    if "password" in table.data:
        raise table.fail("password", "inline passwords are not accepted; use password_env "
                                     "or password_file")
    host: str | None = table.string("host", None if outbox else ...)
    tls: str = table.choice("tls", SMTP_TLS, "starttls")
    if tls == "plain" and host is not None and not is_loopback(host):
        raise table.fail("tls", f"'plain' is allowed only for loopback hosts, not {host!r}")
    username: str | None = table.string("username", None)
    password = table.secret("password")
    if username is not None and password is None:
        raise table.fail("password_env", "is required with username (or password_file)")
    if password is not None and username is None:
        raise table.fail("username", "is required when a password is given (no AUTH "
                                     "without a user)")
    settings = SmtpSettings(
        host=host, tls=tls, port=table.port("port", DEFAULT_PORTS[tls]),
        username=username, password=password,
        from_address=table.address("from", table.string("from"), display=True),
        reply_address=_reply_address(table),
        operator=table.addresses("operator"),
        outbox_maildir=outbox,
        timeout=table.seconds("timeout", 30.0),
        ca_file=table.existing_file("ca_file"),
        rate_limit_per_hour=_rate_limit(table),
    )
    table.check_unknown()
    return settings


def parse_account(table: Table, sender: str) -> SmtpSettings:
    """A store's own SMTP account (``[client.store.smtp]``): the connection keys of ``[smtp]``
    (host, port, tls, username, password_env/password_file, ca_file, timeout); replies through
    it go from ``sender``. It carries no Reply-To or operator: it sends platform replies only."""
    if "password" in table.data:
        raise table.fail("password", "inline passwords are not accepted; use password_env "
                                     "or password_file")
    host: str = table.string("host")
    tls: str = table.choice("tls", SMTP_TLS, "starttls")
    if tls == "plain" and not is_loopback(host):
        raise table.fail("tls", f"'plain' is allowed only for loopback hosts, not {host!r}")
    username: str | None = table.string("username", None)
    password = table.secret("password")
    if (username is None) != (password is None):
        raise table.fail("username" if username is None else "password_env",
                         "username and password_env (or password_file) go together")
    account = SmtpSettings(from_address=sender, reply_address="", operator=(), host=host,
                           tls=tls, port=table.port("port", DEFAULT_PORTS[tls]),
                           username=username, password=password,
                           timeout=table.seconds("timeout", 30.0),
                           ca_file=table.existing_file("ca_file"))
    table.check_unknown()
    return account


def _rate_limit(table: Table) -> int | None:
    """``rate_limit_per_hour``: messages to one recipient per hour before maild assumes a
    runaway (a mail loop) and stops; absent, the outbox's default."""
    value: int | None = table.get("rate_limit_per_hour", int, None)
    if value is not None and value <= 0:
        raise table.fail("rate_limit_per_hour", f"must be a positive integer, not {value}")
    return value


def _reply_address(table: Table) -> str:
    """``reply_address`` must hold ``{token}`` once, in the local part of a valid address."""
    value: str = table.string("reply_address")
    if value.count(TOKEN) != 1:
        raise table.fail("reply_address", f"must contain {TOKEN} exactly once, like "
                                          f"desk+{TOKEN}@advisor.example")
    plain = plain_of(value.replace(TOKEN, "t0ken"))
    if plain is None or "t0ken" not in plain.split("@")[0]:
        raise table.fail("reply_address", f"must be an address with {TOKEN} in its local "
                                          f"part, like desk+{TOKEN}@advisor.example, "
                                          f"not {value!r}")
    return value.strip()


def parse_fallback(table: Table | None) -> tuple[str, ...]:
    """``[fallback] to``: who gets notices that match no client, or several (never dropped)."""
    if table is None:
        return ()
    to: tuple[str, ...] = table.addresses("to")
    table.check_unknown()
    return to
