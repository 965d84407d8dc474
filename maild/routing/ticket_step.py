"""The ticket step: clients write to the ``service`` mailbox and get a case (DESIGN §4.6).

``ticket -> routed``. A message from one of a client's known addresses (decision-maker,
summary recipients, store addresses) opens a case, or joins the one its References or its
``[URGENT-MD-…]`` / ``(MD-…)`` tag names. A subject starting ``【URGENT】`` or ``[URGENT]``
opens it as P0 (else P2); the advisors are alerted at once with the client's text, and the
client contact gets an acknowledgement carrying the ticket. Mail from anyone else goes to the
fallback recipients and is never acknowledged (no backscatter to forged senders), and neither is
automatic mail (RFC 3834 ``Auto-Submitted``, ``Precedence: bulk/junk/list``) or maild's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client, Config
from maild.config_table import plain_of
from maild.models import Case, Message
from maild.outbound.outbox import (
    new_message_id,
)
from maild.parsers.mime import body_text, header, parse_bytes
from maild.routing.cases import Arrival, link, set_state
from maild.routing.clocks import start_clocks
from maild.routing.compose import (
    Audience,
    SummaryFacts,
    compose_ack,
    compose_summary,
)
from maild.routing.route_step import is_own_message
from maild.routing.sending import queue_guarded
from maild.routing.threads import normalise_subject, references_of, ticket_in
from maild.routing.tokens import make_token, reply_address
from maild.stages import MessageStep, Stage

log = logging.getLogger("maild.routing")

ACTOR = "maild:tickets"
URGENT = re.compile(r"^\s*(?:【\s*URGENT\s*】|\[\s*URGENT\s*\])", re.IGNORECASE)
EXCERPT_CHARS = 2000


def is_automatic(raw: bytes) -> bool:
    """Mail no robot may answer: ``Auto-Submitted`` other than ``no`` (RFC 3834 §5),
    ``Precedence: bulk``/``junk``/``list`` (RFC 2076), or maild's own."""
    message = parse_bytes(raw)
    auto = header(message, "Auto-Submitted").strip().lower()
    precedence = header(message, "Precedence").strip().lower()
    return (auto not in ("", "no") or precedence in ("bulk", "junk", "list")
            or is_own_message(raw))


def client_of(sender: str, clients: Sequence[Client]) -> Client | None:
    """The one client whose contacts or store addresses include ``sender``; contacts may be
    configured as ``Name <address>``, so their bare addresses are compared."""
    sender = sender.lower()
    found = [client for client in clients
             if sender in {client.decision_maker_address.lower(),
                           *(plain_of(a) for a in client.summary_to),
                           *(plain_of(a) for a in client.escalate_to),
                           *(a for store in client.stores for a in store.addresses),
                           *(store.sender.lower() for store in client.stores if store.sender)}]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class TicketPlan:
    raw: bytes
    sender: str
    subject: str
    text: str
    message_id: str | None
    references: tuple[str, ...]
    automatic: bool
    client: Client | None


class TicketStep(MessageStep):
    """Turns a client's mail to the service mailbox into a case, alerts and acknowledgement."""

    name: ClassVar[str] = "tickets"
    takes: ClassVar[Stage] = Stage.TICKET
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED,)

    def __init__(self, config: Config, store: RawStore,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def prepare(self, message: Message) -> TicketPlan:
        raw = self.store.get(message.sha256)
        parsed = parse_bytes(raw)
        senders = getaddresses([header(parsed, "From")])
        sender = senders[0][1].lower() if senders else ""
        references = list(references_of(raw))
        return TicketPlan(raw=raw, sender=sender, subject=header(parsed, "Subject"),
                          text=body_text(parsed)[:EXCERPT_CHARS],
                          message_id=message.message_id, references=tuple(references),
                          automatic=is_automatic(raw),
                          client=client_of(sender, self.config.clients))

    def apply(self, session: Session, message: Message, plan: TicketPlan) -> Stage:
        now = self.clock()
        audit = AuditLog(session)
        if is_own_message(plan.raw):
            audit.record(ACTOR, "not_routed", message.sha256,
                         reason="maild's own message came back (loop protection)")
            return Stage.ROUTED
        urgent = bool(URGENT.match(plan.subject))
        client = plan.client
        references = plan.references
        named = ticket_in(plan.subject)
        if named is not None:
            earlier = session.scalars(select(Case.id).where(Case.ticket == named)).first()
            if earlier is not None:
                mid = session.scalars(select(Message.message_id).where(
                    Message.case_id == earlier, Message.message_id.is_not(None))).first()
                references += (mid,) if mid else ()
        linked = link(session, Arrival(
            client_id=client.id if client else None, store_name=None, platform="other",
            marketplace=None, category="client_request", priority="P0" if urgent else "P2",
            deadline=None, subject_key=normalise_subject(plan.subject), identifiers={},
            message_id=plan.message_id, references=references), now, ACTOR)
        case = linked.case
        message.case_id = case.id
        start_clocks(session, case, client, deadline=None, platform="other",
                     category="client_request", marketplace=None,
                     received=message.received_at, now=now, actor=ACTOR,
                     tiers=self.config.sla_tiers)
        audit.record(ACTOR, "ticket", message.sha256, case=case.ticket, urgent=urgent,
                     client=client.id if client else None, sender=plan.sender,
                     reason="known client contact" if client else "unknown sender")
        facts = SummaryFacts(ticket=case.ticket, priority=case.priority, platform="other",
                             category="other", topic=plan.subject,
                             client_name=client.name if client else None,
                             summary_en=plan.text, summary_zh=plan.text,
                             is_update=linked.is_update,
                             update_note="; ".join(linked.changes) or None)
        if client is None:
            self._summary(session, "fallback", self.config.fallback, facts, plan, case, now)
            return Stage.ROUTED
        self._summary(session, "advisor", client.advisors, facts, plan, case, now)
        if not plan.automatic and not linked.is_update:
            self._ack(session, client, plan, case, urgent, now)
        if case.state in ("new", "reopened"):
            set_state(session, case, "triaged", ACTOR)
        log.info("ticket message=%d case=%s client=%s urgent=%s", message.id, case.ticket,
                 client.id, urgent)
        return Stage.ROUTED

    def _reply_to(self, ticket: str) -> str | None:
        smtp = self.config.smtp
        if smtp is None or self.config.secret is None:
            return None
        return reply_address(smtp.reply_address, make_token(self.config.secret.reveal(), ticket))

    def _summary(self, session: Session, audience: Audience, recipients: Sequence[str],
                 facts: SummaryFacts, plan: TicketPlan, case: Case, now: datetime) -> None:
        smtp = self.config.smtp
        if smtp is None or not recipients:
            return
        message_id = new_message_id(smtp.from_address, f"{case.ticket}.{audience}")
        raw = compose_summary(facts, audience=audience, languages=("en", "zh"),
                              zone=ZoneInfo("UTC"), now=now, from_address=smtp.from_address,
                              to=list(recipients), reply_to=self._reply_to(case.ticket),
                              message_id=message_id, original=plan.raw)
        self._queue(session, f"ticket:{audience}", recipients, raw, message_id, case, now)

    def _ack(self, session: Session, client: Client, plan: TicketPlan, case: Case,
             urgent: bool, now: datetime) -> None:
        smtp = self.config.smtp
        if smtp is None:
            return
        message_id = new_message_id(smtp.from_address, f"{case.ticket}.ack")
        raw = compose_ack(case.ticket, urgent=urgent, original_subject=plan.subject,
                          languages=client.languages, zone=ZoneInfo(client.timezone), now=now,
                          from_address=smtp.from_address, to=[plan.sender],
                          reply_to=self._reply_to(case.ticket), message_id=message_id,
                          in_reply_to=plan.message_id, client_name=client.name)
        self._queue(session, "ack", [plan.sender], raw, message_id, case, now)

    def _queue(self, session: Session, kind: str, recipients: Sequence[str], raw: bytes,
               message_id: str, case: Case, now: datetime) -> None:
        smtp = self.config.smtp
        assert smtp is not None
        queue_guarded(session, self.store, smtp, kind=kind, recipients=recipients, raw=raw,
                      message_id=message_id, case=case, now=now, actor=ACTOR)

