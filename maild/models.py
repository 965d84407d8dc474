"""Typed ORM models: the durable queue and ledger every stage hands off through.

DESIGN §3 lists the full model; this holds what ingestion needs now. Each table changes only
through an alembic revision in ``maild/migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL keeps the zone; SQLite stores text without one and hands back naive values,
    which cannot be compared with aware ones. Values are converted to UTC on the way in and
    marked UTC on the way out, so code never sees the difference.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | date | None,
                           dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # a calendar date (an effective date): its start
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every maild table."""


class Mailbox(Base):
    """One watched folder (IMAP account + folder, or a Maildir) and its fetch checkpoint.

    ``last_uid`` only ever names a UID whose message row has committed; with ``uidvalidity`` it
    is the (mailbox, uidvalidity, uid) dedup key of DESIGN §2.
    """

    __tablename__ = "mailbox"
    __table_args__ = (UniqueConstraint("source", "folder", name="uq_mailbox_source_folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    server_uidnext: Mapped[int | None] = mapped_column(BigInteger)
    last_sync: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)

    messages: Mapped[list[Message]] = relationship(back_populates="mailbox")

    @property
    def label(self) -> str:
        return f"{self.source}/{self.folder}"


class Message(Base):
    """One archived raw message, stored once per distinct content (sha256)."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id"), index=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(1000))
    internal_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stage: Mapped[str] = mapped_column(String(20), default="archived", index=True)
    direction: Mapped[str] = mapped_column(String(3), default="in")
    error: Mapped[str | None] = mapped_column(Text)
    # The step whose work failed (``maild requeue --stage`` replays from it) and how often work
    # on this row has failed; both kept across retries so an operator sees the history.
    failed_step: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("support_case.id"), index=True)

    mailbox: Mapped[Mailbox | None] = relationship(back_populates="messages")
    notice: Mapped[Notice | None] = relationship(back_populates="message")
    case: Mapped[Case | None] = relationship(back_populates="messages")


class Notice(Base):
    """What the parser read in one inbound message (DESIGN §3, §4.1); one row per message.

    ``parser`` and ``version`` say which code produced it, so a re-parse after a parser upgrade
    can tell old readings from new ones.
    """

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    platform: Mapped[str] = mapped_column(String(20), index=True)
    marketplace: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40), index=True)
    priority: Mapped[str] = mapped_column(String(2), index=True)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    deadline_text: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    identifiers: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(10))
    sender_verified: Mapped[bool | None] = mapped_column(Boolean)
    action_required: Mapped[bool] = mapped_column(Boolean)
    subject: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    summary_zh: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    parser: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    parsed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    metrics: Mapped[dict[str, float] | None] = mapped_column(JSON)  # AHR, rates, points

    message: Mapped[Message] = relationship(back_populates="notice")


class AuditEvent(Base):
    """One link of the hash-chained audit log: ``hash = sha256(prev_hash + event fields)``."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(1000))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Case(Base):
    """One matter of one client with one platform, under a ticket number (``MD-2026-000123``).

    Every inbound notice belongs to a case; follow-ups join the open case through its keys
    (:class:`CaseKey`). ``client_id`` is None for mail that matched no client (the fallback
    recipients have it). ``state`` moves new -> triaged -> drafting -> awaiting_approval ->
    sent -> closed (and reopened); each change is an audit event.
    """

    __tablename__ = "support_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[str | None] = mapped_column(String(100), index=True)
    store_name: Mapped[str | None] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(20))
    marketplace: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(2), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    subject_key: Mapped[str] = mapped_column(String(500), index=True)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    messages: Mapped[list[Message]] = relationship(back_populates="case")
    keys: Mapped[list[CaseKey]] = relationship(back_populates="case")
    outbound: Mapped[list[Outbound]] = relationship(back_populates="case")


class CaseKey(Base):
    """Something that threads a follow-up into its case: a platform case or complaint id, or
    the Message-ID of a message of the case (found again in References / In-Reply-To)."""

    __tablename__ = "case_key"
    __table_args__ = (UniqueConstraint("case_id", "kind", "value", name="uq_case_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(998), index=True)

    case: Mapped[Case] = relationship(back_populates="keys")


class TicketCounter(Base):
    """The last ticket number given out per year; incremented under a row lock, so tickets are
    unique across a fleet sharing PostgreSQL."""

    __tablename__ = "ticket_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Outbound(Base):
    """One outgoing message (summary, digest, acknowledgement, alert), written with its fixed
    Message-ID and archived bytes before any network call; the send step moves it
    ``queued -> sending -> sent`` (or ``failed``), retrying temporary failures at
    ``next_try_at``. A row left ``sending`` by a crash is sent again with the same Message-ID.
    """

    __tablename__ = "outbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("support_case.id"), index=True)
    archived_id: Mapped[int] = mapped_column(ForeignKey("message.id"))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    sender: Mapped[str] = mapped_column(String(500))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_step: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The approved draft a platform reply carries: unique, so a draft is queued to the platform
    # once however often its approval arrives.
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft.id", name="fk_outbound_draft_id"), unique=True)

    case: Mapped[Case | None] = relationship(back_populates="outbound")
    archived: Mapped[Message] = relationship()
    receipts: Mapped[list[Receipt]] = relationship(back_populates="outbound")


class Receipt(Base):
    """What the receiving server said when it took (or refused) one outbound message."""

    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbound_id: Mapped[int] = mapped_column(ForeignKey("outbound.id"), index=True)
    code: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    queue_id: Mapped[str | None] = mapped_column(String(200))
    refused: Mapped[dict[str, str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    outbound: Mapped[Outbound] = relationship(back_populates="receipts")


class Digest(Base):
    """One digest mail to come: the notices a client (or its advisors) receive together at the
    client's local digest time instead of one by one (by default P3). The digest step turns a
    due row into one outbound message."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("client_id", "audience", "due_at", name="uq_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    audience: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_step: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    entries: Mapped[list[DigestEntry]] = relationship(back_populates="digest")


class DigestEntry(Base):
    """A notice waiting in a digest, with the case it belongs to."""

    __tablename__ = "digest_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digest.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"))

    digest: Mapped[Digest] = relationship(back_populates="entries")


class Clock(Base):
    """One of a case's two clocks (DESIGN §3 ``Deadline``): ``platform`` (the act-by moment the
    notice states, or a standing rule's) or ``sla`` (the service's own promise, counted in the
    client's service hours). ``stopped_at`` ends an SLA clock at the first draft; a follow-up
    that moves a deadline moves ``due_at`` (the case history records it)."""

    __tablename__ = "clock"
    __table_args__ = (UniqueConstraint("case_id", "kind", name="uq_clock_case_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    source: Mapped[str] = mapped_column(String(500))
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Timer(Base):
    """A reminder or escalation to fire once at ``due_at`` (a row, so it survives restarts and
    a fleet fires it once); cancelled when its case moves on or its clock moves."""

    __tablename__ = "timer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    clock: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_step: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Draft(Base):
    """One version of the reply an advisor wrote for a case (DESIGN §3), taken from the
    advisor's answer to a summary (``source_id``, its archived mail) or written by the CLI.

    ``state``: ``pending`` (waiting for the decision-maker) -> ``approved`` -> ``sent``, or
    ``rejected`` / ``changes`` (the decision-maker asked for changes) / ``superseded`` (a newer
    version came) / ``blocked`` (a platform rule would get the seller penalised: ``blocked_by``).
    Attachments are kept in the content-addressed archive; the row lists them.
    """

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_draft_case_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, str | int]]] = mapped_column(JSON)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    platform_to: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), index=True)
    blocked_by: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    case: Mapped[Case] = relationship()
    decisions: Mapped[list[Decision]] = relationship(back_populates="draft")


class Decision(Base):
    """The decision-maker's answer to one draft version (DESIGN §3 ``Approval``): ``approved``,
    ``rejected`` (with ``reason``) or ``changes`` (the text asks for changes), with its evidence:
    the archived mail (``evidence_id``) or the CLI's user and host (``evidence``).
    ``first_pass`` marks an approval with no rejection or change request before it in the same
    round of the case (the monthly report's first-pass approval rate)."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(500))
    via: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    evidence: Mapped[str] = mapped_column(String(1000))
    first_pass: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    draft: Mapped[Draft] = relationship(back_populates="decisions")


class Comment(Base):
    """Words on a case that are not a draft for the platform: an advisor's ``NOTE:`` to the
    client, a client contact's comment, the decision-maker's change requests. Each is passed on
    (to the client, or to the advisors) and kept with its archived mail."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"))
    kind: Mapped[str] = mapped_column(String(20))  # note | comment | changes
    author: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportRun(Base):
    """One client's monthly report (issue 13): due on the 1st of the next month in the client's
    zone (``maild.report_step.due_time``), queued once by the report step or by
    ``maild report --send`` (``outbound_id``); unique per client and month, so a restart or a
    fleet never sends it twice. ``scheduled -> fired`` (or ``cancelled``, ``failed``)."""

    __tablename__ = "report_run"
    __table_args__ = (UniqueConstraint("client_id", "month", name="uq_report_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    month: Mapped[str] = mapped_column(String(7))  # "2026-03", the client's local month
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_step: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound.id", name="fk_report_run_outbound_id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
