"""Read the HTML tables of a notice as rows and columns: label -> value pairs for the identifiers.

Platforms list affected items in tables: a header row of labels with one row of values per item
(Walmart, Temu, AliExpress, Amazon complaint lists), or a label cell beside its value cell
(SHEIN, Walmart case pages). Flattened to text, the labels end up on one line and the values on
the next, so "Item ID" no longer precedes its number and a complaint ID beside an ASIN loses its
label. This module walks the raw HTML part with the stdlib `html.parser` (linear, no regex over
markup) and gives each value cell the label of its column or of the cell before it.
"""

from __future__ import annotations

import re
from email.message import Message
from html.parser import HTMLParser

from maild.parsers import mime

MAX_MARKUP_CHARS = 300_000
MAX_LABEL_CHARS = 40
MAX_VALUE_CHARS = 80
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")

Row = list[tuple[str, bool]]  # (cell text, is a <th>)


class _TableReader(HTMLParser):
    """Collects every table as rows of cell texts; a nested table is a table of its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[Row]] = []
        self._open: list[list[Row]] = []
        self._cell: list[str] | None = None
        self._cells: list[list[str] | None] = []
        self._header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._cells.append(self._cell)
            self._cell = None
            self._open.append([])
        elif not self._open:
            return
        elif tag == "tr":
            self._open[-1].append([])
        elif tag in ("td", "th"):
            if not self._open[-1]:
                self._open[-1].append([])
            self._close_cell()
            self._cell, self._header = [], tag == "th"
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        if tag in ("td", "th", "tr"):
            self._close_cell()
        elif tag == "table":
            self._close_cell()
            self.tables.append(self._open.pop())
            self._cell = self._cells.pop() if self._cells else None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._open and self._open[-1]:
            text = _SPACES.sub(" ", "".join(self._cell)).strip()
            self._open[-1][-1].append((text, self._header))
        self._cell = None


def read_tables(markup: str) -> list[list[Row]]:
    """Every table in `markup`: rows of (cell text, header cell?), empty rows dropped."""
    if "<table" not in markup[:MAX_MARKUP_CHARS].lower():
        return []
    reader = _TableReader()
    reader.feed(markup[:MAX_MARKUP_CHARS])
    reader.close()
    return [[row for row in table if row] for table in reader.tables]


def _is_label(text: str) -> bool:
    return 0 < len(text) <= MAX_LABEL_CHARS and not _DIGIT.search(text)


def _header_row(table: list[Row]) -> list[str] | None:
    """The labels of the first row when it heads the columns below it."""
    if len(table) < 2:
        return None
    first = table[0]
    texts = [text for text, _ in first]
    if len(texts) < 2 or not all(_is_label(text) for text in texts):
        return None
    if all(is_th for _, is_th in first) or any(len(row) == len(first) for row in table[1:]):
        return texts
    return None


def pairs(tables: list[list[Row]]) -> list[tuple[str, str]]:
    """(label, value) for every value cell: by column header, else by the label cell before it."""
    found: list[tuple[str, str]] = []
    for table in tables:
        header = _header_row(table)
        if header is not None:
            for row in table[1:]:
                if len(row) != len(header):
                    continue
                found.extend(
                    (label, text)
                    for label, (text, _) in zip(header, row, strict=True)
                    if text and len(text) <= MAX_VALUE_CHARS
                )
            continue
        for row in table:
            for (label, _), (value, _) in zip(row, row[1:], strict=False):
                if _is_label(label) and value and len(value) <= MAX_VALUE_CHARS:
                    found.append((label.rstrip(":： "), value))
    return found


def html_part(message: Message) -> str | None:
    """The first inline text/html part of `message` (not of messages attached to it)."""
    for part in mime.iter_leaves(message):
        if part.get_content_type() == "text/html" and not mime.is_attachment(part):
            return mime.part_text(part)
    return None


def labelled_cells(message: Message) -> list[tuple[str, str]]:
    """(label, value) pairs of the tables in the HTML part of `message`."""
    markup = html_part(message)
    return pairs(read_tables(markup)) if markup else []
