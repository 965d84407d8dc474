"""What each category sounds like, one module per language: the classifier's data.

Each language module holds `PATTERNS: {category: (regex, ...)}`; a new wording is one line in
the module of its language, a new language one module added to `LANGUAGES`. Patterns are matched
case-insensitively against the subject and body of the original notice (see `classify`). Prefer
phrases in the platforms' own wording ("selling privileges have been removed") over single words.
"""

from __future__ import annotations

from maild.parsers.patterns import ar, de, en, es, fr, it, ja, nl, pl, sv, zh

LANGUAGES = {
    "en": en,
    "de": de,
    "fr": fr,
    "es": es,
    "it": it,
    "ja": ja,
    "zh": zh,
    "nl": nl,
    "pl": pl,
    "sv": sv,
    "ar": ar,
}

# Ties go to the earlier category: the cause wins over the consequence (an IP complaint that
# removed a listing is an IP complaint).
PRECEDENCE: tuple[str, ...] = (
    "appeal_decision",
    "legal",
    "suspension",
    "ip_complaint",
    "verification_request",
    "listing_removed",
    "claim_dispute",
    "policy_warning",
    "payment",
    "buyer_message",
    "policy_update",
)

# A category that wins outright once it scores this much: an appeal decision always talks about
# the suspension or complaint it decides on, so those words must not outvote it.
DOMINANT: dict[str, int] = {"appeal_decision": 6}

# A removal the subject announces as done outranks the documents the body asks for to undo it:
# the documents are the remedy, the removal is the news (parsing-rules "Decisions").
SUBJECT_EVENT_OVER: dict[str, frozenset[str]] = {
    "listing_removed": frozenset({"verification_request"}),
}

# Mail from no platform is only ever `legal` (a law firm's TRO notice) or `other`.
NON_PLATFORM_CATEGORIES: frozenset[str] = frozenset({"legal"})


CUE_KINDS: tuple[str, ...] = (
    "hedge",
    "condition",
    "newsletter",
    "report",
    "all_clear",
    "rights_owner",
    "hold",
)


def cues_for(kind: str, language: str) -> tuple[str, ...]:
    """The `CUES[kind]` patterns of `language` (empty for a language without them)."""
    module = LANGUAGES.get(language)
    cues: dict[str, tuple[str, ...]] = getattr(module, "CUES", {}) if module is not None else {}
    return cues.get(kind, ())


def patterns_for(category: str, language: str) -> tuple[str, ...]:
    """The patterns of `category` written in `language` (empty when there are none)."""
    module = LANGUAGES.get(language)
    return module.PATTERNS.get(category, ()) if module is not None else ()
