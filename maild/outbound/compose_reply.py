"""The mails of the reply path that maild writes to people: approval requests and the notices
about a draft (DESIGN §2, reply path).

Pure functions from a draft's facts to the exact bytes of an RFC 5322 message (CRLF line ends),
like `maild.routing.compose` for summaries: no database, no network, no clock (the caller passes
`now`). The same facts give the same bytes, so the outbox archives what it will send. Every word
a reader sees comes from `maild/templates/reply/` and the routing words it builds on (categories,
the facts table, time left), through the shared environment; `maild.routing.assemble` makes the
MIME, and subjects carry the summaries' tags (DESIGN §4.3).

An approval request shows the draft once, in full, quoted, and says in each of the client's
languages how to answer by replying: APPROVE / 同意 / 批准, REJECT / 拒绝 with a reason, anything
else is a change request. It decides that version only. The draft's attachments travel with it
byte for byte under their own content type; the platform's original is attached the way the
summaries attach it, so `attached_originals` finds that one alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from typing import Any, Literal
from zoneinfo import ZoneInfo

from maild.routing.assemble import CRLF, Attachment, assemble, headers_of
from maild.routing.compose import (
    SummaryFacts,
    clean_topic,
    common_context,
    platform_names,
    reader_languages,
    render,
    where,
)

__all__ = ["NOTICES", "DraftFacts", "DraftFile", "NoticeAudience", "ReplyNotice",
           "compose_approval_request", "compose_reply_notice"]

ReplyNotice = Literal["blocked", "approved", "rejected", "changes_requested", "comment", "sent",
                      "refused", "approval_reminder", "approval_escalation", "send_held"]
NoticeAudience = Literal["client", "advisor", "operator"]
MOMENTS = ("at", "since")  # details that are ISO 8601 moments, shown in the reader's zone
_NOT_ATTACHABLE = ("message", "multipart")  # RFC 2046 §5: no base64 for these, so as files


@dataclass(frozen=True, kw_only=True)
class DraftFacts:
    """One version of the reply to a platform notice, and what the case says about the notice.

    Version 0 stands for "no draft yet" (a comment on a case before its first draft)."""

    ticket: str
    version: int
    priority: str
    platform: str
    category: str
    topic: str
    marketplace: str | None = None
    store_name: str | None = None
    client_name: str | None = None
    summary_zh: str = ""  # the platform's notice in brief
    summary_en: str = ""
    deadline: datetime | None = None  # aware datetimes
    sla_due: datetime | None = None
    author: str  # the advisor's draft, in full
    body: str
    attachments: tuple[tuple[str, int], ...] = ()  # filename, size in bytes
    platform_to: str | None = None  # where the approved reply will go
    replaces: int | None = None  # the version this one supersedes
    diff: str | None = None  # unified diff against `replaces`

    def __post_init__(self) -> None:
        if self.version < 0:
            raise ValueError(f"{self.ticket}: draft version {self.version} is below 0")
        if self.replaces is not None and not 1 <= self.replaces < self.version:
            raise ValueError(f"{self.ticket} v{self.version}: it cannot replace "
                             f"v{self.replaces}, only an earlier version")
        if self.diff is not None and self.replaces is None:
            raise ValueError(f"{self.ticket} v{self.version}: a diff needs the version it is "
                             f"against (replaces)")
        if any(size < 0 for _name, size in self.attachments):
            raise ValueError(f"{self.ticket} v{self.version}: an attachment size is below 0")
        self.as_notice()  # its checks: priority, category, aware deadlines

    def as_notice(self) -> SummaryFacts:
        """The case's notice as its summary saw it: the facts table and deadlines are shared."""
        return SummaryFacts(
            ticket=self.ticket, priority=self.priority, platform=self.platform,
            category=self.category, topic=clean_topic(self.topic),
            marketplace=self.marketplace, store_name=self.store_name,
            client_name=self.client_name, deadline=self.deadline, sla_due=self.sla_due,
            summary_zh=self.summary_zh, summary_en=self.summary_en)


@dataclass(frozen=True)
class _Kind:
    """Who may read a notice and which details it says (its words are in the templates)."""

    audiences: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    needs_draft: bool = True  # version 1 or later


# A detail in neither list is refused: a misspelt key would silently drop what the reader needs.
# The refused answer's content is never shown: its reason, sender and subject only.
NOTICES: Mapping[str, _Kind] = {
    "blocked": _Kind(("advisor", "operator"), ("reasons",)),
    "approved": _Kind(("advisor", "client"), ("by",), ("via", "at")),
    "rejected": _Kind(("advisor", "operator"), ("reason",), ("by",)),
    "changes_requested": _Kind(("advisor",), ("text", "by"), needs_draft=False),
    "comment": _Kind(("advisor", "client"), ("text", "by"), needs_draft=False),
    "sent": _Kind(("advisor", "client", "operator"), ("message_id", "to"),
                  ("at", "receipt", "marked_by")),
    "refused": _Kind(("operator",), ("reason", "sender"), ("subject",), needs_draft=False),
    "approval_reminder": _Kind(("client",), ("since",)),
    "approval_escalation": _Kind(("advisor", "operator"), ("since", "hours"),
                                 ("decision_maker",)),
    "send_held": _Kind(("operator",), ("reason", "outbox_id"), ("to", "message_id")),
}


@dataclass(frozen=True)
class DraftFile(Attachment):
    """A file of the draft, attached as the advisor gave it: its content type, in base64.

    Not an original: it carries no ``X-Maild-Original``, so `attached_originals` passes it
    over. The filename is encoded by RFC 2231 when it is not ASCII (发票.pdf)."""

    content_type: str

    @classmethod
    def of_file(cls, filename: str, content_type: str, raw: bytes) -> DraftFile:
        if not filename.strip() or any(ord(c) < 32 or ord(c) == 127 for c in filename):
            raise ValueError(f"attachment filename {filename!r} is empty or has control "
                             f"characters")
        return cls(raw, filename, False, False, hashlib.sha256(raw).hexdigest(), content_type)

    @property
    def cte(self) -> str:
        return "base64"

    def part(self) -> bytes:
        maintype, subtype, params = _attachable(self.content_type)
        part = MIMEPart(policy=SMTP)
        part.set_content(self.raw, maintype, subtype, disposition="attachment",
                         filename=self.filename, cte="base64", params=params)
        return part.as_bytes(policy=SMTP).removesuffix(CRLF)


def _attachable(content_type: str) -> tuple[str, str, dict[str, str]]:
    """The type a file travels under: as given when valid (its charset kept), else a file."""
    probe = EmailMessage(policy=SMTP)
    probe["Content-Type"] = content_type
    header = probe["Content-Type"]
    if header.defects or header.maintype in _NOT_ATTACHABLE:
        return "application", "octet-stream", {}
    return header.maintype, header.subtype, {k: v for k, v in header.params.items()
                                             if k != "name"}


def compose_approval_request(facts: DraftFacts, *, languages: Sequence[str], zone: ZoneInfo,
                             now: datetime, from_address: str, to: Sequence[str],
                             reply_to: str, message_id: str,
                             attachments: Sequence[tuple[str, str, bytes]],
                             original: bytes | None, in_reply_to: str | None = None) -> bytes:
    """The request to the client's decision-maker to approve version `facts.version`.

    In the client's `languages`, their order: the draft in full, how to answer by replying to
    `reply_to` (which should carry a token of this version only), the notice in brief with
    both deadlines in `zone`. `attachments` are the draft's files as (filename, content type,
    bytes), the same names and sizes as `facts.attachments`: the decision-maker approves
    exactly what will be sent. `original`, the platform's notice, is attached as summaries do."""
    if facts.version < 1:
        raise ValueError(f"{facts.ticket}: an approval request needs a draft (version 1 or "
                         f"later), not version {facts.version}")
    if not reply_to:
        raise ValueError(f"{facts.ticket} v{facts.version}: an approval request needs a reply "
                         f"address: the decision-maker decides by replying")
    given = [(name, len(raw)) for name, _type, raw in attachments]
    if given != list(facts.attachments):
        raise ValueError(f"{facts.ticket} v{facts.version}: the files given {given} are not the "
                         f"draft's attachments {list(facts.attachments)}")
    files: list[Attachment] = [DraftFile.of_file(*file) for file in attachments]
    originals = [Attachment.of(original, "original.eml")] if original is not None else []
    context = {**_context("approval_request", facts, "client", languages, zone, now, reply_to),
               "details": {}, "moments": {}, "attached": True, "originals": originals}
    return _mail("approval", context, facts, from_address=from_address, to=to,
                 reply_to=reply_to, message_id=message_id, in_reply_to=in_reply_to,
                 attachments=[*files, *originals])


def compose_reply_notice(kind: ReplyNotice, facts: DraftFacts, *, audience: NoticeAudience,
                         details: Mapping[str, str], languages: Sequence[str], zone: ZoneInfo,
                         now: datetime, from_address: str, to: Sequence[str],
                         reply_to: str | None, message_id: str,
                         in_reply_to: str | None = None) -> bytes:
    """A short notice about a draft to `audience`: what happened, what to do, the case's facts.

    `NOTICES` says who may read each kind and which `details` it needs and accepts; a missing,
    empty or unknown detail is a ValueError naming it. Details named in `MOMENTS` are ISO 8601
    times with their offset, shown in `zone`; "at" defaults to `now`. Clients read their
    `languages`, advisors and operators English, then Chinese. An approval reminder repeats the
    draft (not its files) and how to answer: replying to it decides like the request."""
    moments = _checked(kind, facts, audience, details)
    context = {**_context(kind, facts, audience, languages, zone, now, reply_to),
               "details": dict(details), "moments": {"at": now, **moments},
               "attached": False, "originals": []}
    layout = "approval" if kind == "approval_reminder" else "notice"
    return _mail(layout, context, facts, from_address=from_address, to=to, reply_to=reply_to,
                 message_id=message_id, in_reply_to=in_reply_to, attachments=[])


def _checked(kind: str, facts: DraftFacts, audience: str,
             details: Mapping[str, str]) -> dict[str, datetime]:
    """Refuse a notice that would go to the wrong reader or say too little; its moments."""
    spec = NOTICES.get(kind)
    if spec is None:
        raise ValueError(f"unknown reply notice {kind!r}: use one of {', '.join(NOTICES)}")
    where = f"{facts.ticket} v{facts.version}: a {kind!r} notice"
    if audience not in spec.audiences:
        raise ValueError(f"{where} goes to {' or '.join(spec.audiences)}, "
                         f"not to {audience!r}")
    missing = [key for key in spec.required if not str(details.get(key, "")).strip()]
    if missing:
        raise ValueError(f"{where} needs details {', '.join(map(repr, missing))} "
                         f"(missing or empty; given: {', '.join(map(repr, details)) or 'none'})")
    unknown = sorted(set(details) - {*spec.required, *spec.optional})
    if unknown:
        raise ValueError(f"{where} takes no details {', '.join(map(repr, unknown))}; it takes "
                         f"{', '.join(map(repr, (*spec.required, *spec.optional)))}")
    if spec.needs_draft and facts.version < 1:
        raise ValueError(f"{where} is about a draft: version 1 or later, not {facts.version}")
    return {key: _moment(where, key, details[key]) for key in MOMENTS if key in details}


def _moment(where: str, key: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive")
    except ValueError:
        raise ValueError(f"{where}: details[{key!r}] = {value!r} is no ISO 8601 time with an "
                         f"offset (2026-03-13T10:00:00+00:00)") from None
    return moment


def _context(kind: str, facts: DraftFacts, audience: str, languages: Sequence[str],
             zone: ZoneInfo, now: datetime, reply_to: str | None) -> dict[str, Any]:
    notice = facts.as_notice()
    langs = (reader_languages("client", languages) if audience == "client"
             else reader_languages(audience, ["zh", *languages]))  # English, then Chinese
    return {**common_context(zone, now), "kind": kind, "f": notice, "draft": facts,
            "audience": audience, "langs": langs, "where": where(notice),
            "platform_names": platform_names(facts.platform), "ids": [],
            "summaries": {"zh": facts.summary_zh, "en": facts.summary_en},
            "replyable": bool(reply_to)}


def _mail(layout: str, context: Mapping[str, Any], facts: DraftFacts, *, from_address: str,
          to: Sequence[str], reply_to: str | None, message_id: str, in_reply_to: str | None,
          attachments: Sequence[Attachment]) -> bytes:
    """Headers (X-Maild-Draft names the version, none before the first draft) and the parts."""
    extra = {"X-Maild-Case": facts.ticket, "X-Maild-Kind": context["kind"],
             "X-Maild-Priority": facts.priority}
    if facts.version:
        extra["X-Maild-Draft"] = f"{facts.ticket} v{facts.version}"
    headers = headers_of(
        subject=render("reply/subject.txt.j2", context), from_address=from_address, to=to,
        reply_to=reply_to, message_id=message_id, now=context["now"], zone=context["zone"],
        in_reply_to=in_reply_to, extra=extra)
    return assemble(headers, render(f"reply/{layout}.txt.j2", context),
                    render(f"reply/{layout}.html.j2", context), attachments)
