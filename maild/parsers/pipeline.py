"""`parse_message`: raw bytes to a `Notice`, never raising.

The steps, each in its own module: parse the MIME structure once (mime), find the original
inside a forward (forwards), tell the platform and whether the sender is genuine (platforms,
authn), detect the language, classify (classify), find the deadline (deadlines), identifiers and
the figures it states (metrics), triage (routing.triage), and write the bilingual summary
(summary).
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses
from functools import cache

from maild.parsers import (
    aliexpress,
    amazon,
    authn,
    classify,
    ebay,
    forwards,
    generic,
    identifiers,
    language,
    metrics,
    mime,
    shein,
    summary,
    tables,
    temu,
    walmart,
)
from maild.parsers.deadlines import Context, find_deadline
from maild.parsers.notice import Notice, failed_notice
from maild.parsers.platforms import PlatformSpec, domain_of, joined_tokens, unmask
from maild.parsers.precedence import Cues
from maild.parsers.zones import CHINESE_PLATFORMS, MONTH_FIRST, zone_of
from maild.routing.triage import TriageRules, load_rules

REGISTRY: tuple[PlatformSpec, ...] = (
    amazon.SPEC,
    walmart.SPEC,
    ebay.SPEC,
    temu.SPEC,
    shein.SPEC,
    aliexpress.SPEC,
)
ACTION_CATEGORIES = frozenset(
    {
        "suspension",
        "legal",
        "ip_complaint",
        "policy_warning",
        "listing_removed",
        "verification_request",
        "claim_dispute",
        "buyer_message",
    }
)
BRANDING_SCAN_CHARS = 4000
# RFC 5322's line limit: no real subject is longer. Past it a subject is neither scanned by the
# extractors nor stored (a 20 MB Subject once took 14 s in the date finder and filled the row).
MAX_SUBJECT_CHARS = 998
_REINSTATED = re.compile(
    r"(?<!not been )(?<!not )(?:reinstated|reactivated|restored|wiederhergestellt|reaktiviert"
    r"|rétabli|réactivé"
    r"|restablecid|reactivad|ripristinat|riattivat|再開され|已恢复|恢复(?:了|正常)|申诉(?:已)?(?:通过|成功)"
    r"|(?:removed|lifted) the (?:\w+ )?restriction|can (?:now )?(?:list|sell) (?:items )?again)",
    re.I,
)
_NOT_REINSTATED = re.compile(
    r"not (?:been )?reinstated|unable to (?:reinstate|accept|approve)|(?:rejected|denied|declined)"
    r"|abgelehnt|rejeté|refusé|rechazad|respint|却下|驳回|未通过|被拒|失败",
    re.I,
)


_WRAPPED = re.compile(r"(?<=[^\n])[ \t]*\n(?![\n\-*•·>]|\s*(?:\d+[.)]|[A-Z][\w -]{0,30}:))[ \t]*")


@cache
def default_rules() -> TriageRules:
    """The default triage table, read once per process."""
    return load_rules()


def _genuine_platform(address: str) -> PlatformSpec | None:
    domain = domain_of(address)
    return next((spec for spec in REGISTRY if spec.is_genuine(domain)), None)


def _claimed_platform(original: forwards.Original) -> PlatformSpec | None:
    """The platform a non-genuine sender poses as: display name, domain, subject, branding."""
    name, domain = original.from_name, domain_of(original.from_addr)
    local = original.from_addr.split("@", 1)[0]
    words = joined_tokens(domain) + joined_tokens(local)
    for spec in REGISTRY:
        if (
            spec.brand.search(unmask(name))
            or spec.brand.search(unmask(domain))
            or spec.brand.search(unmask(local))
            or any(spec.brand.match(word) for word in words)
        ):
            return spec
    head = original.body[:BRANDING_SCAN_CHARS]
    in_subject = [spec for spec in REGISTRY if spec.brand.search(original.subject)]
    if len(in_subject) == 1:
        spec = in_subject[0]
        if spec.branding.search(head) or len(spec.brand.findall(head)) >= 2:
            return spec
    branded = [spec for spec in REGISTRY if spec.branding.search(head)]
    return branded[0] if len(branded) == 1 else None


def _verified(spec: PlatformSpec, original: forwards.Original, genuine_sender: bool) -> bool | None:
    if not genuine_sender:
        return False
    if original.via == "inline":
        return None
    results = authn.verdicts(original.headers)
    if authn.dkim_passes_for(results, spec.domains):
        return True
    if authn.explicitly_fails(results) or _replies_elsewhere(spec, original.headers):
        return False
    return None


def _replies_elsewhere(spec: PlatformSpec, headers: Message) -> bool:
    """Replies go to a domain that is not the platform's: a spoofed From with a trap address."""
    addresses = getaddresses(mime.all_headers(headers, "Reply-To"))
    return any(addr and not spec.is_genuine(domain_of(addr)) for _name, addr in addresses)


def parse_message(raw: bytes) -> Notice:
    """The notice `raw` carries; never raises: an internal failure gives a notice with `error`."""
    message_id: str | None = None
    try:
        message = mime.parse_bytes(raw)
        message_id = mime.header(message, "Message-ID") or None
        return _parse(message, message_id)
    except Exception as exc:  # noqa: BLE001 - the contract: one line per message, error recorded
        return failed_notice(message_id, f"{type(exc).__name__}: {exc}"[:300])


def _parse(message: object, message_id: str | None) -> Notice:
    assert isinstance(message, Message)
    original = forwards.find_original(message, lambda addr: _genuine_platform(addr) is not None)
    genuine = _genuine_platform(original.from_addr)
    spec = genuine or _claimed_platform(original) or generic.SPEC
    domain = domain_of(original.from_addr)
    verified = _verified(spec, original, genuine is not None) if spec is not generic.SPEC else None
    subject = forwards.strip_forward_prefix(original.subject)[:MAX_SUBJECT_CHARS]
    body = _unwrap_lines(original.body)
    lang = language.detect(body or subject)
    marketplace = spec.marketplace(
        original.headers, subject, body, domain, genuine=genuine is not None
    )
    hints = " ".join(mime.header(original.headers, name) for name in spec.category_headers)
    hint_text = re.sub(r"(?<=[a-z])(?=[A-Z])|[_-]", " ", hints)
    ctx = Context(
        sent_at=original.sent_at,
        zone=zone_of(marketplace),
        month_first=marketplace in MONTH_FIRST or (marketplace is None and lang == "en"),
        china=spec.name in CHINESE_PLATFORMS,
    )
    deadline, effective = find_deadline(subject, body, ctx)
    category, cues = classify.categorise(
        f"{subject}\n{hint_text}".strip(),
        body,
        lang,
        buyer_relay=genuine is not None and spec.is_buyer_relay(domain),
        platform=spec is not generic.SPEC,
        announces=effective is not None,
    )
    if verified is False:
        category = "phishing_suspect"
    if category == "phishing_suspect":
        deadline = None
    markup = tables.html_part(original.headers)
    grid = tables.read_tables(markup) if markup else []
    ids = identifiers.extract(f"{subject}\n{body}", spec.name, tables.pairs(grid))
    # A phishing mail's figures are as made up as its deadline: no rule may escalate on them.
    figures = metrics.extract(f"{subject}\n{body}", grid) if category != "phishing_suspect" else {}
    reinstated = category == "appeal_decision" and _is_reinstated(body)
    action = _action_required(category, deadline is not None, reinstated)
    rules = default_rules()
    priority = rules.priority(category, original.sent_at, deadline.due if deadline else None)
    facts = summary.Facts(
        category=category,
        platform_en=spec.display_en,
        platform_zh=spec.display_zh,
        marketplace=marketplace,
        subject=subject,
        identifiers=ids,
        deadline=deadline.due if deadline else None,
        sender=original.from_addr,
        reinstated=reinstated,
        action_required=action,
        kind=_kind(category, cues),
    )
    return Notice(
        message_id=message_id,
        platform=spec.name,
        marketplace=marketplace,
        category=category,
        priority=priority,
        deadline=deadline.due if deadline else None,
        deadline_text=deadline.text if deadline else None,
        identifiers=ids,
        language=lang,
        sender_verified=verified,
        action_required=action,
        summary_zh=summary.render(facts, "zh"),
        summary_en=summary.render(facts, "en"),
        effective_date=effective.date() if effective and category == "policy_update" else None,
        metrics=figures,
        subject=subject,
        sent_at=original.sent_at,
        parser=spec.name,
    )


def _kind(category: str, cues: Cues) -> str:
    """What an `other` mail is, so that its summary says so: a routine report or a newsletter."""
    if category != "other":
        return ""
    return "report" if cues.routine_report else "newsletter" if cues.newsletter else ""


def _unwrap_lines(text: str) -> str:
    """Join hard-wrapped lines (single newlines) so phrases split by wrapping still match."""
    return _WRAPPED.sub(" ", text)


def _is_reinstated(body: str) -> bool:
    text = body[:20_000]
    return bool(_REINSTATED.search(text)) and not _NOT_REINSTATED.search(text)


def _action_required(category: str, has_deadline: bool, reinstated: bool) -> bool:
    """parsing-rules "Language and action"."""
    if category == "phishing_suspect":
        return False
    if category == "appeal_decision":
        return has_deadline or not reinstated
    return category in ACTION_CATEGORIES or has_deadline
