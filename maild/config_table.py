"""Typed reads from one TOML table, whose every error names the file and the key.

The config modules (`config`, `config_smtp`, `config_clients`) validate through this reader so
that a wrong type, an empty name, a non-finite number or a typo is refused at load time with
one line such as ``maild.toml: imap[0].port: must be an integer, not a string`` (CLI exit 2),
instead of failing later, far from the key. It also holds `Secret`, the reference to a
password or key that is read only at the moment of use.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from maild.errors import ConfigError

# What TOML calls each Python type a decoded document can hold, with its article.
_TYPE_WORDS: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
    dt.datetime: "a date-time",
    dt.date: "a date",
    dt.time: "a time",
}
# An address as maild sends to and matches on: one @, no spaces or brackets, dotted domain.
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_ADDRESS = re.compile(rf"[^@\s<>()\[\],;:\"\\]+@{_LABEL}(?:\.{_LABEL})*")


def describe(value: object) -> str:
    """'an integer', 'a string' ... for a decoded TOML value, as an error message says it."""
    for kind, words in _TYPE_WORDS.items():
        if isinstance(value, kind):
            return words
    return type(value).__name__


@dataclass(frozen=True)
class Secret:
    """Where a secret lives; ``reveal()`` reads it at the moment of use, and the repr names
    only the place (environment variable, file, or "command"), never the value."""

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


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges 127.0.0.0/8 and ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(base: Path, value: str) -> Path:
    """A path from the config: ``~`` expanded, relative paths anchored at ``base``."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def bare_address(value: str) -> str | None:
    """The lower-cased ``local@domain`` when ``value`` is exactly one plain address."""
    value = value.strip()
    return value.lower() if _ADDRESS.fullmatch(value) else None


def plain_of(value: str) -> str | None:
    """The lower-cased bare address of ``Name <local@domain>`` or ``local@domain``; None unless
    ``value`` holds exactly one valid address."""
    found = getaddresses([value])
    return bare_address(found[0][1]) if len(found) == 1 else None


class Table:
    """Typed reads from one TOML table; ``where`` is the key path to it (``"imap[0]."``)."""

    def __init__(self, data: dict[str, Any], where: str, file: str, base: Path) -> None:
        self.data = data
        self.where = where
        self.file = file
        self.base = base
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self.where}{key}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        """The value of ``key`` if it is of ``kind`` (``float`` accepts any finite number;
        a boolean is never taken for a number); ``default`` when absent, else required."""
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(key, f"must be a number, not {describe(value)}")
            if not math.isfinite(value):
                raise self.fail(key, f"must be a finite number, not {value}")
            return float(value)
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise self.fail(key, f"must be {_TYPE_WORDS[kind]}, not {describe(value)}")
        return value

    def string(self, key: str, default: Any = ...) -> Any:
        """A string with something in it (an empty name or path is always a mistake)."""
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def strings(self, key: str, default: Any = ..., *, allow_empty: bool = False) -> Any:
        """A list of non-empty strings, as a tuple; ``default`` when absent."""
        if key not in self.data:
            return self.get(key, list, default)
        value = self.get(key, list)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{i}]", f"must be a string, not {describe(item)}")
            if not item.strip():
                raise self.fail(f"{key}[{i}]", "must not be empty")
        if not value and not allow_empty:
            raise self.fail(key, "must not be an empty list")
        return tuple(value)

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not None and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def positive(self, key: str, default: int) -> int:
        value: int = self.get(key, int, default)
        if value <= 0:
            raise self.fail(key, f"must be a positive integer, not {value}")
        return value

    def seconds(self, key: str, default: float) -> float:
        """A duration in seconds: a finite number above zero."""
        value: float = self.get(key, float, default)
        if value <= 0:
            raise self.fail(key, f"must be a number of seconds above 0, not {value:g}")
        return value

    def port(self, key: str, default: int) -> int:
        value: int = self.get(key, int, default)
        if not 0 < value < 65536:
            raise self.fail(key, f"must be 1-65535, not {value}")
        return value

    def path(self, key: str, default: Any = ...) -> Any:
        value = self.string(key, default)
        return resolve(self.base, value) if isinstance(value, str) else value

    def existing_file(self, key: str) -> Path | None:
        """An optional path to a file that must exist now (a CA bundle, not a secret)."""
        path: Path | None = self.path(key, None)
        if path is not None and not path.is_file():
            raise self.fail(key, f"no such file: {path}")
        return path

    def address(self, key: str, value: str, *, display: bool = False) -> str:
        """Check one address; ``display`` also allows ``Name <local@domain>``. Returns the bare
        address lower-cased, or with ``display`` the value as written."""
        if display:
            if plain_of(value) is not None:
                return value.strip()
        elif (bare := bare_address(value)) is not None:
            return bare
        form = ("an address (Name <local@domain> or local@domain)" if display
                else "one plain address (local@domain)")
        raise self.fail(key, f"must be {form}, not {value!r}")

    def addresses(self, key: str, default: Any = ..., *, display: bool = True) -> Any:
        """A non-empty list of addresses, as a tuple; an address listed twice is refused."""
        if key not in self.data:
            return self.strings(key, default)
        checked = tuple(self.address(f"{key}[{i}]", v, display=display)
                        for i, v in enumerate(self.strings(key)))
        plain = [plain_of(v) for v in checked]
        for i, address in enumerate(plain):
            if address in plain[:i]:
                raise self.fail(f"{key}[{i}]", f"{address} is listed twice")
        return checked

    def table(self, key: str, *, required: bool = False) -> Table | None:
        """The sub-table ``[key]``, or None when absent and not required."""
        value = self.get(key, dict, ... if required else None)
        return None if value is None else Table(value, f"{self.where}{key}.", self.file,
                                                self.base)

    def tables(self, key: str) -> list[Table]:
        """The array of tables ``[[key]]`` (empty when absent), each element checked to be a
        table (``imap = [1, 2]`` is refused, not a traceback)."""
        self.used.add(key)
        value = self.data.get(key, [])
        if isinstance(value, dict):
            raise self.fail(key, f"must be an array of tables: write [[{self.where}{key}]], "
                                 f"not [{self.where}{key}]")
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of tables ([[{key}]]), not {describe(value)}")
        result = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", f"must be a table ([[{key}]]), not {describe(item)}")
            result.append(Table(item, f"{self.where}{key}[{i}].", self.file, self.base))
        return result

    def secret(self, prefix: str, *, command: bool = False) -> Secret | None:
        """The secret named by ``<prefix>_env`` or ``<prefix>_file`` (or ``_command`` where
        allowed); at most one may be set; nothing is read now."""
        env = self.string(f"{prefix}_env", None)
        file = self.path(f"{prefix}_file", None)
        run = self.string(f"{prefix}_command", None) if command else None
        given = [v for v in (env, file, run) if v is not None]
        if len(given) > 1:
            sources = "_env, _file, _command" if command else "_env, _file"
            raise self.fail(f"{prefix}_*", f"give only one of {sources}")
        if not given:
            return None
        return Secret(env=env, file=file, command=run)

    def check_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (typo?)")


def read_toml(path: Path) -> dict[str, Any]:
    """Decode one TOML file; every failure is a ConfigError naming the file (and the line)."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from exc
    try:
        return tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
