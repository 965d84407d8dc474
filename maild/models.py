"""Typed ORM models: the durable queue and ledger every stage hands off through.

DESIGN §3 lists the full model; this holds what ingestion needs now. Each table changes only
through an alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime

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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
    last_sync: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

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
    internal_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage: Mapped[str] = mapped_column(String(20), default="archived", index=True)
    direction: Mapped[str] = mapped_column(String(3), default="in")
    error: Mapped[str | None] = mapped_column(Text)
    # The step whose work failed (``maild requeue --stage`` replays from it) and how often work
    # on this row has failed; both kept across retries so an operator sees the history.
    failed_step: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    mailbox: Mapped[Mailbox | None] = relationship(back_populates="messages")
    notice: Mapped[Notice | None] = relationship(back_populates="message")


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
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    deadline_text: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    identifiers: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(10))
    sender_verified: Mapped[bool | None] = mapped_column(Boolean)
    action_required: Mapped[bool] = mapped_column(Boolean)
    subject: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary_zh: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    parser: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    parsed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    message: Mapped[Message] = relationship(back_populates="notice")


class AuditEvent(Base):
    """One link of the hash-chained audit log: ``hash = sha256(prev_hash + event fields)``."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(1000))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
