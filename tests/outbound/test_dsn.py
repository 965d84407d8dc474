"""Delivery status notifications (maild/outbound/dsn.py): real bounces from the private Postfix,
and hand-built RFC 3464 / RFC 6533 reports for the forms Postfix does not produce here."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maild.outbound.dsn import Dsn, DsnRecipient, parse_dsn
from maild.outbound.smtp import send_message
from tests.ingestion.conftest import wait_until
from tests.outbound.conftest import settings_for
from tests.support import DovecotServer, PostfixError, PostfixServer

GONE = "nobody@gone.example.test"


def original(tag: str) -> bytes:
    return (f"From: alice@example.test\r\nTo: {GONE}\r\nSubject: summary {tag}\r\n"
            f"Date: Sat, 28 Nov 2026 08:00:00 +0000\r\n"
            f"Message-ID: <outbox-{tag}@advisor.example>\r\n\r\nhello\r\n").encode()


@pytest.fixture
def bouncing_postfix(dovecot: DovecotServer) -> Iterator[PostfixServer]:
    """The private Postfix with one more rule: mail for gone.example.test is accepted, then
    bounced at once by Postfix's error transport (5.1.1); the DSN goes back over LMTP to the
    sender at example.test, i.e. into ``dovecot``."""
    assert dovecot.lmtp_port is not None
    try:
        server = PostfixServer(lmtp_port=dovecot.lmtp_port)
    except PostfixError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        (server.root / "transport").write_text("gone.example.test error:5.1.1 mailbox gone\n")
        with (server.config_dir / "main.cf").open("a") as main_cf:
            main_cf.write(f"transport_maps = texthash:{server.root}/transport\n"
                          "smtpd_reject_unlisted_recipient = no\n")  # bounce, not refuse at RCPT
        server.start()
        yield server
    finally:
        server.close()


def returned(dovecot: DovecotServer) -> bytes:
    """The one message that came back to alice's INBOX (the DSN)."""
    assert wait_until(lambda: len(dovecot.fetch_all()) == 1, timeout=10), "no DSN arrived"
    (dsn,) = dovecot.fetch_all().values()
    return dsn


def test_a_real_postfix_bounce_names_the_sent_message(
        bouncing_postfix: PostfixServer, dovecot: DovecotServer) -> None:
    """GIVEN a message maild sends that Postfix accepts and then cannot deliver
    WHEN Postfix's bounce comes back and is parsed
    THEN it is a DSN naming the sent Message-ID (from the returned message/rfc822) and the
    recipient as failed with 5.1.1 and Postfix's diagnostic."""
    receipt = send_message(settings_for(bouncing_postfix.port), "alice@example.test", [GONE],
                           original("1"))
    assert receipt.queue_id is not None
    assert parse_dsn(returned(dovecot)) == Dsn(
        original_message_id="<outbox-1@advisor.example>", envelope_id=None,
        recipients=(DsnRecipient(address=GONE, action="failed", status="5.1.1",
                                 diagnostic="X-Postfix; mailbox gone",
                                 original_recipient=GONE),))


def test_a_real_headers_only_bounce_with_an_envelope_id(
        bouncing_postfix: PostfixServer, dovecot: DovecotServer) -> None:
    """GIVEN a message sent with RET=HDRS and ENVID (RFC 3461) that Postfix then bounces
    WHEN the bounce is parsed
    THEN the Message-ID comes from the text/rfc822-headers part and the envelope id is read."""
    with smtplib.SMTP(bouncing_postfix.host, bouncing_postfix.port, timeout=30) as smtp:
        smtp.sendmail("alice@example.test", [GONE], original("2"),
                      mail_options=["RET=HDRS", "ENVID=outbox-2"])
    raw = returned(dovecot)
    assert b"text/rfc822-headers" in raw
    dsn = parse_dsn(raw)
    assert dsn is not None
    assert (dsn.original_message_id, dsn.envelope_id) == ("<outbox-2@advisor.example>",
                                                          "outbox-2")
    assert [(r.address, r.action, r.status) for r in dsn.recipients] == [
        (GONE, "failed", "5.1.1")]


HAND_BUILT = (
    b"From: MAILER-DAEMON@mx.example\r\nTo: desk@advisor.example\r\nSubject: Delivery Status\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"b1\"\r\n\r\n"
    b"--b1\r\nContent-Type: text/plain\r\n\r\nTwo problems.\r\n"
    b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example\r\nOriginal-Envelope-Id: outbox-7\r\n\r\n"
    b"Original-Recipient: rfc822; Ops@Acme.example\r\n"
    b"Final-Recipient: rfc822; ops-team@acme.example\r\nAction: Failed\r\n"
    b"Status: 5.2.2 (mailbox full)\r\n"
    b"Diagnostic-Code: smtp; 552 5.2.2 mailbox full,\r\n  over quota\r\n\r\n"
    b"Final-Recipient: rfc822;li.wei@acme.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
    b"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    b"From: desk@advisor.example\r\nMessage-ID:\r\n <summary-7@advisor.example>\r\n"
    b"Subject: x\r\n"
    b"--b1--\r\n")

GLOBAL = (
    "From: MAILER-DAEMON@mx.example\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=global-delivery-status; boundary=b2\r\n\r\n"
    "--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n退信\r\n"
    "--b2\r\nContent-Type: message/global-delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example\r\n\r\n"
    "Final-Recipient: utf-8; 李伟@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "--b2\r\nContent-Type: message/global-headers\r\n\r\n"
    "Message-ID: <summary-8@advisor.example>\r\nSubject: 摘要\r\n"
    "--b2--\r\n").encode()


def test_a_hand_built_report_with_two_recipients_and_headers_only() -> None:
    """GIVEN an RFC 3464 report with an envelope id, a failed and a delayed recipient, folded
    fields and the original's header only
    WHEN it is parsed
    THEN every field is read, unfolded, with the address types stripped."""
    assert parse_dsn(HAND_BUILT) == Dsn(
        original_message_id="<summary-7@advisor.example>", envelope_id="outbox-7",
        recipients=(
            DsnRecipient(address="ops-team@acme.example", action="failed", status="5.2.2",
                         diagnostic="smtp; 552 5.2.2 mailbox full, over quota",
                         original_recipient="Ops@Acme.example"),
            DsnRecipient(address="li.wei@acme.example", action="delayed", status="4.4.1",
                         diagnostic=None)))


def test_an_internationalised_report_is_read_the_same_way() -> None:
    """GIVEN an RFC 6533 report (global-delivery-status, global-headers) with a UTF-8 address
    WHEN it is parsed
    THEN the recipient and the original Message-ID are read as for RFC 3464."""
    assert parse_dsn(GLOBAL) == Dsn(
        original_message_id="<summary-8@advisor.example>", envelope_id=None,
        recipients=(DsnRecipient(address="李伟@acme.example", action="failed", status="5.1.1",
                                 diagnostic=None),))


@pytest.mark.parametrize("make", [
    lambda: b"From: li.wei@acme.example\r\nSubject: Re: summary\r\n\r\nThanks\r\n",
    lambda: HAND_BUILT.replace(b"report-type=delivery-status",
                               b"report-type=disposition-notification"),
    lambda: HAND_BUILT.replace(b"message/delivery-status", b"text/plain"),
    lambda: (b"From: MAILER-DAEMON@mx.example\r\nSubject: failure notice\r\n\r\n"
             b"Hi. This is the qmail-send program at mx.example.\r\n"
             b"<ops@acme.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n"),
], ids=["reply", "read-receipt", "no-status-part", "qmail-prose"])
def test_other_mail_is_not_a_dsn(make: Callable[[], bytes]) -> None:
    """GIVEN a reply, a read receipt (MDN), a report without its status part, a qmail prose
    bounce
    WHEN parsed
    THEN none is a DSN (only RFC 3464/6533 reports are)."""
    assert parse_dsn(make()) is None


@pytest.mark.parametrize(("name", "message_id", "first", "count"), [
    ("flanker__bounce__office365.eml", "<20171013111011.20866.254C2F3A4D7AA526@ninomail.com>",
     ("noname@example.com", "failed", "5.1.10"), 1),
    ("sisimai__bsd__lhost-postfix-53.eml", "<20160429233445.D64BFFEA8AE7@mail.example.com>",
     ("pseudo-local-part-neko-nyaan@docomo.ne.jp", "failed", "5.0.0"), 1),
    ("sisimai__bsd__lhost-outlook-06.eml", "<BAY182-W4180385B0DABF89EB94B34A9300@phx.gbl>",
     ("kijitora@example.com", "delayed", "4.4.7"), 1),
    ("sisimai__bsd__lhost-sendmail-18.eml", "<200904292334.00000000000000@mx356.example.jp>",
     ("kijitora@example.jp", "failed", "5.0.0"), 1),
    ("nodemailer__delivery-status.eml", "<xxxxx@email.amazonses.com>",
     ("xxxx@xxxx.com", "failed", "5.1.1"), 1),
    ("cpython__msg_43.txt.eml", "<edab.7804f5cb8070@python.org>",
     ("xxxxxxx@dot.ca.gov", "failed", "5.7.1"), 25),
    ("mimekit__messages__delivery-status-multiple-blank-lines.txt.eml", None,
     ("orig_recip@customer.com", "", "5.5.0"), 1),
])
def test_real_world_reports_from_other_mtas(
        shared_corpora: Path, name: str, message_id: str | None,
        first: tuple[str, str, str], count: int) -> None:
    """GIVEN DSNs captured from Office 365, Postfix, Outlook.com, Sendmail, Amazon SES, amavis
    and one without the required Final-Recipient
    WHEN parsed
    THEN the original Message-ID and the recipients are read (the last one by its
    Original-Recipient)."""
    dsn = parse_dsn((shared_corpora / "malformed" / name).read_bytes())
    assert dsn is not None and dsn.original_message_id == message_id
    recipient = dsn.recipients[0]
    assert (recipient.address, recipient.action, recipient.status) == first
    assert len(dsn.recipients) == count


def test_no_corpus_message_breaks_the_parser(shared_corpora: Path) -> None:
    """GIVEN every malformed and phishing message of the shared corpora
    WHEN each is parsed as a DSN
    THEN none raises: a broken message is simply not a DSN, or a DSN with what it holds."""
    files = [path for folder in ("malformed", "phishing")
             for path in sorted((shared_corpora / folder).iterdir()) if path.is_file()]
    assert len(files) > 100
    for path in files:
        parse_dsn(path.read_bytes())
