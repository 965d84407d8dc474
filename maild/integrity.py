"""``maild archive verify``: every archived file still hashes to its name and its row, the audit
chain is unbroken and ends where its anchored heads say, and every message row matches its
``archived`` audit event (and has one); files without a row are counted. Reports; never repairs
anything.

Every check streams in batches (keyset pages or one streamed query), so memory stays bounded
on archives of any size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, select, text
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import ARCHIVED_FIELDS, verify_chain
from maild.audit_head import Head, head_file, read_heads
from maild.db import storable
from maild.models import AuditEvent, Message


def verify_archive(session: Session, store: RawStore, *, expected_head: str | None = None,
                   batch: int = 5000) -> Iterator[str]:
    """Yield one line per problem found: altered or missing files, audit-chain breaks, heads
    the chain no longer reaches, and message rows that disagree with their audit events."""
    last_id = 0
    while True:
        rows = session.execute(select(Message.id, Message.sha256).where(Message.id > last_id)
                               .order_by(Message.id).limit(batch)).all()
        if not rows:
            break
        for message_id, sha in rows:
            digest = store.digest_of(sha)
            if digest is None:
                yield f"message {message_id}: archive file {store.path_for(sha)} is missing"
            elif digest != sha:
                yield (f"message {message_id}: archive file {store.path_for(sha)} was altered "
                       f"(now hashes to {digest[:12]}...)")
            last_id = message_id
    yield from verify_chain(session)
    yield from verify_heads(session, head_file(store.root), batch=batch)
    if expected_head is not None:
        yield from verify_expected_head(session, expected_head)
    yield from verify_archived_events(session, batch=batch)


def verify_heads(session: Session, path: Path, batch: int = 5000) -> Iterator[str]:
    """Every head anchored in ``path`` must be in the chain at its seq with its hash.

    The chain may run past the file's heads (a crash between a commit and its line, or writers
    without the anchor), never the other way: a missing head means deleted audit rows or a
    database older than its archive; a different hash means the chain was rewritten.
    """
    if not path.exists():
        return
    page: list[tuple[int, Head]] = []
    for number, head in read_heads(path):
        if head is None:
            yield f"{path} line {number}: not an audit head (expected 'seq hash time')"
            continue
        page.append((number, head))
        if len(page) >= batch:
            yield from _check_heads(session, path, page)
            page = []
    yield from _check_heads(session, path, page)


def _check_heads(session: Session, path: Path, page: list[tuple[int, Head]]) -> Iterator[str]:
    if not page:
        return
    found = dict(session.execute(select(AuditEvent.seq, AuditEvent.hash)
                                 .where(AuditEvent.seq.in_({h.seq for _, h in page}))).all())
    for number, head in page:
        actual = found.get(head.seq)
        if actual is None:
            yield (f"audit event {head.seq} anchored in {path} line {number} is missing from "
                   f"the database (audit rows deleted, or the database restored from an older "
                   f"backup)")
        elif actual != head.hash:
            yield (f"audit event {head.seq} hashes to {actual[:12]}... but {path} line {number} "
                   f"anchored {head.hash[:12]}... (the chain was rewritten)")


def verify_expected_head(session: Session, expected: str) -> Iterator[str]:
    """An operator-recorded head (``maild archive head``) must still be in the chain."""
    if session.scalar(select(AuditEvent.seq).where(AuditEvent.hash == expected)) is None:
        yield (f"audit head {expected[:12]}... is not in the chain (audit rows deleted or the "
               f"chain rewritten since it was recorded)")


def verify_archived_events(session: Session, batch: int = 5000) -> Iterator[str]:
    """Each ``archived`` event must name a message row with the fields it recorded, and each
    message row must have its ``archived`` event.

    The event's detail is covered by the chain's hash, so it is the trustworthy copy; events
    written before the detail held every field are compared on the fields they have.
    """
    columns = [getattr(Message, key) for key in ARCHIVED_FIELDS]
    last_seq = 0
    while True:
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.subject, AuditEvent.detail, Message.id, *columns)
            .outerjoin(Message, Message.sha256 == AuditEvent.subject)
            .where(AuditEvent.action == "archived", AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            last_seq = row.seq
            if row.id is None:
                yield (f"audit event {row.seq}: archived message {row.subject[:12]}... has no "
                       f"message row (the row was deleted)")
                continue
            yield from _compare(row.seq, row.id, row.subject, _detail(row.detail),
                                {key: getattr(row, key) for key in ARCHIVED_FIELDS})
    for message_id, sha in session.execute(_unrecorded_messages(session, batch)):
        yield (f"message {message_id} ({sha[:12]}...): no archived audit event (the row was "
               f"added outside maild, or its event deleted)")


def _unrecorded_messages(session: Session, batch: int) -> Select[int, str]:
    """Message rows without an ``archived`` event, as one streamed anti-join.

    ``audit_event.subject`` has no index, so the form matters: PostgreSQL plans ``NOT EXISTS``
    as a hash anti-join (spilling to disk beyond ``work_mem``), while SQLite runs it as a scan
    of the events per message; SQLite builds one temporary index for ``NOT IN`` instead (20,000
    messages on this machine: 37 s against 0.03 s). A streamed query runs through a cursor,
    for which PostgreSQL prefers a fast-start plan, the same scan per message (100,000 messages:
    still running after 7 minutes), so the transaction asks it to plan for the whole result.
    """
    archived = AuditEvent.action == "archived"
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        missing = ~exists().where(archived, AuditEvent.subject == Message.sha256)
    else:
        missing = Message.sha256.not_in(select(AuditEvent.subject).where(archived))
    return (select(Message.id, Message.sha256).where(missing).order_by(Message.id)
            .execution_options(yield_per=batch))


def _detail(text: str) -> dict[str, Any]:
    try:
        detail = json.loads(text)
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _compare(seq: int, message_id: int, sha: str, recorded: dict[str, Any],
             actual: dict[str, Any]) -> Iterator[str]:
    for key in ARCHIVED_FIELDS:
        if key not in recorded:
            continue
        expected = recorded[key]
        if key == "origin" and isinstance(expected, str):
            expected = storable(expected)[:1000]  # early events recorded the origin unclipped
        if actual[key] != expected:
            yield (f"message {message_id} ({sha[:12]}...): {key} is {actual[key]!r} in the "
                   f"database but {expected!r} in its archived audit event {seq}")


def files_without_rows(session: Session, store: RawStore) -> Iterator[str]:
    """Archived files the database has no message row for.

    A few are normal (a crash between archiving and commit, for a message since deleted on the
    server); many mean the database lost rows, e.g. it was restored from an older backup, and
    ``maild ingest`` on those files brings them back.
    """
    for prefix, names in store.names_by_folder():
        known = set(session.scalars(select(Message.sha256)
                                    .where(Message.sha256.startswith(prefix))))
        yield from (name for name in names if name not in known)
