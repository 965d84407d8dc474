"""Cut an oversized message down to what the parser reads, before the `email` package sees it.

The stdlib parser keeps every line of every part as a string: an 81 MB message once took 745 MB
to parse. The parser reads only headers, the first text parts (at most `mime.MAX_BODY_BYTES`
of each) and attached messages, never attachment payloads. So a message over `TRIM_ABOVE` bytes
is walked once at the byte level (linear: regex scans for delimiter and blank lines whose
answers are remembered, see `_Delimiters`) and copied with each header field cut to
`FIELD_BYTES`, each text part to `TEXT_PART_BYTES`, every other part (attachments, preambles,
epilogues) to `OTHER_PART_BYTES`, and the whole to `TOTAL_BYTES`. Delimiter lines, part headers
and attached messages are kept, so the structure parses as before. The archive keeps the raw
bytes; only the parser's view is trimmed.
"""

from __future__ import annotations

import re

TRIM_ABOVE = 4_000_000
TEXT_PART_BYTES = 3_000_000  # a base64 text part of mime.MAX_BODY_BYTES (2 MB) with line ends
OTHER_PART_BYTES = 64_000
FIELD_BYTES = 64_000  # as mime.MAX_HEADER_CHARS: no header is read further
HEADER_BYTES = 256_000  # of one header block
TOTAL_BYTES = 16_000_000
MAX_STEPS = 2_000  # header blocks and delimiter lines followed; the parser reads 200 parts a level
MAX_BOUNDARIES = 32  # multiparts whose delimiters are looked for (the parser reads 20 levels)

_FIELD_END = re.compile(rb"\n(?![ \t])")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE = re.compile(
    rb"^content-type[ \t]*:\s*(" + _TOKEN + rb"/" + _TOKEN + rb")", re.I | re.M
)
_BOUNDARY = re.compile(rb"boundary\s*=\s*(?:\"([^\"\r\n]{1,200})\"|([^\s;\"]{1,200}))", re.I)


def trim(raw: bytes) -> bytes:
    """`raw` itself when it is small, else the copy of it the parser needs (module docstring)."""
    if len(raw) <= TRIM_ABOVE:
        return raw
    return _Trimmer(raw).run()


class _Trimmer:
    """One pass over a message: header blocks, bodies and the delimiter lines between them."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.view = memoryview(raw)
        self.pieces: list[memoryview | bytes] = []
        self.kept = 0
        self.delimiters = _Delimiters(raw)
        self._blank_from = len(raw) + 1  # nothing remembered yet
        self._blank: re.Match[bytes] | None = None

    def run(self) -> bytes:
        raw, size = self.raw, len(self.raw)
        pos, steps, at_headers = 0, 0, True
        while pos < size and self.kept < TOTAL_BYTES and steps < MAX_STEPS:
            steps += 1
            cap = OTHER_PART_BYTES  # a preamble or epilogue
            if at_headers:
                ctype, pos = self._header_block(pos)
                if ctype.startswith(b"message/"):
                    continue  # the body is a message: its own header block comes next
                if ctype.startswith(b"text/"):
                    cap = TEXT_PART_BYTES
            found = self.delimiters.after(pos)
            limit = _line_start(found, size)
            self._copy(pos, limit, cap)
            if found is None:
                break
            line_end = raw.find(b"\n", found.end())
            pos = size if line_end < 0 else line_end + 1
            self._keep(self.view[limit:pos])
            at_headers = found.group("close") is None
        return b"".join(self.pieces)

    def _keep(self, piece: memoryview | bytes) -> None:
        self.pieces.append(piece)
        self.kept += len(piece)

    def _header_block(self, start: int) -> tuple[bytes, int]:
        """Copy the header block at `start` (fields cut to size); its content type, body start.

        The block ends at a blank line, or at a delimiter line that comes before one."""
        raw, size = self.raw, len(self.raw)
        if raw.startswith(b"\n", start) or raw.startswith(b"\r\n", start):
            end = start  # no headers at all: text/plain by default
            body = start + (1 if raw[start] == 10 else 2)
        else:
            blank = self._blank_line(start)
            end, body = (blank.start() + 1, blank.end()) if blank else (size, size)
            cut = self.delimiters.first_between(start, end)
            if cut is not None:
                end = body = cut.start() + 1
        block = self._fields(start, end)
        self._keep(block)
        self._keep(self.view[end:body])
        found = _CONTENT_TYPE.search(block)
        ctype = found.group(1).lower() if found else b"text/plain"
        boundary = _BOUNDARY.search(block) if ctype.startswith(b"multipart/") else None
        if boundary is not None:
            self.delimiters.add(boundary.group(1) or boundary.group(2), body)
        return ctype, body

    def _blank_line(self, pos: int) -> re.Match[bytes] | None:
        """The first blank line after `pos`, remembered as the delimiters are (linear)."""
        if self._blank_from <= pos and (self._blank is None or pos <= self._blank.start()):
            return self._blank
        self._blank_from, self._blank = pos, _BLANK_LINE.search(self.raw, pos)
        return self._blank

    def _fields(self, start: int, end: int) -> bytes:
        """The header block from `start` to `end`, each field cut to `FIELD_BYTES`."""
        if end - start <= FIELD_BYTES:
            return self.raw[start:end]
        fields: list[bytes] = []
        kept, pos = 0, start
        while pos < end and kept < HEADER_BYTES:
            found = _FIELD_END.search(self.raw, pos, end)
            following = found.end() if found else end
            field = self.raw[pos : min(following, pos + FIELD_BYTES)]
            if not field.endswith(b"\n"):
                field = field.rstrip(b"\r") + b"\r\n"
            fields.append(field)
            kept += len(field)
            pos = following
        return b"".join(fields)

    def _copy(self, start: int, end: int, cap: int) -> None:
        """Keep the body from `start` to `end`, cut at a line end to at most `cap` bytes."""
        if end - start <= cap:
            self._keep(self.view[start:end])
            return
        cut = self.raw.rfind(b"\n", start, start + cap)
        if cut < 0:
            self._keep(self.view[start : start + cap])
            self._keep(b"\r\n")
        else:
            self._keep(self.view[start : cut + 1])


class _Delimiters:
    """Finds the delimiter lines of the boundaries met so far (RFC 2046 5.1.1, as the `email`
    package reads them: `--boundary`, optionally `--`, optionally spaces, the line end).

    One regex scan (C speed) finds the next one, and the answer is remembered: a new boundary
    is looked for only up to the delimiter already known, so each byte is scanned at most once
    per boundary, and there are at most `MAX_BOUNDARIES` of them.
    """

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.boundaries: list[bytes] = []
        self._pattern: re.Pattern[bytes] | None = None
        self._searched_from = len(raw) + 1  # nothing remembered yet
        self._next: re.Match[bytes] | None = None

    def add(self, boundary: bytes, start: int) -> None:
        """Look for `boundary`'s delimiters too, from `start` (its multipart's body) on."""
        if boundary in self.boundaries or len(self.boundaries) >= MAX_BOUNDARIES:
            return
        self.boundaries.append(boundary)
        self._pattern = _pattern(self.boundaries)
        if self._searched_from <= start:
            end = len(self.raw) if self._next is None else self._next.start() + 1
            earlier = _pattern([boundary]).search(self.raw, max(start - 1, 0), end)
            if earlier is not None:
                self._next = earlier

    def first_between(self, start: int, end: int) -> re.Match[bytes] | None:
        """The first delimiter line that starts in [start, end), if any."""
        if self._pattern is None:
            return None
        return self._pattern.search(self.raw, max(start - 1, 0), end)

    def after(self, pos: int) -> re.Match[bytes] | None:
        """The first delimiter line that starts at or after `pos` (None: there is none)."""
        if self._pattern is None:
            return None
        if self._searched_from <= pos <= _line_start(self._next, len(self.raw)):
            return self._next
        self._searched_from = pos
        self._next = self._pattern.search(self.raw, max(pos - 1, 0))
        return self._next


def _pattern(boundaries: list[bytes]) -> re.Pattern[bytes]:
    """Delimiter lines of `boundaries`, each matched from the line end before it."""
    alternatives = b"|".join(re.escape(boundary) for boundary in boundaries)
    return re.compile(rb"\n--(?:" + alternatives + rb")(?P<close>--)?[ \t]*(?=\r?\n|\r?\Z)")


def _line_start(found: re.Match[bytes] | None, size: int) -> int:
    """Where the delimiter line `found` starts, or `size` when there is none."""
    return size if found is None else found.start() + 1
