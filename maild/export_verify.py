"""``maild export verify``: re-read an export and prove it complete and unaltered, with no
database and no config — what an auditor runs.

Checks, in this order, one line per problem:

1. the manifest's chain: each line's ``prev`` is the SHA-256 of the line before it, so an
   edited, removed or inserted line is named by number; the first line is an export header and
   the last an end line whose message count matches; with ``--head``, the SHA-256 of the last
   line is the head the exporter printed (without it, the head is printed to compare);
2. every folder: each message's SHA-256 against the manifest's lines for that folder, pairing
   what does not match by Maildir file name or Message-ID, so a changed message is reported as
   altered with the expected and found hashes, a deleted one as missing, and anything the
   manifest does not list (a second copy included) as such;
3. the audit extract: each event's hash recomputed with :func:`maild.audit.event_hash`,
   consecutive events linked by ``prev_hash``, and the file's SHA-256 and event count as the
   manifest's end line records them.

Messages are read one at a time and reduced to their hashes; memory holds the manifest's
entries (a few hundred bytes each), never the messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from maild.audit import event_hash
from maild.export_manifest import (
    AUDIT,
    FORMAT,
    GENESIS,
    MANIFEST,
    line_hash,
    parse_line,
    read_lines,
)
from maild.export_targets import Source
from maild.ingest import header_message_id

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Expected:
    """A message line of the manifest: what its folder must hold."""

    line: int
    sha256: str
    stored_sha256: str  # what the target keeps (the same as sha256 unless "stored_as")
    stored_as: str | None
    message_id: str | None

    @property
    def name(self) -> str:
        return self.message_id or "(no Message-ID)"


@dataclass(frozen=True)
class Seen:
    """A message read from the export, reduced to what the comparison needs."""

    where: str
    sha256: str
    lf_sha256: str | None  # the bytes with CRLF turned back into LF ("crlf" IMAP copies)
    message_id: str | None
    name_sha: str | None


@dataclass
class Verification:
    """Run :meth:`problems` to the end; then ``head``, ``messages``, ``folders`` and
    ``audit_events`` describe what was checked."""

    source: Source
    expected_head: str | None = None
    head: str | None = None
    messages: int = 0
    folders: int = 0
    audit_events: int = 0
    _end: dict[str, Any] = field(default_factory=dict)
    _end_line: int = 0
    _expected: dict[str, list[Expected]] = field(default_factory=dict)

    def problems(self) -> Iterator[str]:
        manifest, audit = self.source.manifest()
        yield from self._manifest(manifest)
        if self.expected_head is not None and self.head != self.expected_head:
            yield (f"{MANIFEST}: its head (SHA-256 of the last line) is {self.head}, not "
                   f"{self.expected_head} as given with --head: this is not the manifest the "
                   f"exporter wrote")
        present = set(self.source.folders())
        for folder in sorted(present | set(self._expected)):
            self.folders += 1
            want = self._expected.get(folder, [])
            if folder not in present:
                yield (f"folder {folder} is missing: its {len(want)} message(s) (manifest "
                       f"lines {want[0].line}-{want[-1].line}) are not in the export")
                continue
            yield from self._folder(folder, want)
        yield from self._audit(audit)

    # ------------------------------------------------------------------ manifest

    def _manifest(self, path: Path) -> Iterator[str]:
        prev = GENESIS
        last: bytes | None = None
        count = number = 0
        for number, line in read_lines(path):
            last = line
            record = parse_line(line)
            if record is None:
                yield f"{MANIFEST} line {number} is not a JSON object"
                prev = line_hash(line)
                continue
            if record.get("prev") != prev:
                yield (f"{MANIFEST} line {number - 1} was altered, or a line was removed or "
                       f"inserted there: line {number} links to {record.get('prev')} but line "
                       f"{number - 1} hashes to {prev}" if number > 1 else
                       f"{MANIFEST} line 1 does not start the chain (prev must be {GENESIS})")
            prev = line_hash(line)
            kind = record.get("type")
            if number == 1 and (kind != "export" or record.get("format") != FORMAT):
                yield f"{MANIFEST} line 1 is not a {FORMAT} header"
            elif kind == "message":
                count += 1
                yield from self._entry(number, record)
            elif kind == "end":
                self._end, self._end_line = record, number
        self.head = line_hash(last) if last is not None else None
        if not self._end or self._end_line != number:
            yield f"{MANIFEST} does not end with its end line: it was cut short or extended"
        elif self._end.get("messages") != count:
            yield (f"{MANIFEST} line {self._end_line}: the end line counts "
                   f"{self._end.get('messages')} message(s), the manifest lists {count}")
        self.messages = count

    def _entry(self, number: int, record: dict[str, Any]) -> Iterator[str]:
        sha, folder = record.get("sha256"), record.get("folder")
        if not isinstance(sha, str) or not isinstance(folder, str) or not folder:
            yield f"{MANIFEST} line {number}: a message line without sha256 or folder"
            return
        stored = record.get("stored_sha256")
        self._expected.setdefault(folder, []).append(Expected(
            number, sha, stored if isinstance(stored, str) else sha, record.get("stored_as"),
            record.get("message_id")))

    # ------------------------------------------------------------------ folders

    def _folder(self, folder: str, want: list[Expected]) -> Iterator[str]:
        by_hash: dict[str, list[Expected]] = {}
        for entry in want:
            by_hash.setdefault(entry.stored_sha256, []).append(entry)
        crlf = any(e.stored_as == "crlf" for e in want)
        matched: dict[str, Expected] = {}
        extra: list[Seen] = []
        problems: list[tuple[int, str]] = []
        for found in self.source.messages(folder):
            seen = _seen(found.where, found.data, crlf, found.name_sha)
            waiting = by_hash.get(seen.sha256)
            if waiting:
                entry = waiting.pop(0)
                matched[seen.sha256] = entry
                if entry.stored_as == "crlf" and seen.lf_sha256 != entry.sha256:
                    problems.append((entry.line, _altered(
                        folder, entry, entry.sha256, seen.lf_sha256 or "",
                        f"{seen.where}, with its CRLF turned back into LF")))
            else:
                extra.append(seen)
        missing = [e for entries in by_hash.values() for e in entries]
        for seen in extra:
            twin = matched.get(seen.sha256)
            partner = _partner(seen, missing)
            if twin is not None:
                problems.append((twin.line, f"folder {folder}: {seen.where} is a second copy of "
                                            f"message {twin.name} (manifest line {twin.line}, "
                                            f"sha256 {seen.sha256})"))
            elif partner is not None:
                missing.remove(partner)
                problems.append((partner.line, _altered(folder, partner, partner.stored_sha256,
                                                        seen.sha256, seen.where)))
            else:
                problems.append((1 << 62, f"folder {folder}: {seen.where} (Message-ID "
                                          f"{seen.message_id or '-'}, sha256 {seen.sha256}) is "
                                          f"not in the manifest"))
        for entry in missing:
            problems.append((entry.line, f"folder {folder}: message {entry.name} (manifest line "
                                         f"{entry.line}) is missing: expected sha256 "
                                         f"{entry.stored_sha256}, found no message with it"))
        for _line, text in sorted(problems, key=lambda item: item[0]):
            yield text

    # ------------------------------------------------------------------ audit

    def _audit(self, path: Path) -> Iterator[str]:
        prev_seq: int | None = None
        prev_hash = ""
        count = 0
        for number, line in read_lines(path):
            count += 1
            record = parse_line(line)
            problem = _event_problem(record)
            if problem is not None:
                yield f"{AUDIT} line {number}: {problem}"
                continue
            assert record is not None
            seq = record["seq"]
            if prev_seq is not None and seq <= prev_seq:
                yield f"{AUDIT} line {number}: event seq {seq} is out of order"
            elif prev_seq is not None and seq == prev_seq + 1 and record["prev_hash"] != prev_hash:
                yield (f"{AUDIT} line {number}: event seq {seq} does not link to event "
                       f"{prev_seq} before it (prev_hash {record['prev_hash']}, event {prev_seq} "
                       f"hashes to {prev_hash})")
            prev_seq, prev_hash = seq, record["hash"]
        self.audit_events = count
        digest = _file_sha256(path)
        if self._end and (self._end.get("audit_sha256") != digest
                          or self._end.get("audit_events") != count):
            yield (f"{AUDIT} hashes to {digest} with {count} event(s), but the manifest's end "
                   f"line (line {self._end_line}) records {self._end.get('audit_sha256')} with "
                   f"{self._end.get('audit_events')}")


def _seen(where: str, data: bytes, crlf: bool, name_sha: str | None) -> Seen:
    lf = hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest() if crlf else None
    return Seen(where, hashlib.sha256(data).hexdigest(), lf, header_message_id(data), name_sha)


def _partner(seen: Seen, missing: list[Expected]) -> Expected | None:
    """The missing entry an unlisted message stands in for: same Maildir name, else the same
    Message-ID."""
    for entry in missing:
        if seen.name_sha is not None and seen.name_sha == entry.sha256:
            return entry
    for entry in missing:
        if seen.message_id is not None and seen.message_id == entry.message_id:
            return entry
    return None


def _altered(folder: str, entry: Expected, want: str, found: str, where: str) -> str:
    return (f"folder {folder}: message {entry.name} (manifest line {entry.line}) was altered: "
            f"expected sha256 {want}, found {found} ({where})")


def _event_problem(record: dict[str, Any] | None) -> str | None:
    """Why one audit line is not a sound event, or None."""
    if record is None:
        return "not a JSON object"
    texts = ("at", "actor", "action", "subject", "detail", "prev_hash", "hash")
    if not isinstance(record.get("seq"), int) or not all(isinstance(record.get(k), str)
                                                         for k in texts):
        return "not an audit event (seq, at, actor, action, subject, detail, hashes)"
    try:
        at = datetime.fromisoformat(record["at"])
    except ValueError:
        return f"event seq {record['seq']}: unreadable time {record['at']!r}"
    recomputed = event_hash(record["prev_hash"], at, record["actor"], record["action"],
                            record["subject"], record["detail"])
    if recomputed != record["hash"]:
        return (f"event seq {record['seq']} ({record['action']} {record['subject']}) was "
                f"altered: its fields hash to {recomputed}, it records {record['hash']}")
    return None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
