"""Sending over SMTP (maild/outbound/smtp.py) against real servers on loopback: the SMTP sink with
fault injection, the sink behind TLS, a relay that cuts the connection, and a private Postfix."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maild.config_table import Secret
from maild.errors import ConfigError, PermanentFailure, TemporaryFailure
from maild.outbound.smtp import queue_id_of, send_message
from tests.outbound.conftest import settings_for
from tests.outbound.servers import ConfiguredSink, DropAfterData, tls_sink
from tests.support import DovecotServer, PostfixServer, SmtpSink, free_port

SENDER = "desk@advisor.example"
TO = "li.wei@acme.example"
PASSWORD_ENV = "MAILD_TEST_SMTP_PASSWORD"


def summary(tag: str = "1") -> bytes:
    """A CRLF message with 8-bit UTF-8 text and lines that need dot-stuffing on the wire."""
    return (f"From: Advisor Desk <{SENDER}>\r\nTo: {TO}\r\nSubject: =?utf-8?b?5pGY6KaB?=\r\n"
            f"Date: Sat, 28 Nov 2026 08:00:00 +0000\r\nMessage-ID: <summary-{tag}@advisor.example>"
            "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            "亚马逊账户健康警告：请在 72 小时内回复。\r\n.\r\n..two dots\r\n.one dot\r\n"
            "Grüße\r\n").encode()


def test_accepted_message_gives_a_receipt_and_arrives_byte_for_byte(
        smtp_sink: SmtpSink) -> None:
    """GIVEN a CRLF message with 8-bit text and lines starting with dots
    WHEN it is sent to the sink
    THEN the receipt holds 250, the reply text, the sink's queue id and the time, and the sink
    received exactly those bytes (same SHA-256) for that envelope."""
    raw = summary()
    before = datetime.now(UTC)
    receipt = send_message(settings_for(smtp_sink.port), SENDER, [TO], raw)
    (mail,) = smtp_sink.received
    assert hashlib.sha256(mail.content).hexdigest() == hashlib.sha256(raw).hexdigest()
    assert (mail.mail_from, mail.rcpt_tos) == (SENDER, (TO,))
    assert receipt.code == 250
    assert receipt.queue_id == mail.queue_id
    assert receipt.text == f"2.0.0 Ok: queued as {mail.queue_id}"
    assert before <= receipt.at <= datetime.now(UTC)
    assert receipt.refused == {}


def test_bare_lf_lines_go_out_as_crlf(smtp_sink: SmtpSink) -> None:
    """GIVEN a message with bare LF line ends and no final line end
    WHEN it is sent
    THEN the server gets CRLF lines ending with CRLF (SMTP's form; the documented normalisation)
    and nothing else changed."""
    raw = b"Subject: lf\nMessage-ID: <lf@advisor.example>\n\nline one\n.dot\nlast"
    send_message(settings_for(smtp_sink.port), SENDER, [TO], raw)
    assert smtp_sink.wait_for(1)[0].content == raw.replace(b"\n", b"\r\n") + b"\r\n"


def test_a_4xx_reply_is_temporary_and_the_retry_is_received(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink that answers the next DATA with 451
    WHEN the message is sent, then sent again
    THEN the first try raises TemporaryFailure with the code and text and nothing was received;
    the second gives a receipt and the message arrives once."""
    smtp_sink.fail_next(451, "4.3.0 try later")
    settings = settings_for(smtp_sink.port)
    with pytest.raises(TemporaryFailure) as failed:
        send_message(settings, SENDER, [TO], summary())
    assert (failed.value.code, failed.value.text) == (451, "4.3.0 try later")
    assert "451 4.3.0 try later" in str(failed.value)
    assert smtp_sink.received == []
    receipt = send_message(settings, SENDER, [TO], summary())
    assert [mail.queue_id for mail in smtp_sink.received] == [receipt.queue_id]


@pytest.mark.parametrize(("stage", "code", "text", "failure"), [
    ("DATA", 554, "5.6.0 message content rejected", PermanentFailure),
    ("MAIL", 550, "5.7.1 sender not allowed", PermanentFailure),
    ("MAIL", 421, "4.7.0 too busy, closing", TemporaryFailure),
    ("RCPT", 550, "5.1.1 no such user", PermanentFailure),
    ("RCPT", 452, "4.2.2 mailbox full", TemporaryFailure),
])
def test_failure_replies_are_sorted_by_their_class(
        smtp_sink: SmtpSink, stage: str, code: int, text: str,
        failure: type[Exception]) -> None:
    """GIVEN a sink that refuses one command of the transaction
    WHEN a message to one recipient is sent
    THEN a 5xx is a PermanentFailure, a 4xx a TemporaryFailure, each with the reply's code and
    text (and the refused recipient named when it was RCPT); nothing was received."""
    smtp_sink.fail_next(code, text, stage=stage)  # type: ignore[arg-type]
    with pytest.raises(failure) as failed:
        send_message(settings_for(smtp_sink.port), SENDER, [TO], summary())
    assert isinstance(failed.value, (PermanentFailure, TemporaryFailure))
    assert (failed.value.code, failed.value.text) == (code, text)
    assert failed.value.refused == ({TO: f"{code} {text}"} if stage == "RCPT" else {})
    assert smtp_sink.received == []


def test_one_refused_recipient_is_on_the_receipt(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink that refuses the first of two recipients
    WHEN the message is sent to both
    THEN it is accepted for the other, and the receipt names the refused one with its reply."""
    smtp_sink.fail_next(550, "5.1.1 no such user", stage="RCPT")
    receipt = send_message(settings_for(smtp_sink.port), SENDER,
                           ["gone@acme.example", TO], summary())
    assert receipt.refused == {"gone@acme.example": "550 5.1.1 no such user"}
    assert smtp_sink.wait_for(1)[0].rcpt_tos == (TO,)


def test_every_recipient_refused_for_good_is_permanent(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink that refuses both recipients with 5xx
    WHEN the message is sent
    THEN PermanentFailure names both refusals."""
    smtp_sink.fail_next(550, "5.1.1 no such user", stage="RCPT", times=2)
    with pytest.raises(PermanentFailure) as failed:
        send_message(settings_for(smtp_sink.port), SENDER, ["a@acme.example", "b@acme.example"],
                     summary())
    assert failed.value.refused == {"a@acme.example": "550 5.1.1 no such user",
                                    "b@acme.example": "550 5.1.1 no such user"}


def test_a_connection_dropped_after_data_is_temporary(smtp_sink: SmtpSink) -> None:
    """GIVEN a relay that cuts the client off right after the final dot (the server took the
    message, its 250 never arrives)
    WHEN the message is sent through it, then again
    THEN the first try is a TemporaryFailure (the sender cannot know; the send step resends with
    the same Message-ID) and the second gets a receipt."""
    with DropAfterData(smtp_sink.port) as relay:
        settings = settings_for(relay.port)
        with pytest.raises(TemporaryFailure) as failed:
            send_message(settings, SENDER, [TO], summary())
        assert failed.value.code is None
        assert len(smtp_sink.wait_for(1)) == 1  # the ambiguous case: it did arrive
        receipt = send_message(settings, SENDER, [TO], summary())
    assert receipt.queue_id == smtp_sink.wait_for(2)[1].queue_id


def test_a_refused_connection_is_temporary() -> None:
    """GIVEN no server on the port
    WHEN a message is sent there
    THEN TemporaryFailure names the host and port."""
    port = free_port()
    with pytest.raises(TemporaryFailure, match=f"127.0.0.1:{port}"):
        send_message(settings_for(port), SENDER, [TO], summary())


def test_a_silent_server_times_out_as_temporary() -> None:
    """GIVEN a server that accepts the TCP connection but never greets
    WHEN a message is sent with timeout = 0.5
    THEN TemporaryFailure comes after about that time, not the default 30 s."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        started = time.monotonic()
        with pytest.raises(TemporaryFailure):
            send_message(settings_for(silent.getsockname()[1], timeout=0.5), SENDER, [TO],
                         summary())
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_verifies_the_certificate_against_ca_file(
        certificate: tuple[Path, Path], mode: str) -> None:
    """GIVEN a TLS sink (STARTTLS required, or implicit TLS) with a private certificate
    WHEN a message is sent without and then with that certificate as ca_file
    THEN the first is a TemporaryFailure about the certificate and nothing arrives; the second
    arrives byte for byte."""
    cert, key = certificate
    with tls_sink(cert, key, implicit=mode == "implicit") as sink:
        with pytest.raises(TemporaryFailure, match="certificate"):
            send_message(settings_for(sink.port, tls=mode), SENDER, [TO], summary())
        assert sink.received == []
        receipt = send_message(settings_for(sink.port, tls=mode, ca_file=cert), SENDER, [TO],
                               summary())
        (mail,) = sink.wait_for(1)
    assert mail.content == summary()
    assert receipt.queue_id == mail.queue_id


def test_starttls_is_required_when_configured(smtp_sink: SmtpSink) -> None:
    """GIVEN a server that does not offer STARTTLS and tls = "starttls"
    WHEN a message is sent
    THEN nothing goes out in clear: PermanentFailure (the operator must look)."""
    with pytest.raises(PermanentFailure, match="STARTTLS|starttls"):
        send_message(settings_for(smtp_sink.port, tls="starttls"), SENDER, [TO], summary())
    assert smtp_sink.received == []


def test_auth_uses_the_secret_and_never_shows_the_password(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN a sink that requires AUTH as desk / a password
    WHEN a message is sent with the right password from the environment, then a wrong one, then
    with no username
    THEN the first arrives as user desk; the wrong password is a PermanentFailure 535 whose text
    and the logs do not hold it; without a username there is no AUTH and the sink's 530 is
    permanent."""
    caplog.set_level(logging.DEBUG)
    with SmtpSink(credentials=("desk", "pässword-1")) as sink:
        settings = settings_for(sink.port, username="desk", password=Secret(env=PASSWORD_ENV))
        monkeypatch.setenv(PASSWORD_ENV, "pässword-1")  # read when sending, not before
        send_message(settings, SENDER, [TO], summary())
        assert sink.wait_for(1)[0].login == "desk"
        monkeypatch.setenv(PASSWORD_ENV, "wrong-secret-9")
        with pytest.raises(PermanentFailure) as failed:
            send_message(settings, SENDER, [TO], summary())
        assert failed.value.code == 535
        shown = f"{failed.value!s} {failed.value.text} {failed.value!r} {caplog.text}"
        assert "wrong-secret-9" not in shown and "pässword-1" not in shown
        with pytest.raises(PermanentFailure) as unauthenticated:
            send_message(settings_for(sink.port), SENDER, [TO], summary())
        assert unauthenticated.value.code == 530
    assert len(sink.received) == 1


def test_8bit_content_is_announced_with_body_8bitmime() -> None:
    """GIVEN a server offering 8BITMIME
    WHEN an 8-bit message and then an ASCII one are sent
    THEN the first MAIL FROM carries BODY=8BITMIME (RFC 6152), the second does not."""
    with ConfiguredSink() as sink:
        send_message(settings_for(sink.port), SENDER, [TO], summary())
        send_message(settings_for(sink.port), SENDER, [TO], b"Subject: ascii\r\n\r\nok\r\n")
        assert sink.wait_for(2)[0].content == summary()
    assert ["BODY=8BITMIME" in options for options in sink.mail_options] == [True, False]


@pytest.mark.parametrize("recipient", [
    "li@acme.example>\r\nRCPT TO:<evil@x.example", "not an address", "", "li@acme.example\n",
    "a@acme.example, b@acme.example",
])
def test_an_address_that_is_not_bare_is_refused_before_sending(
        smtp_sink: SmtpSink, recipient: str) -> None:
    """GIVEN an outbox recipient that is no single address (an injection attempt, a word,
    nothing, a trailing newline, two addresses)
    WHEN the message is sent
    THEN it is a PermanentFailure naming it and nothing reaches the server (aiosmtplib alone
    would send to "li@acme.example", "not" or "<>" instead)."""
    with pytest.raises(PermanentFailure, match="not local@domain"):
        send_message(settings_for(smtp_sink.port), SENDER, [TO, recipient], summary())
    assert smtp_sink.received == []


def test_display_names_are_left_out_of_the_envelope(smtp_sink: SmtpSink) -> None:
    """GIVEN a sender and a recipient written with display names, as [smtp] from is
    WHEN the message is sent
    THEN the envelope holds their bare addresses."""
    send_message(settings_for(smtp_sink.port), f"Advisor Desk <{SENDER}>",
                 ["李伟 <li@acme.example>"], summary())
    (mail,) = smtp_sink.wait_for(1)
    assert (mail.mail_from, mail.rcpt_tos) == (SENDER, ("li@acme.example",))


def test_a_username_without_auth_on_the_server_is_permanent(
        smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN [smtp] with a username and a server that offers no AUTH
    WHEN a message is sent
    THEN PermanentFailure says so (a config matter) and nothing is sent."""
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    settings = settings_for(smtp_sink.port, username="desk", password=Secret(env=PASSWORD_ENV))
    with pytest.raises(PermanentFailure, match="does not offer AUTH"):
        send_message(settings, SENDER, [TO], summary())
    assert smtp_sink.received == []


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    """GIVEN [smtp] ca_file that was removed after the config was loaded, or holds no PEM
    WHEN a message is sent over TLS
    THEN ConfigError names the file (the operator's to fix; not a delivery failure)."""
    for ca_file in (tmp_path / "gone.pem", tmp_path / "junk.pem"):
        if ca_file.name == "junk.pem":
            ca_file.write_text("not a certificate")
        with pytest.raises(ConfigError, match=str(ca_file)):
            send_message(settings_for(free_port(), tls="starttls", ca_file=ca_file), SENDER,
                         [TO], summary())


def test_a_non_ascii_address_goes_out_with_smtputf8(smtp_sink: SmtpSink) -> None:
    """GIVEN a server offering SMTPUTF8 (the sink)
    WHEN a message to a non-ASCII address is sent
    THEN it arrives for that address."""
    send_message(settings_for(smtp_sink.port), SENDER, ["李伟@acme.example"], summary())
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ("李伟@acme.example",)


def test_a_non_ascii_address_needs_smtputf8() -> None:
    """GIVEN a server without SMTPUTF8
    WHEN a message to a non-ASCII address is sent
    THEN PermanentFailure says so and nothing is sent."""
    with ConfiguredSink(enable_SMTPUTF8=False) as sink:
        with pytest.raises(PermanentFailure, match="SMTPUTF8"):
            send_message(settings_for(sink.port), SENDER, ["李伟@acme.example"], summary())
        assert sink.received == []


@pytest.mark.parametrize(("reply", "queue_id"), [
    ("2.0.0 Ok: queued as 4Xy2Kq1ZbTz9sK", "4Xy2Kq1ZbTz9sK"),
    ("OK id=1tQx2b-000Abc-3F", "1tQx2b-000Abc-3F"),
    ("OK", None),
    ("2.0.0 OK 1732780800 d9443c01a7336-2fc3 - gsmtp", None),
])
def test_queue_ids_are_read_from_known_reply_forms(reply: str, queue_id: str | None) -> None:
    """GIVEN 250 reply texts of Postfix, Exim, aiosmtpd's default and Gmail
    WHEN the queue id is read
    THEN Postfix's and Exim's ids are found and no id is guessed from the others."""
    assert queue_id_of(reply) == queue_id


def test_through_postfix_the_real_queue_id_and_the_mail_in_dovecot(
        postfix: PostfixServer, dovecot: DovecotServer) -> None:
    """GIVEN the private Postfix relaying example.test into Dovecot
    WHEN a message is sent to alice@example.test
    THEN the receipt's queue id is the one Postfix logs delivering it, and alice's INBOX holds
    the message with the sent bytes unchanged after the trace headers the MTAs prepend."""
    raw = summary("postfix")
    receipt = send_message(settings_for(postfix.port), SENDER, ["alice@example.test"], raw)
    assert receipt.queue_id is not None and re.fullmatch(r"[0-9A-Za-z]+", receipt.queue_id)
    assert "status=sent" in postfix.wait_delivered(receipt.queue_id)
    delivered = list(dovecot.fetch_all().values())
    assert len(delivered) == 1 and delivered[0].endswith(raw)
    assert receipt.at > datetime.now(UTC) - timedelta(minutes=1)
