"""isolated: parses in a worker process, each within a time budget; failures become notices."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maild.parsers import parse_message
from maild.parsers.isolated import IsolatedParser, ParseInterrupted

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
NOTICE = (
    b"From: Amazon <seller-notification@amazon.com>\r\n"
    b"Subject: Your listing has been removed\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
    b"Message-ID: <removed-1@amazon.com>\r\n\r\n"
    b"ASIN: B0ABCDEF12 has been removed from the catalog.\r\n"
)


def html_message(body: bytes) -> bytes:
    """A platform notice whose only body is `body` as HTML."""
    return (
        b"From: Amazon <seller-notification@amazon.com>\r\n"
        b"Subject: Listing update\r\nMessage-ID: <html-1@amazon.com>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body
    )


@pytest.fixture
def parser() -> Iterator[IsolatedParser]:
    with IsolatedParser(timeout_seconds=60) as isolated:
        yield isolated


def process_gone(pid: int) -> bool:
    """The process has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_corpus_parses_as_in_process(parser: IsolatedParser) -> None:
    """GIVEN every message of the labelled corpus
    WHEN parsed in the worker process
    THEN each notice equals the one `parse_message` gives in process, field for field."""
    files = sorted(CORPUS.rglob("*.eml"))
    assert files
    for path in files:
        raw = path.read_bytes()
        assert parser.parse(raw) == parse_message(raw), path


def test_budget_exceeded_quarantines_and_the_next_parse_works(parser: IsolatedParser) -> None:
    """GIVEN a 4 MB HTML notice and a budget of one millisecond (no parse fits in it)
    WHEN it is parsed
    THEN the notice says the budget was exceeded (category other, P3, its Message-ID kept),
    the worker is replaced, and the next message parses as in process."""
    heavy = html_message(b"<div><b>Your listing</b> was removed.</div>\r\n" * 90_000)
    first_worker = parser.pid
    notice = parser.parse(heavy, timeout_seconds=0.001)
    assert notice.error == "parse exceeded the 0.001 s time budget"
    assert (notice.category, notice.priority, notice.parser) == ("other", "P3", "error")
    assert notice.message_id == "<html-1@amazon.com>"
    assert parser.pid is None or parser.pid != first_worker
    assert parser.parse(NOTICE) == parse_message(NOTICE)


@pytest.mark.parametrize(
    ("lead", "junk"),
    [(b"", b"<script>"), (b"", b"<!--"), (b"", b"<p "), (b"<table><tr><td>", b"<a b='")],
    ids=[
        "unclosed-scripts",
        "unclosed-comments",
        "unclosed-block-tags",
        "unclosed-quotes-in-table",
    ],
)
def test_pathological_html_parses_within_budget(lead: bytes, junk: bytes) -> None:
    """GIVEN a 2.5 MB HTML body: a sentence, then unclosed `<script>`, `<!--` or `<p ` tags, or
    a table cell of unclosed attribute quotes (the regexes before lxml took 57 to 350 s on the
    first three, html.parser in the table reader over 100 s on the last: all quadratic)
    WHEN parsed with a 20 s budget
    THEN it finishes within the budget and the sentence's ASIN is read."""
    sentence = b"<p>ASIN: B0ABCDEF12 has been removed.</p>"
    body = sentence + lead + junk * (2_500_000 // len(junk))
    with IsolatedParser(timeout_seconds=20) as isolated:
        notice = isolated.parse(html_message(body))
    assert notice.error is None
    assert notice.identifiers["asin"] == ["B0ABCDEF12"]


def test_worker_dying_while_parsing_gives_an_error_notice() -> None:
    """GIVEN a worker limited to 128 MB of address space and a 150 MB message
    WHEN it is parsed (the worker dies of MemoryError receiving it)
    THEN the notice says the worker died, and the next message parses in a fresh worker."""
    with IsolatedParser(timeout_seconds=60, memory_limit_bytes=128 * 2**20) as isolated:
        bomb = NOTICE + b"x" * (150 * 2**20)
        notice = isolated.parse(bomb)
        del bomb
        assert notice.error == "the parse worker died while parsing (exit code 1)"
        assert (notice.category, notice.message_id) == ("other", "<removed-1@amazon.com>")
        assert isolated.parse(NOTICE) == parse_message(NOTICE)


def test_worker_killed_while_idle_is_replaced_silently(parser: IsolatedParser) -> None:
    """GIVEN a worker killed between two messages (by the OOM killer or an operator)
    WHEN the next message is parsed
    THEN it is parsed normally by a new worker: that message is not at fault."""
    assert parser.parse(NOTICE).error is None
    pid = parser.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert parser.parse(NOTICE) == parse_message(NOTICE)
    assert parser.pid != pid


def test_close_interrupts_a_parse_and_refuses_more() -> None:
    """GIVEN a parse of a large message running in another thread
    WHEN the parser is closed
    THEN that parse raises ParseInterrupted rather than quarantining the message, and so does
    any later parse."""
    isolated = IsolatedParser(timeout_seconds=60)
    big = html_message(b"<div>Your listing was removed.</div>\r\n" * 500_000)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(isolated.parse(big))
        except ParseInterrupted as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    isolated.close()
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], ParseInterrupted)
    with pytest.raises(ParseInterrupted):
        isolated.parse(NOTICE)


def test_huge_subject_is_cut_for_the_extractors_and_the_row() -> None:
    """GIVEN a 20 MB Subject full of dates (14 s in the date finder, and stored whole, before)
    WHEN parsed with a 20 s budget
    THEN it finishes, and the notice keeps the first 998 characters of the subject."""
    words = b"Action required by 2026-03-15 for ASIN B0ABCDEF12 "
    raw = (
        b"From: Amazon <seller-notification@amazon.com>\r\nSubject: "
        + words * (20_000_000 // len(words))
        + b"\r\nMessage-ID: <subject-1@amazon.com>\r\n\r\nSee the subject.\r\n"
    )
    with IsolatedParser(timeout_seconds=20) as isolated:
        notice = isolated.parse(raw)
    assert notice.error is None
    assert len(notice.subject) == 998
    assert notice.subject.startswith("Action required by 2026-03-15 for ASIN B0ABCDEF12")
    assert notice.identifiers["asin"] == ["B0ABCDEF12"]
