"""Reading imaplib's FETCH answer: bodies by UID, INTERNALDATE in UTC, unsolicited lines skipped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maild.errors import SourceError
from maild.sources.imap_fetch import internal_date, parse_fetch_data


def test_items_before_and_after_the_literal_are_read() -> None:
    """GIVEN Dovecot's order (BODY[] last) and another server's (items after the literal) and an
    unsolicited FLAGS update between them WHEN read THEN both bodies come out by UID."""
    data: list[object] = [
        (b'1 (UID 11 INTERNALDATE "27-Nov-2026 10:01:01 +0000" FLAGS (\\Seen) '
         b'RFC822.SIZE 5 BODY[] {5}', b"hello"),
        b")",
        b"7 (FLAGS (\\Seen))",
        (b"2 (UID 12 BODY[] {4}", b"a{1}"),
        b' INTERNALDATE " 7-Mar-2026 23:30:00 -0800" FLAGS ())',
        (b"3 (UID 13 BODY[] {0}", b""),
        b")",
    ]
    fetched = parse_fetch_data(data)
    assert {uid: f.raw for uid, f in fetched.items()} == {11: b"hello", 12: b"a{1}", 13: b""}
    assert fetched[11].internal_date == datetime(2026, 11, 27, 10, 1, 1, tzinfo=UTC)
    assert fetched[12].internal_date == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert fetched[13].internal_date is None


@pytest.mark.parametrize("data", [
    [b'5 (UID 15 BODY[] NIL FLAGS ())'],
    [(b"5 (UID 15 BODY[HEADER] {3}", b"abc"), b")"],
])
def test_a_response_without_the_body_is_an_error(data: list[object]) -> None:
    """GIVEN a FETCH answer that names a UID but carries no BODY[] literal WHEN read THEN it is an
    error, so the checkpoint never passes a message whose bytes were not seen."""
    with pytest.raises(SourceError, match="UID 15|without a body"):
        parse_fetch_data(data)


@pytest.mark.parametrize(("text", "expected"), [
    (b'INTERNALDATE "01-Jan-2026 00:00:00 +0800"', datetime(2025, 12, 31, 16, tzinfo=UTC)),
    (b'INTERNALDATE "31-Feb-2026 00:00:00 +0000"', None),
    (b'INTERNALDATE "01-Foo-2026 00:00:00 +0000"', None),
    (b"no date here", None),
])
def test_internal_date_is_utc_or_none(text: bytes, expected: datetime | None) -> None:
    assert internal_date(text) == expected
