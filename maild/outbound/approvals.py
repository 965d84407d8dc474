"""The decision-maker's decisions, and the platform reply an approval releases.

Only the client's one decision-maker decides, and only on the version a decision names: the
newest draft of the case, still ``pending``. Approving queues the reply to the platform at once,
in the same transaction: built from the approved body and attachments, from the store's
registered sender, threaded to the platform's message, its exact bytes archived, and tied to
the draft by a unique column so that a second approval (a repeated mail, a CLI call racing the
mail) can never queue it twice. Every decision is an audit event with its evidence: the archived
mail, or the user and host of the command line.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Config
from maild.errors import MaildError
from maild.models import Case, Decision, Draft, Message, Outbound
from maild.outbound.drafts import (
    APPROVAL,
    add_comment,
    draft_attachments,
    draft_facts,
    latest_draft,
    latest_notice,
    lock_case,
    notify,
    store_of,
)
from maild.outbound.outbox import queue
from maild.outbound.platform_reply import compose_platform_reply, thread_origin
from maild.outbound.platform_rules import blockers
from maild.outbound.receipts import Receipt as ServerReceipt
from maild.routing.cases import add_keys, set_state
from maild.routing.clocks import cancel_timers

DECISIONS = ("approved", "rejected", "changes")
PLATFORM_REPLY = "platform_reply"  # the outbound kind of an approved draft on its way


class DecisionRefused(MaildError):
    """A decision that cannot be taken: not the newest version, already decided, blocked."""


def decide(session: Session, archive: RawStore, config: Config, case: Case, version: int, *,
           decision: str, by: str, via: str, evidence: str, evidence_message: Message | None,
           now: datetime, actor: str, reason: str = "") -> Decision:
    """Record ``by``'s decision on version ``version`` of ``case``; raises DecisionRefused,
    recording nothing (the work is in a savepoint), when that version is not the one waiting
    for a decision or an approved draft cannot be sent."""
    with session.begin_nested():
        return _decide(session, archive, config, case, version, decision=decision, by=by,
                       via=via, evidence=evidence, evidence_message=evidence_message, now=now,
                       actor=actor, reason=reason)


def _decide(session: Session, archive: RawStore, config: Config, case: Case, version: int, *,
            decision: str, by: str, via: str, evidence: str, evidence_message: Message | None,
            now: datetime, actor: str, reason: str) -> Decision:
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    lock_case(session, case)
    draft = session.scalars(select(Draft).where(Draft.case_id == case.id,
                                                Draft.version == version)
                            .with_for_update()).first()
    newest = latest_draft(session, case)
    if draft is None:
        raise DecisionRefused(f"{case.ticket} has no draft version {version}")
    if newest is not None and newest.version != draft.version:
        raise DecisionRefused(f"{case.ticket} v{version} was replaced by v{newest.version}; "
                              f"only the newest version can be decided")
    if draft.state != "pending":
        raise DecisionRefused(f"{case.ticket} v{version} is {draft.state}, not waiting for a "
                              f"decision")
    first_pass = decision == "approved" and _first_pass(session, case, draft)
    row = Decision(draft_id=draft.id, decision=decision, by=by, via=via,
                   reason=reason or None, evidence_id=evidence_message.id
                   if evidence_message else None, evidence=evidence[:1000],
                   first_pass=first_pass, at=now)
    session.add(row)
    draft.state, draft.decided_at = decision, now
    session.flush()
    AuditLog(session).record(actor, f"draft_{decision}", case.ticket, version=version, by=by,
                             via=via, evidence=evidence, reason=reason or None,
                             first_pass=first_pass)
    cancel_timers(session, case, now, actor, clocks=(APPROVAL,))
    client, store = store_of(config, case)
    facts = draft_facts(session, case, draft, client, store)
    if decision == "approved":
        _queue_platform_reply(session, archive, config, case, draft, now, actor)
        notify(session, archive, config, case, client, "approved", facts,
               recipients=client.advisors if client else (), audience="advisor",
               details={"by": by, "via": via}, now=now, actor=actor)
        return row
    set_state(session, case, "drafting", actor)
    if decision == "changes":
        add_comment(session, archive, config, case, kind="changes", author=by, body=reason,
                    source=evidence_message, draft=draft, now=now, actor=actor)
    else:
        notify(session, archive, config, case, client, "rejected", facts,
               recipients=client.advisors if client else (), audience="advisor",
               details={"by": by, "reason": reason or "-"}, now=now, actor=actor)
    return row


def _first_pass(session: Session, case: Case, draft: Draft) -> bool:
    """No rejection or change request since the case's last reply went to the platform."""
    sent = session.scalar(select(Draft.version).where(Draft.case_id == case.id,
                                                      Draft.state == "sent")
                          .order_by(Draft.version.desc()).limit(1)) or 0
    pushed_back = session.scalars(
        select(Decision.id).join(Draft).where(Draft.case_id == case.id,
                                              Draft.version > sent,
                                              Decision.decision != "approved")).first()
    return pushed_back is None


def _queue_platform_reply(session: Session, archive: RawStore, config: Config, case: Case,
                          draft: Draft, now: datetime, actor: str) -> Outbound:
    """Queue the approved draft to the platform: its exact bytes archived before any attempt."""
    _client, store = store_of(config, case)
    attachments = draft_attachments(archive, draft)
    reasons = blockers(case.platform, case.category, draft.body,
                       [(name, len(data)) for name, _type, data in attachments])
    if store is None or store.sender is None or draft.platform_to is None or reasons:
        raise DecisionRefused(f"{case.ticket} v{draft.version} cannot be sent: "
                              f"{'; '.join(reasons) or 'no sender or platform address'}")
    notice_message = latest_notice(session, case)
    if notice_message is None:
        raise DecisionRefused(f"{case.ticket} has no platform notice to reply to")
    origin = thread_origin(archive.get(notice_message.sha256))
    # The platform sees this Message-ID: nothing in it names maild, the ticket or the version.
    message_id = make_msgid(domain=store.sender.rpartition("@")[2])
    raw = compose_platform_reply(origin, body=draft.body, attachments=attachments,
                                 from_address=store.sender, to=draft.platform_to,
                                 message_id=message_id, now=now)
    row = queue(session, archive, kind=PLATFORM_REPLY, sender=store.sender,
                recipients=[draft.platform_to], raw=raw, message_id=message_id, now=now,
                case_id=case.id, actor=actor)
    row.draft_id = draft.id
    add_keys(session, case, [("message_id", message_id)])  # the platform's answer threads here
    session.flush()
    return row


def reply_sent(session: Session, archive: RawStore, config: Config, row: Outbound,
               receipt: ServerReceipt | None, now: datetime, actor: str,
               marked_by: str | None = None) -> None:
    """The platform took the reply: its draft and case are ``sent``, and the client's people
    and the advisors get a short confirmation with the receipt (or, for a send cut off by a
    crash and checked by hand, with who recorded it as sent: no receipt is invented)."""
    if row.draft_id is None or row.case_id is None:
        return
    draft = session.get_one(Draft, row.draft_id)
    case = session.get_one(Case, row.case_id)
    draft.state = "sent"
    case.updated_at = now
    set_state(session, case, "sent", actor)
    client, store = store_of(config, case)
    facts = draft_facts(session, case, draft, client, store)
    details = {"message_id": row.message_id, "to": ", ".join(row.recipients),
               "at": now.isoformat()}
    if receipt is not None:
        details["receipt"] = f"{receipt.code} {receipt.text}"
    if marked_by is not None:
        details["marked_by"] = marked_by
    if client is not None:
        notify(session, archive, config, case, client, "sent", facts,
               recipients=client.summary_recipients, audience="client", details=details,
               now=now, actor=actor, reply_scope=None)
        notify(session, archive, config, case, client, "sent", facts,
               recipients=client.advisors, audience="advisor", details=details, now=now,
               actor=actor, reply_scope=None)
