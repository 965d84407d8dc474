"""Benchmark `parse_message` against bare `mailparser.parse_from_bytes` on the same files.

Two sets: "notices" (tests/corpus repeated with varied Message-ID/Date/subject to reach a few
thousand realistic platform notices) and "corpora" (../shared/corpora malformed, phishing and
ham). For each set it prints messages per second of maild's parser and of bare mail-parser,
measured in the same run on one core, their ratio, and the slowest message with its time.

    .venv/bin/python bench/parse.py [--notices 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import mailparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from maild.parsers import parse_message  # noqa: E402

CORPUS = REPO / "tests" / "corpus"
SHARED = REPO.parent / "shared" / "corpora"
_MESSAGE_ID = re.compile(rb"^(Message-ID:\s*<)", re.I | re.M)
_SUBJECT = re.compile(rb"^(Subject:\s*)", re.I | re.M)


def notices(count: int) -> list[tuple[str, bytes]]:
    """`count` notices: the labelled corpus, each copy with its own Message-ID and subject tag."""
    base = [(str(p.relative_to(REPO)), p.read_bytes()) for p in sorted(CORPUS.rglob("*.eml"))]
    if not base:
        return []
    out: list[tuple[str, bytes]] = []
    for index in range(count):
        name, raw = base[index % len(base)]
        tag = str(index).encode()
        raw = _MESSAGE_ID.sub(rb"\1bench" + tag + b".", raw, count=1)
        raw = _SUBJECT.sub(rb"\1[" + tag + b"] ", raw, count=1)
        out.append((f"{name}#{index}", raw))
    return out


def corpora() -> list[tuple[str, bytes]]:
    """Every file of ../shared/corpora/{malformed,phishing,ham}."""
    files = []
    for folder in ("malformed", "phishing", "ham"):
        directory = SHARED / folder
        if directory.is_dir():
            files.extend(
                (str(p), p.read_bytes()) for p in sorted(directory.iterdir()) if p.is_file()
            )
    return files


def bare_mailparser(raw: bytes) -> None:
    try:
        mailparser.parse_from_bytes(raw)
    except Exception:  # noqa: BLE001 - the baseline may fail on broken input; we time it anyway
        return


def timed(
    func: Callable[[bytes], object], files: list[tuple[str, bytes]], rounds: int
) -> tuple[float, float, str]:
    """(best msgs/s over `rounds`, slowest single message seconds, its name)."""
    best = 0.0
    slowest, slowest_name = 0.0, ""
    for _ in range(rounds):
        started = time.perf_counter()
        for name, raw in files:
            one = time.perf_counter()
            func(raw)
            spent = time.perf_counter() - one
            if spent > slowest:
                slowest, slowest_name = spent, name
        best = max(best, len(files) / (time.perf_counter() - started))
    return best, slowest, slowest_name


def report(title: str, files: list[tuple[str, bytes]], rounds: int) -> None:
    if not files:
        print(f"{title}: no files")
        return
    parse_message(files[0][1])  # compile patterns and templates outside the timing
    ours, slowest, slowest_name = timed(parse_message, files, rounds)
    theirs, _slow, _name = timed(bare_mailparser, files, rounds)
    print(f"{title}: {len(files)} messages")
    print(f"  maild parse_message            {ours:8.0f} msgs/s")
    print(f"  mailparser.parse_from_bytes    {theirs:8.0f} msgs/s")
    print(f"  ratio                          {ours / theirs:8.2f}")
    print(f"  slowest message                {slowest * 1000:8.1f} ms  {slowest_name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # mail-parser logs every odd part it meets
    report("notices", notices(args.notices), args.rounds)
    report("corpora", corpora(), args.rounds)


if __name__ == "__main__":
    main()
