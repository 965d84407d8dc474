"""Content-addressed raw store: every message's exact bytes, named by their SHA-256.

When ``put``/``put_many`` returns, the bytes survive a crash or power cut; only then may a
database row (and with it the fetch checkpoint) commit. Identical bytes are stored once. Files
are never rewritten, so a file's name is also its integrity check (``maild archive verify``).

Two ways to make a batch durable (``archive_sync``):
- ``syncfs`` (default on Linux): write and rename every file of the batch, then one syncfs(2)
  of the archive's filesystem flushes the data, the inodes and the directory entries together,
  one journal commit per batch instead of one per file. The filesystem handle is opened before
  the writes, so a write-back error of any of them is reported (Linux >= 5.8).
- ``fsync``: each file fsynced before its rename, then every touched directory fsynced; the
  classic sequence, for other systems or an archive on a busy shared filesystem.

Files are written under ``tmp/`` first; what a killed writer left there is swept away when a
store first writes (``RawStore._sweep_tmp``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from maild.errors import ArchiveError

_CHUNK = 1024 * 1024
FSYNC_THREADS = 8
SYNC_MODES = ("syncfs", "fsync")
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
#: A temp file untouched this long is a crash's leftover whoever wrote it (``_sweep_tmp``).
STALE_TMP_SECONDS = 3600.0
_HOST = socket.gethostname()


@dataclass(frozen=True)
class Stored:
    """The result of archiving one message (its file is ``RawStore.path_for(sha256)``)."""

    sha256: str
    size: int
    new: bool


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_syncfs() -> Callable[[int], int] | None:
    """syncfs(2) where Linux has it (the archive and the Maildir export flush with it)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    syncfs = getattr(libc, "syncfs", None)
    if syncfs is None:
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs


_SYNCFS = load_syncfs()


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    return True


def _stale_tmp(name: str, mtime: float, now: float) -> bool:
    """Whether a temp file ``{sha}.{pid}.{thread}.{host}`` was left by a writer that is gone."""
    parts = name.split(".", 3)
    if len(parts) == 4 and parts[3] == _HOST and parts[1].isdigit() and not _alive(int(parts[1])):
        return True
    return now - mtime > STALE_TMP_SECONDS


def default_sync_mode() -> str:
    return "syncfs" if _SYNCFS is not None else "fsync"


class RawStore:
    """Files under ``root/ab/abcdef...`` (first two hex digits fan out the directories)."""

    def __init__(self, root: Path, sync_mode: str | None = None) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._known_dirs: set[str] = set()
        self._swept = False
        self._sweep_lock = threading.Lock()
        self.sync_mode = sync_mode or default_sync_mode()
        if self.sync_mode not in SYNC_MODES or (self.sync_mode == "syncfs" and _SYNCFS is None):
            raise ArchiveError(f"archive_sync {self.sync_mode!r} is not available here")

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _file(self, sha256: str) -> str:
        """``path_for`` as a plain string: the write path runs for every message."""
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def _prepare(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        if not self._swept:
            with self._sweep_lock:  # the store's other writer threads wait for the sweep
                if not self._swept:
                    self._sweep_tmp()
                    self._swept = True

    def _sweep_tmp(self) -> None:
        """Remove the temp files a killed writer left (kill -9, power cut), once per store.

        Only files no live writer can own go: a name of this host whose process is gone, or any
        file untouched for ``STALE_TMP_SECONDS`` (a writer of another host sharing the archive
        cannot be asked whether it lives; no write takes that long). A file of a live process,
        this one's other stores included, stays.
        """
        now = time.time()
        with os.scandir(self._tmp) as entries:
            for entry in entries:
                try:
                    if _stale_tmp(entry.name, entry.stat(follow_symlinks=False).st_mtime, now):
                        os.unlink(entry.path)
                except FileNotFoundError:
                    continue  # its writer renamed it, or another sweep took it

    def put(self, raw: bytes) -> Stored:
        """Store one message durably; see ``put_many`` for batches."""
        return self.put_many([raw])[0]

    def put_many(self, raws: Iterable[bytes]) -> list[Stored]:
        """Store several messages; when it returns, every one of them is durable."""
        self._prepare()
        items = [(hashlib.sha256(raw).hexdigest(), raw) for raw in raws]
        first: dict[str, bytes] = {}
        for sha, raw in items:
            first.setdefault(sha, raw)
        fresh = [(sha, raw) for sha, raw in first.items() if not os.path.exists(self._file(sha))]
        if fresh:
            if self.sync_mode == "syncfs":
                self._write_then_syncfs(fresh)
            else:
                self._write_with_fsyncs(fresh)
        written = {sha for sha, _ in fresh}
        stored = []
        for sha, raw in items:
            stored.append(Stored(sha, len(raw), new=sha in written))
            written.discard(sha)
        return stored

    def _write_then_syncfs(self, fresh: list[tuple[str, bytes]]) -> None:
        assert _SYNCFS is not None
        handle = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for sha, raw in fresh:
                self._write(sha, raw, fsync=False)
            if _SYNCFS(handle) != 0:
                errno = ctypes.get_errno()
                raise ArchiveError(f"cannot flush archive {self.root}: {os.strerror(errno)}")
        finally:
            os.close(handle)

    def _write_with_fsyncs(self, fresh: list[tuple[str, bytes]]) -> None:
        """fsync each file before its rename, then each touched directory; the fsyncs of a
        batch run in a few threads (they release the GIL and the disk serves them together)."""
        with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(fresh))) as pool:
            list(pool.map(lambda item: self._write(*item, fsync=True), fresh))
            dirs = {self.path_for(sha).parent for sha, _ in fresh} | {self.root}
            list(pool.map(_fsync_dir, dirs))

    def _write(self, sha: str, raw: bytes, *, fsync: bool) -> None:
        """Write one file under its final name through a temp file and a rename.

        The temp name is unique per content, process, thread and host (see ``_sweep_tmp``), so
        no random-name search is needed; the file is created read-only at once (writing through
        the open descriptor is still allowed). A temp file left by a crash under the same name
        is replaced.
        """
        final = self._file(sha)
        folder = final[: -len(sha) - 1]
        if folder not in self._known_dirs:
            os.makedirs(folder, exist_ok=True)
            self._known_dirs.add(folder)
        tmp = f"{self._tmp}/{sha}.{os.getpid()}.{threading.get_ident()}.{_HOST}"
        try:
            try:
                fd = os.open(tmp, _TMP_FLAGS, 0o440)
            except PermissionError:  # a read-only leftover of a crashed run
                os.unlink(tmp)
                fd = os.open(tmp, _TMP_FLAGS, 0o440)
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
                if fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            self._known_dirs.discard(folder)  # recreated on the next try if it was removed
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise ArchiveError(f"cannot write {final}: {exc.strerror or exc}") from exc

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

    def names_by_folder(self) -> Iterator[tuple[str, list[str]]]:
        """Every stored hash, one fan-out folder at a time (``("ab", [hashes])``), so an audit
        can compare a large archive with the database without holding all of it in memory."""
        for sub in sorted(self.root.glob("[0-9a-f][0-9a-f]")):
            yield sub.name, sorted(file.name for file in sub.iterdir())
