"""`[http]`: where ``maild run`` serves /metrics, /healthz and the advisors' board, and the
thresholds its health checks (and the stale-mailbox watch, and ``maild status``) apply.

Loopback by default (``127.0.0.1:9310``): only this machine can read the figures. Bound anywhere
else, the page shows client names and case subjects, so a bearer token is required
(``token_env`` or ``token_file``, read when the server starts, never stored) and a config
without one is refused at load with the key named. ``listen = ""`` or ``enabled = false``
turns the server off; the thresholds still apply to the watch and to ``maild status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from maild.config_table import Secret, Table, is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9310
DEFAULT_STALE_MINUTES = 15.0
DEFAULT_OUTBOX_MINUTES = 30.0
DEFAULT_REFRESH_SECONDS = 60


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP server's address (``host`` None: not served), its token, and the health
    thresholds."""

    host: str | None = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: Secret | None = None
    stale_mailbox: timedelta = timedelta(minutes=DEFAULT_STALE_MINUTES)
    outbox_max_age: timedelta = timedelta(minutes=DEFAULT_OUTBOX_MINUTES)
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS  # the board reloads itself this often

    @property
    def served(self) -> bool:
        return self.host is not None

    @property
    def listen(self) -> str:
        """``host:port`` as configured (IPv6 in brackets), for log lines."""
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_http(table: Table | None) -> HttpSettings:
    """Validate ``[http]``; absent, the defaults (served on loopback, no token)."""
    if table is None:
        return HttpSettings()
    enabled: bool = table.get("enabled", bool, True)
    listen: str = table.get("listen", str, f"{DEFAULT_HOST}:{DEFAULT_PORT}").strip()
    host, port = _address(table, listen) if enabled and listen else (None, DEFAULT_PORT)
    token = table.secret("token")
    if host is not None and token is None and not is_loopback(host):
        raise table.fail("token_env", f"is required (or token_file) when listen is not a "
                                      f"loopback address ({listen!r}): the board shows "
                                      f"clients' cases")
    settings = HttpSettings(
        host=host, port=port, token=token,
        stale_mailbox=timedelta(minutes=_minutes(table, "stale_mailbox_minutes",
                                                 DEFAULT_STALE_MINUTES)),
        outbox_max_age=timedelta(minutes=_minutes(table, "outbox_max_age_minutes",
                                                  DEFAULT_OUTBOX_MINUTES)),
        refresh_seconds=table.positive("refresh_seconds", DEFAULT_REFRESH_SECONDS))
    table.check_unknown()
    return settings


def _address(table: Table, listen: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``."""
    host, colon, port = listen.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise table.fail("listen", f"must be host:port, like 127.0.0.1:9310 or [::1]:9310, "
                                   f"not {listen!r}")
    return host, int(port)


def _minutes(table: Table, key: str, default: float) -> float:
    value: float = table.get(key, float, default)
    if value <= 0:
        raise table.fail(key, f"must be a number of minutes above 0, not {value:g}")
    return value
