"""Content-addressed raw store: every message's exact bytes, named by their SHA-256.

``put`` writes a temp file, fsyncs it, renames it into place and fsyncs the directory, so when
it returns the bytes survive a crash or power cut; only then may a database row (and with it the
fetch checkpoint) commit. Identical bytes are stored once. Files are never rewritten, so a
file's name is also its integrity check (``maild archive verify``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from maild.errors import ArchiveError

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Stored:
    """The result of archiving one message."""

    sha256: str
    size: int
    path: Path
    new: bool


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RawStore:
    """Files under ``root/ab/abcdef...`` (first two hex digits fan out the directories)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _prepare(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)

    def put(self, raw: bytes) -> Stored:
        """Store one message durably; see ``put_many`` for batches."""
        return self.put_many([raw])[0]

    def put_many(self, raws: Iterable[bytes]) -> list[Stored]:
        """Store several messages, sharing the directory fsyncs between them.

        Every file is fsynced before its rename, and every touched directory after all renames,
        so when this returns all of them are durable.
        """
        self._prepare()
        stored: list[Stored] = []
        dirs: set[Path] = set()
        for raw in raws:
            sha = hashlib.sha256(raw).hexdigest()
            final = self.path_for(sha)
            if final.exists():
                stored.append(Stored(sha, len(raw), final, new=False))
                continue
            final.parent.mkdir(exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=sha[:16] + ".")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(raw)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp_name, 0o440)
                os.replace(tmp_name, final)
            except OSError as exc:
                Path(tmp_name).unlink(missing_ok=True)
                raise ArchiveError(f"cannot write {final}: {exc.strerror or exc}") from exc
            dirs.add(final.parent)
            stored.append(Stored(sha, len(raw), final, new=True))
        if dirs:
            dirs.add(self.root)
        for directory in dirs:
            _fsync_dir(directory)
        return stored

    def get(self, sha256: str) -> bytes:
        try:
            return self.path_for(sha256).read_bytes()
        except OSError as exc:
            raise ArchiveError(f"archive file for {sha256} is missing: {exc.strerror}") from exc

    def digest_of(self, sha256: str) -> str | None:
        """Recompute the SHA-256 of a stored file, or None when it is missing."""
        path = self.path_for(sha256)
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return None
        return digest.hexdigest()

    def names(self) -> Iterator[str]:
        """Every stored hash, for audits that look for files the database does not know."""
        for sub in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            for file in sorted(sub.iterdir()):
                yield file.name
