"""The outbox: every outgoing message becomes durable rows before any network call.

``queue`` archives the exact bytes (``direction = out``, linked to the case), adds the outbound
row with its fixed Message-ID in state ``queued`` and audits it, all in the caller's
transaction; the send step (:mod:`maild.outbound.send_step`) delivers it later, so a crash
anywhere loses nothing and a retry sends the very same bytes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import ARCHIVED_FIELDS, AuditLog
from maild.errors import MaildError
from maild.models import Message, Outbound
from maild.stages import Stage


def new_message_id(from_address: str, label: str) -> str:
    """A fresh Message-ID (RFC 5322 §3.6.4) in the sender's domain whose left part names what
    it is, e.g. ``<MD-2026-000123.client.3f9a1c2b7d.maild@advisor.example>``; maild recognises
    its own by the ``.maild@`` marker when such a message comes back (loop protection)."""
    _name, address = parseaddr(from_address)
    domain = address.rpartition("@")[2] or "maild.invalid"
    return f"<{label}.{secrets.token_hex(6)}.maild@{domain}>"


RATE_WINDOW = timedelta(hours=1)
# Messages to one recipient per window, unless [smtp] rate_limit_per_hour says otherwise: far
# above what one person reads (an advisor desk that gets every client's summaries included),
# far below what a mail loop produces.
RATE_LIMIT = 600


class RateLimited(MaildError):
    """A recipient got ``RATE_LIMIT`` messages within ``RATE_WINDOW``: most likely a loop or a
    runaway; nothing more is queued to them until the window passes."""


def recent_count(session: Session, recipient: str, now: datetime) -> int:
    """Messages queued to ``recipient`` (bare, or ``Name <address>`` as configured; rows hold
    bare addresses) within the rate window (any state), counted by the database: the JSON list
    of recipients holds the address as a quoted string. Reading every row of the window into
    Python made each queued message cost as much as the hour's outbox (bench/soak.py: the route
    step at 150 ms a notice after 10 minutes at 10 notices/s)."""
    address = (parseaddr(recipient)[1] or recipient).lower()
    needle = json.dumps(address)
    for special in ("\\", "%", "_"):
        needle = needle.replace(special, "\\" + special)
    return session.scalar(select(func.count()).select_from(Outbound).where(
        Outbound.created_at >= now - RATE_WINDOW,
        cast(Outbound.recipients, Text).ilike(f"%{needle}%", escape="\\"))) or 0


def queue(session: Session, store: RawStore, *, kind: str, sender: str,
          recipients: Sequence[str], raw: bytes, message_id: str, now: datetime,
          case_id: int | None = None, actor: str = "maild",
          limit: int | None = None) -> Outbound:
    """Archive ``raw`` durably and queue it for ``recipients``; returns the outbound row.

    Raises :class:`RateLimited` (queueing nothing) when a recipient is over the rate limit;
    operator alerts are exempt, so the operator always hears of it.
    """
    if kind != "operator_alert":
        limit = RATE_LIMIT if limit is None else limit
        flooded = [r for r in recipients if recent_count(session, r, now) >= limit]
        if flooded:
            raise RateLimited(f"rate limit: {', '.join(flooded)} got {limit} messages "
                              f"within {RATE_WINDOW}; {kind} not queued")
    stored = store.put(raw)
    archived = Message(sha256=stored.sha256, size=stored.size, message_id=message_id,
                       origin=f"outbound:{kind}", received_at=now, stage=Stage.OUTGOING.value,
                       direction="out", case_id=case_id, attempts=0)
    session.add(archived)
    session.flush()
    audit = AuditLog(session)
    audit.record(actor, "archived", stored.sha256,
                 **{key: getattr(archived, key) for key in ARCHIVED_FIELDS})
    envelope_sender = parseaddr(sender)[1] or sender  # MAIL FROM takes the bare address
    row = Outbound(kind=kind, case_id=case_id, archived_id=archived.id, message_id=message_id,
                   sender=envelope_sender, recipients=[parseaddr(r)[1] or r for r in recipients],
                   stage=Stage.QUEUED.value,
                   attempts=0, created_at=now)
    session.add(row)
    session.flush()
    audit.record(actor, "queued", message_id, outbound=row.id, kind=kind,
                             case=case_id, to=list(recipients), sha256=stored.sha256)
    return row


def alert_operator(session: Session, store: RawStore, operator: Sequence[str], sender: str,
                   raw_for: Callable[[str], bytes], *, label: str, now: datetime,
                   case_id: int | None = None, actor: str = "maild",
                   once_per: timedelta | None = None) -> Outbound | None:
    """Queue an operator alert (``raw_for(message_id)`` builds it); with ``once_per``, not when
    an alert of the same ``label`` was queued within that time (a storm alerts once)."""
    if not operator:
        return None
    if once_per is not None and session.scalars(
            select(Outbound.id).where(Outbound.kind == "operator_alert",
                                      Outbound.message_id.like(f"<alert.{label}.%"),
                                      Outbound.created_at >= now - once_per)).first():
        return None
    message_id = new_message_id(sender, f"alert.{label}")
    return queue(session, store, kind="operator_alert", sender=sender, recipients=operator,
                 raw=raw_for(message_id), message_id=message_id, now=now, case_id=case_id,
                 actor=actor)
