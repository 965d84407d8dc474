"""End to end on real servers: Postfix -> LMTP -> Dovecot -> ``maild run`` (IDLE) -> parse ->
route -> SMTP through Postfix -> the client's and the advisor's Dovecot inboxes."""

from __future__ import annotations

import email
import email.header
import hashlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.db import make_engine, session_factory
from maild.models import Message, Notice, Receipt
from maild.routing.compose import attached_originals
from tests.support import DovecotServer
from tests.support.postfix import PostfixServer

Spawn = Callable[..., subprocess.Popen[bytes]]
USERS = {"alice": "alice-pw", "ops": "ops-pw", "anna": "anna-pw"}

CONFIG = """
[maild]
database = "sqlite:///{root}/maild.db"
archive_dir = "{root}/archive"
secret_env = "E2E_SECRET"
stage_poll_seconds = 600

[[imap]]
name = "platform"
host = "127.0.0.1"
port = {imap_port}
tls = "plain"
username = "alice"
password_env = "E2E_IMAP_PASSWORD"
poll_seconds = 600
idle_renew_seconds = 600

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "plain"
from = "Advisor Desk <desk@example.test>"
reply_address = "desk+{{token}}@example.test"
operator = ["ops-team@example.test"]

[fallback]
to = ["triage@example.test"]

[[client]]
id = "acme"
name = "Acme Lighting"
languages = ["zh", "en"]
timezone = "Asia/Shanghai"
calendar = "CN"
hours = "09:00-21:00"
decision_maker = "li.wei@acme.example"
summary_to = ["ops@example.test"]
advisors = ["anna@example.test"]

[[client.store]]
platform = "amazon"
name = "AcmeLight EU"
addresses = ["alice@example.test"]
sender = "amazon-eu@acme.example"
"""

NOTICE = (b"From: Amazon Seller Performance <seller-performance@amazon.de>\r\n"
          b"To: alice@example.test\r\nSubject: Ihr Verkaeuferkonto wurde deaktiviert\r\n"
          b"Date: Tue, 10 Mar 2026 08:00:00 +0100\r\nMessage-ID: <e2e-susp@amazon.de>\r\n"
          b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
          b"Content-Transfer-Encoding: 8bit\r\n\r\n"
          + "Guten Tag,\r\n\r\nIhr Verkäuferkonto auf Amazon.de wurde deaktiviert. Bitte reichen "
          "Sie innerhalb von 17 Tagen einen Maßnahmenplan ein.\r\n".encode())


@pytest.fixture
def stack(dovecot_factory: Callable[..., DovecotServer]
          ) -> Iterator[tuple[DovecotServer, PostfixServer]]:
    dovecot = dovecot_factory(users=USERS)
    assert dovecot.lmtp_port is not None
    with PostfixServer(lmtp_port=dovecot.lmtp_port) as postfix:
        postfix.start()
        yield dovecot, postfix


def inbox_of(dovecot: DovecotServer, user: str) -> list[bytes]:
    """The summaries in ``user``'s INBOX (a P0 case also sends the advisors an escalation)."""
    return [raw for raw in dovecot.fetch_all(user=user).values()
            if b".escalation." not in raw.split(b"\r\n\r\n", 1)[0]]


@pytest.mark.slow
def test_a_platform_notice_reaches_the_clients_imap_inbox_as_a_tagged_summary(
        stack: tuple[DovecotServer, PostfixServer], tmp_path: Path,
        maild_process: Spawn) -> None:
    """GIVEN maild watching the platform mailbox and sending through Postfix WHEN a suspension
    notice is delivered to the client's store address THEN the client's IMAP inbox gets a P0
    summary in Chinese first with the case headers and the archived original attached byte for
    byte, the advisor gets theirs, and both sends have Postfix's receipt with its queue id."""
    dovecot, postfix = stack
    config = tmp_path / "maild.toml"
    config.write_text(CONFIG.format(root=tmp_path, imap_port=dovecot.port,
                                    smtp_port=postfix.port), encoding="utf-8")
    log = tmp_path / "daemon.log"
    env = {"E2E_SECRET": "e2e-secret", "E2E_IMAP_PASSWORD": USERS["alice"]}
    with log.open("wb") as out:
        maild_process(["--config", config, "run"], env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "started workers" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        accepted = postfix.send(NOTICE, ["alice@example.test"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (inbox_of(dovecot, "ops")
                                                   and inbox_of(dovecot, "anna")):
            time.sleep(0.1)
        took = time.time() - accepted.accept_time
    [client_copy] = inbox_of(dovecot, "ops")
    [advisor_copy] = inbox_of(dovecot, "anna")
    summary = email.message_from_bytes(client_copy)
    subject = str(email.header.make_header(email.header.decode_header(summary["Subject"])))
    assert subject.startswith("[P0][Amazon.de]"), subject
    assert summary["Auto-Submitted"] == "auto-generated"
    assert summary["X-Maild-Priority"] == "P0" and summary["X-Maild-Platform"]
    ticket = summary["X-Maild-Case"]
    assert ticket and ticket.startswith("MD-") and f"({ticket})" in subject
    assert str(summary["Reply-To"]).startswith("desk+")
    text = next(part for part in summary.walk() if part.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode("utf-8")

    engine = make_engine(f"sqlite:///{tmp_path}/maild.db")
    try:
        with session_factory(engine)() as session:
            inbound = session.scalars(select(Message).where(Message.direction == "in")).one()
            receipts = session.scalars(select(Receipt)).all()
            notice = session.scalars(select(Notice)).one()
    finally:
        engine.dispose()
    assert notice.category == "suspension"
    assert body.index(notice.summary_zh[:12]) < body.index(notice.summary_en[:12]), \
        "the client reads Chinese first"
    for copy in (client_copy, advisor_copy):
        [original] = attached_originals(copy)
        assert hashlib.sha256(original).hexdigest() == inbound.sha256
    assert len(receipts) == 2 and all(r.code == 250 and r.queue_id for r in receipts)
    assert took < 30, log.read_text()[-3000:]
    print(f"\nsummary in the client's inbox {took:.2f} s after Postfix accepted the notice")
    print(client_copy.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace"))
