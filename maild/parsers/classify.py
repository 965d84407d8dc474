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


class _Sentences:
    """What each sentence (or list line) of one body says about the phrases in it, worked out
    once per sentence: is it a form field or hedged by a modal anywhere ("may be deducted"),
    where does its first condition end ("if you do not respond, we will close …", "否则…将被
    限制": what follows a condition is hedged, what precedes it is not)."""

    def __init__(self, text: str, language: str, present: frozenset[str]) -> None:
        self.text, self.language, self.present = text, language, present
        self._facts: dict[int, tuple[int, bool, int]] = {}

    def _bounds(self, start: int, end: int) -> tuple[int, int]:
        head = self.text[max(0, start - SENTENCE_REACH) : start]
        breaks = list(_SENTENCE_BREAK.finditer(head))
        left = start - len(head) + (breaks[-1].end() if breaks else 0)
        stop = _SENTENCE_BREAK.search(self.text, end, end + SENTENCE_REACH)
        return left, stop.start() if stop else min(len(self.text), end + SENTENCE_REACH)

    def _facts_at(self, start: int, end: int) -> tuple[int, int, bool, int]:
        left, stop = self._bounds(start, end)
        known = self._facts.get(left)
        if known is None or known[0] < end:
            sentence = self.text[left:stop]
            hedged = bool(_FIELD_LINE.match(sentence)) or _has(
                "hedge", self.language, sentence, self.present
            )
            conditions = [
                found.end()
                for gate, regex in _cues("condition", self.language)
                if gate is None or not gate.isdisjoint(self.present)
                if (found := regex.search(sentence)) is not None
            ]
            known = (stop, hedged, left + min(conditions) if conditions else -1)
            self._facts[left] = known
        return left, known[0], known[1], known[2]

    def hedged(self, start: int, end: int) -> bool:
        """Whether the phrase at text[start:end] is only mentioned, not stated."""
        _left, _stop, hedged, condition_end = self._facts_at(start, end)
        return hedged or 0 <= condition_end <= start

    def holds_money(self, start: int, end: int) -> bool:
        """Whether the sentence of text[start:end] speaks of money held back."""
        left, stop, _hedged, _condition = self._facts_at(start, end)
        return _has("hold", self.language, self.text[left:stop], self.present)


def evidence(subject: str, body: str, language: str) -> dict[str, Evidence]:
    """Each category's evidence in this subject and body (categories without any omitted)."""
    return _read(subject, body, language)[0]


Indexed = tuple[str, re.Pattern[str]]


@cache
def _index(language: str) -> tuple[tuple[Indexed, ...], dict[str, tuple[int, ...]], frozenset[int]]:
    """Every category pattern of `language` in table order, which of them each gate literal
    admits, and those without a gate: a text is tried only against the patterns its literals
    admit, instead of testing every pattern's gate."""
    flat: list[Indexed] = []
    by_literal: dict[str, list[int]] = {}
    ungated: set[int] = set()
    for category in PRECEDENCE:
        for gate, regex in _patterns(category, language):
            index = len(flat)
            flat.append((category, regex))
            if gate is None:
                ungated.add(index)
            for literal in gate or ():
                by_literal.setdefault(literal, []).append(index)
    frozen = {literal: tuple(indexes) for literal, indexes in by_literal.items()}
    return tuple(flat), frozen, frozenset(ungated)


def _admitted(language: str, present: frozenset[str]) -> list[int]:
    """The patterns (in table order) whose gate one of the `present` literals opens."""
    _flat, by_literal, ungated = _index(language)
    found = set(ungated)
    for literal in present:
        found.update(by_literal.get(literal, ()))
    return sorted(found)


def _read(subject: str, body: str, language: str) -> tuple[dict[str, Evidence], Cues]:
    """Each category's evidence and the kind cues, from one literal scan of subject and body."""
    text = body[:BODY_SCAN_CHARS]
    in_body, in_subject = _present(text, language), _present(subject, language)
    flat, _by_literal, _ungated = _index(language)
    in_subject_hit = {
        flat[index][0]
        for index in _admitted(language, in_subject)
        if flat[index][1].search(subject) is not None
    }
    sentences = _Sentences(text, language, in_body)
    weights_of: dict[str, dict[str, int]] = {}
    score_of: dict[str, int] = {}
    hold_of: dict[str, bool] = {}
    for index in _admitted(language, in_body):
        category, regex = flat[index]
        weights = weights_of.setdefault(category, {})
        body_score = score_of.get(category, 0)
        hold = hold_of.get(category, False)
        if body_score < MAX_BODY_SCORE:
            for match in regex.finditer(text):
                phrase = match.group(0).lower()
                if weights.get(phrase) == STATED_WEIGHT:
                    continue
                hedged = sentences.hedged(match.start(), match.end())
                weight = HEDGED_WEIGHT if hedged else STATED_WEIGHT
                body_score += weight - weights.get(phrase, 0)
                weights[phrase] = weight
                if category == "payment" and not hedged and not hold:
                    hold = sentences.holds_money(match.start(), match.end())
                if body_score >= MAX_BODY_SCORE:
                    break
        score_of[category], hold_of[category] = body_score, hold
    result: dict[str, Evidence] = {}
    for category in PRECEDENCE:
        subject_hit = category in in_subject_hit
        score = (SUBJECT_WEIGHT if subject_hit else 0) + min(
            score_of.get(category, 0), MAX_BODY_SCORE
        )
        if score:
            asserted = STATED_WEIGHT in weights_of.get(category, {}).values()
            result[category] = Evidence(score, subject_hit, asserted, hold_of.get(category, False))
    return result, _kind_cues(f"{subject}\n{text}", language, in_body | in_subject)


def scores(subject: str, body: str, language: str) -> dict[str, int]:
    """Each category's score for this subject and body (zero scores omitted)."""
    return {cat: ev.score for cat, ev in evidence(subject, body, language).items()}


def _kind_cues(text: str, language: str, present: frozenset[str]) -> Cues:
    """Newsletter, all-clear routine report, rights-owner report: see `precedence`."""
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
    return categorise(
        subject, body, language, buyer_relay=buyer_relay, platform=platform, announces=announces
    )[0]


def categorise(
    subject: str,
    body: str,
    language: str,
    *,
    buyer_relay: bool = False,
    platform: bool = True,
    announces: bool = False,
) -> tuple[str, Cues]:
    """`classify`, and the kind cues it read (a newsletter, a routine report ...)."""
    found, cues = _read(subject, body, language)
    return _choose(found, cues, buyer_relay, platform, announces), cues


def _choose(
    found: dict[str, Evidence], cues: Cues, buyer_relay: bool, platform: bool, announces: bool
) -> str:
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
