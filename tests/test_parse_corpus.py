"""The labelled corpus: `maild parse --json` over tests/corpus/** must match every label.

Each `NAME.eml` has a `NAME.json` with the expected fields. The test prints a per-field
accuracy table and requires 100% on every field; `deadline_text` matches by case-insensitive
containment either way, `effective_date` and `metrics` are checked where the label gives them
(`"metrics": {}` asserts that no figure is read; the output omits an empty `metrics`), and
summaries must be non-empty (their wording is not asserted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from maild.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"
FIELDS = (
    "message_id",
    "platform",
    "marketplace",
    "category",
    "priority",
    "deadline",
    "deadline_text",
    "identifiers",
    "language",
    "sender_verified",
    "action_required",
    "effective_date",
    "metrics",
)


def _normal(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def field_matches(name: str, expected: Any, actual: Any) -> bool:
    """Whether one parsed field agrees with its label (deadline_text by containment)."""
    if name == "deadline_text":
        if expected is None or actual is None:
            return expected is None and actual is None
        want, got = _normal(expected), _normal(actual)
        return bool(want and got) and (want in got or got in want)
    if name == "metrics":
        return bool(expected == (actual or {}))
    return bool(expected == actual)


def labelled_pairs() -> list[tuple[Path, dict[str, Any]]]:
    """Every .eml of the corpus that has its .json label."""
    pairs = []
    for eml in sorted(CORPUS.rglob("*.eml")):
        label = eml.with_suffix(".json")
        if label.is_file():
            pairs.append((eml, json.loads(label.read_text(encoding="utf-8"))))
    return pairs


def parse_all(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """`maild parse --json` over `paths` in one run, keyed by source."""
    result = CliRunner().invoke(main, ["parse", "--json", *map(str, paths)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {record["source"]: record for record in records}


def accuracy_table(
    pairs: list[tuple[Path, dict[str, Any]]], parsed: dict[str, dict[str, Any]]
) -> tuple[str, list[str]]:
    """The printed table and one line per mismatch."""
    right = dict.fromkeys(FIELDS, 0)
    total = dict.fromkeys(FIELDS, 0)
    misses: list[str] = []
    for eml, label in pairs:
        record = parsed[str(eml)]
        for name in FIELDS:
            if name not in label:
                continue
            total[name] += 1
            if field_matches(name, label[name], record.get(name)):
                right[name] += 1
            else:
                where = eml.relative_to(CORPUS)
                misses.append(f"{where}: {name} expected {label[name]!r} got {record.get(name)!r}")
    rows = [f"{'field':<16} {'right':>6} {'total':>6} {'accuracy':>9}"]
    for name in FIELDS:
        share = 100.0 * right[name] / total[name] if total[name] else 100.0
        rows.append(f"{name:<16} {right[name]:>6} {total[name]:>6} {share:>8.1f}%")
    return "\n".join(rows), misses


def test_corpus_matches_labels() -> None:
    """GIVEN the labelled corpus
    WHEN it goes through `maild parse --json` in one run
    THEN every field of every notice equals its label and every summary is non-empty."""
    pairs = labelled_pairs()
    if not pairs:
        pytest.skip(f"no labelled notices under {CORPUS}")
    parsed = parse_all([eml for eml, _label in pairs])
    table, misses = accuracy_table(pairs, parsed)
    print(f"\ncorpus: {len(pairs)} notices\n{table}")
    empty = [src for src, rec in parsed.items() if not rec["summary_zh"] or not rec["summary_en"]]
    assert not empty, f"empty summaries: {empty}"
    assert not misses, f"{len(misses)} mismatches\n{table}\n" + "\n".join(misses)


def test_containment_rule_can_fail() -> None:
    """GIVEN two deadline phrases that only overlap
    WHEN compared
    THEN they do not match, while containment either way does."""
    assert field_matches("deadline_text", "bis zum 18.03.2026", "18.03.2026 23:59") is False
    assert field_matches("deadline_text", "Within 72 Hours", "respond within 72 hours")
    assert field_matches("deadline_text", "请于3日内提交", "3日内")


def test_metrics_rule_can_fail() -> None:
    """GIVEN a label's figures
    WHEN compared with the parsed `metrics` (absent when empty)
    THEN another value, a missing figure or an extra one is a mismatch; absent equals {}."""
    assert field_matches("metrics", {"valid_tracking_rate": 88}, {"valid_tracking_rate": 88.0})
    assert field_matches("metrics", {}, None)
    assert not field_matches("metrics", {"valid_tracking_rate": 88}, {"valid_tracking_rate": 95.0})
    assert not field_matches("metrics", {"valid_tracking_rate": 88}, None)
    assert not field_matches("metrics", {}, {"late_shipment_rate": 4.0})
