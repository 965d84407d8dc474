"""Choose the category of a notice from the pattern tables in `patterns` (one module per language).

Scoring, not a chain of ifs, in half-points: a category whose patterns match the subject (or a
platform header such as Amazon's `X-Space-Notification-Type`) scores 6; each distinct body
phrase adds 2 when its sentence states it outright and 1 when the sentence only hedges it
("may be deducted", "可能"), puts it under a condition ("if you do not …", "否则…") or is the
field of a form ("Subject: Item unpublished") — what happens to the seller outweighs what is
merely mentioned (body at most 6).
English patterns always apply, plus those of the notice's language. The best score wins; ties
go to the earlier category in `PRECEDENCE`. Nothing matched means `other`. A removal named in the
subject beats the documents asked for to undo it (`SUBJECT_EVENT_OVER`); DESIGN §4.2's
precedence rules then settle mixed notices (`precedence`).
"""

from __future__ import annotations

import re
from functools import cache

from maild.parsers.patterns import (
    CUE_KINDS,
    DOMINANT,
    NON_PLATFORM_CATEGORIES,
    PRECEDENCE,
    SUBJECT_EVENT_OVER,
    cues_for,
    patterns_for,
)
from maild.parsers.precedence import Cues, Evidence, decide
from maild.parsers.regexkit import required_literals, trie_alternation

SUBJECT_WEIGHT = 6
STATED_WEIGHT = 2
HEDGED_WEIGHT = 1
MAX_BODY_SCORE = 6
BODY_SCAN_CHARS = 30_000
SENTENCE_REACH = 240
_SENTENCE_BREAK = re.compile(r"[.!?;。！？；\n]")
# "Subject: Item unpublished", "Reason: ...": a field of a form names a thing, it states no event.
_FIELD_LINE = re.compile(r"\s*[^\n:：.。]{1,30}[:：]\s")


Gated = tuple[frozenset[str] | None, re.Pattern[str]]


def _gated(patterns: tuple[str, ...]) -> tuple[Gated, ...]:
    """Each pattern compiled, with the literals that gate it."""
    gated = []
    for pattern in patterns:
        literals = required_literals(pattern)
        gated.append((frozenset(literals) if literals else None, re.compile(pattern, re.I)))
    return tuple(gated)


@cache
def _compiled(category: str, language: str) -> tuple[Gated, ...]:
    """The category's patterns in `language`, each with the literals that gate it."""
    return _gated(patterns_for(category, language))


@cache
def _cues(kind: str, language: str) -> tuple[Gated, ...]:
    """The `kind` cues (see `patterns.CUE_KINDS`) of English and `language`, gated."""
    return tuple(gated for lang in _languages(language) for gated in _gated(cues_for(kind, lang)))


def _languages(language: str) -> tuple[str, ...]:
    return ("en",) if language == "en" else ("en", language)


@cache
def _patterns(category: str, language: str) -> tuple[Gated, ...]:
    return tuple(gated for lang in _languages(language) for gated in _compiled(category, lang))


@cache
def _all_literals(language: str) -> tuple[str, ...]:
    """Every gate literal of every category in `language` (and English)."""
    tables = [_patterns(category, language) for category in PRECEDENCE]
    tables.extend(_cues(kind, language) for kind in CUE_KINDS)
    found = {literal for table in tables for gate, _regex in table if gate for literal in gate}
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


def _has(kind: str, language: str, text: str, present: frozenset[str]) -> bool:
    """Whether a `kind` cue occurs in `text`, whose literals are among `present`."""
    return any(
        (gate is None or not gate.isdisjoint(present)) and regex.search(text)
        for gate, regex in _cues(kind, language)
    )


def _sentence(text: str, start: int, end: int) -> tuple[str, str]:
    """The sentence (or list line) around text[start:end], and its part before `start`."""
    head = text[max(0, start - SENTENCE_REACH) : start]
    breaks = list(_SENTENCE_BREAK.finditer(head))
    left = start - len(head) + (breaks[-1].end() if breaks else 0)
    stop = _SENTENCE_BREAK.search(text, end, end + SENTENCE_REACH)
    return text[left : stop.start() if stop else end + SENTENCE_REACH], text[left:start]


def _hedged(sentence: str, before: str, language: str, present: frozenset[str]) -> bool:
    """A form field, a modal anywhere in the sentence ("may be deducted"), or a condition
    before the phrase ("if you do not respond, we will close …", "否则…将被限制")."""
    return (
        bool(_FIELD_LINE.match(sentence))
        or _has("hedge", language, sentence, present)
        or _has("condition", language, before, present)
    )


def evidence(subject: str, body: str, language: str) -> dict[str, Evidence]:
    """Each category's evidence in this subject and body (categories without any omitted)."""
    return _read(subject, body, language)[0]


def _read(subject: str, body: str, language: str) -> tuple[dict[str, Evidence], Cues]:
    """Each category's evidence and the kind cues, from one literal scan of subject and body."""
    text = body[:BODY_SCAN_CHARS]
    in_body, in_subject = _present(text, language), _present(subject, language)
    result: dict[str, Evidence] = {}
    for category in PRECEDENCE:
        subject_hit = False
        weights: dict[str, int] = {}
        body_score = 0
        hold = False
        for gate, regex in _patterns(category, language):
            if not subject_hit and (gate is None or not gate.isdisjoint(in_subject)):
                subject_hit = regex.search(subject) is not None
            if (gate is not None and gate.isdisjoint(in_body)) or body_score >= MAX_BODY_SCORE:
                continue
            for match in regex.finditer(text):
                phrase = match.group(0).lower()
                if weights.get(phrase) == STATED_WEIGHT:
                    continue
                sentence, before = _sentence(text, match.start(), match.end())
                hedged = _hedged(sentence, before, language, in_body)
                weight = HEDGED_WEIGHT if hedged else STATED_WEIGHT
                body_score += weight - weights.get(phrase, 0)
                weights[phrase] = weight
                hold = hold or (not hedged and _has("hold", language, sentence, in_body))
                if body_score >= MAX_BODY_SCORE:
                    break
        body_score = min(body_score, MAX_BODY_SCORE)
        score = (SUBJECT_WEIGHT if subject_hit else 0) + body_score
        if score:
            asserted = STATED_WEIGHT in weights.values()
            result[category] = Evidence(score, subject_hit, asserted, hold)
    return result, _kind_cues(f"{subject}\n{text}", language, in_body | in_subject)


def scores(subject: str, body: str, language: str) -> dict[str, int]:
    """Each category's score for this subject and body (zero scores omitted)."""
    return {cat: ev.score for cat, ev in evidence(subject, body, language).items()}


def kind_cues(subject: str, body: str, language: str) -> Cues:
    """Newsletter, all-clear routine report, rights-owner report: see `precedence`."""
    text = f"{subject}\n{body[:BODY_SCAN_CHARS]}"
    return _kind_cues(text, language, _present(text, language))


def _kind_cues(text: str, language: str, present: frozenset[str]) -> Cues:
    return Cues(
        newsletter=_has("newsletter", language, text, present),
        routine_report=_has("report", language, text, present)
        and _has("all_clear", language, text, present),
        rights_owner=_has("rights_owner", language, text, present),
    )


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
    found, cues = _read(subject, body, language)
    if announces:
        before = found.get("policy_update", Evidence(0, False, False))
        found["policy_update"] = Evidence(
            before.score + STATED_WEIGHT, before.in_subject, True, before.hold
        )
    if buyer_relay:
        return _buyer_relay_category(found)
    if not platform:
        found = {
            cat: ev
            for cat, ev in found.items()
            if cat in NON_PLATFORM_CATEGORIES and ev.score >= SUBJECT_WEIGHT
        }
    if not found:
        return "other"
    for category, threshold in DOMINANT.items():
        if category in found and found[category].score >= threshold:
            return category
    best = max(
        found, key=lambda cat: (found[cat].score, found[cat].in_subject, -PRECEDENCE.index(cat))
    )
    for event, remedies in SUBJECT_EVENT_OVER.items():
        if best in remedies and event in found and found[event].in_subject:
            best = event
    return decide(best, found, cues)


def _buyer_relay_category(found: dict[str, Evidence]) -> str:
    """Mail relayed from a buyer is a buyer message unless a claim or dispute leads it."""
    claim = found.get("claim_dispute")
    if claim is not None and claim.score >= SUBJECT_WEIGHT + STATED_WEIGHT:
        return "claim_dispute"
    return "buyer_message"
