"""Cut an oversized message down to what the parser reads, before the `email` package sees it.

The stdlib parser keeps every line of every part as a string: an 81 MB message once took 745 MB
to parse. The parser reads only headers, the first text parts (at most `mime.MAX_BODY_BYTES`
of each) and attached messages, never attachment payloads. So a message over `TRIM_ABOVE` bytes
is walked once at the byte level (linear: `bytes.find` from one MIME delimiter line to the
next) and copied with each header field cut to `FIELD_BYTES`, each text part to
`TEXT_PART_BYTES`, every other part (attachments, preambles, epilogues) to `OTHER_PART_BYTES`,
and the whole to `TOTAL_BYTES`. Delimiter lines, part headers and attached messages are kept,
so the structure parses as before. The archive keeps the raw bytes; only the parser's view is
trimmed.
"""

from __future__ import annotations

import re

TRIM_ABOVE = 4_000_000
TEXT_PART_BYTES = 3_000_000  # a base64 text part of mime.MAX_BODY_BYTES (2 MB) with line ends
OTHER_PART_BYTES = 64_000
FIELD_BYTES = 8_000  # as mime.MAX_HEADER_CHARS: no header is read further
HEADER_BYTES = 256_000  # of one header block
TOTAL_BYTES = 16_000_000
MAX_PARTS = 1_000  # delimiter lines followed; the parser reads at most 200 parts per level

_FIELD_END = re.compile(rb"\n(?![ \t])")
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
        self.delimiters: list[bytes] = []  # b"--" + boundary of every multipart met so far

    def run(self) -> bytes:
        raw, size = self.raw, len(self.raw)
        pos, parts, at_headers = 0, 0, True
        while pos < size and self.kept < TOTAL_BYTES and parts <= MAX_PARTS:
            limit = self._next_delimiter(pos)
            cap = OTHER_PART_BYTES  # a preamble or epilogue
            if at_headers:
                known = len(self.delimiters)
                ctype, pos = self._header_block(pos, limit)
                if ctype.startswith(b"message/"):
                    continue  # the body is a message: its own header block comes next
                if len(self.delimiters) > known:  # the block named a boundary: look again
                    limit = self._next_delimiter(pos)
                if ctype.startswith(b"text/"):
                    cap = TEXT_PART_BYTES
            self._copy(pos, limit, cap)
            if limit >= size:
                break
            line_end = raw.find(b"\n", limit)
            pos = size if line_end < 0 else line_end + 1
            self._keep(self.view[limit:pos])
            delimiter = self._delimiter_at(limit)
            at_headers = delimiter is not None and not raw.startswith(b"--", limit + len(delimiter))
            parts += 1
        return b"".join(self.pieces)

    def _keep(self, piece: memoryview | bytes) -> None:
        self.pieces.append(piece)
        self.kept += len(piece)

    def _header_block(self, start: int, limit: int) -> tuple[bytes, int]:
        """Copy the header block at `start` (fields cut to size); its content type, body start."""
        raw = self.raw
        if raw.startswith(b"\n", start) or raw.startswith(b"\r\n", start):
            end = start  # no headers at all: text/plain by default
            body = start + (1 if raw[start] == 10 else 2)
        else:
            crlf = raw.find(b"\n\r\n", start, limit)
            lf = raw.find(b"\n\n", start, crlf if crlf >= 0 else limit)
            if crlf < 0 and lf < 0:
                end = body = limit  # never a blank line: all of it is header
            elif lf < 0:
                end, body = crlf + 1, crlf + 3
            else:
                end, body = lf + 1, lf + 2
        block = self._fields(start, end)
        self._keep(block)
        self._keep(self.view[end:body])
        found = _CONTENT_TYPE.search(block)
        ctype = found.group(1).lower() if found else b"text/plain"
        boundary = _BOUNDARY.search(block) if ctype.startswith(b"multipart/") else None
        if boundary is not None:
            self.delimiters.append(b"--" + (boundary.group(1) or boundary.group(2)))
        return ctype, body

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

    def _next_delimiter(self, pos: int) -> int:
        """Where the next delimiter line of a known boundary starts, or the end of the message."""
        raw = self.raw
        if not self.delimiters:
            return len(raw)
        if (pos == 0 or raw[pos - 1] == 10) and self._delimiter_at(pos) is not None:
            return pos
        while True:
            newline = raw.find(b"\n--", pos)
            if newline < 0:
                return len(raw)
            if self._delimiter_at(newline + 1) is not None:
                return newline + 1
            pos = newline + 1

    def _delimiter_at(self, pos: int) -> bytes | None:
        """The `--boundary` that the line at `pos` is, as the `email` package reads one: the
        delimiter, optionally `--`, optionally spaces, then the line end (RFC 2046 5.1.1)."""
        raw = self.raw
        for delimiter in self.delimiters:
            if not raw.startswith(delimiter, pos):
                continue
            rest = pos + len(delimiter)
            if raw.startswith(b"--", rest):
                rest += 2
            line = raw[rest : rest + 200].lstrip(b" \t")
            if not line or line[:1] in (b"\r", b"\n"):
                return delimiter
        return None
