"""The route step: a parsed notice finds its client and its case, and summaries are queued.

``parsed -> routed``. For each notice (DESIGN §2 "link case", "triage", "route"):
1. match the client and store by every address the mail arrived through, then by store names
   and merchant ids in the text (:mod:`maild.routing.matching`); no match or several: the
   fallback recipients get it with the candidates named — nothing is ever dropped;
2. apply triage (``maild/routing/triage.toml`` with the client's overrides): the priority of record;
3. link it to its case (a follow-up joins the open case) or open one;
4. queue the summaries (:mod:`maild.routing.compose`): the client's in the client's languages,
   the advisors' with the facts to draft, each with the case's tokenised ``Reply-To``.
Every decision is an audit event with its reason. maild's own messages coming back (a summary
forwarded into a watched mailbox) are recognised and never summarised again (loop safety).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client, Config
from maild.config_clients import Store
from maild.models import Case, CaseKey, Message, Notice
from maild.outbound.outbox import (
    new_message_id,
)
from maild.parsers.mime import body_text, header, parse_bytes
from maild.routing.alerts import queue_webhooks
from maild.routing.cases import Arrival, Linked, add_keys, link, set_state
from maild.routing.clocks import sla_due_of, start_clocks
from maild.routing.compose import (
    Audience,
    SummaryFacts,
    compose_summary,
)
from maild.routing.digests import hold
from maild.routing.escalation_rules import matching_rules
from maild.routing.matching import Match, match_client
from maild.routing.sending import queue_alert, queue_guarded
from maild.routing.threads import normalise_subject, references_of
from maild.routing.tokens import make_token, reply_address
from maild.routing.triage import TriageRules, load_rules
from maild.stages import MessageStep, Stage

log = logging.getLogger("maild.routing")

ACTOR = "maild:route"


@dataclass(frozen=True)
class Plan:
    """What the route step read before touching the database."""

    raw: bytes
    match: Match
    own: bool
    references: tuple[str, ...]
    text: str  # the body as text: escalation rules may match on it


@dataclass(frozen=True)
class _Triaged:
    """A notice as escalation rules see it: with the priority triage gave it."""

    platform: str
    marketplace: str | None
    category: str
    priority: str
    identifiers: Mapping[str, Sequence[str]]
    metrics: Mapping[str, float] | None


def is_own_message(raw: bytes) -> bool:
    """A message maild wrote itself (a summary, an alert) that came back into a watched mailbox:
    it carries ``X-Maild-Case`` or a Message-ID made by :func:`new_message_id`."""
    message = parse_bytes(raw)
    return bool(header(message, "X-Maild-Case")) or ".maild@" in header(message, "Message-ID")


class RouteStep(MessageStep):
    """Routes parsed notices; one instance per config generation."""

    name: ClassVar[str] = "route"
    takes: ClassVar[Stage] = Stage.PARSED
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED, Stage.HELD)

    def __init__(self, config: Config, store: RawStore,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rules = load_rules()

    def prepare(self, message: Message) -> Plan:
        raw = self.store.get(message.sha256)
        notice = message.notice
        assert notice is not None, "a parsed message has its notice"
        text = body_text(parse_bytes(raw))
        match = match_client(raw, notice.platform, notice.marketplace, text, self.config.clients)
        return Plan(raw, match, is_own_message(raw), tuple(references_of(raw)), text)

    def apply(self, session: Session, message: Message, plan: Plan) -> Stage:
        notice = message.notice
        assert notice is not None
        if plan.own:
            AuditLog(session).record(ACTOR, "not_routed", message.sha256,
                         reason="maild's own message came back (loop protection)")
            return Stage.ROUTED
        now = self.clock()
        matched = plan.match.client
        targets = self._announcement_clients(notice, matched)
        if targets:
            for client in targets:
                self._route(session, message, notice, plan, client, now, announcement=True)
        else:
            self._route(session, message, notice, plan, matched, now)
        return Stage.ROUTED

    def _route(self, session: Session, message: Message, notice: Notice, plan: Plan,
               client: Client | None, now: datetime, *, announcement: bool = False) -> None:
        """Link the notice to ``client``'s case and queue that client's summaries. An
        announcement already known to the client (the same platform, marketplace and subject,
        forwarded again or by someone else) joins its case and is not summarised again."""
        audit = AuditLog(session)
        key = ("announcement", "|".join((notice.platform, notice.marketplace or "",
                                        normalise_subject(notice.subject))))
        if announcement and client is not None:
            known = session.scalars(select(Case).join(CaseKey).where(
                Case.client_id == client.id, CaseKey.kind == key[0],
                CaseKey.value == key[1][:998])).first()
            if known is not None:
                if client is plan.match.client:
                    message.case_id = known.id
                audit.record(ACTOR, "announcement_known", message.sha256, case=known.ticket,
                             client=client.id)
                return
        priority = self._rules(client).priority(notice.category, notice.sent_at,
                                                notice.deadline)
        store = plan.match.store if client is plan.match.client else self._store_of(
            client, notice)
        linked = link(session, Arrival(
            client_id=client.id if client else None,
            store_name=store.name if store else None,
            platform=notice.platform, marketplace=notice.marketplace,
            category=notice.category, priority=priority, deadline=notice.deadline,
            subject_key=normalise_subject(notice.subject), identifiers=notice.identifiers,
            message_id=message.message_id, references=plan.references), now, ACTOR)
        if announcement:
            add_keys(session, linked.case, [key])
        start_clocks(session, linked.case, client, deadline=notice.deadline,
                     platform=notice.platform, category=notice.category,
                     marketplace=notice.marketplace, received=message.received_at, now=now,
                     actor=ACTOR, tiers=self.config.sla_tiers)
        if client is plan.match.client or message.case_id is None:
            message.case_id = linked.case.id
        reason = (plan.match.reason if client is plan.match.client
                  else f"announcement for every {notice.platform} store on "
                       f"{notice.marketplace or 'any marketplace'}")
        audit.record(ACTOR, "routed", message.sha256, case=linked.case.ticket,
                     client=client.id if client else None, reason=reason,
                     priority=priority, linked=linked.how)
        for audience, recipients in self._audiences(client):
            self._queue_summary(session, message, notice, plan, linked, audience, recipients,
                                client, now)
        if client is not None and not linked.is_update:  # a chat card for each new case
            queue_webhooks(session, self.store, client, summary_facts(
                notice, linked.case, client, sla_due=sla_due_of(session, linked.case)),
                linked.case, now, ACTOR)
        self._escalate_by_rules(session, message, notice, plan, linked.case, client, priority,
                                now)
        if linked.case.state in ("new", "reopened"):
            set_state(session, linked.case, "triaged", ACTOR)
        log.info("routed message=%d case=%s client=%s priority=%s (%s)", message.id,
                 linked.case.ticket, client.id if client else "-", priority, reason)

    def _escalate_by_rules(self, session: Session, message: Message, notice: Notice,
                           plan: Plan, case: Case, client: Client | None, priority: str,
                           now: datetime) -> None:
        """Config escalation rules (``[[escalation]]`` for everyone, ``[[client.escalation]]``
        for the client) on the triaged notice, its text and the figures it states (e.g. an
        Account Health Rating below 200): each rule that matches escalates at once to its
        ``escalate_to``, the client's and the advisors, by mail and chat card."""
        rules = self.config.escalations + (client.escalations if client else ())
        seen = _Triaged(notice.platform, notice.marketplace, notice.category, priority,
                        notice.identifiers, notice.metrics)
        smtp = self.config.smtp
        for rule in matching_rules(rules, seen, plan.text):
            recipients = (client.escalation_recipients(*rule.escalate_to) if client
                          else rule.escalate_to)
            AuditLog(session).record(ACTOR, "escalation", case.ticket, rule=rule.name,
                                     to=list(recipients))
            log.warning("escalation case=%s rule=%s", case.ticket, rule.name)
            facts = replace(summary_facts(notice, case, client,
                                          sla_due=sla_due_of(session, case)),
                            is_update=True, alert="escalation",
                            update_note=f"escalation rule {rule.name!r} matched")
            queue_alert(session, self.store, smtp, kind="escalation", facts=facts,
                        recipients=recipients, original=plan.raw, case=case, client=client,
                        now=now, actor=ACTOR)

    def _announcement_clients(self, notice: Notice, matched: Client | None) -> list[Client]:
        """For a policy announcement: every client with a store on its platform and
        marketplace (the matched client first); empty for anything else."""
        if notice.category != "policy_update" or notice.platform == "other":
            return []
        affected = [c for c in self.config.clients if self._store_of(c, notice) is not None]
        if matched is not None and matched in affected:
            affected.remove(matched)
            affected.insert(0, matched)
        return affected

    @staticmethod
    def _store_of(client: Client | None, notice: Notice) -> Store | None:
        if client is None:
            return None
        return next((store for store in client.stores if store.platform == notice.platform
                     and (notice.marketplace is None or store.sells_on(notice.marketplace))),
                    None)

    def _rules(self, client: Client | None) -> TriageRules:
        return self.rules if client is None or client.triage is None else client.triage

    def _audiences(self, client: Client | None) -> list[tuple[Audience, Sequence[str]]]:
        """Who gets which summary: the client and its advisors, or the fallback recipients."""
        if client is None:
            return [("fallback", self.config.fallback)] if self.config.fallback else []
        audiences: list[tuple[Audience, Sequence[str]]] = []
        audiences.append(("client", client.summary_recipients))
        if client.advisors:
            audiences.append(("advisor", client.advisors))
        return audiences

    def _queue_summary(self, session: Session, message: Message, notice: Notice, plan: Plan,
                       linked: Linked, audience: Audience, recipients: Sequence[str],
                       client: Client | None, now: datetime) -> None:
        smtp = self.config.smtp
        if smtp is None or not recipients:
            AuditLog(session).record(ACTOR, "not_sent", linked.case.ticket, audience=audience,
                                     reason="no [smtp] configured" if smtp is None
                                     else "no recipients")
            return
        case = linked.case
        if client is not None and audience != "fallback" and case.priority not in client.at_once:
            digest = hold(session, client, audience, case.id, message.id, now)
            AuditLog(session).record(ACTOR, "held_for_digest", case.ticket, audience=audience,
                                     due=digest.due_at.isoformat())
            return
        phishing = notice.category == "phishing_suspect"
        reply_to = None
        if not phishing and self.config.secret is not None:
            token = make_token(self.config.secret.reveal(), case.ticket)
            reply_to = reply_address(smtp.reply_address, token)
        message_id = new_message_id(smtp.from_address, f"{case.ticket}.{audience}")
        languages = client.languages if client and audience == "client" else ("en", "zh")
        zone = ZoneInfo(client.timezone) if client else ZoneInfo("UTC")
        raw = compose_summary(
            summary_facts(notice, case, client, is_update=linked.is_update,
                          changes=linked.changes, sla_due=sla_due_of(session, case),
                          candidates=[] if client else [c.name for c in plan.match.candidates]),
            audience=audience,
            languages=languages, zone=zone, now=now, from_address=smtp.from_address,
            to=list(recipients), reply_to=reply_to, message_id=message_id, original=plan.raw)
        queue_guarded(session, self.store, smtp, kind=f"summary:{audience}",
                      recipients=recipients, raw=raw, message_id=message_id, case=case, now=now,
                      actor=ACTOR)


def summary_facts(notice: Notice, case: Case, client: Client | None, *, is_update: bool = False,
                  changes: Sequence[str] = (), candidates: Sequence[str] = (),
                  sla_due: datetime | None = None) -> SummaryFacts:
    """What a summary (or a digest line) says about one notice of ``case``."""
    return SummaryFacts(
        ticket=case.ticket, priority=case.priority, platform=notice.platform,
        marketplace=notice.marketplace, store_name=case.store_name,
        client_name=client.name if client else None, category=notice.category,
        topic=notice.subject, deadline=case.deadline, deadline_text=notice.deadline_text,
        sla_due=sla_due, identifiers=notice.identifiers, summary_zh=notice.summary_zh,
        summary_en=notice.summary_en, sender_verified=notice.sender_verified,
        action_required=notice.action_required, is_update=is_update,
        update_note="; ".join(changes) or None, candidates=tuple(candidates),
        effective_date=notice.effective_date)
