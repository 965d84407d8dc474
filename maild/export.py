"""``maild export``: a client's whole record, taken out of maild byte for byte, with what it
takes to check it (issue 11).

**What is exported.** Every archived message (direction in and out) of the client's cases —
notices, tickets, advisors' drafts, decisions, comments, refused replies, bounces, summaries,
approval requests, platform replies, reminders, alerts, chat cards — received in ``[since,
until)`` (``Message.received_at``), one folder per case named by its ticket. ``--case`` narrows
to one case. Messages of the client that belong to no single case go to the folder
``unmatched``: today those are the client's digests, recognised by the Message-ID maild gives
them (``<digest.<client>.<audience>.<hex>.maild@…>``). Mail that reached maild without a case
and without anything tying it to a client (a reply with a forged token) cannot honestly be
given to one client and is not exported.

**Each message's kind** (manifest ``kind``): for mail maild sent, the outbound row's kind
(``summary:client``, ``approval_request``, ``platform_reply``, ``notice:sent``,
``operator_alert``, ``digest:client``, ``webhook:feishu`` …) with its SMTP receipts; for mail it
received, ``notice`` (read as a platform notice), ``decision``, ``draft``, ``note`` /
``comment`` / ``changes`` (the rows made from it), ``bounce``, ``refused``, ``ticket`` (a
client's own message to the service address), else ``reply``.

**The audit extract** holds the audit events, in the time range, whose subject is one of the
exported cases' tickets, messages' SHA-256s or sent messages' Message-IDs (and, for a whole
client, the client id). Events are streamed in chain order and matched against the set of those
subjects (``audit_event.subject`` has no index; one pass over the chain beats a scan per case),
so memory grows with the number of exported messages (about 150 bytes each), never with their
size.

**Resumable and idempotent.** Before writing a folder, the exporter asks the target what it
holds (:meth:`FolderWriter.open`) and writes only the rest; the manifest is rebuilt from the
database each run and replaces the target's only when it changed. A second run of the same
selection adds nothing; a run killed at any point ends complete when run again. A target holds
one selection: exporting another client or range into it is refused (export into a new
target), since its earlier messages would be outside the new manifest.

**Bounded memory.** Messages are read a page of rows at a time and written in batches of at
most ``BATCH_BYTES``; the manifest and the audit extract are streamed to files.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.export_manifest import AuditWriter, ManifestWriter, stamp
from maild.export_targets import Copy, ExportError, Target
from maild.models import AuditEvent, Case, Comment, Decision, Draft, Message, Notice, Outbound
from maild.models import Receipt as ReceiptRow

Q = TypeVar("Q", bound=Select)
UNMATCHED = "unmatched"
PAGE = 500
AUDIT_PAGE = 5000
BATCH_COUNT = 200
BATCH_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Selection:
    """What to export: one client, optionally one case, received in ``[since, until)``."""

    client: str
    ticket: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def header(self) -> dict[str, Any]:
        """The manifest's first line (without ``type``/``format``)."""
        return {"client": self.client, "case": self.ticket,
                "since": stamp(self.since) if self.since else None,
                "until": stamp(self.until) if self.until else None}

    def in_range(self, query: Q, column: Any) -> Q:
        if self.since is not None:
            query = query.where(column >= self.since)
        if self.until is not None:
            query = query.where(column < self.until)
        return query


@dataclass(frozen=True)
class Entry:
    """One message to export, as the manifest describes it."""

    folder: str
    ticket: str | None
    sha256: str
    size: int
    message_id: str | None
    direction: str
    kind: str
    received_at: datetime
    internal_date: datetime  # what IMAP, mbox and Maildir date it by
    receipts: tuple[dict[str, Any], ...] = ()

    def record(self) -> dict[str, Any]:
        return {"folder": self.folder, "case": self.ticket, "direction": self.direction,
                "kind": self.kind, "time": stamp(self.received_at),
                "internal_date": stamp(self.internal_date), "sha256": self.sha256,
                "size": self.size, "message_id": self.message_id,
                "receipts": list(self.receipts)}


@dataclass(frozen=True)
class Folder:
    """One folder of the export: a case's messages, or the client's ``unmatched`` ones."""

    name: str
    count: int
    case_id: int | None = None
    message_ids: tuple[int, ...] = ()  # unmatched: the rows, found by Message-ID


@dataclass(frozen=True)
class FolderReport:
    name: str
    messages: int
    added: int
    present: int

    @property
    def missing(self) -> int:
        """In a dry run: what a run would add."""
        return self.messages - self.present


class Progress(Protocol):
    """What a caller is told as an export goes (the CLI draws a bar or prints a line per
    folder)."""

    def start(self, folders: int, messages: int) -> None: ...

    def message(self) -> None: ...

    def folder(self, report: FolderReport) -> None: ...


@dataclass
class ExportReport:
    target: str
    head: str = ""
    manifest_changed: bool = False
    audit_events: int = 0
    seconds: float = 0.0
    folders: list[FolderReport] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(f.messages for f in self.folders)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.folders)


# --------------------------------------------------------------------------- selection


def _digest_pattern(client: str) -> re.Pattern[str]:
    """The Message-ID ``new_message_id`` gives a digest of ``client`` (the hex part keeps a
    client ``acme`` from claiming the digests of a client ``acme.client``)."""
    return re.compile(rf"<digest\.{re.escape(client)}\.\w+\.[0-9a-f]{{12}}\.maild@[^>]*>")


def plan(session: Session, selection: Selection) -> list[Folder]:
    """The folders of the export in order (tickets ascending, ``unmatched`` last), each with
    its number of messages; folders without messages in range are left out."""
    cases = selection.in_range(
        select(Case.id, Case.ticket, func.count(Message.id))
        .join(Message, Message.case_id == Case.id)
        .where(Case.client_id == selection.client)
        .group_by(Case.id, Case.ticket).order_by(Case.ticket), Message.received_at)
    if selection.ticket is not None:
        cases = cases.where(Case.ticket == selection.ticket)
    folders = [Folder(ticket, count, case_id=case_id)
               for case_id, ticket, count in session.execute(cases)]
    if selection.ticket is None:
        pattern = _digest_pattern(selection.client)
        digests = selection.in_range(
            select(Message.id, Outbound.message_id)
            .join(Outbound, Outbound.archived_id == Message.id)
            .where(Outbound.kind.like("digest:%"), Message.case_id.is_(None))
            .order_by(Message.id), Message.received_at)
        ids = tuple(mid for mid, message_id in session.execute(digests)
                    if pattern.fullmatch(message_id))
        if ids:
            folders.append(Folder(UNMATCHED, len(ids), message_ids=ids))
    return folders


_COLUMNS = (Message.id, Message.sha256, Message.size, Message.message_id, Message.direction,
            Message.stage, Message.received_at, Message.internal_date)


def _rows(session: Session, selection: Selection, folder: Folder) -> Iterator[Sequence[Any]]:
    """The folder's message rows, a page at a time (keyset on ``id``)."""
    last = 0
    while True:
        query = select(*_COLUMNS).where(Message.id > last).order_by(Message.id).limit(PAGE)
        if folder.case_id is not None:
            query = selection.in_range(query.where(Message.case_id == folder.case_id),
                                       Message.received_at)
        else:
            query = query.where(Message.id.in_(folder.message_ids))
        page = session.execute(query).all()
        if not page:
            return
        yield page
        last = page[-1].id


def expected(session: Session, selection: Selection, folder: Folder) -> dict[str, int]:
    """SHA-256 -> size of every message the folder should hold."""
    return {row.sha256: row.size for page in _rows(session, selection, folder) for row in page}


def entries(session: Session, selection: Selection, folder: Folder) -> Iterator[Entry]:
    """The folder's messages with their kinds and receipts, in ``id`` order."""
    for page in _rows(session, selection, folder):
        ids = [row.id for row in page]
        kinds, receipts = _kinds(session, ids)
        for row in page:
            yield Entry(folder=folder.name, ticket=folder.name if folder.case_id else None,
                        sha256=row.sha256, size=row.size, message_id=row.message_id,
                        direction=row.direction, kind=kinds.get(row.id) or _fallback_kind(row),
                        received_at=row.received_at,
                        internal_date=row.internal_date or row.received_at,
                        receipts=receipts.get(row.id, ()))


def _fallback_kind(row: Any) -> str:
    """The kind of a message no row was made from: by the stage it stopped at (an inbound
    message routed without a notice is a client's ticket to the service address)."""
    if row.direction != "in":
        return "outbound"
    return {"bounce": "bounce", "refused": "refused", "routed": "ticket"}.get(row.stage,
                                                                             "reply")


def _kinds(session: Session, ids: list[int]) -> tuple[dict[int, str],
                                                      dict[int, tuple[dict[str, Any], ...]]]:
    """What each message of a page is (module docstring), and the receipts of those maild
    sent. Later lookups win: a decision's mail is also the source of its change request."""
    kinds: dict[int, str] = {}
    lookups: list[Select[int | None, str]] = [
        select(Notice.message_id, literal("notice")).where(Notice.message_id.in_(ids)),
        select(Comment.source_id, Comment.kind).where(Comment.source_id.in_(ids)),
        select(Draft.source_id, literal("draft")).where(Draft.source_id.in_(ids)),
        select(Decision.evidence_id, literal("decision")).where(Decision.evidence_id.in_(ids))]
    for lookup in lookups:
        kinds.update((mid, kind) for mid, kind in session.execute(lookup) if mid is not None)
    sent = {row.id: (row.archived_id, row.kind) for row in session.execute(
        select(Outbound.id, Outbound.archived_id, Outbound.kind)
        .where(Outbound.archived_id.in_(ids)))}
    receipts: dict[int, list[dict[str, Any]]] = {}
    for archived_id, kind in sent.values():
        kinds[archived_id] = kind
        receipts[archived_id] = []
    if sent:
        for receipt in session.scalars(select(ReceiptRow).where(
                ReceiptRow.outbound_id.in_(list(sent))).order_by(ReceiptRow.id)):
            receipts[sent[receipt.outbound_id][0]].append({
                "code": receipt.code, "text": receipt.text, "queue_id": receipt.queue_id,
                "refused": receipt.refused, "at": stamp(receipt.at)})
    return kinds, {mid: tuple(found) for mid, found in receipts.items()}


def audit_extract(session: Session, selection: Selection,
                  subjects: set[str]) -> Iterator[AuditEvent]:
    """The chain's events about the export (module docstring), in chain order."""
    last = 0
    while True:
        query = selection.in_range(select(AuditEvent).where(AuditEvent.seq > last),
                                   AuditEvent.at)
        page = session.scalars(query.order_by(AuditEvent.seq).limit(AUDIT_PAGE)).all()
        if not page:
            return
        for event in page:
            if event.subject in subjects:
                yield event
        last = page[-1].seq
        session.expunge_all()


# --------------------------------------------------------------------------- the run


class _Archive:
    """Reads archived bytes and refuses to export a file that no longer hashes to its name."""

    def __init__(self, store: RawStore) -> None:
        self.store = store

    def get(self, sha: str) -> bytes:
        raw = self.store.get(sha)
        if hashlib.sha256(raw).hexdigest() != sha:
            raise ExportError(f"archive file {self.store.path_for(sha)} no longer hashes to its "
                              f"name; nothing of it was exported (run `maild archive verify`)")
        return raw


def export(sessions: sessionmaker[Session], store: RawStore, target: Target,
           selection: Selection, *, dry_run: bool = False, actor: str = "cli",
           progress: Progress | None = None) -> ExportReport:
    """Export ``selection`` into ``target`` (or, with ``dry_run``, only find out what is
    missing there: nothing is written and no event recorded). Returns what was done; the
    head of the manifest is ``report.head``."""
    started = time.monotonic()
    header, current_head = target.current()
    if header is not None and {k: header.get(k) for k in selection.header()} \
            != selection.header():
        raise ExportError(f"{target.label} holds an export of another selection (client "
                          f"{header.get('client')}, case {header.get('case')}, since "
                          f"{header.get('since')}, until {header.get('until')}); export into "
                          f"a new target")
    scratch = Path(tempfile.mkdtemp(prefix="maild-export-")) if dry_run else target.scratch()
    manifest = ManifestWriter(scratch / ".manifest.jsonl.tmp", selection.header())
    audit = AuditWriter(scratch / ".audit.jsonl.tmp")
    report = ExportReport(target=target.label)
    archive = _Archive(store)
    subjects: set[str] = {selection.client} if selection.ticket is None else set()
    try:
        with sessions() as session:
            folders = plan(session, selection)
            if progress is not None:
                progress.start(len(folders), sum(f.count for f in folders))
            for folder in folders:
                done = _export_folder(session, selection, folder, target, manifest, archive,
                                      subjects, dry_run=dry_run, progress=progress)
                report.folders.append(done)
                if progress is not None:
                    progress.folder(done)
            target.settle()
        with sessions() as session:
            for event in audit_extract(session, selection, subjects):
                audit.add(event)
        report.audit_events = audit.events
        report.head = manifest.end(audit.close(), audit.events)
    except BaseException:
        manifest.discard()
        audit.discard()
        raise
    finally:
        if dry_run:
            shutil.rmtree(scratch, ignore_errors=True)
    report.manifest_changed = report.head != current_head
    if not dry_run:
        if report.manifest_changed:
            target.publish(manifest.path, audit.path, report.head)
        else:
            manifest.path.unlink(missing_ok=True)
            audit.path.unlink(missing_ok=True)
        with sessions.begin() as session:
            AuditLog(session).record(actor, "exported", target.label[:1000],
                                     **selection.header(), messages=report.messages,
                                     added=report.added, manifest_head=report.head)
    report.seconds = time.monotonic() - started
    return report


def _export_folder(session: Session, selection: Selection, folder: Folder, target: Target,
                   manifest: ManifestWriter, archive: _Archive, subjects: set[str], *,
                   dry_run: bool, progress: Progress | None) -> FolderReport:
    writer = target.folder(folder.name)
    present = writer.open(expected(session, selection, folder))
    if folder.case_id is not None:
        subjects.add(folder.name)
    messages = added = already = 0
    batch: list[Copy] = []
    size = 0
    for entry in entries(session, selection, folder):
        messages += 1
        record = entry.record()
        subjects.add(entry.sha256)
        if entry.direction == "out" and entry.message_id:
            subjects.add(entry.message_id)
        raw = stored = None
        stored_sha = entry.sha256
        if target.transforms:
            raw = archive.get(entry.sha256)
            stored, change = target.stored_form(raw)
            if change is not None:
                stored_sha = hashlib.sha256(stored).hexdigest()
                record.update(stored_as=change, stored_sha256=stored_sha)
        manifest.add(record)
        if stored_sha in present:
            already += 1
        elif not dry_run:
            data = stored if stored is not None else archive.get(entry.sha256)
            batch.append(Copy(stored_sha, entry.internal_date, data))
            size += len(data)
            added += 1
            if len(batch) >= BATCH_COUNT or size >= BATCH_BYTES:
                writer.add(batch)
                batch, size = [], 0
        if progress is not None:
            progress.message()
    if batch:
        writer.add(batch)
    writer.close()
    return FolderReport(folder.name, messages, added, already)
