"""Choose the category of a notice from the pattern tables in `patterns` (one module per language).

Scoring, not a chain of ifs: a category whose patterns match the subject (or a platform header
such as Amazon's `X-Space-Notification-Type`) scores 3, and each distinct body phrase adds 1 (at
most 3). English patterns always apply, plus those of the notice's language. The best score
wins; ties go to the earlier category in `PRECEDENCE`. Nothing matched means `other`. A removal
named in the subject beats the documents asked for to undo it (`SUBJECT_EVENT_OVER`).
"""

from __future__ import annotations

import re
from functools import cache

from maild.parsers.patterns import (
    DOMINANT,
    NON_PLATFORM_CATEGORIES,
    PRECEDENCE,
    SUBJECT_EVENT_OVER,
    patterns_for,
)
from maild.parsers.regexkit import required_literals, trie_alternation

SUBJECT_WEIGHT = 3
MAX_BODY_HITS = 3
BODY_SCAN_CHARS = 30_000


Gated = tuple[frozenset[str] | None, re.Pattern[str]]


@cache
def _compiled(category: str, language: str) -> tuple[Gated, ...]:
    """The category's patterns in `language`, each with the literals that gate it."""
    patterns = patterns_for(category, language)
    gated = []
    for pattern in patterns:
        literals = required_literals(pattern)
        gated.append((frozenset(literals) if literals else None, re.compile(pattern, re.I)))
    return tuple(gated)


def _languages(language: str) -> tuple[str, ...]:
    return ("en",) if language == "en" else ("en", language)


@cache
def _patterns(category: str, language: str) -> tuple[Gated, ...]:
    return tuple(gated for lang in _languages(language) for gated in _compiled(category, lang))


@cache
def _all_literals(language: str) -> tuple[str, ...]:
    """Every gate literal of every category in `language` (and English)."""
    found = {
        literal
        for category in PRECEDENCE
        for gate, _regex in _patterns(category, language)
        if gate
        for literal in gate
    }
    return tuple(sorted(found))


@cache
def _literal_finder(language: str) -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """One scan for every gate literal: a trie in a lookahead finds the longest literal starting
    at each position, and the literals that are prefixes of it start there too."""
    literals = _all_literals(language)
    finder = re.compile("(?=(" + trie_alternation(literals) + "))")
    prefixes = {
        literal: frozenset(other for other in literals if literal.startswith(other))
        for literal in literals
    }
    return finder, prefixes


def _present(text: str, language: str) -> frozenset[str]:
    finder, prefixes = _literal_finder(language)
    found: set[str] = set()
    for match in finder.finditer(text.lower()):
        found |= prefixes[match.group(1)]
    return frozenset(found)


def scores(subject: str, body: str, language: str) -> dict[str, int]:
    """Each category's score for this subject and body (zero scores omitted)."""
    text = body[:BODY_SCAN_CHARS]
    in_body, in_subject = _present(text, language), _present(subject, language)
    result: dict[str, int] = {}
    for category in PRECEDENCE:
        score = 0
        hits: set[str] = set()
        for gate, regex in _patterns(category, language):
            subject_may = gate is None or not gate.isdisjoint(in_subject)
            if score < SUBJECT_WEIGHT and subject_may and regex.search(subject):
                score = SUBJECT_WEIGHT
            if len(hits) >= MAX_BODY_HITS or (gate is not None and gate.isdisjoint(in_body)):
                continue
            for match in regex.finditer(text):
                hits.add(match.group(0).lower())
                if len(hits) >= MAX_BODY_HITS:
                    break
        score += min(len(hits), MAX_BODY_HITS)
        if score:
            result[category] = score
    return result


def classify(
    subject: str,
    body: str,
    language: str,
    *,
    buyer_relay: bool = False,
    platform: bool = True,
    announces: bool = False,
) -> str:
    """The category of a notice.

    `buyer_relay` marks mail from a buyer-message relay domain; `platform` is False for mail
    from no known platform, which can only be `legal` (with a subject-strength score) or `other`.
    `announces` (the text names the date a rule takes effect) is one more point for
    `policy_update`.
    """
    found = scores(subject, body, language)
    if announces and "policy_update" in found:
        found["policy_update"] += 1
    in_subject = {cat for cat in found if subject and _subject_hit(cat, subject, language)}
    if buyer_relay:
        return _buyer_relay_category(found)
    if not platform:
        found = {
            cat: score
            for cat, score in found.items()
            if cat in NON_PLATFORM_CATEGORIES and score >= SUBJECT_WEIGHT
        }
    if not found:
        return "other"
    for category, threshold in DOMINANT.items():
        if found.get(category, 0) >= threshold:
            return category
    best = max(found, key=lambda cat: (found[cat], cat in in_subject, -PRECEDENCE.index(cat)))
    for event, remedies in SUBJECT_EVENT_OVER.items():
        if best in remedies and event in in_subject:
            return event
    return best


def _subject_hit(category: str, subject: str, language: str) -> bool:
    return any(regex.search(subject) for _gate, regex in _patterns(category, language))


def _buyer_relay_category(found: dict[str, int]) -> str:
    """Mail relayed from a buyer is a buyer message unless a claim or dispute leads it."""
    if found.get("claim_dispute", 0) >= SUBJECT_WEIGHT + 1:
        return "claim_dispute"
    return "buyer_message"
