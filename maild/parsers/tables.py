"""Read the HTML tables of a notice as rows and columns: label -> value pairs for the identifiers.

Platforms list affected items in tables: a header row of labels with one row of values per item
(Walmart, Temu, AliExpress, Amazon complaint lists), or a label cell beside its value cell
(SHEIN, Walmart case pages). Flattened to text, the labels end up on one line and the values on
the next, so "Item ID" no longer precedes its number and a complaint ID beside an ASIN loses its
label. This module walks the tree libxml2's HTML parser builds of the HTML part
(`mime.html_roots`, linear; the stdlib `html.parser` of Python 3.11 before 3.11.13 is quadratic
on unclosed attribute quotes: 120 KB took 118 s) and gives each value cell the label of its
column or of the cell before it.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

from lxml import etree

from maild.parsers import mime

MAX_MARKUP_CHARS = 300_000
MAX_LABEL_CHARS = 40
MAX_VALUE_CHARS = 80
HEADER_SEARCH_ROWS = 3
_SPACES = re.compile(r"\s+")
_TABLE_TAG = re.compile(rb"<table\b", re.I)
_DIGIT = re.compile(r"\d")

Row = list[tuple[str, bool]]  # (cell text, is a <th>)


def read_tables(markup: str) -> list[list[Row]]:
    """Every table in `markup`, inner tables before the table holding them: rows of (cell text,
    header cell?), empty rows dropped. A nested table is a table of its own, not cell text."""
    if "<table" not in markup[:MAX_MARKUP_CHARS].lower():
        return []
    found: list[list[Row]] = []
    for top in mime.html_roots(markup[:MAX_MARKUP_CHARS]):
        for _event, table in etree.iterwalk(top, events=("end",), tag="table"):
            found.append([row for row in _rows(table) if row])
    return found


def _rows(table: Any) -> list[Row]:
    """The rows of `table`, not of the tables nested in it; a cell before any <tr> opens one."""
    rows: list[Row] = []
    walker = etree.iterwalk(table, events=("start",))
    for _event, node in walker:
        if node is table:
            continue
        if node.tag == "table":
            walker.skip_subtree()
        elif node.tag == "tr":
            rows.append([])
        elif node.tag in ("td", "th"):
            if not rows:
                rows.append([])
            rows[-1].append((_cell_text(node), node.tag == "th"))
            walker.skip_subtree()
    return rows


def _cell_text(cell: Any) -> str:
    """The text of one cell, a line break read as a space, nested tables left out."""
    pieces = [cell.text or ""]
    walker = etree.iterwalk(cell, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if node is cell:
            continue
        if event == "start":
            if node.tag == "table":
                walker.skip_subtree()
                continue
            pieces.append(" " if node.tag == "br" else "")
            pieces.append(node.text or "")
        else:  # the end of an element, or a comment: the text after it
            pieces.append(node.tail or "")
    return _SPACES.sub(" ", "".join(pieces)).strip()


def _is_label(text: str) -> bool:
    return 0 < len(text) <= MAX_LABEL_CHARS and not _DIGIT.search(text)


def _header_row(table: list[Row]) -> tuple[int, list[str]] | None:
    """Where the row heading the columns below it is (after at most two title rows such as
    "Affected items"), and its labels."""
    for index, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        texts = [text for text, _ in row]
        if len(texts) < 2 or not all(_is_label(text) for text in texts):
            continue
        below = table[index + 1 :]
        if below and (all(is_th for _, is_th in row) or any(len(r) == len(row) for r in below)):
            return index, texts
        return None
    return None


def pairs(tables: list[list[Row]]) -> list[tuple[str, str]]:
    """(label, value) for every value cell: by column header, else by the label cell before it."""
    found: list[tuple[str, str]] = []
    for table in tables:
        found_header = _header_row(table)
        if found_header is not None:
            index, header = found_header
            for row in table[index + 1 :]:
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
    """The first inline text/html part of `message` (not of messages attached to it), when it
    holds a table: the transfer-decoded bytes are checked before any charset decoding, which
    keeps table-less HTML mail (most of it) cheap. An ASCII-incompatible charset (UTF-16) is
    not looked into."""
    for part in mime.iter_leaves(message):
        if part.get_content_type() == "text/html" and not mime.is_attachment(part):
            try:
                payload = part.get_payload(decode=True)
            except (ValueError, TypeError, LookupError, AssertionError):
                return None
            if not isinstance(payload, bytes) or not _TABLE_TAG.search(
                payload, 0, MAX_MARKUP_CHARS
            ):
                return None
            return mime.part_text(part)
    return None


def labelled_cells(message: Message) -> list[tuple[str, str]]:
    """(label, value) pairs of the tables in the HTML part of `message`."""
    markup = html_part(message)
    return pairs(read_tables(markup)) if markup else []
