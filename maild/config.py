"""TOML configuration -> frozen, validated dataclasses; secrets are referenced, never stored.

A config names where secrets live (an environment variable, a file, a token command) and the
password is read only when a connection is opened, so it never lands in the database, in a
log line or in a repr. Every validation error names the file and the key, and the CLI turns it
into exit code 2.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maild.archive import SYNC_MODES, RawStore
from maild.errors import ConfigError

TLS_MODES = ("implicit", "starttls", "plain")
AFTER_ARCHIVE = ("keep", "flag", "move")
LOG_FORMATS = ("text", "json")
DEFAULT_DATABASE = "sqlite:///var/maild.db"


@dataclass(frozen=True)
class Secret:
    """Where a secret lives; ``reveal()`` reads it at the moment of use."""

    env: str | None = None
    file: Path | None = None
    command: str | None = None

    def reveal(self) -> str:
        """Read the secret now. Raises ConfigError naming the source (never the value)."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"environment variable {self.env} is not set or empty")
            return value
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read secret file {self.file}: {exc.strerror}") from exc
        if self.command is not None:
            try:
                done = subprocess.run(
                    shlex.split(self.command), capture_output=True, text=True, timeout=60,
                    check=True,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise ConfigError(f"token command failed: {self.command.split()[0]}") from exc
            return done.stdout.strip()
        raise ConfigError("no secret source configured")

    def __repr__(self) -> str:
        where = self.env or self.file or (self.command and "command")
        return f"Secret({where!s})"


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
    connect_timeout: float = 30.0
    reconnect_min_seconds: float = 1.0
    reconnect_max_seconds: float = 300.0
    ca_file: Path | None = None


@dataclass(frozen=True)
class MaildirSource:
    """A local Maildir (``kind="maildir"``) or plain drop folder (``"drop"``), watched with
    watchdog."""

    name: str
    path: Path
    kind: str = "maildir"


@dataclass(frozen=True)
class Config:
    """The whole validated configuration of one daemon."""

    path: Path | None
    database: str
    archive_dir: Path
    log_format: str = "text"
    log_level: str = "INFO"
    lease_seconds: int = 60
    archive_sync: str | None = None
    imap: tuple[ImapAccount, ...] = field(default_factory=tuple)
    maildirs: tuple[MaildirSource, ...] = field(default_factory=tuple)

    def raw_store(self) -> RawStore:
        return RawStore(self.archive_dir, self.archive_sync)

    def source_names(self) -> list[str]:
        return [a.name for a in self.imap] + [m.name for m in self.maildirs]


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges 127.0.0.0/8 and ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Table:
    """Typed reads from one TOML table, with errors that name the file and the key path."""

    def __init__(self, data: dict[str, Any], where: str, file: str) -> None:
        self.data = data
        self.where = where
        self.file = file
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self.where}{key}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is int or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be a {names}, not {type(value).__name__}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value: str = self.get(key, str, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def positive(self, key: str, default: int) -> int:
        value: int = self.get(key, int, default)
        if value <= 0:
            raise self.fail(key, f"must be positive, not {value}")
        return value

    def check_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (typo?)")


def _secret(table: _Table, prefix: str) -> Secret | None:
    """Read ``<prefix>_env`` / ``<prefix>_file`` / ``<prefix>_command``; at most one may be set."""
    env = table.get(f"{prefix}_env", str, None)
    file = table.get(f"{prefix}_file", str, None)
    command = table.get(f"{prefix}_command", str, None)
    given = [v for v in (env, file, command) if v is not None]
    if len(given) > 1:
        raise table.fail(f"{prefix}_*", "give only one of _env, _file, _command")
    if not given:
        return None
    return Secret(env=env, file=Path(file) if file else None, command=command)


def _imap_account(raw: dict[str, Any], index: int, file: str, base: Path) -> ImapAccount:
    table = _Table(raw, f"imap[{index}].", file)
    if "password" in raw:
        raise table.fail("password", "inline passwords are not accepted; use password_env "
                                     "or password_file")
    name = table.get("name", str)
    host = table.get("host", str)
    tls = table.choice("tls", TLS_MODES, "implicit")
    if tls == "plain" and not is_loopback(host):
        raise table.fail("tls", f"'plain' is allowed only for loopback hosts, not {host!r}")
    port = table.get("port", int, {"implicit": 993}.get(tls, 143))
    if not 0 < port < 65536:
        raise table.fail("port", f"must be 1-65535, not {port}")
    password = _secret(table, "password")
    oauth2 = None
    oauth_command = table.get("oauth2_token_command", str, None)
    if oauth_command is not None:
        oauth2 = Secret(command=oauth_command)
    if (password is None) == (oauth2 is None):
        raise table.fail("password_env", "set exactly one of password_env, password_file, "
                                         "oauth2_token_command")
    folders = table.get("folders", list, ["INBOX"])
    if not folders or not all(isinstance(f, str) and f for f in folders):
        raise table.fail("folders", "must be a non-empty list of folder names")
    after = table.choice("after_archive", AFTER_ARCHIVE, "keep")
    move_to = table.get("move_to", str, None)
    if after == "move" and not move_to:
        raise table.fail("move_to", "is required when after_archive = 'move'")
    renew = table.positive("idle_renew_seconds", 25 * 60)
    if renew >= 29 * 60:
        raise table.fail("idle_renew_seconds", "must be under 1740 (RFC 2177: re-issue IDLE "
                                               "before 29 minutes)")
    ca_file = table.get("ca_file", str, None)
    account = ImapAccount(
        name=name, host=host, port=port, tls=tls,
        ca_file=_resolve(base, ca_file) if ca_file else None,
        username=table.get("username", str),
        password=password, oauth2_token=oauth2, folders=tuple(folders),
        after_archive=after,
        flag_keyword=table.get("flag_keyword", str, "$MaildArchived"),
        move_to=move_to,
        batch_size=table.positive("batch_size", 200),
        batch_bytes=table.positive("batch_bytes", 32 * 1024 * 1024),
        idle_renew_seconds=renew,
        poll_seconds=table.positive("poll_seconds", 60),
        connect_timeout=float(table.get("connect_timeout", (int, float), 30.0)),
        reconnect_min_seconds=float(table.get("reconnect_min_seconds", (int, float), 1.0)),
        reconnect_max_seconds=float(table.get("reconnect_max_seconds", (int, float), 300.0)),
    )
    table.check_unknown()
    return account


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _database_url(value: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file's project directory."""
    prefix = "sqlite:///"
    if value.startswith(prefix) and not value.startswith(prefix + "/") and value != prefix:
        return prefix + str(_resolve(base, value[len(prefix):]))
    return value


def parse_config(data: dict[str, Any], *, path: Path | None, base: Path) -> Config:
    """Validate a decoded TOML document. Relative paths resolve against ``base``."""
    file = str(path) if path else "<config>"
    top = _Table(data, "", file)
    core = _Table(top.get("maild", dict, {}), "maild.", file)
    database = _database_url(core.get("database", str, DEFAULT_DATABASE), base)
    archive_dir = _resolve(base, core.get("archive_dir", str, "var/archive"))
    log_format = core.choice("log_format", LOG_FORMATS, "text")
    log_level = core.get("log_level", str, "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise core.fail("log_level", f"must be DEBUG, INFO, WARNING or ERROR, not {log_level}")
    lease_seconds = core.positive("lease_seconds", 60)
    archive_sync = core.get("archive_sync", str, None)
    if archive_sync is not None and archive_sync not in SYNC_MODES:
        raise core.fail("archive_sync", f"must be one of {', '.join(SYNC_MODES)}, "
                                        f"not {archive_sync!r}")
    core.check_unknown()
    accounts = tuple(
        _imap_account(raw, i, file, base) for i, raw in enumerate(top.get("imap", list, []))
    )
    maildirs = []
    for kind, key in (("maildir", "maildir"), ("drop", "dropfolder")):
        for i, raw in enumerate(top.get(key, list, [])):
            table = _Table(raw, f"{key}[{i}].", file)
            maildirs.append(MaildirSource(name=table.get("name", str),
                                          path=_resolve(base, table.get("path", str)),
                                          kind=kind))
            table.check_unknown()
    top.check_unknown()
    config = Config(path=path, database=database, archive_dir=archive_dir,
                    log_format=log_format, log_level=log_level, lease_seconds=lease_seconds,
                    archive_sync=archive_sync,
                    imap=accounts, maildirs=tuple(maildirs))
    names = config.source_names()
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"{file}: source name {duplicate!r} is used twice; names must be unique")
    return config


def load_config(path: Path | None) -> Config:
    """Load and validate a config file; ``None`` gives the embedded default (no sources).

    Relative paths in the file resolve against the directory that holds ``config/`` when the
    file lives there (the project layout), otherwise against the file's own directory.
    """
    if path is None:
        return parse_config({}, path=None, base=Path.cwd())
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from exc
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    folder = path.resolve().parent
    base = folder.parent if folder.name == "config" else folder
    return parse_config(data, path=path, base=base)
