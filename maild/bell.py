"""Wake-ups between stages: a commit that moves rows to a stage rings that stage's bell.

Every step of the pipeline waits for rows at one stage (DESIGN §4.5). Instead of polling the
database, a step sleeps on the bell of its stage and whoever commits rows there rings it:
- in process, through a ``threading.Event`` per stage;
- across daemons sharing PostgreSQL, through ``NOTIFY`` sent inside the committing transaction
  (PostgreSQL delivers it only when, and only if, that transaction commits) and a listener
  thread per daemon that ``LISTEN``s and rings the local bells.
A slow poll stays as the safety net (a daemon that was away, a notification lost with a
dropped listener connection): steps also wake every ``stage_poll_seconds``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("maild.bell")

CHANNEL = "maild_stage"
LISTEN_TIMEOUT_SECONDS = 1.0
RECONNECT_SECONDS = 5.0


class Bell:
    """One event per stage name; ``ring`` wakes whoever waits on that stage in this process."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def event(self, stage: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(stage, threading.Event())

    def ring(self, stages: str | Iterable[str]) -> None:
        for stage in [stages] if isinstance(stages, str) else stages:
            self.event(stage).set()

    def ring_all(self) -> None:
        """Wake every waiting step (shutdown, or notifications may have been missed)."""
        with self._lock:
            events = list(self._events.values())
        for event in events:
            event.set()

    def announce(self, session: Session, stages: str | Iterable[str]) -> None:
        """Tell the other daemons of a PostgreSQL fleet, as part of the caller's transaction.

        The local ring is the caller's to do after the commit; on SQLite (one daemon per file)
        there is nobody else to tell.
        """
        if session.get_bind().dialect.name != "postgresql":
            return
        for stage in {stages} if isinstance(stages, str) else set(stages):
            session.execute(text("SELECT pg_notify(:channel, :stage)"),
                            {"channel": CHANNEL, "stage": stage})


def libpq_conninfo(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it (``postgresql+psycopg://`` -> libpq)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class NotifyListener:
    """LISTENs on its own connection and rings the local bells for every stage notified.

    After each (re)connect it rings every bell once, since anything notified while it was not
    listening is lost. The password in the URL is never logged.
    """

    label = "notify-listener"

    def __init__(self, url: str, bell: Bell, stop: threading.Event) -> None:
        self.conninfo = libpq_conninfo(url)
        self.bell = bell
        self.stop = stop

    def run(self) -> None:
        import psycopg

        while not self.stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    log.info("listening for stage notifications channel=%s", CHANNEL)
                    self.bell.ring_all()
                    while not self.stop.is_set():
                        for note in connection.notifies(timeout=LISTEN_TIMEOUT_SECONDS):
                            self.bell.ring(note.payload)
            except psycopg.Error as exc:
                log.warning("notify listener lost its connection (%s); reconnecting in %.0fs",
                            type(exc).__name__, RECONNECT_SECONDS)
                self.stop.wait(RECONNECT_SECONDS)
