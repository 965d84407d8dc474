"""Mailbox leases: one daemon at a time works a mailbox, so a fleet sharing PostgreSQL scales
out and a dead node's mailboxes move on when its lease expires (DESIGN §5).

A lease is a row-level compare-and-set on ``mailbox.lease_owner``/``lease_expires``: taken when
free, expired or already ours, renewed while working, released on a clean stop. Correctness does
not rest on it — content dedup and the monotonic checkpoint already make a double fetch harmless —
it only keeps two daemons from doing the same work.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from maild.errors import SourceError
from maild.models import Mailbox

log = logging.getLogger("maild.lease")


class LeaseLost(SourceError):
    """Another daemon holds this mailbox now (ours expired while we were stalled)."""


def node_owner() -> str:
    """A name for this daemon process that is unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def dead_local_owner(owner: str) -> bool:
    """True when ``owner`` names a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease:
    """The lease of one mailbox row for one owner."""

    def __init__(self, sessions: sessionmaker[Session], mailbox_id: int, owner: str,
                 ttl: float) -> None:
        self.sessions = sessions
        self.mailbox_id = mailbox_id
        self.owner = owner
        self.ttl = ttl
        self._renewed = -ttl

    def acquire(self) -> bool:
        """Take or renew the lease; False when another live owner holds it.

        A lease left by a dead process on this same host (a daemon restarted after kill -9) is
        taken at once instead of after its expiry.
        """
        now = datetime.now(UTC)
        free = or_(Mailbox.lease_owner.is_(None), Mailbox.lease_owner == self.owner,
                   Mailbox.lease_expires < now)
        with self.sessions.begin() as session:
            holder = session.scalar(select(Mailbox.lease_owner)
                                    .where(Mailbox.id == self.mailbox_id))
            if holder is not None and dead_local_owner(holder):
                free = or_(free, Mailbox.lease_owner == holder)
            taken = session.execute(
                update(Mailbox).where(Mailbox.id == self.mailbox_id, free)
                .values(lease_owner=self.owner, lease_expires=now + timedelta(seconds=self.ttl))
                .execution_options(synchronize_session=False))
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            self._renewed = time.monotonic()
            return True
        return False

    def hold(self) -> None:
        """Renew when a third of the lease has passed; raise LeaseLost if it was taken."""
        if time.monotonic() - self._renewed >= self.ttl / 3 and not self.acquire():
            raise LeaseLost(f"mailbox {self.mailbox_id}: lease taken over by another daemon")

    def release(self) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Mailbox).where(Mailbox.id == self.mailbox_id,
                                      Mailbox.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires=None)
                .execution_options(synchronize_session=False))
        self._renewed = -self.ttl

    def release_safely(self) -> None:
        """Release on the way out; if the database is away the lease simply expires."""
        try:
            self.release()
        except SQLAlchemyError as exc:
            log.warning("lease of mailbox %d left to expire (database: %s)", self.mailbox_id,
                        type(exc).__name__)
