"""Per-field accuracy of `parse_message` on labelled corpus folders (the issue-12 score table).

For each set it prints: category, priority, deadline within one hour of the label (both null
counts as right), identifier recall and precision (every labelled value, all six kinds pooled),
P0 recall, the number of false P0s, phishing recall and genuine mail flagged as phishing.
`--misses` lists every wrong field per notice.

    .venv/bin/python bench/accuracy.py [--misses] [holdout2 holdout corpus]

The sets: a folder name under tests/corpus (e.g. `holdout2`), or `corpus` for every labelled
notice outside the holdouts.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from maild.parsers import parse_message  # noqa: E402

CORPUS = REPO / "tests" / "corpus"
HOLDOUTS = ("holdout", "holdout2")
ONE_HOUR = timedelta(hours=1)


@dataclass
class Score:
    """Counts for one set of notices."""

    notices: int = 0
    category: int = 0
    priority: int = 0
    deadline: int = 0
    ids_labelled: int = 0
    ids_found: int = 0
    ids_right: int = 0
    p0_labelled: int = 0
    p0_caught: int = 0
    false_p0: int = 0
    phishing_labelled: int = 0
    phishing_caught: int = 0
    genuine_flagged: int = 0
    misses: list[str] = field(default_factory=list)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def deadline_matches(expected: str | None, actual: str | None) -> bool:
    """Both null, or both set and at most one hour apart."""
    want, got = _moment(expected), _moment(actual)
    if want is None or got is None:
        return want is None and got is None
    return abs(want - got) <= ONE_HOUR


def pairs_of(name: str) -> list[tuple[Path, dict[str, Any]]]:
    """Labelled (.eml, label) pairs of one set."""
    if name == "corpus":
        emls = [p for p in CORPUS.rglob("*.eml") if p.relative_to(CORPUS).parts[0] not in HOLDOUTS]
    else:
        emls = list((CORPUS / name).glob("*.eml"))
    result = []
    for eml in sorted(emls):
        label = eml.with_suffix(".json")
        if label.is_file():
            result.append((eml, json.loads(label.read_text(encoding="utf-8"))))
    return result


def score(pairs: list[tuple[Path, dict[str, Any]]]) -> Score:
    """Parse every notice and count what agrees with its label."""
    total = Score()
    for eml, label in pairs:
        got = parse_message(eml.read_bytes()).to_contract(str(eml))
        total.notices += 1
        wrong: list[str] = []
        for name in ("category", "priority"):
            if got[name] == label[name]:
                setattr(total, name, getattr(total, name) + 1)
            else:
                wrong.append(f"{name} {label[name]} got {got[name]}")
        if deadline_matches(label.get("deadline"), got.get("deadline")):
            total.deadline += 1
        else:
            wrong.append(
                f"deadline {label.get('deadline')} got {got.get('deadline')}"
                f" ({got.get('deadline_text')!r})"
            )
        want_ids = {(k, v) for k, values in label["identifiers"].items() for v in values}
        got_ids = {(k, v) for k, values in got["identifiers"].items() for v in values}
        total.ids_labelled += len(want_ids)
        total.ids_found += len(got_ids)
        total.ids_right += len(want_ids & got_ids)
        if want_ids != got_ids:
            missing, extra = sorted(want_ids - got_ids), sorted(got_ids - want_ids)
            wrong.append(f"ids missing {missing} extra {extra}")
        if label["priority"] == "P0":
            total.p0_labelled += 1
            total.p0_caught += got["priority"] == "P0"
        elif got["priority"] == "P0":
            total.false_p0 += 1
        if label["category"] == "phishing_suspect":
            total.phishing_labelled += 1
            total.phishing_caught += got["category"] == "phishing_suspect"
        elif got["category"] == "phishing_suspect":
            total.genuine_flagged += 1
        if wrong:
            total.misses.append(f"{eml.relative_to(CORPUS)}: " + "; ".join(wrong))
    return total


def _share(right: int, total: int) -> str:
    return f"{right / total:.3f}" if total else "  -  "


def _counted(right: int, total: int) -> str:
    return f"{_share(right, total)}  ({right}/{total})"


def table(name: str, s: Score) -> str:
    """The printed table of one set."""
    rows = [
        (f"{name} ({s.notices} notices)", ""),
        ("category", _share(s.category, s.notices)),
        ("priority", _share(s.priority, s.notices)),
        ("deadline (±1 h)", _share(s.deadline, s.notices)),
        ("identifier recall", _counted(s.ids_right, s.ids_labelled)),
        ("identifier precision", _counted(s.ids_right, s.ids_found)),
        ("P0 recall", _counted(s.p0_caught, s.p0_labelled)),
        ("false P0", str(s.false_p0)),
        ("phishing recall", _counted(s.phishing_caught, s.phishing_labelled)),
        ("genuine flagged", str(s.genuine_flagged)),
    ]
    return "\n".join(f"  {key:<24} {value}" if value else key for key, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=["holdout2", "holdout", "corpus"])
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    args = parser.parse_args()
    for name in args.sets:
        result = score(pairs_of(name))
        print(table(name, result))
        if args.misses:
            print("\n".join("    " + line for line in result.misses))
        print()


if __name__ == "__main__":
    main()
