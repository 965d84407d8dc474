"""``maild archive verify``: every archived file still hashes to its name and its row, and the
audit chain is unbroken; files without a row are counted. Reports; never repairs anything."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.audit import verify_chain
from maild.models import Message


def verify_archive(session: Session, store: RawStore, batch: int = 5000) -> Iterator[str]:
    """Yield one line per problem found: altered or missing files, then audit-chain breaks."""
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
