"""The intake step: answers that reach a ``replies`` mailbox become drafts, decisions or comments.

``intake -> taken`` (or ``refused``). An answer counts only when it came through a genuine reply
token of its case (the tokenised Reply-To of a summary, ``case``, or of one draft version's
approval request, ``v3``), from a person the client names, and, where the receiving server wrote
``Authentication-Results``, without a DKIM, SPF or DMARC failure. Then, by who wrote it:

- an **advisor**: a new draft version (the new text only, quotes and signature cut, attachments
  kept), or a comment to the client when it starts with ``NOTE:`` / ``备注:``;
- the **decision-maker** through a version's token: ``APPROVE`` / ``同意`` / ``批准`` approves that
  version, ``REJECT`` / ``拒绝`` rejects it with the reason, anything else asks for changes;
  through the case token: a comment to the advisors;
- another **contact** of the client: a comment to the advisors; never a decision.

Anything else (no or a forged token, a stranger, failed authentication, an automatic reply, a
phishing-suspect case, a decision on a version that is not waiting) changes nothing: it is
audited and the operator gets a short notice — never the sender, who may be forged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Config
from maild.config_table import plain_of
from maild.models import Case, Message
from maild.outbound.approvals import DecisionRefused, decide
from maild.outbound.compose_reply import DraftFacts, compose_reply_notice
from maild.outbound.drafts import NewAttachment, add_comment, add_draft
from maild.outbound.outbox import alert_operator
from maild.outbound.reply_text import ReplyContent, note_text, read_decision, read_reply
from maild.parsers.mime import header, parse_bytes
from maild.routing.tokens import read_token, token_from_addresses
from maild.stages import MessageStep, Stage

log = logging.getLogger("maild.outbound")

ACTOR = "maild:intake"
# A refused answer is audited every time; the operator hears of them once an hour per case (or
# once an hour for all without a case): spam to desk+anything@ must not become operator mail.
REFUSAL_ALERTS_EVERY = timedelta(hours=1)
_VERDICTS = {"approve": "approved", "reject": "rejected", "changes": "changes"}
_AUTOMATIC_PRECEDENCE = ("auto_reply", "bulk", "junk", "list")


@dataclass(frozen=True)
class Answer:
    """What the intake step read before touching the database."""

    content: ReplyContent
    automatic: str | None  # why the mail is an automatic reply (out of office), else None


def automatic_reply(raw: bytes) -> str | None:
    """Why ``raw`` is a machine's answer (RFC 3834 ``Auto-Submitted``, the older
    ``X-Autoreply`` / ``Precedence`` marks), else None: an out-of-office reply to an approval
    request must never count as a change request."""
    message = parse_bytes(raw)
    submitted = header(message, "Auto-Submitted").strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if header(message, name):
            return name
    precedence = header(message, "Precedence").strip().lower()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    return None


class IntakeStep(MessageStep):
    """Takes advisors' drafts, decisions and comments; refuses everything else."""

    name: ClassVar[str] = "intake"
    takes: ClassVar[Stage] = Stage.INTAKE
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED, Stage.SCHEDULED)

    def __init__(self, config: Config, store: RawStore,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def prepare(self, message: Message) -> Answer:
        raw = self.store.get(message.sha256)
        return Answer(read_reply(raw, self.config.authserv_id), automatic_reply(raw))

    def apply(self, session: Session, message: Message, answer: Answer) -> Stage:
        content, now = answer.content, self.clock()
        smtp, secret = self.config.smtp, self.config.secret
        if answer.automatic:
            return self._refuse(session, message, content, None,
                                f"automatic reply ({answer.automatic})", now)
        if smtp is None or secret is None:
            return self._refuse(session, message, content, None,
                                "no [smtp] reply_address and secret configured", now)
        token = token_from_addresses(smtp.reply_address, content.recipients)
        claim = read_token(secret.reveal(), token) if token else None
        if claim is None:
            return self._refuse(session, message, content, None,
                                "no genuine reply token" if token is None
                                else "forged or garbled reply token", now)
        case = session.scalars(select(Case).where(Case.ticket == claim.ticket)).first()
        if case is None:
            return self._refuse(session, message, content, None,
                                f"the token names {claim.ticket}, which does not exist", now)
        message.case_id = case.id
        if content.auth_failed:
            return self._refuse(session, message, content, case,
                                f"authentication failed ({content.auth_failed})", now)
        if case.category == "phishing_suspect":
            return self._refuse(session, message, content, case,
                                "the case is a phishing suspect: nothing is sent for it", now)
        client = self.config.client(case.client_id) if case.client_id else None
        if client is None:
            return self._refuse(session, message, content, case,
                                "the case belongs to no configured client", now)
        sender = content.sender
        advisors = {_bare(a) for a in client.advisors}
        contacts = {_bare(a) for a in (*client.summary_to, *client.escalate_to)}
        deciding = claim.scope.startswith("v") and claim.scope[1:].isdigit()
        try:
            if sender == client.decision_maker_address and deciding:
                self._decision(session, message, content, case, int(claim.scope[1:]), now)
            elif sender in advisors:
                self._advisor(session, message, content, case, now)
            elif sender == client.decision_maker_address or sender in contacts:
                if deciding and read_decision(content.new_text)[0] == "approve":
                    AuditLog(session).record(ACTOR, "approval_refused", case.ticket,
                                             sender=sender, reason="not the decision-maker")
                self._comment(session, message, content, case, "comment", now)
            else:
                return self._refuse(session, message, content, case,
                                    f"{sender or 'no sender'} is not an advisor, the "
                                    f"decision-maker or a contact of {client.id}", now)
        except DecisionRefused as exc:
            return self._refuse(session, message, content, case, str(exc), now)
        return Stage.TAKEN

    def _decision(self, session: Session, message: Message, content: ReplyContent, case: Case,
                  version: int, now: datetime) -> None:
        if not content.new_text:
            raise DecisionRefused("the answer holds no text (no decision)")
        verdict, text = read_decision(content.new_text)
        decide(session, self.store, self.config, case, version, decision=_VERDICTS[verdict],
               by=content.sender, via="mail", reason=text, evidence_message=message,
               evidence=f"mail {message.message_id or ''} sha256 {message.sha256}", now=now,
               actor=ACTOR)
        log.info("decision case=%s v%d %s by %s", case.ticket, version, verdict, content.sender)

    def _advisor(self, session: Session, message: Message, content: ReplyContent, case: Case,
                 now: datetime) -> None:
        note = note_text(content.new_text)
        if note is not None:
            self._comment(session, message, content, case, "note", now, text=note)
            return
        if not content.new_text and not content.attachments:
            raise DecisionRefused("the answer holds no new text (only quotes or a signature)")
        draft = add_draft(session, self.store, self.config, case, author=content.sender,
                          body=content.new_text,
                          attachments=[NewAttachment(a.filename, a.content_type, a.data)
                                       for a in content.attachments],
                          source=message, now=now, actor=ACTOR)
        log.info("draft case=%s v%d by %s: %s", case.ticket, draft.version, content.sender,
                 draft.state)

    def _comment(self, session: Session, message: Message, content: ReplyContent, case: Case,
                 kind: str, now: datetime, text: str | None = None) -> None:
        body = content.new_text if text is None else text
        if not body:
            raise DecisionRefused("the answer holds no new text")
        add_comment(session, self.store, self.config, case, kind=kind, author=content.sender,
                    body=body, source=message, draft=None, now=now, actor=ACTOR)

    def _refuse(self, session: Session, message: Message, content: ReplyContent,
                case: Case | None, reason: str, now: datetime) -> Stage:
        """Change nothing; audit it and tell the operator (never the sender)."""
        subject = case.ticket if case else message.sha256
        AuditLog(session).record(ACTOR, "reply_refused", subject, message=message.sha256,
                                 sender=content.sender, reason=reason)
        log.warning("reply refused message=%d sender=%s: %s", message.id, content.sender, reason)
        smtp = self.config.smtp
        if smtp is None:
            return Stage.REFUSED
        facts = DraftFacts(ticket=case.ticket if case else "-", version=0,
                           priority=case.priority if case else "P3",
                           platform=case.platform if case else "other",
                           category=case.category if case else "other",
                           topic=content.subject, author=content.sender, body="")
        details = {"reason": reason, "sender": content.sender or "-",
                   "subject": content.subject}
        alert_operator(session, self.store, smtp.operator, smtp.from_address,
                       lambda mid: compose_reply_notice(
                           "refused", facts, audience="operator", details=details,
                           languages=("en", "zh"), zone=ZoneInfo("UTC"), now=now,
                           from_address=smtp.from_address, to=list(smtp.operator),
                           reply_to=None, message_id=mid),
                       label=f"refused.{case.ticket if case else 'no-case'}", now=now,
                       case_id=case.id if case else None, actor=ACTOR,
                       once_per=REFUSAL_ALERTS_EVERY)
        return Stage.REFUSED


def _bare(address: str) -> str:
    return (plain_of(address) or address).lower()
