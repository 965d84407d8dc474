"""The receipt journal (maild/outbound/receipt_journal.py): what a server accepted survives a
kill -9 before the database commit, a line torn by a crash is passed over, and writers in several
processes never mix their lines."""

from __future__ import annotations

import json
import multiprocessing
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from maild.errors import ArchiveError
from maild.outbound.receipt_journal import JournalEntry, find, record

AT = datetime(2026, 3, 10, 8, 15, 42, 123456, tzinfo=UTC)


def entry(outbound_id: int, message_id: str, **changes: object) -> JournalEntry:
    values: dict[str, object] = {
        "outbound_id": outbound_id, "message_id": message_id, "code": 250,
        "text": "2.0.0 Ok: queued as 4XyZ", "queue_id": "4XyZ", "at": AT}
    return JournalEntry(**(values | changes))  # type: ignore[arg-type]


def test_record_then_find_gives_the_entry_back(tmp_path: Path) -> None:
    """GIVEN a journal that does not exist yet
    WHEN entries for two messages are recorded (one without a queue id, with a non-ASCII reply
    and a non-UTC time)
    THEN find gives each back equal to what was recorded, and None for a third message; the
    file holds one line per entry."""
    path = tmp_path / "receipts.log"
    first = entry(1, "<a.1.maild@advisor.example>")
    second = entry(2, "<b.2.maild@advisor.example>", queue_id=None, text="2.0.0 接受 Ok",
                   at=datetime(2026, 3, 10, 16, 0, tzinfo=timezone(timedelta(hours=8))))
    record(path, first)
    record(path, second)
    assert find(path, first.message_id) == first
    assert find(path, second.message_id) == second
    assert find(path, "<c.3.maild@advisor.example>") is None
    assert len(path.read_bytes().splitlines()) == 2


def test_a_missing_journal_holds_nothing(tmp_path: Path) -> None:
    """GIVEN no journal file
    WHEN find looks for a message
    THEN None, and the file is not created."""
    assert find(tmp_path / "receipts.log", "<a@advisor.example>") is None
    assert not (tmp_path / "receipts.log").exists()


def test_the_last_entry_for_a_message_wins(tmp_path: Path) -> None:
    """GIVEN a message accepted twice (sent again after an earlier crash), another in between
    WHEN find looks for it
    THEN the later receipt is given."""
    path = tmp_path / "receipts.log"
    record(path, entry(5, "<m@advisor.example>", queue_id="FIRST"))
    record(path, entry(6, "<other@advisor.example>"))
    record(path, entry(5, "<m@advisor.example>", queue_id="SECOND"))
    found = find(path, "<m@advisor.example>")
    assert found is not None and found.queue_id == "SECOND"


@pytest.mark.parametrize("torn", [
    b'{"outbound_id":9,"message_id":"<m@advisor.exa',
    b"\0\0\0\0\0\0",
    b'{"outbound_id":9,"message_id":"<m@advisor.example>","code":250,"text":"\xff',
])
def test_a_torn_last_line_is_passed_over(tmp_path: Path, torn: bytes,
                                         caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN a journal whose last line a crash tore (half a line, zeros, bytes cut mid-UTF-8)
    WHEN find looks up the message before it, and then a new entry is recorded and looked up
    THEN both are found (the new line does not stick to the torn one), and the torn line is
    logged with the file and line number."""
    path = tmp_path / "receipts.log"
    record(path, entry(8, "<m@advisor.example>"))
    with path.open("ab") as journal:
        journal.write(torn)
    assert find(path, "<m@advisor.example>") == entry(8, "<m@advisor.example>")
    assert f"journal={path} line=2" in caplog.text
    record(path, entry(10, "<n@advisor.example>"))
    assert find(path, "<n@advisor.example>") == entry(10, "<n@advisor.example>")
    assert find(path, "<m@advisor.example>") == entry(8, "<m@advisor.example>")


def test_a_line_of_the_wrong_shape_is_passed_over(tmp_path: Path) -> None:
    """GIVEN lines that are JSON but not an entry (a list; an entry whose code is a string)
    WHEN find looks for the message they name
    THEN they are passed over and the good entry is found."""
    path = tmp_path / "receipts.log"
    record(path, entry(1, "<m@advisor.example>"))
    good = json.loads(path.read_text())
    with path.open("a") as journal:
        journal.write("[1, 2]\n" + json.dumps(good | {"code": "250", "outbound_id": 2}) + "\n")
    found = find(path, "<m@advisor.example>")
    assert found is not None and found.outbound_id == 1


def test_the_journal_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """GIVEN no journal WHEN the first entry is recorded THEN the file is mode 0600."""
    path = tmp_path / "receipts.log"
    record(path, entry(1, "<m@advisor.example>"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bad_input_and_unwritable_place_are_refused(tmp_path: Path) -> None:
    """GIVEN a naive time, and a journal whose folder does not exist
    WHEN record is called
    THEN ValueError for the first, ArchiveError naming the file for the second."""
    with pytest.raises(ValueError, match="timezone-aware"):
        record(tmp_path / "receipts.log", entry(1, "<m@x>", at=datetime(2026, 3, 10)))
    missing = tmp_path / "no" / "receipts.log"
    with pytest.raises(ArchiveError, match=str(missing)):
        record(missing, entry(1, "<m@x>"))


WRITERS = 4
PER_WRITER = 150


def _write_many(path: Path, writer: int, start: multiprocessing.synchronize.Barrier) -> None:
    """One process's share: entries whose reply text is long enough (up to ~9 KB) to cross
    page boundaries, where writes that were not atomic would mix."""
    start.wait()
    for i in range(PER_WRITER):
        text = f"{writer}-{i}:" + chr(ord("a") + writer) * (50 + (i * 613) % 9000)
        record(path, entry(writer * 1000 + i, f"<w{writer}.{i}@advisor.example>", text=text))


def test_concurrent_writers_leave_only_whole_lines(tmp_path: Path) -> None:
    """GIVEN four processes that record 150 entries each into one journal at the same time
    WHEN the journal is read
    THEN it holds exactly 600 lines, each a whole entry whose text is one writer's, and find
    gives back any of them."""
    path = tmp_path / "receipts.log"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WRITERS)
    workers = [context.Process(target=_write_many, args=(path, w, start))
               for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * WRITERS
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    seen = set()
    for line in lines[:-1]:
        fields = json.loads(line)
        writer, _, rest = fields["text"].partition("-")
        number, _, filler = rest.partition(":")
        assert set(filler) == {chr(ord("a") + int(writer))}
        seen.add((int(writer), int(number)))
    assert seen == {(w, i) for w in range(WRITERS) for i in range(PER_WRITER)}
    assert len(lines) - 1 == WRITERS * PER_WRITER
    found = find(path, "<w3.149@advisor.example>")
    assert found is not None and found.outbound_id == 3149
