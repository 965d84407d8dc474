"""The mails maild writes to people: case summaries, digests, acknowledgements, operator alerts.

Pure functions from facts to the exact bytes of an RFC 5322 message (CRLF line ends): no
database, no network, no clock (the caller passes `now`). The same facts give the same bytes,
so the outbox can archive what it will send before it sends it. Every word a reader sees comes
from `maild/templates/routing/` through the shared environment (`maild.templating`); Python only
gathers the facts; `maild.routing.assemble` makes the MIME.

The platform's original is attached unchanged (DESIGN §4.3): as ``message/rfc822`` when every
hop keeps it byte for byte, else as the file ``original.eml`` in base64, and the mail says why.
`attached_originals` reads the originals back from a composed or IMAP-fetched message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from maild.parsers.notice import IDENTIFIER_KEYS
from maild.parsers.pipeline import REGISTRY
from maild.parsers.summary import BRAND_SPELLING, marketplace_name
from maild.routing.assemble import Attachment, assemble, attached_originals, headers_of
from maild.routing.triage import CATEGORIES, PRIORITIES
from maild.templating import defang, environment

__all__ = ["ALERT_KINDS", "AlertKind", "Audience", "SummaryFacts", "attached_originals",
           "clean_topic", "common_context", "compose_ack", "compose_digest",
           "compose_operator_alert", "compose_summary", "platform_names", "reader_languages",
           "render", "where"]

Audience = Literal["client", "advisor", "fallback"]
AlertKind = Literal["unmatched", "send_failure", "bounce", "rate_limit", "stale_mailbox"]
ALERT_KINDS: tuple[str, ...] = ("unmatched", "send_failure", "bounce", "rate_limit",
                                "stale_mailbox")
MAX_TOPIC = 80
_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:re|fw|fwd|aw|wg|tr|rv|sv|vs|rif|antw|enc|転送|转发|回复|答复|轉寄|回覆)"
    r"\s*(?:\[\d+\])?\s*[:：])+\s*", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class SummaryFacts:
    """What a summary says about one case's notice; free text as the parser or the case gave it."""

    ticket: str
    priority: str
    platform: str
    category: str
    topic: str
    marketplace: str | None = None
    store_name: str | None = None
    client_name: str | None = None
    deadline: datetime | None = None
    deadline_text: str | None = None
    sla_due: datetime | None = None
    identifiers: Mapping[str, Sequence[str]] = field(default_factory=dict)
    summary_zh: str = ""
    summary_en: str = ""
    sender_verified: bool | None = None
    action_required: bool = False
    is_update: bool = False
    update_note: str | None = None
    alert: str | None = None  # "reminder" or "escalation": a clock's timer, not a new notice
    candidates: tuple[str, ...] = ()
    effective_date: date | None = None  # a date, or an aware datetime

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"{self.ticket}: priority {self.priority!r} is not one of P0..P3")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.ticket}: unknown category {self.category!r}")
        for name in ("deadline", "sla_due", "effective_date"):
            moment = getattr(self, name)
            if isinstance(moment, datetime) and moment.tzinfo is None:
                raise ValueError(f"{self.ticket}: {name} must be an aware datetime")

    @property
    def phishing(self) -> bool:
        return self.category == "phishing_suspect"


def clean_topic(subject: str) -> str:
    """The notice's subject as a short topic: one line, no Re:/Fwd:/转发: chain, at most 80."""
    topic = " ".join(subject.split())
    topic = _REPLY_PREFIX.sub("", topic).strip()
    return topic if len(topic) <= MAX_TOPIC else topic[: MAX_TOPIC - 1].rstrip() + "…"


def compose_summary(facts: SummaryFacts, *, audience: Audience, languages: Sequence[str],
                    zone: ZoneInfo, now: datetime, from_address: str, to: Sequence[str],
                    reply_to: str | None, message_id: str, original: bytes,
                    in_reply_to: str | None = None) -> bytes:
    """The tagged summary of one case (DESIGN §4.3) for `audience`, with `original` attached.

    Clients get their `languages` in their order; advisors and the fallback get English first
    and the facts a draft needs. A phishing suspect gets a warning on top, every link in its
    facts defanged and no Reply-To, whatever `reply_to` says."""
    shown = _defanged(facts) if facts.phishing else replace(facts, topic=clean_topic(facts.topic))
    attachment = Attachment.of(original, "original.eml")
    context = {
        **common_context(zone, now), "f": shown, "audience": audience,
        "langs": reader_languages(audience, languages), "where": where(facts),
        "platform_names": platform_names(facts.platform), "amazon": facts.platform == "amazon",
        "ids": _identifiers(shown.identifiers), "originals": [attachment],
        "summaries": {"zh": shown.summary_zh, "en": shown.summary_en},
    }
    headers = headers_of(
        subject=render("routing/subject.txt.j2", context), from_address=from_address, to=to,
        reply_to=None if facts.phishing else reply_to, message_id=message_id, now=now,
        zone=zone, in_reply_to=in_reply_to,
        extra={"X-Maild-Case": facts.ticket, "X-Maild-Priority": facts.priority,
               "X-Maild-Platform": facts.platform})
    return assemble(headers, render("routing/summary.txt.j2", context),
                    render("routing/summary.html.j2", context), [attachment])


def compose_digest(items: Sequence[SummaryFacts], *, languages: Sequence[str], zone: ZoneInfo,
                   now: datetime, from_address: str, to: Sequence[str], message_id: str,
                   reply_to: str | None = None, originals: Sequence[bytes] = (),
                   audience: Audience = "client") -> bytes:
    """Several waiting notices (P3 by default) in one mail, each with its tags and summary.

    `originals`, when given, are the notices' raw bytes in the order of `items`, attached like a
    summary's. The digest names its cases in ``X-Maild-Cases`` (space separated); it belongs to
    no single case, so it has no ``X-Maild-Case`` and a Reply-To only if the caller gives one."""
    if not items:
        raise ValueError("a digest needs at least one notice")
    if originals and len(originals) != len(items):
        raise ValueError(f"{len(originals)} originals for {len(items)} digest items")
    shown = [_defanged(f) if f.phishing else replace(f, topic=clean_topic(f.topic)) for f in items]
    attachments = [Attachment.of(raw, f"original-{n}.eml") for n, raw in enumerate(originals, 1)]
    entries = [{"f": f, "where": where(f), "platform_names": platform_names(f.platform),
                "amazon": f.platform == "amazon", "ids": _identifiers(f.identifiers),
                "summaries": {"zh": f.summary_zh, "en": f.summary_en},
                "attachment": attachments[n] if attachments else None}
               for n, f in enumerate(shown)]
    top = min((f.priority for f in items), key=PRIORITIES.index)
    context = {**common_context(zone, now), "entries": entries, "priority": top,
               "langs": reader_languages(audience, languages), "audience": audience,
               "originals": attachments}
    headers = headers_of(
        subject=render("routing/digest_subject.txt.j2", context), from_address=from_address,
        to=to, reply_to=reply_to, message_id=message_id, now=now, zone=zone, in_reply_to=None,
        extra={"X-Maild-Cases": " ".join(f.ticket for f in items), "X-Maild-Priority": top,
               "X-Maild-Digest": str(len(items))})
    return assemble(headers, render("routing/digest.txt.j2", context),
                    render("routing/digest.html.j2", context), attachments)


def compose_ack(ticket: str, *, urgent: bool, original_subject: str, languages: Sequence[str],
                zone: ZoneInfo, now: datetime, from_address: str, to: Sequence[str],
                reply_to: str | None, message_id: str, in_reply_to: str | None = None,
                client_name: str | None = None) -> bytes:
    """The acknowledgement of a client's ticket to the service mailbox, threaded to it.

    An urgent ticket (【URGENT】 / [URGENT]) is P0 and its subject carries
    ``[URGENT-MD-2026-000123]``, which the client keeps when writing again."""
    priority = "P0" if urgent else "P2"
    context = {**common_context(zone, now), "ticket": ticket, "urgent": urgent,
               "topic": clean_topic(_URGENT_TAG.sub("", original_subject)),
               "langs": reader_languages("client", languages), "client_name": client_name,
               "priority": priority}
    headers = headers_of(
        subject=render("routing/ack_subject.txt.j2", context), from_address=from_address, to=to,
        reply_to=reply_to, message_id=message_id, now=now, zone=zone, in_reply_to=in_reply_to,
        extra={"X-Maild-Case": ticket, "X-Maild-Priority": priority})
    return assemble(headers, render("routing/ack.txt.j2", context),
                    render("routing/ack.html.j2", context), [])


_URGENT_TAG = re.compile(r"^\s*(?:【\s*URGENT\s*】|\[\s*URGENT\s*\])\s*", re.IGNORECASE)


def compose_operator_alert(kind: AlertKind, details: Mapping[str, str], *, now: datetime,
                           from_address: str, to: Sequence[str], message_id: str,
                           zone: ZoneInfo | None = None, ticket: str | None = None,
                           languages: Sequence[str] = ("en",),
                           original: bytes | None = None) -> bytes:
    """An alert to the operator: unmatched mail, a failed send, a bounce, a rate limit hit, a
    mailbox that stopped syncing.

    `details` are shown as a table in the given order (recipient, SMTP reply, queue id ...);
    `original`, when given (the unmatched notice, the bounce), is attached unchanged."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"unknown operator alert {kind!r}: use one of {', '.join(ALERT_KINDS)}")
    zone = zone or ZoneInfo("UTC")
    attachments = [Attachment.of(original, "original.eml")] if original is not None else []
    context = {**common_context(zone, now), "kind": kind, "details": list(details.items()),
               "ticket": ticket, "langs": reader_languages("advisor", languages),
               "originals": attachments}
    extra: dict[str, str] = {"X-Maild-Alert": kind}
    if ticket:
        extra["X-Maild-Case"] = ticket
    headers = headers_of(
        subject=render("routing/operator_alert_subject.txt.j2", context),
        from_address=from_address, to=to, reply_to=None, message_id=message_id, now=now,
        zone=zone, in_reply_to=None, extra=extra)
    return assemble(headers, render("routing/operator_alert.txt.j2", context),
                    render("routing/operator_alert.html.j2", context), attachments)


def render(name: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(name).render(context)


def common_context(zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return {"zone": zone, "now": now}


@cache
def _available_languages() -> frozenset[str]:
    """Languages with a words file `routing/lang/<code>.j2`: adding one is adding it."""
    names = environment().list_templates(filter_func=lambda n: n.startswith("routing/lang/"))
    return frozenset(n.removeprefix("routing/lang/").removesuffix(".j2") for n in names)


def reader_languages(audience: str, languages: Sequence[str]) -> list[str]:
    """The client's languages in the client's order (those we have words for); English first
    for advisors, the fallback and operators, who draft and act in English."""
    wanted = list(languages) if audience == "client" else ["en", *languages]
    chosen: list[str] = []
    for language in wanted:
        if language in _available_languages() and language not in chosen:
            chosen.append(language)
    return chosen or ["en"]


def where(facts: SummaryFacts) -> str:
    """The marketplace as sellers write it (Amazon.de), else the platform (Walmart), else ""."""
    if facts.marketplace:
        return marketplace_name(facts.marketplace)
    return BRAND_SPELLING.get(facts.platform, "")


def platform_names(platform: str) -> dict[str, str]:
    spec = next((s for s in REGISTRY if s.name == platform), None)
    if spec is None:
        return {}
    return {"en": spec.display_en, "zh": spec.display_zh}


def _identifiers(identifiers: Mapping[str, Sequence[str]]) -> list[tuple[str, list[str]]]:
    """Non-empty identifier kinds, the contract's kinds first in the contract's order."""
    order = [*IDENTIFIER_KEYS, *sorted(k for k in identifiers if k not in IDENTIFIER_KEYS)]
    return [(kind, list(identifiers[kind])) for kind in order if identifiers.get(kind)]


def _defanged(facts: SummaryFacts) -> SummaryFacts:
    """A phishing suspect's facts with every link made unclickable (the subject's too)."""
    def text(value: str | None) -> str | None:
        return None if value is None else defang(value)
    return replace(
        facts, topic=defang(clean_topic(facts.topic)), summary_zh=defang(facts.summary_zh),
        summary_en=defang(facts.summary_en), deadline_text=text(facts.deadline_text),
        update_note=text(facts.update_note), store_name=text(facts.store_name),
        identifiers={k: [defang(v) for v in vs] for k, vs in facts.identifiers.items()})
