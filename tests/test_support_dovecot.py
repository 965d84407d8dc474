"""The ``dovecot`` fixture is a real IMAP server that behaves like the ones maild meets."""

from __future__ import annotations

import smtplib
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient.exceptions import IMAPClientAbortError

from tests.support import DovecotError, DovecotServer
from tests.support import dovecot as dovecot_module_under_test

RAW = (
    b"From: Seller Support <seller-notification@amazon.de>\r\n"
    b"To: shop@example.test\r\n"
    b"Subject: =?utf-8?q?Listing_entfernt?=\r\n"
    b"Message-ID: <fixture-1@example.test>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
    b"Content-Type: text/plain; charset=latin-1\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Gr\xfc\xdfe, 8-bit body bytes \xff\xfe stay as they are.\r\n"
    b".leading dot line\r\n"
)


def _message(n: int) -> bytes:
    return b"Subject: bulk %d\r\nMessage-ID: <bulk-%d@example.test>\r\n\r\nbody %d\r\n" % (n, n, n)


def _maildir_count(maildir: Path) -> int:
    """Messages stored in a Maildir's INBOX (``new`` until a session saw them, then ``cur``)."""
    return sum(1 for sub in ("new", "cur") for _ in (maildir / sub).iterdir())


def test_append_then_fetch_returns_the_same_bytes(dovecot: DovecotServer) -> None:
    """GIVEN a running Dovecot
    WHEN a message with 8-bit bytes is APPENDed with a flag and an internal date
    THEN FETCH returns exactly those bytes under the returned UID, with the flag and date."""
    when = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    uid = dovecot.append(RAW, flags=[r"\Flagged"], msg_time=when)

    assert dovecot.fetch_all() == {uid: RAW}
    assert dovecot.flags() == {uid: (b"\\Flagged",)}
    with dovecot.client() as imap:
        imap.select_folder("INBOX", readonly=True)
        internal = imap.fetch([uid], ["INTERNALDATE"])[uid][b"INTERNALDATE"]
    assert internal.astimezone(UTC) == when
    assert _maildir_count(dovecot.maildir_root) == 1


def test_idle_is_advertised_and_reports_new_mail(dovecot: DovecotServer) -> None:
    """GIVEN a client IDLEing on INBOX (RFC 2177)
    WHEN another connection APPENDs a message
    THEN the server advertised IDLE and pushes an EXISTS response without polling."""
    with dovecot.client() as imap:
        assert b"IDLE" in imap.capabilities()
        imap.select_folder("INBOX")
        imap.idle()
        try:
            dovecot.append(_message(1))
            responses = imap.idle_check(timeout=5)
        finally:
            imap.idle_done()

    assert (1, b"EXISTS") in responses


def test_append_many_is_one_connection_in_input_order(dovecot: DovecotServer) -> None:
    """GIVEN 2,000 distinct messages
    WHEN they are bulk-APPENDed into a new folder
    THEN every UID is returned in input order and each UID holds its own message."""
    dovecot.create_folder("Backfill")
    raws = [_message(n) for n in range(2000)]

    started = time.monotonic()
    uids = dovecot.append_many(raws, folder="Backfill")
    elapsed = time.monotonic() - started

    assert uids == list(range(1, 2001))
    assert dovecot.uids("Backfill") == uids
    stored = dovecot.fetch_all("Backfill")
    assert [stored[uid] for uid in uids] == raws
    assert elapsed < 30, f"2,000 APPENDs took {elapsed:.1f} s"


def test_stop_drops_clients_and_start_keeps_mail_and_uidvalidity(dovecot: DovecotServer) -> None:
    """GIVEN a server with a message and a connected client
    WHEN the server is stopped and started again
    THEN the client's connection is gone, and after the restart the same port serves the same
    message under the same UID and UIDVALIDITY."""
    uid = dovecot.append(RAW)
    validity = dovecot.uidvalidity()
    port = dovecot.port
    client = dovecot.client()
    client.select_folder("INBOX")

    dovecot.stop()

    assert not dovecot.running
    with pytest.raises((IMAPClientAbortError, OSError)):
        client.noop()
    client.shutdown()
    with pytest.raises(OSError):
        socket.create_connection((dovecot.host, port), timeout=1).close()

    dovecot.start()

    assert dovecot.port == port
    assert dovecot.uidvalidity() == validity
    assert dovecot.fetch_all() == {uid: RAW}


def test_deleted_and_recreated_folder_gets_a_new_uidvalidity(dovecot: DovecotServer) -> None:
    """GIVEN a folder with a message
    WHEN the folder is deleted and created again with the same message
    THEN its UIDVALIDITY differs, which is what a client must detect and resync on."""
    dovecot.create_folder("Notices/Amazon")
    dovecot.append(RAW, folder="Notices/Amazon")
    before = dovecot.uidvalidity("Notices/Amazon")

    dovecot.delete_folder("Notices/Amazon")
    dovecot.create_folder("Notices/Amazon")
    dovecot.append(RAW, folder="Notices/Amazon")

    assert dovecot.uidvalidity("Notices/Amazon") != before
    assert "Notices/Amazon" in dovecot.folders()


def test_lmtp_delivers_into_the_users_inbox(dovecot: DovecotServer) -> None:
    """GIVEN the server's LMTP listener
    WHEN a message is delivered to alice@example.test over LMTP
    THEN it appears in alice's INBOX (with Dovecot's Return-Path/Delivered-To added on top)."""
    assert dovecot.lmtp_port is not None
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port) as lmtp:
        refused = lmtp.sendmail("platform@example.test", [f"{dovecot.user}@example.test"], RAW)

    assert refused == {}
    (stored,) = dovecot.fetch_all().values()
    assert stored.endswith(RAW)


def test_close_leaves_no_process_and_no_directory() -> None:
    """GIVEN a server started outside any fixture
    WHEN it is closed
    THEN its port is closed, no Dovecot process of its group is alive and its directory is gone."""
    server = DovecotServer(lmtp=False)
    server.start()
    master = server._proc.pid if server._proc else 0
    assert master and dovecot_module_under_test._group_alive(master)

    server.close()

    assert not dovecot_module_under_test._group_alive(master)
    assert not server.root.exists()
    with pytest.raises(OSError):
        socket.create_connection((server.host, server.port), timeout=1).close()


def test_missing_binary_fails_with_the_packages_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a machine without a dovecot binary
    WHEN a server is created
    THEN the error names the Debian packages that provide it."""
    monkeypatch.setattr(dovecot_module_under_test.shutil, "which", lambda *a, **k: None)

    with pytest.raises(DovecotError, match="dovecot-imapd dovecot-lmtpd"):
        DovecotServer()


def test_second_user_has_a_separate_mailbox(dovecot_factory) -> None:  # type: ignore[no-untyped-def]
    """GIVEN a server with two users
    WHEN mail is delivered to the second user over IMAP
    THEN the default user's INBOX stays empty."""
    server: DovecotServer = dovecot_factory(users={"alice": "a-pass", "bob": "b-pass"})
    with server.client("bob") as imap:
        imap.append("INBOX", RAW)

    assert server.uids() == []
    assert _maildir_count(server.maildir_of("bob")) == 1
