"""Drafts and comments on a case: what an advisor's answer becomes (DESIGN §2 reply path).

An advisor's answer to a summary is a new **draft version** of the reply to the platform: its
attachments go into the content-addressed archive, the versions before it that still waited
are superseded, the SLA clock stops at the first draft, and the client's decision-maker gets an
approval request whose Reply-To carries a token of this version only. A draft that a platform
rule would get the seller penalised for (an external link in an Amazon buyer message, an empty
body) is ``blocked``: the advisors hear why, the decision-maker hears nothing.

Words that are not a draft (an advisor's ``NOTE:``, a client contact's comment, the
decision-maker's change requests) are :class:`Comment` rows passed on to the other side.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client, Config
from maild.config_clients import Store
from maild.config_table import plain_of
from maild.errors import ArchiveError
from maild.models import Case, Comment, Draft, Message, Notice, Timer
from maild.outbound.compose_reply import (
    DraftFacts,
    NoticeAudience,
    ReplyNotice,
    compose_approval_request,
    compose_reply_notice,
)
from maild.outbound.outbox import new_message_id
from maild.outbound.platform_reply import platform_address, thread_origin
from maild.outbound.platform_rules import blockers
from maild.routing.cases import set_state
from maild.routing.clocks import SLA, cancel_timers, clocks_of
from maild.routing.matching import is_platform_address
from maild.routing.sending import queue_guarded
from maild.routing.tokens import make_token, reply_address
from maild.stages import Stage

APPROVAL = "approval"  # the clock of the timers that chase a decision


@dataclass(frozen=True)
class NewAttachment:
    """An attachment of an advisor's answer, before it is archived."""

    filename: str
    content_type: str
    data: bytes


def store_of(config: Config, case: Case) -> tuple[Client | None, Store | None]:
    """The client of ``case`` in the running config, and the store it was matched to."""
    client = config.client(case.client_id) if case.client_id else None
    if client is None:
        return None, None
    store = next((s for s in client.stores
                  if s.platform == case.platform and s.name == case.store_name), None)
    return client, store


def latest_notice(session: Session, case: Case) -> Message | None:
    """The case's newest platform notice: what a reply answers. Never a phishing suspect that
    joined the case (phishers copy real subjects): a reply must not go to it or thread to it."""
    return session.scalars(select(Message).join(Notice).where(
        Message.case_id == case.id, Notice.category != "phishing_suspect")
        .order_by(Message.id.desc())).first()


def lock_case(session: Session, case: Case) -> None:
    """Serialise the reply path's work on one case (a new draft, a decision) across a fleet:
    a decision cannot interleave with the draft that supersedes its version."""
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


def latest_draft(session: Session, case: Case) -> Draft | None:
    return session.scalars(select(Draft).where(Draft.case_id == case.id)
                           .order_by(Draft.version.desc())).first()


def draft_attachments(store: RawStore, draft: Draft) -> list[tuple[str, str, bytes]]:
    """The draft's attachments as (filename, content type, bytes), read from the archive and
    checked against their SHA-256: an altered file is never sent as the approved one."""
    found = []
    for a in draft.attachments:
        data = store.get(str(a["sha256"]))
        if hashlib.sha256(data).hexdigest() != a["sha256"]:
            raise ArchiveError(f"attachment {a['filename']} of draft v{draft.version}: the "
                               f"archive file {a['sha256']} was altered")
        found.append((str(a["filename"]), str(a["content_type"]), data))
    return found


def draft_facts(session: Session, case: Case, draft: Draft, client: Client | None,
                store: Store | None = None) -> DraftFacts:
    """What approval requests and notices say about ``draft``."""
    message = latest_notice(session, case)
    notice = message.notice if message is not None else None
    clocks = clocks_of(session, case.id)
    sla = clocks.get(SLA)
    previous = session.scalars(select(Draft).where(Draft.case_id == case.id,
                                                   Draft.version < draft.version)
                               .order_by(Draft.version.desc())).first()
    return DraftFacts(
        ticket=case.ticket, version=draft.version, priority=case.priority,
        platform=case.platform, category=case.category,
        topic=notice.subject if notice else case.subject_key,
        marketplace=case.marketplace, store_name=case.store_name,
        client_name=client.name if client else None,
        summary_zh=notice.summary_zh if notice else "",
        summary_en=notice.summary_en if notice else "",
        deadline=case.deadline, sla_due=sla.due_at if sla else None,
        author=draft.author, body=draft.body,
        attachments=tuple((str(a["filename"]), int(a["size"])) for a in draft.attachments),
        platform_to=draft.platform_to,
        replaces=previous.version if previous else None,
        diff=diff_text(previous, draft) if previous else None)


def diff_text(old: Draft, new: Draft) -> str:
    """A unified diff of two versions' bodies (``maild draft --diff``, approval requests)."""
    return "".join(f"{line}\n" for line in difflib.unified_diff(
        old.body.splitlines(), new.body.splitlines(),
        fromfile=f"v{old.version}", tofile=f"v{new.version}", lineterm=""))


def add_draft(session: Session, archive: RawStore, config: Config, case: Case, *,
              author: str, body: str, attachments: Sequence[NewAttachment],
              source: Message | None, now: datetime, actor: str) -> Draft:
    """Record a new draft version of ``case`` and ask for a decision (or say why it is blocked)."""
    lock_case(session, case)
    client, store = store_of(config, case)
    kept = [_archive_attachment(archive, a) for a in attachments]
    version = (session.scalar(select(func.max(Draft.version))
                              .where(Draft.case_id == case.id)) or 0) + 1
    session.execute(update(Draft).where(Draft.case_id == case.id, Draft.state == "pending")
                    .values(state="superseded").execution_options(synchronize_session="fetch"))
    notice_message = latest_notice(session, case)
    target = None
    if notice_message is not None:
        origin = thread_origin(archive.get(notice_message.sha256))
        target = platform_address(origin, dict(store.reply_to) if store else {}, case.category)
    reasons = blockers(case.platform, case.category, body,
                       [(str(a["filename"]), int(a["size"])) for a in kept])
    configured = {address for _category, address in store.reply_to} if store else set()
    if target is None:
        reasons.append("no address to reply to: the notice has no Reply-To or From, and the "
                       "store configures no reply_to for this category")
    elif target not in configured and not is_platform_address(target):
        reasons.append(f"the reply would go to {target}, which is not a platform address "
                       f"(the forward hid the platform's own message?); set the store's "
                       f"reply_to for {case.category}")
    if store is None or store.sender is None:
        reasons.append("the store has no registered sender address ([[client.store]] sender)")
    draft = Draft(case_id=case.id, version=version, author=author, body=body,
                  attachments=kept, source_id=source.id if source else None,
                  platform_to=target, state="blocked" if reasons else "pending",
                  blocked_by=reasons or None, created_at=now)
    session.add(draft)
    session.flush()
    AuditLog(session).record(actor, "draft", case.ticket, version=version, author=author,
                             state=draft.state, blocked_by=reasons,
                             attachments=[a["sha256"] for a in kept],
                             evidence=source.sha256 if source else None)
    if not reasons:  # a blocked draft is no draft the platform could get: the SLA runs on
        _stop_sla_clock(session, case, now, actor)
    cancel_timers(session, case, now, actor, clocks=(APPROVAL,))
    facts = draft_facts(session, case, draft, client, store)
    if reasons:
        set_state(session, case, "drafting", actor)
        notify(session, archive, config, case, client, "blocked", facts,
               recipients=client.advisors if client else (), audience="advisor",
               details={"reasons": "\n".join(reasons)}, now=now, actor=actor)
        return draft
    set_state(session, case, "awaiting_approval", actor)
    if client is not None:
        _request_approval(session, archive, config, case, client, draft, facts, now, actor)
    return draft


def add_comment(session: Session, archive: RawStore, config: Config, case: Case, *,
                kind: str, author: str, body: str, source: Message | None,
                draft: Draft | None, now: datetime, actor: str) -> Comment:
    """Keep a comment and pass it on: an advisor's note to the client's people, anyone else's
    words (a contact's comment, the decision-maker's change requests) to the advisors."""
    comment = Comment(case_id=case.id, draft_id=draft.id if draft else None, kind=kind,
                      author=author, body=body, source_id=source.id if source else None,
                      created_at=now)
    session.add(comment)
    session.flush()
    AuditLog(session).record(actor, f"comment_{kind}", case.ticket, author=author,
                             draft=draft.version if draft else None,
                             evidence=source.sha256 if source else None)
    client, store = store_of(config, case)
    shown = draft or latest_draft(session, case)
    facts = (draft_facts(session, case, shown, client, store) if shown is not None
             else _case_facts(session, case, client, author))
    audience: NoticeAudience = "client" if kind == "note" else "advisor"
    if kind == "note":
        recipients: Sequence[str] = _dedup(
            (*client.summary_recipients, client.decision_maker)) if client else ()
    else:
        recipients = client.advisors if client else ()
    notify(session, archive, config, case, client,
           "changes_requested" if kind == "changes" else "comment", facts,
           recipients=recipients, audience=audience,
           details={"text": body, "by": author}, now=now, actor=actor)
    return comment


def notify(session: Session, archive: RawStore, config: Config, case: Case,
           client: Client | None, kind: ReplyNotice, facts: DraftFacts, *,
           recipients: Sequence[str], audience: NoticeAudience, details: dict[str, str],
           now: datetime,
           actor: str, reply_scope: str | None = "case") -> None:
    """Queue one reply-path notice to ``recipients`` (nothing without [smtp] or recipients)."""
    smtp = config.smtp
    if smtp is None or not recipients:
        return
    message_id = new_message_id(smtp.from_address, f"{case.ticket}.{kind}")
    languages = client.languages if client is not None and audience == "client" else ("en", "zh")
    raw = compose_reply_notice(
        kind, facts, audience=audience, details=details, languages=languages,
        zone=_zone(client), now=now, from_address=smtp.from_address, to=list(recipients),
        reply_to=_reply_to(config, case, reply_scope), message_id=message_id)
    queue_guarded(session, archive, smtp, kind=f"notice:{kind}", recipients=recipients,
                  raw=raw, message_id=message_id, case=case, now=now, actor=actor)


def _request_approval(session: Session, archive: RawStore, config: Config, case: Case,
                      client: Client, draft: Draft, facts: DraftFacts, now: datetime,
                      actor: str) -> None:
    """The approval request to the decision-maker, and the timers that chase the decision."""
    smtp = config.smtp
    answer_to = _reply_to(config, case, f"v{draft.version}")  # a secret comes with [smtp]
    if smtp is not None and answer_to is not None:
        message_id = new_message_id(smtp.from_address, f"{case.ticket}.v{draft.version}")
        notice_message = latest_notice(session, case)
        raw = compose_approval_request(
            facts, languages=client.languages, zone=client.zone, now=now,
            from_address=smtp.from_address, to=[client.decision_maker],
            reply_to=answer_to, message_id=message_id,
            attachments=draft_attachments(archive, draft),
            original=archive.get(notice_message.sha256) if notice_message else None)
        queue_guarded(session, archive, smtp, kind="approval_request",
                      recipients=[client.decision_maker], raw=raw, message_id=message_id,
                      case=case, now=now, actor=actor)
    for hours in client.approval_reminders:
        session.add(Timer(case_id=case.id, kind="reminder", clock=APPROVAL,
                          label=f"v{draft.version} awaits a decision for {hours:g} h",
                          due_at=now + timedelta(hours=hours), stage=Stage.SCHEDULED.value,
                          attempts=0, created_at=now))
    if client.approval_escalate_after is not None:
        hours = client.approval_escalate_after
        session.add(Timer(case_id=case.id, kind="escalation", clock=APPROVAL,
                          label=f"v{draft.version} awaits a decision for {hours:g} h",
                          due_at=now + timedelta(hours=hours), stage=Stage.SCHEDULED.value,
                          attempts=0, created_at=now))
    session.flush()


def _stop_sla_clock(session: Session, case: Case, now: datetime, actor: str) -> None:
    """The SLA promises a first draft: it stops at the first one (and its timers go)."""
    if case.first_response_at is None:
        case.first_response_at = now
    sla = clocks_of(session, case.id).get(SLA)
    if sla is None or sla.stopped_at is not None:
        return
    sla.stopped_at = now
    AuditLog(session).record(actor, "clock_stopped", case.ticket, clock=SLA,
                             met=now <= sla.due_at, due=sla.due_at.isoformat())
    cancel_timers(session, case, now, actor, clocks=(SLA,))


def _archive_attachment(archive: RawStore, attachment: NewAttachment) -> dict[str, str | int]:
    stored = archive.put(attachment.data)
    return {"filename": attachment.filename, "content_type": attachment.content_type,
            "size": stored.size, "sha256": stored.sha256}


def _reply_to(config: Config, case: Case, scope: str | None) -> str | None:
    if scope is None or config.smtp is None or config.secret is None:
        return None
    return reply_address(config.smtp.reply_address,
                         make_token(config.secret.reveal(), case.ticket, scope))


def _zone(client: Client | None) -> ZoneInfo:
    return client.zone if client else ZoneInfo("UTC")


def _case_facts(session: Session, case: Case, client: Client | None, author: str) -> DraftFacts:
    """Facts for a comment on a case that has no draft yet (version 0, empty body)."""
    message = latest_notice(session, case)
    notice = message.notice if message is not None else None
    sla = clocks_of(session, case.id).get(SLA)
    return DraftFacts(
        ticket=case.ticket, version=0, priority=case.priority, platform=case.platform,
        category=case.category, topic=notice.subject if notice else case.subject_key,
        marketplace=case.marketplace, store_name=case.store_name,
        client_name=client.name if client else None,
        summary_zh=notice.summary_zh if notice else "",
        summary_en=notice.summary_en if notice else "", deadline=case.deadline,
        sla_due=sla.due_at if sla else None, author=author, body="")


def _dedup(addresses: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault((plain_of(address) or address).lower(), address)
    return tuple(seen.values())
