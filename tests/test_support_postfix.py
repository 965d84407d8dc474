"""The ``postfix`` fixture is a real MTA: SMTP in on loopback, LMTP out into the test Dovecot."""

from __future__ import annotations

import email
import secrets
import shutil
import time

import pytest

from tests.support import (
    DovecotServer,
    PostfixError,
    PostfixServer,
    free_port,
    port_open,
)
from tests.support import postfix as postfix_module_under_test
from tests.support.dovecot import _group_alive

from .ingestion.conftest import wait_until


def _notice(message_id: str) -> bytes:
    return (
        "From: Amazon Seller Performance <seller-performance@amazon.com>\r\n"
        "To: alice@example.test\r\n"
        "Subject: Account Health warning\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "Date: Tue, 10 Mar 2026 08:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Your listing ASIN B0TEST0001 was flagged ({message_id}).\r\n"
    ).encode()


def test_submitted_message_lands_in_the_addressees_dovecot_inbox(
    postfix: PostfixServer, dovecot: DovecotServer
) -> None:
    """GIVEN a private Postfix relaying example.test to the test Dovecot over LMTP
    WHEN a message to alice@example.test is submitted with smtplib
    THEN the 250 reply gives its queue id and accept time, Postfix logs it sent over LMTP, and
    alice's INBOX holds it with its headers and body."""
    message_id = f"{secrets.token_hex(8)}@amazon.com"
    before = time.time()

    accepted = postfix.send(_notice(message_id))

    assert before <= accepted.accept_time <= time.time()
    assert accepted.queue_id and accepted.queue_id.isalnum()
    sent_line = postfix.wait_delivered(accepted.queue_id)
    assert f"relay=127.0.0.1[127.0.0.1]:{dovecot.lmtp_port}" in sent_line
    assert wait_until(lambda: len(dovecot.uids()) == 1, timeout=10)
    (raw,) = dovecot.fetch_all().values()
    delivered = email.message_from_bytes(raw)
    assert delivered["Message-ID"] == f"<{message_id}>"
    assert delivered["Delivered-To"] == "alice@example.test"
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert body == f"Your listing ASIN B0TEST0001 was flagged ({message_id}).\r\n".encode()


def test_several_messages_over_one_connection_get_distinct_queue_ids(
    postfix: PostfixServer, dovecot: DovecotServer
) -> None:
    """GIVEN one SMTP connection to the test Postfix
    WHEN three messages are submitted on it with ``submit``
    THEN each gets its own queue id, accept times are in sending order, and all three arrive."""
    with postfix.connect() as smtp:
        accepted = [
            postfix_module_under_test.submit(
                smtp, _notice(f"burst-{i}@amazon.com"), sender="a@amazon.com",
                recipients=["alice@example.test"])
            for i in range(3)
        ]

    assert len({a.queue_id for a in accepted}) == 3
    assert [a.accept_time for a in accepted] == sorted(a.accept_time for a in accepted)
    for item in accepted:
        postfix.wait_delivered(item.queue_id)
    assert wait_until(lambda: len(dovecot.uids()) == 3, timeout=10)


def test_an_unreachable_lmtp_server_is_reported_with_postfixs_own_log_lines() -> None:
    """GIVEN a Postfix whose LMTP destination port has no listener
    WHEN a message is accepted and not delivered
    THEN ``wait_delivered`` fails quoting the maillog line that says why (the log is written
    even though this machine has no syslog)."""
    with PostfixServer(lmtp_port=free_port()) as server:
        accepted = server.send(_notice("undeliverable@amazon.com"))

        with pytest.raises(PostfixError, match="Connection refused") as failure:
            server.wait_delivered(accepted.queue_id, timeout=5)

    assert accepted.queue_id in str(failure.value)
    assert "status=deferred" in str(failure.value)


def test_close_stops_every_process_and_removes_the_directory(dovecot: DovecotServer) -> None:
    """GIVEN a started Postfix
    WHEN it is closed
    THEN its master's process group is gone, its port is closed and its directory removed."""
    assert dovecot.lmtp_port is not None
    server = PostfixServer(lmtp_port=dovecot.lmtp_port)
    server.start()
    master = server.master_pid
    assert master is not None and _group_alive(master)
    assert port_open(server.port)

    server.close()

    assert not _group_alive(master)
    assert not port_open(server.port)
    assert not server.root.exists()


def test_missing_postfix_says_which_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no postfix binary on the PATH
    WHEN a server is created
    THEN the error names the Debian package, the debconf preseed and the script doing both."""
    monkeypatch.setattr(shutil, "which", lambda *_args, **_kwargs: None)

    with pytest.raises(PostfixError) as failure:
        PostfixServer(lmtp_port=free_port())

    message = str(failure.value)
    assert "install the Debian package postfix" in message
    assert "No configuration" in message
    assert "./scripts/test.sh" in message


def test_with_message_id_replaces_folded_message_ids_in_the_header_only() -> None:
    """GIVEN a message whose header has a folded Message-ID and whose body quotes one
    WHEN given a new Message-ID
    THEN the header holds only the new one, first, in the message's line ending; the rest of
    the bytes (body included) are unchanged."""
    raw = (b"From: a@amazon.com\r\nMessage-Id:\r\n <old@amazon.com>\r\nSubject: s\r\n\r\n"
           b"Message-ID: <quoted@amazon.com>\r\n")

    fresh = postfix_module_under_test.with_message_id(raw, "new@maild.test")

    assert fresh == (b"Message-ID: <new@maild.test>\r\nFrom: a@amazon.com\r\nSubject: s\r\n\r\n"
                     b"Message-ID: <quoted@amazon.com>\r\n")
    assert postfix_module_under_test.with_message_id(b"Subject: x\n\nb\n", "n@t") == (
        b"Message-ID: <n@t>\nSubject: x\n\nb\n")
