"""Speed helpers for the pattern tables: literal gates and trie-shaped alternations.

Python's `re` tries every branch of an alternation at every position, so a table of a few
hundred phrases scanned over each body is the parser's main cost. Two cures, both derived from
the tables themselves so that they stay plain data:
- `required_literals(pattern)`: lower-case strings of which at least one must occur in the text
  for the pattern to match; a cheap `in` test skips the regex otherwise.
- `trie_alternation(words)`: one regex for a word list in which shared prefixes are factored
  (`ma(?:rch|rs|rzo|i|y)`), so a position is rejected after one or two characters.
"""

from __future__ import annotations

import re
from re import _constants as sc  # type: ignore[attr-defined]  # the stdlib's own parser
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_MIN_LITERAL = 3
_MIN_CJK_LITERAL = 2


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Lower-cased literals one of which every match contains; None when none can be proven."""
    try:
        parsed = sre_parse.parse(pattern, re.I)
    except re.error:
        return None
    found = _sequence(list(parsed))
    return tuple(sorted(found)) if found else None


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The best requirement of a sequence: its longest literal run, or one required group."""
    best: set[str] | None = None
    best_len = 0
    run: list[str] = []

    def close_run() -> None:
        nonlocal best, best_len, run
        text = "".join(run).lower()
        wide = any(ord(char) > 0x2E7F for char in text)  # CJK words are short and telling
        minimum = _MIN_CJK_LITERAL if wide else _MIN_LITERAL
        if len(text.strip()) >= minimum and len(text) > best_len:
            best, best_len = {text}, len(text)
        run = []

    for op, arg in items:
        if op is sc.LITERAL:
            run.append(chr(arg))
            continue
        close_run()
        candidate: set[str] | None = None
        if op is sc.SUBPATTERN:
            candidate = _sequence(list(arg[-1]))
        elif op is sc.BRANCH:
            candidate = _branches(arg[1])
        elif op in (sc.MAX_REPEAT, sc.MIN_REPEAT) and arg[0] >= 1:
            candidate = _sequence(list(arg[2]))
        if candidate:
            shortest = min(len(item) for item in candidate)
            if best is None or shortest > best_len:
                best, best_len = candidate, shortest
    close_run()
    return best


def _branches(branches: list[Any]) -> set[str] | None:
    union: set[str] = set()
    for branch in branches:
        found = _sequence(list(branch))
        if not found:
            return None
        union |= found
    return union


def trie_alternation(words: list[str] | tuple[str, ...] | set[str]) -> str:
    """A regex (no capturing groups) matching exactly the given plain words, prefix-factored."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = [
        re.escape(char) + _trie_regex(child) for char, child in sorted(node.items()) if char
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:
        return "(?:" + body + ")?"
    return body
