"""Read-only views of cases and the outbox for ``maild cases``, ``maild case`` and
``maild outbox``: plain values, so the command line only formats them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from maild.models import AuditEvent, Case, Clock, Comment, Draft, Message, Outbound


@dataclass(frozen=True)
class HistoryLine:
    """One dated line of a case's history."""

    at: datetime
    kind: str
    text: str


def find_cases(session: Session, *, client: str | None = None, state: str | None = None,
               priority: str | None = None, due_within: timedelta | None = None,
               now: datetime | None = None) -> list[Case]:
    """Cases matching every given filter, the nearest deadline first (then the newest)."""
    query = select(Case)
    if client is not None:
        query = query.where(Case.client_id == client)
    if state is not None:
        query = query.where(Case.state == state)
    if priority is not None:
        query = query.where(Case.priority == priority)
    if due_within is not None:  # either clock: the platform's deadline or the running SLA
        assert now is not None
        running = select(Clock.id).where(Clock.case_id == Case.id, Clock.stopped_at.is_(None),
                                         Clock.due_at <= now + due_within)
        query = query.where(running.exists(), Case.state.not_in(("sent", "closed")))
    query = query.order_by(Case.deadline.is_(None), Case.deadline, Case.opened_at.desc())
    return list(session.scalars(query))


def case_history(session: Session, ticket: str) -> tuple[Case, list[HistoryLine]] | None:
    """The case and everything that happened to it, in time order: notices in, messages out
    with their receipts, and the audit events about the case: those naming the ticket, its
    notices (archived, routed with the reason) and its messages out (queued, sent, failed)."""
    case = session.scalars(select(Case).where(Case.ticket == ticket)
                           .options(selectinload(Case.outbound)
                                    .selectinload(Outbound.receipts))).first()
    if case is None:
        return None
    lines: list[HistoryLine] = []
    subjects = {ticket, *(row.message_id for row in case.outbound)}
    for message in session.scalars(select(Message).where(Message.case_id == case.id,
                                                         Message.direction == "in")):
        notice = message.notice
        what = (f"{notice.platform} {notice.category} {notice.priority}: {notice.subject}"
                if notice else f"{message.origin} ({message.stage})")
        lines.append(HistoryLine(message.received_at, "notice" if notice else "reply",
                                 f"{what} [{message.message_id}]"))
        subjects.add(message.sha256)
    for draft in session.scalars(select(Draft).where(Draft.case_id == case.id)):
        files = f", {len(draft.attachments)} attachment(s)" if draft.attachments else ""
        lines.append(HistoryLine(draft.created_at, "draft", f"v{draft.version} by "
                                 f"{draft.author} to {draft.platform_to or '-'}: "
                                 f"{draft.state}{files}"))
        for decision in draft.decisions:
            why = f": {decision.reason}" if decision.reason else ""
            lines.append(HistoryLine(decision.at, "decision", f"v{draft.version} "
                                     f"{decision.decision} by {decision.by} ({decision.via})"
                                     f"{why}"))
    for comment in session.scalars(select(Comment).where(Comment.case_id == case.id)):
        lines.append(HistoryLine(comment.created_at, comment.kind,
                                 f"by {comment.author}: {comment.body[:200]}"))
    for row in case.outbound:
        lines.append(HistoryLine(row.created_at, "out", f"{row.kind} to "
                                 f"{', '.join(row.recipients)}: {row.stage} [{row.message_id}]"))
        for receipt in row.receipts:
            queue_id = f" queue id {receipt.queue_id}" if receipt.queue_id else ""
            lines.append(HistoryLine(receipt.at, "receipt",
                                     f"{row.kind}: {receipt.code} {receipt.text}{queue_id}"))
    for event in session.scalars(select(AuditEvent).where(AuditEvent.subject.in_(subjects))):
        lines.append(HistoryLine(event.at, "audit", f"{event.action} {event.detail}"))
    lines.sort(key=lambda line: line.at)
    return case, lines


def outbox(session: Session, stage: str | None = None) -> list[Outbound]:
    """Outbound rows (all, or those at ``stage``), oldest first."""
    query = select(Outbound).options(selectinload(Outbound.receipts)).order_by(Outbound.id)
    if stage is not None:
        query = query.where(Outbound.stage == stage)
    return list(session.scalars(query))
