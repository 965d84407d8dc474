"""The ``smtp_sink`` fixture receives mail exactly and fails on request."""

from __future__ import annotations

import smtplib
import threading
import time

import pytest

from tests.support import Rejection, SmtpSink

MESSAGE = (
    b"From: maild <maild@example.test>\r\n"
    b"To: client@example.test\r\n"
    b"Subject: [P1][Amazon.de][IP complaint] test\r\n"
    b"Message-ID: <sink-1@example.test>\r\n"
    b"\r\n"
    b"line one\r\n"
    b".line starting with a dot\r\n"
    b"\xe4 8-bit byte\r\n"
)


def _send(sink: SmtpSink, to: list[str] | None = None) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        return client.sendmail("maild@example.test", to or ["client@example.test"], MESSAGE)


def test_sent_message_arrives_with_envelope_and_exact_bytes(smtp_sink: SmtpSink) -> None:
    """GIVEN a running sink
    WHEN smtplib sends one message to two recipients
    THEN the sink holds one message with that envelope, the exact bytes and a queue id."""
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.sendmail("maild@example.test", ["a@example.test", "b@example.test"], MESSAGE)
        code, text = client.noop()

    (mail,) = smtp_sink.wait_for(1)
    assert mail.mail_from == "maild@example.test"
    assert mail.rcpt_tos == ("a@example.test", "b@example.test")
    assert mail.content == MESSAGE
    assert mail.queue_id.startswith("SINK")
    assert mail.login is None
    assert smtp_sink.rejections == []
    assert code == 250


def test_fail_next_data_gives_451_once_then_accepts(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink told to fail the next DATA with 451 4.3.0
    WHEN a message is sent twice
    THEN the first attempt gets 451 and is not kept, the second is accepted."""
    smtp_sink.fail_next(code=451, text="4.3.0 try later", times=1)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(smtp_sink)
    assert refused.value.smtp_code == 451
    assert refused.value.smtp_error == b"4.3.0 try later"
    assert smtp_sink.received == []

    _send(smtp_sink)

    assert len(smtp_sink.received) == 1
    assert smtp_sink.rejections == [Rejection("DATA", 451, "4.3.0 try later")]


def test_fail_next_rcpt_refuses_the_recipient(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink told to refuse the next RCPT with a permanent 550
    WHEN a message goes to two recipients
    THEN the first recipient is refused, the second accepted, and only it is in the envelope."""
    smtp_sink.fail_next(code=550, text="5.1.1 no such user", stage="RCPT")

    refused = _send(smtp_sink, ["gone@example.test", "client@example.test"])

    assert refused == {"gone@example.test": (550, b"5.1.1 no such user")}
    (mail,) = smtp_sink.received
    assert mail.rcpt_tos == ("client@example.test",)


def test_fail_next_rejects_a_non_failure_code(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink
    WHEN a test asks it to 'fail' with 250
    THEN it refuses the request, so a typo cannot make a fault test pass vacuously."""
    with pytest.raises(ValueError, match="4xx/5xx"):
        smtp_sink.fail_next(code=250)


def test_sink_with_credentials_requires_auth() -> None:
    """GIVEN a sink with credentials
    WHEN a client sends without logging in, then with the right login
    THEN the first is refused with 530 and the second accepted with its login recorded."""
    with SmtpSink(credentials=("maild", "s3cret")) as sink:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            _send(sink)
        assert refused.value.smtp_code == 530

        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.login("maild", "s3cret")
            client.sendmail("maild@example.test", ["client@example.test"], MESSAGE)

        (mail,) = sink.received
        assert mail.login == "maild"


def test_wait_for_times_out_when_nothing_arrives(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink that received nothing
    WHEN a test waits briefly for a message
    THEN TimeoutError says how many arrived."""
    with pytest.raises(TimeoutError, match="got 0 message"):
        smtp_sink.wait_for(1, timeout=0.2)


def test_delay_reply_keeps_the_message_and_answers_late(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink told to answer the next message 1.5 s late
    WHEN a client sends it from another thread
    THEN the sink holds the message while the client is still waiting for its 250, the 250
    comes after the delay, and the next message is answered at once."""
    smtp_sink.delay_reply(1.5)
    started = time.monotonic()
    sender = threading.Thread(target=_send, args=(smtp_sink,))
    sender.start()
    smtp_sink.wait_for(1)
    assert sender.is_alive(), "the client got its reply before the delay"
    sender.join(10)
    assert 1.5 <= time.monotonic() - started < 10
    started = time.monotonic()
    _send(smtp_sink)
    assert time.monotonic() - started < 1.0
    assert len(smtp_sink.received) == 2


def test_delay_reply_after_answers_the_first_messages_at_once(smtp_sink: SmtpSink) -> None:
    """GIVEN a sink told to answer one message 1 s late after one answered at once
    WHEN three messages are sent one after the other
    THEN only the second one waits for its 250."""
    smtp_sink.delay_reply(1.0, after=1)
    took = []
    for _ in range(3):
        started = time.monotonic()
        _send(smtp_sink)
        took.append(time.monotonic() - started)
    assert took[0] < 0.9 and took[1] >= 1.0 and took[2] < 0.9, took
