"""TOML configuration -> frozen, validated dataclasses; secrets are referenced, never stored.

A config names where secrets live (an environment variable, a file, a token command) and each
is read only when it is used, so it never lands in the database, in a log line or in a repr.
Every validation error names the file and the key, and the CLI turns it into exit code 2.

This module holds the loader, `[maild]` and the mail sources (`[[imap]]`, `[[maildir]]`,
`[[dropfolder]]`); `config_smtp` validates `[smtp]` and `[fallback]`, `config_http` `[http]`,
`config_clients` the clients (`[[client]]` and the `clients.d/` folder beside the file),
`config_table` the typed reader they share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from maild.archive import SYNC_MODES, RawStore
from maild.config_clients import (
    CLIENTS_DIR,
    Client,
    clients_dir_files,
    load_clients_dir,
    parse_client,
)
from maild.config_http import HttpSettings, parse_http
from maild.config_smtp import SmtpSettings, parse_fallback, parse_smtp
from maild.config_table import Secret, Table, is_loopback, read_toml, resolve
from maild.errors import ConfigError
from maild.routing.calendar import DEFAULT_SLA_TIERS, SlaTier
from maild.routing.escalation_rules import Rule, rules_from

__all__ = ["Client", "Config", "ConfigError", "ImapAccount", "MaildirSource", "Secret",
           "SmtpSettings", "is_loopback", "load_config", "parse_config"]

TLS_MODES = ("implicit", "starttls", "plain")
AFTER_ARCHIVE = ("keep", "flag", "move")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# What a source's mail is (DESIGN §4.6): only platform mail is parsed as a platform notice.
ROLES = ("platform", "replies", "service")
DATABASE_BACKENDS = ("sqlite", "postgresql")
DEFAULT_DATABASE = "sqlite:///var/maild.db"
# An IMAP keyword is an atom (RFC 9051 flag-keyword); a leading backslash makes a system flag.
_FLAG = re.compile(r"\\?[^\x00-\x20\x7f(){%*\"\\\]]+")


@dataclass(frozen=True)
class ImapAccount:
    """One IMAP account and the folders maild watches in it."""

    name: str
    host: str
    port: int
    tls: str
    username: str
    password: Secret | None
    oauth2_token: Secret | None
    folders: tuple[str, ...]
    after_archive: str = "keep"
    flag_keyword: str = "$MaildArchived"
    move_to: str | None = None
    batch_size: int = 200
    batch_bytes: int = 32 * 1024 * 1024
    idle_renew_seconds: int = 25 * 60
    poll_seconds: int = 60
    keepalive_seconds: int = 120
    connect_timeout: float = 30.0
    reconnect_min_seconds: float = 1.0
    reconnect_max_seconds: float = 300.0
    ca_file: Path | None = None
    role: str = "platform"


@dataclass(frozen=True)
class MaildirSource:
    """A local Maildir (``kind="maildir"``) or plain drop folder (``"drop"``), watched with
    watchdog."""

    name: str
    path: Path
    kind: str = "maildir"
    role: str = "platform"


@dataclass(frozen=True)
class Config:
    """The whole validated configuration of one daemon."""

    path: Path | None
    database: str
    archive_dir: Path
    log_format: str = "text"
    log_level: str = "INFO"
    lease_seconds: int = 60
    stage_poll_seconds: float = 30.0
    parse_timeout_seconds: float = 30.0
    archive_sync: str | None = None
    secret: Secret | None = None
    # The authserv-id the receiving server writes in Authentication-Results (RFC 8601): with it,
    # only that server's verdicts count for replies, and a reply without one is refused.
    authserv_id: str | None = None
    imap: tuple[ImapAccount, ...] = field(default_factory=tuple)
    maildirs: tuple[MaildirSource, ...] = field(default_factory=tuple)
    smtp: SmtpSettings | None = None
    fallback: tuple[str, ...] = ()
    clients: tuple[Client, ...] = ()
    escalations: tuple[Rule, ...] = ()  # [[escalation]]: rules for every client
    sla_tiers: Mapping[str, SlaTier] = field(default_factory=lambda: dict(DEFAULT_SLA_TIERS))
    client_files: tuple[Path, ...] = ()
    http: HttpSettings = field(default_factory=HttpSettings)

    def raw_store(self) -> RawStore:
        return RawStore(self.archive_dir, self.archive_sync)

    def source_names(self) -> list[str]:
        return [a.name for a in self.imap] + [m.name for m in self.maildirs]

    def client(self, client_id: str) -> Client | None:
        """The client with this id, or None."""
        return next((c for c in self.clients if c.id == client_id), None)

    @property
    def clients_dir(self) -> Path | None:
        """The ``clients.d`` folder beside the config file (it may not exist yet)."""
        return self.path.parent / CLIENTS_DIR if self.path else None

    def config_files(self) -> tuple[Path, ...]:
        """Every file this config was loaded from: the main file, then the ``clients.d``
        files (``files_stamp`` also sees client files added since)."""
        return ((self.path,) if self.path else ()) + self.client_files

    def files_stamp(self) -> tuple[tuple[str, int | None], ...]:
        """What a reload watches, read now: the main file and every client file in
        ``clients_dir`` with its modification time, so an edited, added or removed client file
        changes the stamp as an edit of the main file does."""
        files = [self.path] if self.path else []
        if self.clients_dir is not None:
            try:
                files += clients_dir_files(self.clients_dir)
            except (ConfigError, OSError):  # not a folder, or going away: its own time tells
                files.append(self.clients_dir)
        return tuple((str(path), _mtime_ns(path)) for path in files)


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _imap_account(table: Table) -> ImapAccount:
    if "password" in table.data:
        raise table.fail("password", "inline passwords are not accepted; use password_env "
                                     "or password_file")
    name: str = table.string("name")
    host: str = table.string("host")
    tls: str = table.choice("tls", TLS_MODES, "implicit")
    if tls == "plain" and not is_loopback(host):
        raise table.fail("tls", f"'plain' is allowed only for loopback hosts, not {host!r}")
    password = table.secret("password", command=True)
    oauth_command = table.string("oauth2_token_command", None)
    oauth2 = Secret(command=oauth_command) if oauth_command is not None else None
    if (password is None) == (oauth2 is None):
        raise table.fail("password_env", "set exactly one of password_env, password_file, "
                                         "oauth2_token_command")
    folders = _folders(table)
    after: str = table.choice("after_archive", AFTER_ARCHIVE, "keep")
    move_to: str | None = table.string("move_to", None)
    if after == "move" and not move_to:
        raise table.fail("move_to", "is required when after_archive = 'move'")
    if after == "move" and _folder_key(move_to or "") in map(_folder_key, folders):
        raise table.fail("move_to", f"{move_to!r} is a watched folder: archived mail would "
                                    f"come back; move it elsewhere")
    flag: str = table.string("flag_keyword", "$MaildArchived")
    if not _FLAG.fullmatch(flag):
        raise table.fail("flag_keyword", f"must be one IMAP keyword (no spaces or "
                                         f"(){{%*\"\\]), not {flag!r}")
    renew = table.positive("idle_renew_seconds", 25 * 60)
    if renew >= 29 * 60:
        raise table.fail("idle_renew_seconds", "must be under 1740 (RFC 2177: re-issue IDLE "
                                               "before 29 minutes)")
    reconnect_min = table.seconds("reconnect_min_seconds", 1.0)
    reconnect_max = table.seconds("reconnect_max_seconds", 300.0)
    if reconnect_max < reconnect_min:
        raise table.fail("reconnect_max_seconds", f"must be at least reconnect_min_seconds "
                                                  f"({reconnect_min:g}), not {reconnect_max:g}")
    account = ImapAccount(
        name=name, host=host, tls=tls,
        port=table.port("port", {"implicit": 993}.get(tls, 143)),
        ca_file=table.existing_file("ca_file"),
        username=table.string("username"),
        password=password, oauth2_token=oauth2, folders=folders,
        after_archive=after, flag_keyword=flag, move_to=move_to,
        batch_size=table.positive("batch_size", 200),
        batch_bytes=table.positive("batch_bytes", 32 * 1024 * 1024),
        idle_renew_seconds=renew,
        poll_seconds=table.positive("poll_seconds", 60),
        keepalive_seconds=table.positive("keepalive_seconds", 120),
        connect_timeout=table.seconds("connect_timeout", 30.0),
        reconnect_min_seconds=reconnect_min,
        reconnect_max_seconds=reconnect_max,
        role=table.choice("role", ROLES, "platform"),
    )
    table.check_unknown()
    return account


def _folder_key(name: str) -> str:
    """INBOX is case-insensitive (RFC 9051 §5.1); every other folder name is not."""
    return "INBOX" if name.upper() == "INBOX" else name


def _folders(table: Table) -> tuple[str, ...]:
    folders: tuple[str, ...] = table.strings("folders", ("INBOX",))
    keys = [_folder_key(f) for f in folders]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise table.fail(f"folders[{i}]", f"{folders[i]!r} is listed twice")
    return folders


def _database_url(table: Table) -> str:
    """``maild.database``: a SQLAlchemy URL for SQLite or PostgreSQL whose driver loads now
    (a typo is exit 2 at load, not exit 1 at the first connection). A relative SQLite path
    is made relative to the config's project directory."""
    value: str = table.string("database", DEFAULT_DATABASE)
    example = "like sqlite:///var/maild.db or postgresql+psycopg://maild@127.0.0.1/maild"
    try:
        url = make_url(value)
    except ArgumentError:
        raise table.fail("database", f"is not a database URL ({example})") from None
    backend = url.get_backend_name()
    if backend not in DATABASE_BACKENDS:
        raise table.fail("database", f"maild runs on SQLite or PostgreSQL, not {backend!r} "
                                     f"({example})")
    try:
        url.get_dialect().import_dbapi()
    except ArgumentError:  # NoSuchModuleError: no such driver for the dialect
        raise table.fail("database", f"unknown database driver {url.drivername!r} "
                                     f"({example})") from None
    except ImportError as exc:
        raise table.fail("database", f"the driver of {url.drivername!r} is not installed "
                                     f"(no module {exc.name})") from None
    if backend == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:") and not Path(url.database).is_absolute():
        url = url.set(database=str(resolve(table.base, url.database)))
        return url.render_as_string(hide_password=False)
    return value


def _maild(table: Table) -> dict[str, Any]:
    """The keyword arguments of Config that ``[maild]`` gives."""
    log_level = table.string("log_level", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise table.fail("log_level", f"must be one of {', '.join(LOG_LEVELS)}, not {log_level}")
    values = {
        "database": _database_url(table),
        "archive_dir": table.path("archive_dir", "var/archive"),
        "log_format": table.choice("log_format", LOG_FORMATS, "text"),
        "log_level": log_level,
        "lease_seconds": table.positive("lease_seconds", 60),
        "stage_poll_seconds": table.seconds("stage_poll_seconds", 30.0),
        "parse_timeout_seconds": table.seconds("parse_timeout_seconds", 30.0),
        "archive_sync": table.choice("archive_sync", SYNC_MODES, None),
        "secret": table.secret("secret"),
        "authserv_id": table.string("authserv_id", None),
    }
    table.check_unknown()
    return values


def _sources(top: Table) -> tuple[tuple[ImapAccount, ...], tuple[MaildirSource, ...]]:
    """``[[imap]]``, ``[[maildir]]`` and ``[[dropfolder]]``; names unique across all of them
    (they key the mailbox rows), and no local folder watched twice."""
    accounts: list[ImapAccount] = []
    local: list[MaildirSource] = []
    seen: set[str] = set()
    for table in top.tables("imap"):
        accounts.append(_imap_account(table))
        _unique(table, accounts[-1].name, seen)
    for kind, key in (("maildir", "maildir"), ("drop", "dropfolder")):
        for table in top.tables(key):
            source = MaildirSource(name=table.string("name"), path=table.path("path"),
                                   kind=kind, role=table.choice("role", ROLES, "platform"))
            table.check_unknown()
            _unique(table, source.name, seen)
            if any(s.path == source.path for s in local):
                raise table.fail("path", f"{source.path} is already watched by another source")
            local.append(source)
    return tuple(accounts), tuple(local)


def _unique(table: Table, name: str, seen: set[str]) -> None:
    if name in seen:
        raise table.fail("name", f"{name!r} is the name of another source; names must be "
                                 f"unique")
    seen.add(name)


def _clients(top: Table, path: Path | None, tiers: Sequence[str]) -> tuple[Client, ...]:
    """``[[client]]`` of the main file, then one client per ``clients.d`` file; ids unique."""
    clients = [parse_client(table, path, tiers) for table in top.tables("client")]
    if path is not None:
        clients += load_clients_dir(path.parent / CLIENTS_DIR, top.base, tiers)
    for i, client in enumerate(clients):
        first = next((c for c in clients[:i] if c.id == client.id), None)
        if first is not None:
            raise ConfigError(f"{client.source or top.file}: id: client {client.id!r} is also "
                              f"defined in {first.source or top.file}; ids must be unique")
    return tuple(clients)


def parse_config(data: dict[str, Any], *, path: Path | None, base: Path) -> Config:
    """Validate a decoded TOML document. Relative paths resolve against ``base``; with a
    ``path``, the clients of the ``clients.d`` folder beside it are loaded too."""
    file = str(path) if path else "<config>"
    top = Table(data, "", file, base)
    core = top.table("maild") or Table({}, "maild.", file, base)
    values = _maild(core)
    smtp_table = top.table("smtp")
    smtp = parse_smtp(smtp_table) if smtp_table else None
    if smtp is not None and values["secret"] is None:
        raise core.fail("secret_env", "is required with [smtp] (or secret_file): it keys the "
                                      "HMAC of the reply tokens in reply_address")
    fallback = parse_fallback(top.table("fallback"))
    accounts, maildirs = _sources(top)
    tiers = _sla_tiers(top)
    clients = _clients(top, path, tuple(tiers))
    client_files = tuple(c.source for c in clients if c.source is not None and c.source != path)
    escalations = rules_from(top)
    http = parse_http(top.table("http"))
    top.check_unknown()
    return Config(path=path, imap=accounts, maildirs=maildirs, smtp=smtp, fallback=fallback,
                  clients=clients, client_files=client_files, escalations=escalations,
                  sla_tiers=tiers, http=http, **values)


def _sla_tiers(top: Table) -> dict[str, SlaTier]:
    """``[sla.NAME]`` tables (``hours``, ``counted_in = "calendar"|"service"``) over the
    defaults: standard = 48 calendar hours, expedited = 4 service hours."""
    tiers = dict(DEFAULT_SLA_TIERS)
    section = top.table("sla")
    if section is None:
        return tiers
    for name in list(section.data):
        tier = section.table(name, required=True)
        assert tier is not None
        counted_in = tier.choice("counted_in", ("calendar", "service"), "calendar")
        tiers[name] = SlaTier(timedelta(hours=tier.seconds("hours", 48.0)),
                              "service" if counted_in == "service" else "calendar")
        tier.check_unknown()
    return tiers


def load_config(path: Path | None) -> Config:
    """Load and validate a config file; ``None`` gives the embedded default (no sources).

    Relative paths in the file resolve against the directory that holds ``config/`` when the
    file lives there (the project layout), otherwise against the file's own directory.
    """
    if path is None:
        return parse_config({}, path=None, base=Path.cwd())
    data = read_toml(path)
    folder = path.resolve().parent
    base = folder.parent if folder.name == "config" else folder
    return parse_config(data, path=path, base=base)
