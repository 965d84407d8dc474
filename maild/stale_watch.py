"""The stale-mailbox watch: a mailbox with no successful sync for ``[http]
stale_mailbox_minutes`` raises one operator alert, so a dead fetcher never goes unnoticed.

A fetcher that dies, hangs or keeps failing to log in stops stamping its mailbox's
``last_sync``; /healthz and the board show it, and this watch tells the operator by mail. It
alerts once per stale spell: not again while an alert about the mailbox has been queued since
its last sync, and again when the mailbox goes stale after syncing once more. It decides from
the database, so in a fleet whichever daemon looks first alerts (the mailbox row is locked while
it decides) and the others see the alert.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.bell import Bell
from maild.config import Config
from maild.config_http import HttpSettings
from maild.health import MailboxHealth, mailbox_health
from maild.models import Mailbox
from maild.outbound.outbox import alert_operator
from maild.routing.compose import compose_operator_alert
from maild.stages import Stage

log = logging.getLogger("maild.health")

ACTOR = "maild:health"
CHECK_SECONDS = 60.0


class StaleMailboxWatch:
    """Looks for stale mailboxes every ``CHECK_SECONDS``; a daemon worker (``run``) that
    ``maild run --once`` runs once. A mailbox never synced counts from when the watch began."""

    label = "stale-mailbox-watch"

    def __init__(self, config: Config, settings: HttpSettings, store: RawStore,
                 sessions: sessionmaker[Session], stop: threading.Event, *,
                 bell: Bell | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.settings = settings
        self.store = store
        self.sessions = sessions
        self.stop = stop
        self.bell = bell or Bell()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.since = self.clock()
        self._logged: set[tuple[int, datetime | None]] = set()  # one log line per spell

    def run(self) -> None:
        while not self.stop.wait(CHECK_SECONDS):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - nothing to record it on; the next look retries
                log.exception("stale-mailbox watch failed; looking again in %.0fs",
                              CHECK_SECONDS)

    def run_once(self) -> int:
        """Alert about each stale mailbox not alerted about this spell; returns how many
        alerts were queued."""
        now = self.clock()
        queued = 0
        with self.sessions() as session, session.begin():
            stale = [box for box in mailbox_health(session, self.config,
                                                   self.settings.stale_mailbox, now, self.since)
                     if box.stale]
            for box in stale:
                # Locked so two daemons of a fleet do not both alert; a row its fetcher is
                # writing right now is alive enough to look at next time.
                if session.scalar(select(Mailbox.id).where(Mailbox.id == box.id)
                                  .with_for_update(skip_locked=True)) is None:
                    continue
                queued += self._alert(session, box, now)
            if queued:
                self.bell.announce(session, Stage.QUEUED)
        if queued:
            self.bell.ring(Stage.QUEUED)  # the send step goes at once
        return queued

    def _alert(self, session: Session, box: MailboxHealth, now: datetime) -> int:
        smtp = self.config.smtp
        if (box.id, box.last_sync) not in self._logged:
            self._logged.add((box.id, box.last_sync))
            log.error("stale mailbox=%s last_sync=%s last_error=%s", box.label,
                      box.last_sync.isoformat() if box.last_sync else "never", box.last_error)
        if smtp is None:
            return 0
        spell = now - (box.last_sync or self.since)
        details = {"mailbox": box.label,
                   "last sync": box.last_sync.isoformat() if box.last_sync else "never",
                   "stale after": f"{self.settings.stale_mailbox.total_seconds() / 60:g} min",
                   "last error": box.last_error or "-",
                   "daemon": box.leased_by or "-"}
        row = alert_operator(session, self.store, smtp.operator, smtp.from_address,
                             lambda message_id: compose_operator_alert(
                                 "stale_mailbox", details, from_address=smtp.from_address,
                                 to=list(smtp.operator), message_id=message_id, now=now),
                             label=f"stale-mailbox.{box.id}", now=now, actor=ACTOR,
                             once_per=spell)
        return int(row is not None)
