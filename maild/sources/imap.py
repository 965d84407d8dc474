"""IMAP source: one worker per watched folder, fetching above the checkpoint, then IDLE.

The loop per folder (RFC 3501, IDLE RFC 2177):
  connect -> SELECT (EXAMINE for ``keep``) -> adopt UIDVALIDITY -> fetch UIDs above the
  checkpoint in batches with ``BODY.PEEK[]`` -> archive + commit rows and checkpoint together ->
  only then flag or move on the server -> sync again at once if the server reported new mail
  (EXISTS) during the sync -> IDLE, ended for a liveness round trip every ``keepalive_seconds``
  (servers drop IDLE after 30 minutes anyway), or NOOP polling -> on new mail, sync again.
Any network or protocol error closes the connection, is recorded on the mailbox row and is
retried with exponential backoff and full jitter; one folder's failure never stops another's.
"""

from __future__ import annotations

import imaplib
import logging
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from imapclient import IMAPClient

from maild.audit import AuditLog
from maild.config import ImapAccount
from maild.ingest import BatchResult, Checkpoint, Incoming, Ingestor, batched
from maild.sources import checkpoints
from maild.sources.imap_client import (
    close_quietly,
    connect,
    peer_closed,
    reports_new_mail,
    take_mailbox_news,
)
from maild.sources.imap_fetch import fetch_messages, fetch_sizes
from maild.sources.lease import Lease, node_owner
from maild.stages import first_stage

log = logging.getLogger("maild.imap")

SIZE_CHUNK = 1000  # UIDs per size FETCH, keeping command lines short


def batches(sizes: dict[int, int], max_count: int, max_bytes: int) -> Iterator[list[int]]:
    """Group UIDs in ascending order so each FETCH stays under a count and a byte budget
    (``ingest.batched``: a message bigger than the budget is fetched alone)."""
    return batched(sorted(sizes), sizes.__getitem__, max_count, max_bytes)


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """Exponential backoff with full jitter: a random wait in [low, min(high, low * 2**n)]."""
    ceiling = min(high, low * (2 ** min(attempt, 30)))
    return random.uniform(low, max(low, ceiling))


@dataclass(frozen=True)
class _Archiving:
    """A fetched batch being archived and committed while the next batch is fetched."""

    uids: list[int]
    result: Future[BatchResult]


class FolderWorker:
    """Keeps one IMAP folder archived. ``run`` loops until ``stop`` is set."""

    def __init__(self, account: ImapAccount, folder: str, ingestor: Ingestor,
                 stop: threading.Event, *, owner: str | None = None,
                 lease_seconds: float = 60.0) -> None:
        self.account = account
        self.folder = folder
        self.ingestor = ingestor
        self.sessions = ingestor.sessions
        self.stop = stop
        self.label = f"{account.name}/{folder}"
        self.mailbox_id = checkpoints.get_or_create(self.sessions, account.name, folder).id
        self.lease = Lease(self.sessions, self.mailbox_id, owner or node_owner(), lease_seconds)
        self.client: IMAPClient | None = None
        self.unfetchable: str | None = None
        self.reconnects = 0  # failures that made the loop reconnect (maild_imap_reconnects)

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Sync, wait for news, sync again; reconnect with backoff after any failure."""
        attempt = 0
        standing_by = False
        while not self.stop.is_set():
            try:
                if self.client is None:
                    if not self.lease.acquire():
                        if not standing_by:
                            log.info("standing by mailbox=%s: leased by another daemon",
                                     self.label)
                        standing_by = True
                        self.stop.wait(self.lease.ttl / 3)
                        continue
                    standing_by = False
                    self.client = connect(self.account)
                    self._select()
                    log.info("connected mailbox=%s", self.label)
                self.sync_until_quiet()
                attempt = 0
                self.wait_for_news()
            except Exception as exc:  # noqa: BLE001 - recorded on the mailbox row, then retried
                self._fail(exc)
                attempt += 1
                self.reconnects += 1
                delay = backoff_delay(attempt, self.account.reconnect_min_seconds,
                                      self.account.reconnect_max_seconds)
                log.warning("reconnecting mailbox=%s in=%.1fs attempt=%d", self.label, delay,
                            attempt)
                self.stop.wait(delay)
        self.disconnect()
        self.lease.release_safely()

    def run_once(self) -> int:
        """One full sync and log out (``maild run --once``). Returns messages newly archived;
        a mailbox another daemon is working on is left to it."""
        if not self.lease.acquire():
            log.info("skipped mailbox=%s: leased by another daemon", self.label)
            return 0
        try:
            self.client = connect(self.account)
            self._select()
            return self.sync()
        except Exception as exc:
            self._fail(exc)
            raise
        finally:
            self.disconnect()
            self.lease.release_safely()

    def disconnect(self) -> None:
        if self.client is not None:
            close_quietly(self.client)
            self.client = None

    def _fail(self, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        log.error("mailbox error mailbox=%s error=%s", self.label, text)
        checkpoints.record_error_safely(self.sessions, self.mailbox_id, text)
        self.disconnect()

    # --- protocol steps -------------------------------------------------------------------

    def _select(self) -> None:
        assert self.client is not None
        if self.account.after_archive == "move":
            assert self.account.move_to is not None
            if not self.client.folder_exists(self.account.move_to):
                self.client.create_folder(self.account.move_to)
        readonly = self.account.after_archive == "keep"
        status = self.client.select_folder(self.folder, readonly=readonly)
        uidvalidity = int(status[b"UIDVALIDITY"])
        row = checkpoints.adopt_uidvalidity(self.sessions, self.mailbox_id, uidvalidity,
                                            actor=f"imap:{self.label}")
        self.uidvalidity = uidvalidity
        self.last_uid = row.last_uid
        self.server_uidnext = int(status.get(b"UIDNEXT", 0))
        take_mailbox_news(self.client)  # SELECT's own EXISTS: the sync that follows covers it

    def sync_until_quiet(self) -> int:
        """Sync, and sync again while the server reported new mail during the sync itself.

        An ``EXISTS`` that arrives during SEARCH, FETCH or STORE is not repeated when IDLE
        starts, so a message delivered mid-sync would otherwise wait for the IDLE renewal.
        Each extra round is one SEARCH when nothing new is there.
        """
        new = self.sync()
        rounds = 1
        while self.client is not None and take_mailbox_news(self.client):
            if self.stop.is_set():
                break
            rounds += 1
            log.debug("new mail reported during sync mailbox=%s round=%d", self.label, rounds)
            new += self.sync()
        return new

    def sync(self) -> int:
        """Fetch everything above the checkpoint; returns how many messages were new."""
        assert self.client is not None
        client = self.client
        self.unfetchable = None  # shown in status until the next sync; the audit log keeps it
        take_mailbox_news(client)  # news older than this SEARCH is what it is about to find
        # "n:*" always matches the highest UID, even below n (RFC 3501 §6.4.8): filter it out.
        pending = sorted(u for u in client.search(["UID", f"{self.last_uid + 1}:*"])
                         if u > self.last_uid)
        sizes: dict[int, int] = {}
        for start in range(0, len(pending), SIZE_CHUNK):
            sizes.update(fetch_sizes(client, pending[start:start + SIZE_CHUNK]))
        new = 0
        in_hand: _Archiving | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive") as archiver:
            try:
                for uids in batches(sizes, self.account.batch_size, self.account.batch_bytes):
                    if self.stop.is_set():
                        break  # the batch in hand is committed below; the rest waits
                    self.lease.hold()
                    items = self._fetch(uids)  # while the previous batch is being stored
                    if in_hand is not None:
                        new += self._finish(in_hand)
                    checkpoint = Checkpoint(self.mailbox_id, self.uidvalidity, max(uids))
                    in_hand = _Archiving(uids, archiver.submit(self.ingestor.ingest, items,
                                                              checkpoint))
                if in_hand is not None:
                    new += self._finish(in_hand)
                    in_hand = None
            except BaseException:
                if in_hand is not None:
                    self._finish_after_failure(in_hand)
                raise
        self._heal_after_archive()
        checkpoints.record_sync(self.sessions, self.mailbox_id,
                                max(self.server_uidnext, self.last_uid + 1),
                                error=self.unfetchable)
        return new

    def _finish(self, batch: _Archiving, *, touch_server: bool = True) -> int:
        """Wait until a batch is archived and committed with its checkpoint, then (and only
        then) flag or move it on the server. Returns how many messages were new."""
        result = batch.result.result()
        self.last_uid = max(self.last_uid, *batch.uids)
        log.info("archived mailbox=%s new=%d duplicates=%d last_uid=%d", self.label,
                 result.new, result.duplicates, self.last_uid)
        if touch_server:
            self._after_archive(batch.uids)
        return result.new

    def _finish_after_failure(self, batch: _Archiving) -> None:
        """Let the batch that was being stored when the connection failed finish; its flag or
        move is left to the next sync's healing pass."""
        try:
            self._finish(batch, touch_server=False)
        except Exception as exc:  # noqa: BLE001 - the batch is fetched again next time
            log.warning("batch not committed mailbox=%s error=%s", self.label, exc)

    def _fetch(self, uids: list[int], *, retry: bool = True) -> list[Incoming]:
        """FETCH a batch of messages.

        When the server refuses the FETCH or hangs up on it (Dovecot answers a message it cannot
        read with ``BYE``), the session is reopened and the batch fetched one by one; a single
        message refused twice is recorded and passed over, so it cannot block the folder. A
        connection that cannot be reopened raises, and the worker backs off as usual.
        """
        assert self.client is not None
        try:
            response = fetch_messages(self.client, uids)
        except imaplib.IMAP4.error as exc:
            self._reopen_if_closed(exc)
            if len(uids) > 1:
                return [item for uid in uids for item in self._fetch([uid])]
            if retry:
                return self._fetch(uids, retry=False)
            self._record_unfetchable(uids[0], exc)
            return []
        # A UID missing from the answer was expunged meanwhile: nothing left to keep.
        return [Incoming(raw=response[uid].raw, uid=uid, stage=first_stage(self.account.role),
                         internal_date=response[uid].internal_date,
                         origin=f"imap:{self.label};uidvalidity={self.uidvalidity};uid={uid}")
                for uid in uids if uid in response]

    def _reopen_if_closed(self, exc: imaplib.IMAP4.error) -> None:
        if isinstance(exc, imaplib.IMAP4.abort):
            log.warning("server hung up during FETCH mailbox=%s error=%s; reopening",
                        self.label, exc)
            self.disconnect()
            self.client = connect(self.account)
            self._select()

    def _record_unfetchable(self, uid: int, exc: Exception) -> None:
        """The server refuses this one message: audit it durably and name it in status, then go
        on. It stays on the server (the checkpoint passes it, the mail is not touched)."""
        self.unfetchable = f"server refused UID {uid} (uidvalidity {self.uidvalidity}): {exc}"
        log.error("unfetchable mailbox=%s uid=%d error=%s", self.label, uid, exc)
        with self.sessions.begin() as session:
            AuditLog(session).record(f"imap:{self.label}", "fetch_refused", self.label,
                                     uid=uid, uidvalidity=self.uidvalidity, error=str(exc))

    def _after_archive(self, uids: list[int]) -> None:
        """Touch the server only after the rows committed (flag or move; ``keep`` does nothing)."""
        assert self.client is not None
        if self.account.after_archive == "flag":
            self.client.add_flags(uids, [self.account.flag_keyword.encode()], silent=True)
        elif self.account.after_archive == "move":
            assert self.account.move_to is not None
            self._move(uids, self.account.move_to)

    def _move(self, uids: list[int], target: str) -> None:
        assert self.client is not None
        if self.client.has_capability("MOVE"):
            self.client.move(uids, target)
        else:
            self.client.copy(uids, target)
            self.client.delete_messages(uids, silent=True)
            if self.client.has_capability("UIDPLUS"):
                self.client.uid_expunge(uids)
            else:
                self.client.expunge()

    def _heal_after_archive(self) -> None:
        """Redo a flag or move that a crash cut off after its commit.

        Messages at or below the checkpoint are archived by definition, so any still unflagged
        (``flag``) or still present (``move``) are finished now.
        """
        assert self.client is not None
        if self.account.after_archive == "keep" or self.last_uid == 0:
            return
        criteria: list[object] = ["UID", f"1:{self.last_uid}"]
        if self.account.after_archive == "flag":
            criteria += ["UNKEYWORD", self.account.flag_keyword]
        pending = [uid for uid in self.client.search(criteria) if uid <= self.last_uid]
        if pending:
            log.info("finishing %s for %d archived messages mailbox=%s",
                     self.account.after_archive, len(pending), self.label)
            self._after_archive(pending)

    def wait_for_news(self) -> None:
        """Block until the server reports new mail, a liveness check is due, or we stop.

        IDLE (RFC 2177) is ended and the folder synced at least every ``keepalive_seconds``:
        the round trip proves the connection alive (a silent one fails at the read timeout), and
        servers may drop an IDLE after 30 minutes anyway (``idle_renew_seconds``). Without IDLE,
        see :meth:`poll_with_noop`.
        """
        assert self.client is not None
        client = self.client
        if not client.has_capability("IDLE"):
            self.poll_with_noop()
            return
        # Mail delivered after the sync's last command and before IDLE starts is not pushed
        # during IDLE (Dovecot 2.3 watches for changes only from IDLE on): NOOP asks for it.
        client.noop()
        if take_mailbox_news(client):
            return
        client.idle()
        started = time.monotonic()
        check_after = min(self.account.idle_renew_seconds, self.account.keepalive_seconds)
        try:
            while not self.stop.is_set():
                self.lease.hold()
                responses = client.idle_check(timeout=1)
                if reports_new_mail(responses):
                    return
                if not responses and peer_closed(client):
                    raise ConnectionResetError("server closed the connection during IDLE")
                if time.monotonic() - started >= check_after:
                    return
        finally:
            client.idle_done()

    def poll_with_noop(self) -> None:
        """For servers without IDLE: NOOP every ``poll_seconds`` (at most ``keepalive_seconds``
        apart, as a liveness check) until the server reports new mail (RFC 3501 §6.1.2: NOOP
        is how a client lets the server send EXISTS). The lease is renewed while waiting."""
        assert self.client is not None
        interval = min(self.account.poll_seconds, self.account.keepalive_seconds)
        while not self.stop.is_set():
            due = time.monotonic() + interval
            while not self.stop.is_set() and (left := due - time.monotonic()) > 0:
                self.lease.hold()
                self.stop.wait(min(left, self.lease.ttl / 3))
            if self.stop.is_set():
                return
            self.client.noop()
            if take_mailbox_news(self.client):
                return
