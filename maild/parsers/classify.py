"""Choose the category of a notice from the pattern tables in `category_patterns`.

Scoring, not a chain of ifs: a category whose patterns match the subject (or a platform header
such as Amazon's `X-Space-Notification-Type`) scores 3, and each distinct body phrase adds 1 (at
most 3). English patterns always apply, plus those of the notice's language. The best score
wins; ties go to the earlier category in `PRECEDENCE`. Nothing matched means `other`.
"""

from __future__ import annotations

import re
from functools import cache

from maild.parsers.category_patterns import PATTERNS, PRECEDENCE

SUBJECT_WEIGHT = 3
MAX_BODY_HITS = 3
BODY_SCAN_CHARS = 30_000


@cache
def _compiled(category: str, language: str) -> re.Pattern[str] | None:
    """One alternation of the category's patterns in `language` (None when it has none)."""
    patterns = PATTERNS.get(category, {}).get(language, ())
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def _regexes(category: str, language: str) -> list[re.Pattern[str]]:
    languages = ("en",) if language == "en" else ("en", language)
    return [rx for lang in languages if (rx := _compiled(category, lang)) is not None]


def scores(subject: str, body: str, language: str) -> dict[str, int]:
    """Each category's score for this subject and body (zero scores omitted)."""
    text = body[:BODY_SCAN_CHARS]
    result: dict[str, int] = {}
    for category in PRECEDENCE:
        score = 0
        hits: set[str] = set()
        for regex in _regexes(category, language):
            if subject and regex.search(subject):
                score = SUBJECT_WEIGHT
            for match in regex.finditer(text):
                hits.add(match.group(0).lower())
                if len(hits) >= MAX_BODY_HITS:
                    break
        score += min(len(hits), MAX_BODY_HITS)
        if score:
            result[category] = score
    return result


def classify(subject: str, body: str, language: str, *, buyer_relay: bool = False) -> str:
    """The category of a notice; `buyer_relay` marks mail from a buyer-message relay domain."""
    found = scores(subject, body, language)
    if buyer_relay:
        return _buyer_relay_category(found)
    if not found:
        return "other"
    return max(found, key=lambda cat: (found[cat], -PRECEDENCE.index(cat)))


def _buyer_relay_category(found: dict[str, int]) -> str:
    """Mail relayed from a buyer is a buyer message unless a claim or dispute leads it."""
    if found.get("claim_dispute", 0) >= SUBJECT_WEIGHT + 1:
        return "claim_dispute"
    return "buyer_message"
