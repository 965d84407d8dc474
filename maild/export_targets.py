"""Where an export goes, and how it is read back: the target URL, what every target does, and
the Maildir target; mbox is :mod:`maild.export_mbox`, IMAP :mod:`maild.export_imap`.

One class per kind both writes an export (:class:`Target`, one :class:`FolderWriter` per folder)
and reads it back for ``maild export verify`` (:class:`Source`). Each folder of the export
(a case's ticket, or ``unmatched``) is:

- Maildir ``PATH/<folder>/{cur,new,tmp}``: one file per message holding its archived bytes
  unchanged, named ``<sha256>:2,S`` (seen) in ``cur/``, modification time = the message's
  INTERNALDATE. The name makes a re-run idempotent by construction (a file of the right name
  but the wrong size is written again; its content is proven by ``verify``, not re-read).
- mbox ``PATH/<folder>.mbox``, in the mboxrd format, which gives back every byte.

``manifest.jsonl`` and ``audit.jsonl`` (:mod:`maild.export_manifest`) sit in ``PATH``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from maild.archive import load_syncfs
from maild.config import TLS_MODES
from maild.config_table import is_loopback
from maild.errors import MaildError
from maild.export_manifest import AUDIT, MANIFEST, head_of

log = logging.getLogger("maild.export")

KINDS = ("imap", "mbox", "maildir")
MAILDIR_FLAGS = ":2,S"
_TMP_SUFFIX = ".maild-export"
FSYNC_THREADS = 8  # as the archive's: fsyncs overlap in the disk's queue
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


class ExportError(MaildError):
    """An export or its check cannot go on: the target cannot be read or written, the
    archive lacks a message, or the target holds another selection's export."""


@dataclass(frozen=True)
class TargetUrl:
    """A parsed ``--to`` (or ``verify``) argument:
    ``imap://user@host[:port]/Folder[?tls=implicit|starttls|plain]``, ``mbox:PATH`` or
    ``maildir:PATH``."""

    kind: str
    path: Path | None = None
    host: str = ""
    port: int = 0
    tls: str = "implicit"
    username: str = ""
    folder: str = ""

    @property
    def label(self) -> str:
        """How logs, output and the audit log name the target (never a password)."""
        if self.kind == "imap":
            tls = "" if self.tls == "implicit" else f"?tls={self.tls}"
            return f"imap://{self.username}@{self.host}:{self.port}/{self.folder}{tls}"
        return f"{self.kind}:{self.path}"


def parse_target(text: str) -> TargetUrl:
    """Parse a target; raises ValueError with a sentence naming what is wrong.

    IMAP: the user name may be percent-encoded (``%40`` for ``@``); the folder is the path
    (``/`` separates levels whatever the server's separator); ``tls`` defaults to ``implicit``
    (port 993, else 143) and ``plain`` is for loopback hosts only, as for sources. A password in
    the URL is refused: it belongs in ``MAILD_EXPORT_PASSWORD`` or ``--password-file``.
    """
    kind, colon, rest = text.partition(":")
    if not colon or kind not in KINDS:
        raise ValueError(f"{text!r}: expected imap://user@host/Folder, mbox:PATH or "
                         f"maildir:PATH")
    if kind != "imap":
        if not rest:
            raise ValueError(f"{text!r}: the path is missing")
        return TargetUrl(kind=kind, path=Path(rest).expanduser().absolute())
    parts = urlsplit(text)
    if parts.password is not None:
        raise ValueError("do not put the password in the URL: set MAILD_EXPORT_PASSWORD or "
                         "use --password-file")
    if not parts.username or not parts.hostname:
        raise ValueError(f"{text!r}: expected imap://user@host[:port]/Folder")
    folder = unquote(parts.path).strip("/")
    if not folder:
        raise ValueError(f"{text!r}: name the folder to export into (imap://user@host/Folder)")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"tls"}
    if unknown:
        raise ValueError(f"{text!r}: unknown parameter(s) {', '.join(sorted(unknown))} "
                         f"(only tls)")
    tls = query.get("tls", ["implicit"])[-1]
    if tls not in TLS_MODES:
        raise ValueError(f"{text!r}: tls must be one of {', '.join(TLS_MODES)}, not {tls!r}")
    if tls == "plain" and not is_loopback(parts.hostname):
        raise ValueError(f"{text!r}: tls=plain is allowed only for loopback hosts")
    try:
        port = parts.port or (993 if tls == "implicit" else 143)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    return TargetUrl(kind="imap", host=parts.hostname, port=port, tls=tls,
                     username=unquote(parts.username), folder=folder)


@dataclass(frozen=True)
class Copy:
    """One message to write: the bytes the target stores, their SHA-256, its INTERNALDATE."""

    sha256: str
    when: datetime
    data: bytes


@dataclass(frozen=True)
class Found:
    """One message read back from an export: where it is, its bytes, and (Maildir) the
    SHA-256 its file name claims."""

    where: str
    data: bytes
    name_sha: str | None = None


class FolderWriter(Protocol):
    def open(self, expected: Mapping[str, int]) -> set[str]:
        """The SHA-256s of the folder's messages already in the target. ``expected`` maps
        the SHA-256 of each message the folder should hold to its size; a message cut short
        by a crash is removed (not in a dry run)."""

    def add(self, copies: Sequence[Copy]) -> None:
        """Write messages (durable once ``close`` returns)."""

    def close(self) -> None: ...


class Target(Protocol):
    label: str
    transforms: bool  # whether stored_form can differ from the archived bytes

    def stored_form(self, raw: bytes) -> tuple[bytes, str | None]:
        """The bytes the target keeps for ``raw``, and a name for the change (None: same)."""

    def folder(self, name: str) -> FolderWriter: ...

    def current(self) -> tuple[dict[str, Any] | None, str | None]:
        """The header record and head of the manifest the target holds now, if any."""

    def scratch(self) -> Path:
        """A directory for the manifest and audit files being written."""

    def settle(self) -> None:
        """Return once every message handed to a folder is stored (raise if one was not)."""

    def publish(self, manifest: Path, audit: Path, head: str) -> None:
        """Put the finished files in place (replacing an older manifest)."""

    def close(self) -> None: ...


class Source(Protocol):
    label: str

    def manifest(self) -> tuple[Path, Path]:
        """Local paths of the export's ``manifest.jsonl`` and ``audit.jsonl``."""

    def folders(self) -> list[str]: ...

    def messages(self, folder: str) -> Iterator[Found]: ...

    def close(self) -> None: ...


_SYNCFS = load_syncfs()


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush(root: Path, files: Sequence[str]) -> None:
    """Make ``files``, just written below ``root``, durable: one syncfs(2) of the filesystem
    (one journal commit for the whole batch, as the archive does) or, without it, an fsync of
    each, a few at a time (they wait on the disk, which serves them together)."""
    if not files:
        return
    if _SYNCFS is not None:
        handle = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _SYNCFS(handle) == 0:
                return
        finally:
            os.close(handle)
    with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(files))) as pool:
        list(pool.map(_fsync_file, files))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileExport:
    """What Maildir and mbox exports share: a directory holding the folders and the two
    files."""

    transforms = False

    def __init__(self, url: TargetUrl, *, dry_run: bool = False) -> None:
        assert url.path is not None
        self.root = url.path
        self.label = url.label
        self.dry_run = dry_run

    def stored_form(self, raw: bytes) -> tuple[bytes, str | None]:
        return raw, None

    def current(self) -> tuple[dict[str, Any] | None, str | None]:
        return head_of(self.root / MANIFEST)

    def scratch(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def publish(self, manifest: Path, audit: Path, head: str) -> None:
        os.replace(audit, self.root / AUDIT)
        os.replace(manifest, self.root / MANIFEST)
        _fsync_dir(self.root)

    def manifest(self) -> tuple[Path, Path]:
        paths = self.root / MANIFEST, self.root / AUDIT
        for path in paths:
            if not path.is_file():
                raise ExportError(f"{self.label}: no {path.name} in {self.root} (not an export, "
                                  f"or one that did not finish: run the export again)")
        return paths

    def settle(self) -> None:
        """Each folder is synced when it is closed."""

    def close(self) -> None:
        """Nothing held open between folders."""


# --------------------------------------------------------------------------- Maildir


def _name_sha(name: str) -> str:
    """The SHA-256 part of a Maildir file name (before the flags and any ``,S=size``)."""
    return name.split(":", 1)[0].split(",", 1)[0]


class MaildirFolder:
    def __init__(self, path: Path, dry_run: bool) -> None:
        self.path = path
        self.dry_run = dry_run

    def open(self, expected: Mapping[str, int]) -> set[str]:
        present: set[str] = set()
        if not self.path.is_dir():
            return present
        tmp = self.path / "tmp"
        for sub in ("cur", "new"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                sha = _name_sha(entry.name)
                if sha not in expected:
                    continue
                if entry.stat().st_size == expected[sha]:
                    present.add(sha)
                elif not self.dry_run:  # cut short or changed since: written again
                    log.warning("export %s: %s has the wrong size; writing it again",
                                self.path, entry.name)
                    os.unlink(entry.path)
        if tmp.is_dir() and not self.dry_run:
            for entry in os.scandir(tmp):
                if entry.name.endswith(_TMP_SUFFIX):  # a killed run's unfinished file
                    os.unlink(entry.path)
        return present

    def add(self, copies: Sequence[Copy]) -> None:
        """Each file is written under ``tmp/``, made durable, dated and only then renamed into
        ``cur/`` (the Maildir delivery order: no reader, and no resumed run, ever sees half a
        message under its final name)."""
        for sub in ("cur", "new", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        folder, pid = str(self.path), os.getpid()
        written = []
        for copy in copies:
            tmp = f"{folder}/tmp/{copy.sha256}.{pid}{_TMP_SUFFIX}"
            with os.fdopen(os.open(tmp, _WRITE_FLAGS, 0o600), "wb") as handle:
                handle.write(copy.data)  # the whole of it: os.write may write less
            written.append((tmp, copy))
        flush(self.path, [tmp for tmp, _copy in written])
        for tmp, copy in written:
            stamp = copy.when.timestamp()
            os.utime(tmp, (stamp, stamp))
            os.replace(tmp, f"{folder}/cur/{copy.sha256}{MAILDIR_FLAGS}")

    def close(self) -> None:
        if not self.dry_run and (self.path / "cur").is_dir():
            _fsync_dir(self.path / "cur")


class MaildirExport(FileExport):
    """``maildir:PATH``: one Maildir per folder under PATH."""

    def folder(self, name: str) -> FolderWriter:
        return MaildirFolder(self.root / name, self.dry_run)

    def folders(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "cur").is_dir())

    def messages(self, folder: str) -> Iterator[Found]:
        for sub in ("cur", "new"):
            path = self.root / folder / sub
            if not path.is_dir():
                continue
            for name in sorted(os.listdir(path)):
                yield Found(f"file {folder}/{sub}/{name}", (path / name).read_bytes(),
                            _name_sha(name))
