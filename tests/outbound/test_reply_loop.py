"""The reply loop end to end through real servers on loopback, nothing in process faked.

A buyer's message reaches the platform mailbox through a private Postfix and Dovecot; the
advisor answers the summary and the decision-maker the approval request from their own
mailboxes, through the same Postfix; the daemon's own passes (:func:`maild.daemon.run_once`:
every source synced, every step drained) carry it to the buyer's mailbox, the seller's Sent
folder and the confirmations. Then ``maild run`` is killed -9 while the server holds back the
250 of the platform reply: after a restart the platform has it exactly once, proved by the
seller's Sent folder, or held ``uncertain`` for the operator when nothing proves it.

Dovecot's defaults (``recipient_delimiter = +``, ``lmtp_save_to_detail_mailbox = no``) deliver
``desk+TOKEN@advisor.example`` into the INBOX of ``desk`` with the whole address, token and all,
in ``Delivered-To``: no extra configuration is needed for plus-addressing.
"""

from __future__ import annotations

import email
import json
import secrets
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import Message as EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.config import Config, load_config
from maild.daemon import run_once
from maild.db import make_engine, session_factory, upgrade
from maild.models import AuditEvent, Case, Decision, Draft, Message, Outbound, Receipt
from tests.ingestion.conftest import wait_until
from tests.outbound.reply_layouts import Attached, Original, build_reply
from tests.outbound.test_reply_path import BUYER, DRAFT, PDF, buyer_message, files_of, text_of
from tests.support import DovecotServer, PostfixServer, SmtpSink, run_maild

Spawn = Callable[..., subprocess.Popen[bytes]]

SECRET_ENV = "MAILD_LOOP_SECRET"
PLATFORM_ENV = "MAILD_LOOP_PLATFORM_PASSWORD"
DESK_ENV = "MAILD_LOOP_DESK_PASSWORD"
SELLER_ENV = "MAILD_LOOP_SELLER_PASSWORD"
SELLER = "amazon-eu@acme.example"
ADVISOR = "Anna Schmidt <anna@advisor.example>"
DECIDER = "Li Wei <li.wei@acme.example>"
DOMAINS = ("advisor.example", "inbox.advisor.example", "acme.example", "marketplace.amazon.de")
# Dovecot keys users by local part (auth_username_format = %Ln): each address of the loop has
# a local part of its own.
BUYER_USER = BUYER.split("@")[0]
USERS = ("acme", "desk", "anna", "operator", "ops", "li.wei", "amazon-eu", BUYER_USER)

SERVER = """
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "plain"
from = "Advisor Desk <desk@advisor.example>"
reply_address = "desk+{{token}}@advisor.example"
operator = ["operator@advisor.example"]

[[client]]
id = "acme"
name = "Acme Lighting"
languages = ["zh", "en"]
timezone = "Asia/Shanghai"
calendar = "CN"
hours = "09:00-21:00"
decision_maker = "li.wei@acme.example"
summary_to = ["ops@acme.example"]
advisors = ["anna@advisor.example"]
at_once = ["P0", "P1", "P2", "P3"]

[[client.store]]
platform = "amazon"
name = "AcmeLight EU"
addresses = ["acme@inbox.advisor.example"]
sender = "amazon-eu@acme.example"
"""

SENT_FOLDER = """
[client.store.sent]
host = "127.0.0.1"
port = {imap_port}
tls = "plain"
username = "amazon-eu"
password_env = "MAILD_LOOP_SELLER_PASSWORD"
folder = "Sent"
"""

IMAP_SOURCES = """
[[imap]]
name = "platform"
host = "127.0.0.1"
port = {imap_port}
tls = "plain"
username = "acme"
password_env = "MAILD_LOOP_PLATFORM_PASSWORD"

[[imap]]
name = "replies"
role = "replies"
host = "127.0.0.1"
port = {imap_port}
tls = "plain"
username = "desk"
password_env = "MAILD_LOOP_DESK_PASSWORD"
"""

MAILDIR_SOURCES = """
[[maildir]]
name = "platform"
path = "{root}/platform"

[[maildir]]
name = "replies"
role = "replies"
path = "{root}/replies"
"""


def write_config(root: Path, database: str, sources: str, smtp_port: int,
                 sent_port: int | None, *, poll: float = 30.0) -> Path:
    """A maild config: ``sources``, [smtp] at ``smtp_port``, Acme with its Amazon store whose
    Sent folder is on the Dovecot at ``sent_port`` (none when None)."""
    path = root / "maild.toml"
    text = (f'[maild]\ndatabase = "{database}"\narchive_dir = "{root}/archive"\n'
            f'secret_env = "{SECRET_ENV}"\nstage_poll_seconds = {poll}\n'
            + sources + SERVER.format(smtp_port=smtp_port)
            + (SENT_FOLDER.format(imap_port=sent_port) if sent_port is not None else ""))
    path.write_text(text, encoding="utf-8")
    return path


def dated_now(raw: bytes) -> bytes:
    """The buyer's message dated now: its deadlines lie ahead, so no overdue escalation joins
    the mail the tests count."""
    return raw.replace(b"Tue, 10 Mar 2026 08:00:00 +0000",
                       format_datetime(datetime.now(UTC)).encode())


def parsed(raw: bytes) -> EmailMessage:
    """``raw`` with its header fields unfolded and decoded (RFC 2047), as a reader sees them."""
    return email.message_from_bytes(raw, policy=policy.default)


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")


def address_of(value: object) -> str:
    return parseaddr(str(value or ""))[1].lower()


def advisor_answer(summary: EmailMessage, *, client: str,
                   trace: tuple[tuple[str, str], ...] = ()) -> bytes:
    """The advisor's answer to ``summary`` as ``client`` lays it out: the draft, a signature,
    the summary quoted below, the carrier's PDF; ``trace`` as a receiving server adds it."""
    quoted = Original(sender_name="Advisor Desk", sender=address_of(summary["From"]),
                      to_name="Anna", to="anna@advisor.example", subject=str(summary["Subject"]),
                      body=text_of(summary))
    return build_reply(client, DRAFT, signature="Anna Schmidt\nAdvisor Desk | Shenzhen",
                       original=quoted, sender=ADVISOR, to=str(summary["Reply-To"]),
                       message_id="<answer-1@advisor.example>", trace=trace,
                       attachments=(Attached("tracking.pdf", "application/pdf", PDF),))


def decision_answer(request: EmailMessage, text: str) -> bytes:
    """The decision-maker's answer to ``request`` from QQ Mail (which quotes the whole
    request, its APPROVE / 同意 / 批准 instructions included)."""
    quoted = Original(sender_name="Advisor Desk", sender=address_of(request["From"]),
                      to_name="李伟", to="li.wei@acme.example", subject=str(request["Subject"]),
                      body=text_of(request))
    return build_reply("qq", text, signature="李伟", original=quoted, sender=DECIDER,
                       to=str(request["Reply-To"]), message_id="<decision-1@acme.example>")


class Database:
    """Read access to the daemon's database, as the tests check it."""

    def __init__(self, config: Config) -> None:
        self.engine = make_engine(config.database)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.store = RawStore(config.archive_dir)

    def platform_reply(self) -> Outbound:
        with self.sessions() as session:
            return session.scalars(select(Outbound)
                                   .where(Outbound.kind == "platform_reply")).one()

    def receipts(self, row: Outbound) -> list[Receipt]:
        with self.sessions() as session:
            return list(session.scalars(select(Receipt).where(Receipt.outbound_id == row.id)
                                        .order_by(Receipt.id)))

    def archived(self, row: Outbound) -> bytes:
        with self.sessions() as session:
            return self.store.get(session.get_one(Message, row.archived_id).sha256)

    def case(self) -> Case:
        with self.sessions() as session:
            return session.scalars(select(Case)).one()

    def events(self, action: str) -> list[AuditEvent]:
        with self.sessions() as session:
            return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.seq)))

    def one(self, model: type) -> object:
        with self.sessions() as session:
            return session.scalars(select(model)).one()


@pytest.fixture
def database() -> Iterator[Callable[[Config], Database]]:
    opened: list[Database] = []

    def open_(config: Config) -> Database:
        opened.append(Database(config))
        return opened[-1]

    yield open_
    for db in opened:
        db.engine.dispose()


# --------------------------------------------------------------------------- the whole loop


class MailStack:
    """One Dovecot holding every mailbox of the loop (any user takes mail over LMTP; the
    users of ``USERS`` can log in), one Postfix delivering all of ``DOMAINS`` into it."""

    def __init__(self, dovecot: DovecotServer, postfix: PostfixServer) -> None:
        self.dovecot = dovecot
        self.postfix = postfix

    def submit(self, raw: bytes, to: str, sender: str) -> str:
        """Hand ``raw`` to Postfix for ``to``; return its queue id once Dovecot took it."""
        accepted = self.postfix.send(raw, [to], sender=sender)
        self.postfix.wait_delivered(accepted.queue_id)
        return accepted.queue_id

    def mailbox(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every message of ``user``'s ``folder``, oldest first, as IMAP gives them."""
        found = self.dovecot.fetch_all(folder, user=user)
        return [found[uid] for uid in sorted(found)]

    def folders_of(self, user: str) -> list[str]:
        with self.dovecot.client(user) as imap:
            return [name for _flags, _sep, name in imap.list_folders()]

    def wait_mail(self, user: str, check: Callable[[EmailMessage], bool],
                  count: int = 1) -> list[bytes]:
        """The messages of ``user``'s INBOX that pass ``check``, once there are ``count``."""

        def matching() -> list[bytes]:
            return [raw for raw in self.mailbox(user) if check(parsed(raw))]

        assert wait_until(lambda: len(matching()) >= count, 15), (
            f"{user} got {len(matching())} matching message(s), wanted {count}; "
            f"Postfix log:\n{self.postfix.log_tail(30)}")
        return matching()


@pytest.fixture
def stack(dovecot_factory: Callable[..., DovecotServer],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[MailStack]:
    dovecot = dovecot_factory(users={user: secrets.token_urlsafe(12) for user in USERS})
    assert dovecot.lmtp_port is not None
    for env, user in ((PLATFORM_ENV, "acme"), (DESK_ENV, "desk"), (SELLER_ENV, "amazon-eu")):
        monkeypatch.setenv(env, dovecot.users[user])
    monkeypatch.setenv(SECRET_ENV, secrets.token_urlsafe(16))
    postfix = PostfixServer(lmtp_port=dovecot.lmtp_port, domains=DOMAINS)
    try:
        postfix.start()
        yield MailStack(dovecot, postfix)
    finally:
        postfix.close()


def one_pass(config: Config) -> None:
    """One pass of the daemon: every source synced, every step drained, no source failed."""
    assert run_once(config) == 0


@pytest.mark.slow
def test_the_whole_loop_through_postfix_and_dovecot_reaches_the_buyer_once(
        stack: MailStack, db_url: str, tmp_path: Path,
        database: Callable[[Config], Database]) -> None:
    """GIVEN maild watching the platform mailbox and the desk's replies mailbox on Dovecot and
    sending through Postfix WHEN an Amazon buyer's message arrives through Postfix, the
    advisor answers the summary from Gmail (quotes, signature, a PDF) and the decision-maker
    answers the approval request from QQ Mail with 同意, each through Postfix and each followed
    by one pass of the daemon THEN the buyer's mailbox holds exactly one reply: from the store's
    sender, ``Re:`` the buyer's subject, threaded to the buyer's Message-ID, under the
    Message-ID fixed when it was queued, with only the advisor's new text and the PDF
    byte-exact, its bytes the archived ones; its receipt is Postfix's 250 with the queue id
    Postfix delivered it under; the seller's Sent folder holds one copy, the exact archived
    bytes; the case is ``sent``; the client and the advisor got the confirmation."""
    config_path = write_config(tmp_path, db_url, IMAP_SOURCES.format(imap_port=stack.dovecot.port),
                               stack.postfix.port, stack.dovecot.port)
    config = load_config(config_path)
    upgrade(config.database)
    db = database(config)
    notice = dated_now(buyer_message())

    stack.submit(notice, "acme@inbox.advisor.example", sender=BUYER)
    one_pass(config)
    (summary_raw,) = stack.wait_mail("anna", lambda m: m["X-Maild-Case"] is not None)
    summary = parsed(summary_raw)
    ticket = str(summary["X-Maild-Case"])
    assert address_of(summary["Reply-To"]).startswith(f"desk+{ticket.lower()}-case-")

    stack.submit(advisor_answer(summary, client="gmail"), address_of(summary["Reply-To"]),
                 sender="anna@advisor.example")
    one_pass(config)
    (request_raw,) = stack.wait_mail("li.wei", lambda m: m["X-Maild-Draft"] is not None)
    request = parsed(request_raw)
    assert request["X-Maild-Draft"] == f"{ticket} v1"
    assert address_of(request["Reply-To"]).startswith(f"desk+{ticket.lower()}-v1-")
    assert files_of(request)["tracking.pdf"] == PDF
    assert not stack.mailbox(BUYER_USER)

    stack.submit(decision_answer(request, "同意"), address_of(request["Reply-To"]),
                 sender="li.wei@acme.example")
    one_pass(config)

    (reply_raw,) = stack.wait_mail(BUYER_USER, lambda m: True)
    backend = db_url.split(":", 1)[0]
    print(f"\n--- the platform reply in the buyer's mailbox, header block ({backend}) ---\n"
          f"{header_block(reply_raw)}\n---")
    reply, original = parsed(reply_raw), parsed(notice)
    row = db.platform_reply()
    assert address_of(reply["From"]) == SELLER
    assert address_of(reply["Return-Path"]) == SELLER  # the envelope sender
    assert reply["To"] == BUYER
    assert reply["Subject"] == f"Re: {original['Subject']}"
    assert reply["In-Reply-To"] == original["Message-ID"]
    assert original["Message-ID"] in str(reply["References"]).split()
    assert reply["Message-ID"] == row.message_id and row.message_id.endswith("@acme.example>")
    assert text_of(reply).replace("\r\n", "\n").strip() == DRAFT
    assert files_of(reply) == {"tracking.pdf": PDF}
    archived = db.archived(row)
    assert reply_raw.endswith(archived), "the buyer got other bytes than maild archived"

    assert row.stage == "sent"
    (receipt,) = db.receipts(row)
    assert receipt.code == 250 and receipt.queue_id
    delivered = stack.postfix.wait_delivered(receipt.queue_id)
    assert f"to=<{BUYER}>" in delivered
    assert any(f"from=<{SELLER}>" in line for line in stack.postfix.log_of(receipt.queue_id))

    (copy,) = stack.mailbox("amazon-eu", "Sent")
    assert copy == archived
    assert db.case().state == "sent"
    decision = db.one(Decision)
    assert isinstance(decision, Decision)
    assert (decision.decision, decision.by, decision.via) == (
        "approved", "li.wei@acme.example", "mail")
    draft = db.one(Draft)
    assert isinstance(draft, Draft) and draft.state == "sent"
    for user in ("ops", "anna"):
        (confirmation,) = stack.wait_mail(user, lambda m: m["X-Maild-Kind"] == "sent")
        assert row.message_id in text_of(parsed(confirmation)), user

    one_pass(config)  # nothing is left to do: the buyer still has one reply, Sent one copy
    assert len(stack.mailbox(BUYER_USER)) == 1 and len(stack.mailbox("amazon-eu", "Sent")) == 1


# --------------------------------------------------------------------------- kill -9


def deliver(folder: Path, name: str, raw: bytes) -> None:
    """A Maildir delivery: written in tmp/, then renamed into new/."""
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "tmp" / name).write_bytes(raw)
    (folder / "tmp" / name).rename(folder / "new" / name)


def sink_mail(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [parsed(m.content) for m in sink.received if address in m.rcpt_tos]


def confirmed(sink: SmtpSink) -> None:
    """Wait until the client and the advisor each got the confirmation that the reply is sent."""
    for who in ("ops@acme.example", "anna@advisor.example"):
        def arrived(who: str = who) -> bool:
            return any(m["X-Maild-Kind"] == "sent" for m in sink_mail(sink, who))

        assert wait_until(arrived, 15), f"no confirmation reached {who}"


def start_daemon(maild_process: Spawn, config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = maild_process(["--config", config, "run"], None, stdout=out,
                             stderr=subprocess.STDOUT)
    assert wait_until(lambda: "started workers" in log.read_text(), 60), log.read_text()
    return proc


def approved_and_killed_mid_send(tmp_path: Path, sink: SmtpSink, maild_process: Spawn,
                                 sent_port: int | None,
                                 db_for: Callable[[Config], Database]) -> tuple[Path, Database]:
    """Up to the moment of the kill: the notice and the advisor's draft go through passes of
    the daemon (Maildir sources, the sink as SMTP server), the operator approves v1 on the
    command line, ``maild run`` takes the platform reply, the server keeps it and holds its
    250, and the daemon is killed -9. Returns the config file and the database."""
    config_path = write_config(tmp_path, f"sqlite:///{tmp_path}/maild.db",
                               MAILDIR_SOURCES.format(root=tmp_path), sink.port, sent_port,
                               poll=1.0)
    config = load_config(config_path)
    upgrade(config.database)
    db = db_for(config)
    deliver(tmp_path / "platform", "1.buyer", dated_now(buyer_message()))
    one_pass(config)
    (summary,) = [m for m in sink_mail(sink, "anna@advisor.example") if m["X-Maild-Case"]]
    ticket = str(summary["X-Maild-Case"])
    deliver(tmp_path / "replies", "1.answer", advisor_answer(
        summary, client="outlook", trace=(("Delivered-To", address_of(summary["Reply-To"])),)))
    one_pass(config)
    assert [m["X-Maild-Draft"] for m in sink_mail(sink, "li.wei@acme.example")] == [
        f"{ticket} v1"]
    approved = run_maild(["--config", config_path, "approve", ticket, "--version", "1"])
    assert approved.returncode == 0, approved.stderr
    row = db.platform_reply()
    assert row.stage == "queued"

    sink.delay_reply(60)  # the next message the server takes: the platform reply
    before = len(sink.received)
    proc = start_daemon(maild_process, config_path, tmp_path / "first.log")
    assert wait_until(lambda: len(sink.received) > before, 30), (
        tmp_path / "first.log").read_text()
    (held,) = sink.received[before:]
    assert held.rcpt_tos == (BUYER,) and held.content == db.archived(row)
    assert db.platform_reply().stage == "sending"
    proc.kill()
    proc.wait()
    assert db.platform_reply().stage == "sending"
    assert not db.receipts(row)
    return config_path, db


@pytest.mark.slow
def test_kill_9_mid_send_with_no_sent_folder_holds_the_reply_uncertain_for_the_operator(
        tmp_path: Path, smtp_sink: SmtpSink, maild_process: Spawn,
        database: Callable[[Config], Database], monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an approved platform reply that the server took while ``maild run`` was killed -9
    before its 250, and a store with no Sent folder WHEN maild runs again THEN the reply is not
    sent again: it is held ``uncertain`` with the reason, audited, the log says so and the
    operator is alerted with what to do; WHEN the operator, having checked with the platform,
    runs ``maild outbox mark-sent ID`` THEN the row and the case are ``sent`` with a receipt
    naming who marked it, the client and the advisor get the confirmation, and the platform
    still has the reply exactly once."""
    monkeypatch.setenv(SECRET_ENV, secrets.token_urlsafe(16))
    config_path, db = approved_and_killed_mid_send(tmp_path, smtp_sink, maild_process, None,
                                                   database)
    log = tmp_path / "second.log"
    start_daemon(maild_process, config_path, log)
    assert wait_until(lambda: db.platform_reply().stage == "uncertain", 30), log.read_text()
    row = db.platform_reply()
    assert row.error and row.error.startswith("uncertain:")
    assert f"maild outbox mark-sent {row.id}" in row.error
    assert "platform reply held" in log.read_text()
    assert [e.subject for e in db.events("send_uncertain")] == [row.message_id]
    assert wait_until(lambda: bool(sink_mail(smtp_sink, "operator@advisor.example")), 15)
    (alert,) = sink_mail(smtp_sink, "operator@advisor.example")
    assert f"maild outbox mark-sent {row.id}" in text_of(alert)
    assert alert["X-Maild-Kind"] == "send_held"
    assert len(sink_mail(smtp_sink, BUYER)) == 1

    marked = run_maild(["--config", config_path, "outbox", "mark-sent", str(row.id)])
    assert marked.returncode == 0, marked.stderr
    row = db.platform_reply()
    assert row.stage == "sent" and db.case().state == "sent"
    (event,) = db.events("marked_sent")
    assert event.subject == row.message_id
    assert json.loads(event.detail)["by"].startswith("cli:")
    confirmed(smtp_sink)  # sent by the running daemon, which polls the outbox
    (note,) = [m for m in sink_mail(smtp_sink, "ops@acme.example") if m["X-Maild-Kind"] == "sent"]
    assert "recorded as sent by cli:" in text_of(note) and "server accepted" not in text_of(note)
    assert len(sink_mail(smtp_sink, BUYER)) == 1


@pytest.mark.slow
def test_kill_9_mid_send_is_reconciled_from_the_sent_folder_and_not_sent_again(
        tmp_path: Path, smtp_sink: SmtpSink, maild_process: Spawn,
        dovecot_factory: Callable[..., DovecotServer],
        database: Callable[[Config], Database], monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an approved platform reply that the server took while ``maild run`` was killed -9
    before its 250, and the store's Sent folder on Dovecot holding the copy the provider filed
    itself (as Gmail does with SMTP-submitted mail) WHEN maild runs again THEN the reply is
    recorded ``sent`` from the Sent folder (the receipt, the audit and the log say so), not
    sent again and not filed twice; the case is ``sent`` and the confirmations go out."""
    seller = dovecot_factory(users={"amazon-eu": secrets.token_urlsafe(12)}, lmtp=False)
    monkeypatch.setenv(SELLER_ENV, seller.password)
    monkeypatch.setenv(SECRET_ENV, secrets.token_urlsafe(16))
    config_path, db = approved_and_killed_mid_send(tmp_path, smtp_sink, maild_process,
                                                   seller.port, database)
    row = db.platform_reply()
    seller.create_folder("Sent")
    seller.append(smtp_sink.received[-1].content, "Sent", flags=("\\Seen",))

    log = tmp_path / "second.log"
    start_daemon(maild_process, config_path, log)
    assert wait_until(lambda: db.platform_reply().stage == "sent", 30), log.read_text()
    assert "its Message-ID is in the Sent folder" in log.read_text()
    (receipt,) = db.receipts(row)
    assert receipt.code == 250 and "found in the Sent folder" in receipt.text
    (event,) = [e for e in db.events("sent") if e.subject == row.message_id]
    detail = json.loads(event.detail)
    assert (detail["reconciled"], detail["sent_copy"]) == ("Sent folder", "already in Sent")
    assert db.case().state == "sent"
    confirmed(smtp_sink)
    assert len(sink_mail(smtp_sink, BUYER)) == 1
    assert list(seller.fetch_all("Sent").values()) == [db.archived(row)]
