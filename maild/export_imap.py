"""The IMAP target of an export (``imap://user@host[:port]/Folder``): one folder per case below
``Folder``, each message APPENDed (RFC 3501 §6.3.11; several at once with MULTIAPPEND, RFC 3502,
when the server has it) with ``\\Seen`` and its original INTERNALDATE; the manifest and the audit
extract as one message in ``Folder`` itself with the two files attached, found again by its
``X-Maild-Export-Manifest`` header (which holds the manifest's head).

Progress lives in the target itself: a (re-)run first reads every message of each case folder
and hashes it, then appends only what is not there. So a run killed at any moment, between an
APPEND and anything else included, goes on without a duplicate, and a second run adds nothing;
no local state can disagree with the server. A MULTIAPPEND is all or nothing (RFC 3502 §6.3.11).
Two exports into the same folder at the same time are not supported. A new manifest message is
appended before the one it replaces is deleted; one left behind by a run killed in between is
ignored (verify reads the newest) and removed when the manifest next changes.

APPENDs go over a second connection, in a thread, so that the next batch is read from the
archive while the server stores the last one (the server's time is most of an IMAP export's);
the main connection lists, creates and reads folders and files the manifest.

IMAP carries messages as lines ending in CRLF: a server stores a bare LF or CR as CRLF, and
Dovecot hands a NUL back as 0x80 (a literal holds CHAR8, no NUL: RFC 3501 §9). Such a message cannot
come back byte for byte, so :func:`imap_form` says what is stored instead, and the manifest
line says so (``stored_as``, ``stored_sha256``): ``crlf`` for a message with LF line ends only,
which verify turns back into the archived bytes (CRLF -> LF) and checks against ``sha256``;
``canonical`` for anything else (mixed ends, bare CR, NUL), checked against ``stored_sha256``
only. An mbox or Maildir export keeps every byte of those too.

Memory: messages travel in batches of at most ``FETCH_BYTES`` (FETCH and MULTIAPPEND alike);
the manifest message is built and read whole, since APPEND takes one literal: about 1.3 KB per
exported message (its manifest line and audit events, base64), a few copies of it at the peak.

Connections use :func:`maild.sources.imap_client.connect`, so TLS (implicit, STARTTLS, or plain
on loopback only) and certificate checks are those of sources; the password is read when
connecting, from ``MAILD_EXPORT_PASSWORD`` or a file, and never logged.
"""

from __future__ import annotations

import email.policy
import hashlib
import imaplib
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from maild.config import ImapAccount
from maild.config_table import Secret
from maild.errors import ConfigError, SourceError
from maild.export_manifest import AUDIT, MANIFEST, line_hash, parse_line
from maild.export_targets import Copy, ExportError, FolderWriter, Found, TargetUrl
from maild.sources.imap_client import close_quietly, connect
from maild.templating import environment

SEEN = b"\\Seen"
MANIFEST_HEADER = "X-Maild-Export-Manifest"
_LINE_END = re.compile(rb"\r\n|\r|\n")
_NOT_SELECTABLE = frozenset({b"\\NOSELECT", b"\\NONEXISTENT"})
FETCH_BYTES = 8 * 1024 * 1024  # per FETCH or MULTIAPPEND: bounds memory, not the folder size
FETCH_COUNT = 200


def imap_form(raw: bytes) -> tuple[bytes, str | None]:
    """What an IMAP server will give back for ``raw``, and the name of the change (module
    docstring): ``None`` (the same bytes), ``"crlf"`` or ``"canonical"``."""
    if b"\0" not in raw and raw.count(b"\r") == raw.count(b"\n") == raw.count(b"\r\n"):
        return raw, None
    if b"\r" not in raw and b"\0" not in raw:
        return raw.replace(b"\n", b"\r\n"), "crlf"
    return _LINE_END.sub(b"\r\n", raw).replace(b"\0", b"\x80"), "canonical"


def _chunks(sizes: Mapping[int, int]) -> Iterator[list[int]]:
    """UIDs in ascending order, grouped to stay under ``FETCH_BYTES``/``FETCH_COUNT``."""
    chunk: list[int] = []
    total = 0
    for uid in sorted(sizes):
        if chunk and (len(chunk) >= FETCH_COUNT or total + sizes[uid] > FETCH_BYTES):
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += sizes[uid]
    if chunk:
        yield chunk


class ImapFolder:
    def __init__(self, export: ImapExport, name: str) -> None:
        self.export = export
        self.name = name

    def open(self, expected: Mapping[str, int]) -> set[str]:
        """Hash every message the folder holds (APPEND is atomic: nothing to repair)."""
        export = self.export
        if not export.exists(self.name):
            if not export.dry_run:
                export.create(self.name)
            return set()
        return {hashlib.sha256(data).hexdigest() for _uid, data in export.read(self.name)}

    def add(self, copies: Sequence[Copy]) -> None:
        self.export.append(self.name, copies)

    def close(self) -> None:
        """The folder's last batch may still be in flight: ``ImapExport.settle`` waits for
        it (each APPEND is durable when the server answers OK)."""


class ImapExport:
    """``imap://…``: writes an export (``Target``) and reads one back (``Source``)."""

    transforms = True  # stored_form may differ from the archived bytes

    def __init__(self, url: TargetUrl, password: Secret, *, ca_file: Path | None = None,
                 dry_run: bool = False) -> None:
        self.url = url
        self.label = url.label
        self.dry_run = dry_run
        self._account = ImapAccount(
            name=f"export {url.label}", host=url.host, port=url.port, tls=url.tls,
            username=url.username, password=password, oauth2_token=None,
            folders=(url.folder,), ca_file=ca_file, connect_timeout=60.0)
        self._client: IMAPClient | None = None
        self._appending: IMAPClient | None = None  # the appending thread's connection
        self._appender: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self._delimiter = "/"
        self._scratch: Path | None = None
        self._folders: set[str] | None = None

    # ------------------------------------------------------------------ connection

    @property
    def client(self) -> IMAPClient:
        """The logged-in connection, opened on first use."""
        if self._client is None:
            self._client = self._login()
        return self._client

    @property
    def delimiter(self) -> str:
        """The server's hierarchy separator, learnt at login (LIST "" "", RFC 3501 §6.3.8)."""
        if self._client is None:
            self._client = self._login()
        return self._delimiter

    def _connect(self) -> IMAPClient:
        try:
            return connect(self._account)
        except ConfigError as exc:
            raise ExportError(f"{self.label}: cannot read the password: {exc}") from exc
        except (imaplib.IMAP4.error, OSError, SourceError) as exc:
            raise self._error("cannot log in", exc) from exc

    def _login(self) -> IMAPClient:
        """The main connection, and the hierarchy separator learnt on it."""
        client = self._connect()
        try:
            found = client.list_folders("", "")
        except (imaplib.IMAP4.error, OSError) as exc:
            close_quietly(client)
            raise self._error("cannot list folders", exc) from exc
        delimiter = found[0][1] if found else None
        if isinstance(delimiter, bytes):
            self._delimiter = delimiter.decode("ascii")
        elif isinstance(delimiter, str):
            self._delimiter = delimiter
        return client

    def _error(self, doing: str, exc: BaseException) -> ExportError:
        said = exc.args[0] if exc.args else exc
        if isinstance(said, bytes):
            said = said.decode("utf-8", "replace")
        return ExportError(f"{self.label}: {doing}: {type(exc).__name__}: {said}")

    def full_name(self, folder: str | None = None) -> str:
        """The server's name of the top folder, or of one export folder below it."""
        delimiter = self.delimiter
        top = self.url.folder.replace("/", delimiter)
        return top if folder is None else f"{top}{delimiter}{folder}"

    def exists(self, name: str) -> bool:
        """Whether the top folder or a folder below it exists (and can be selected)."""
        return name in self._listing()

    def _listing(self) -> set[str]:
        """The selectable folders at and below the top folder, LISTed once (RFC 3501
        §6.3.8): one round trip, not one per case folder. LIST takes ``%`` and ``*`` as
        wildcards and lists mere path parents as ``\\Noselect``, so names and flags are
        checked."""
        if self._folders is None:
            top = self.full_name()
            try:
                found = [*self.client.list_folders("", top),
                         *self.client.list_folders("", f"{top}{self.delimiter}*")]
            except imaplib.IMAP4.error as exc:
                raise self._error(f"cannot list {top!r}", exc) from exc
            self._folders = {name for flags, _sep, name in found
                             if not _NOT_SELECTABLE & {x.upper() for x in flags}}
        return self._folders

    def create(self, name: str) -> None:
        """CREATE and SUBSCRIBE (mail programs often list subscribed folders only); one that
        another session created meanwhile is as good."""
        try:
            self.client.create_folder(name)
            self.client.subscribe_folder(name)
        except imaplib.IMAP4.error as exc:
            self._folders = None
            if not self.exists(name):
                raise self._error(f"cannot create folder {name!r}", exc) from exc
        self._listing().add(name)

    def read(self, name: str) -> Iterator[tuple[int, bytes]]:
        """``(UID, bytes)`` of every message of a folder, ascending, a bounded batch at a time
        (BODY.PEEK: flags untouched)."""
        client = self.client
        try:
            client.select_folder(name, readonly=True)
            uids = client.search("ALL")
            sizes = {uid: int(data.get(b"RFC822.SIZE", 0))
                     for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()} if uids \
                else {}
            for chunk in _chunks(sizes):
                fetched = client.fetch(chunk, ["BODY.PEEK[]"])
                for uid in chunk:
                    if uid in fetched:
                        yield uid, bytes(fetched[uid][b"BODY[]"])
                del fetched
        except imaplib.IMAP4.error as exc:
            raise self._error(f"cannot read folder {name!r}", exc) from exc

    def append(self, name: str, copies: Sequence[Copy]) -> None:
        """Hand ``copies`` to the appending thread and return, so the next batch is read from
        the archive while the server stores this one (the server's time is most of an IMAP
        export's). The thread has a connection of its own; the main one goes on listing,
        creating and reading folders. One batch is in flight at a time; its failure is raised
        by the next ``append`` or by ``settle``."""
        self.settle()
        if self._appender is None:
            self._appender = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="maild-export-append")
        self._pending = self._appender.submit(self._append_now, name, list(copies))

    def settle(self) -> None:
        """Wait until every batch handed to ``append`` is stored; raise the first failure."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _append_now(self, name: str, copies: list[Copy]) -> None:
        """APPEND ``copies`` in bounded MULTIAPPEND batches (one APPEND each without it)."""
        if self._appending is None:
            self._appending = self._connect()
        client = self._appending
        try:
            if b"MULTIAPPEND" in client.capabilities():
                batch: list[dict[str, Any]] = []
                total = 0
                for copy in copies:
                    if batch and total + len(copy.data) > FETCH_BYTES:
                        client.multiappend(name, batch)
                        batch, total = [], 0
                    batch.append({"msg": copy.data, "flags": (SEEN,), "date": copy.when})
                    total += len(copy.data)
                if batch:
                    client.multiappend(name, batch)
            else:
                for copy in copies:
                    client.append(name, copy.data, flags=(SEEN,), msg_time=copy.when)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise self._error(f"cannot append to {name!r}", exc) from exc

    # ------------------------------------------------------------------ Target

    def stored_form(self, raw: bytes) -> tuple[bytes, str | None]:
        return imap_form(raw)

    def folder(self, name: str) -> FolderWriter:
        return ImapFolder(self, self.full_name(name))

    def scratch(self) -> Path:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="maild-export-"))
        return self._scratch

    def _manifests(self) -> list[int]:
        """UIDs of the manifest messages in the top folder, oldest first."""
        top = self.full_name()
        if not self.exists(top):
            return []
        try:
            self.client.select_folder(top, readonly=True)
            return sorted(self.client.search(["HEADER", MANIFEST_HEADER, ""]))
        except imaplib.IMAP4.error as exc:
            raise self._error(f"cannot search {top!r}", exc) from exc

    def _files(self, uid: int) -> dict[str, bytes]:
        """The attachments of one manifest message, by file name."""
        try:
            raw = bytes(self.client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"])
        except (imaplib.IMAP4.error, KeyError) as exc:
            raise self._error(f"cannot fetch the manifest message UID {uid}", exc) from exc
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        files = {}
        for part in message.walk():
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if filename and isinstance(payload, bytes):
                files[filename] = payload
        return files

    def current(self) -> tuple[dict[str, Any] | None, str | None]:
        uids = self._manifests()
        if not uids:
            return None, None
        manifest = self._files(uids[-1]).get(MANIFEST, b"")
        lines = manifest.rstrip(b"\n").split(b"\n") if manifest else []
        if not lines:
            return None, None
        return parse_line(lines[0]), line_hash(lines[-1])

    def publish(self, manifest: Path, audit: Path, head: str) -> None:
        """APPEND the manifest message, then delete the ones it replaces."""
        self.settle()
        old = self._manifests()
        top = self.full_name()
        if not old and not self.exists(top):
            self.create(top)
        raw = manifest_message(manifest.read_bytes(), audit.read_bytes(), head, self.label,
                               self.url.folder)
        try:
            self.client.append(top, raw, flags=(SEEN,), msg_time=datetime.now(UTC))
            if old:
                self.client.select_folder(top)
                self.client.add_flags(old, [b"\\Deleted"])
                if b"UIDPLUS" in self.client.capabilities():
                    self.client.uid_expunge(old)
                else:
                    self.client.expunge()
        except imaplib.IMAP4.error as exc:
            raise self._error(f"cannot store the manifest in {top!r}", exc) from exc

    # ------------------------------------------------------------------ Source

    def manifest(self) -> tuple[Path, Path]:
        uids = self._manifests()
        if not uids:
            raise ExportError(f"{self.label}: no manifest message (header {MANIFEST_HEADER}) "
                              f"in folder {self.full_name()!r}: not an export, or one that did "
                              f"not finish (run the export again)")
        files = self._files(uids[-1])
        paths = []
        for name in (MANIFEST, AUDIT):
            if name not in files:
                raise ExportError(f"{self.label}: the manifest message UID {uids[-1]} has no "
                                  f"{name} attached")
            path = self.scratch() / name
            path.write_bytes(files[name])
            paths.append(path)
        return paths[0], paths[1]

    def folders(self) -> list[str]:
        prefix = self.full_name("")
        try:
            found = self.client.list_folders("", f"{prefix}%")
        except imaplib.IMAP4.error as exc:
            raise self._error("cannot list the export's folders", exc) from exc
        return sorted(name[len(prefix):] for flags, _sep, name in found
                      if name.startswith(prefix)
                      and not _NOT_SELECTABLE & {x.upper() for x in flags})

    def messages(self, folder: str) -> Iterator[Found]:
        name = self.full_name(folder)
        for uid, data in self.read(name):
            yield Found(f"UID {uid} of {name}", data)

    def close(self) -> None:
        """Log out and clean up. A batch still in flight is waited for, but its failure is
        not raised here: a successful export has settled already, and a failing one is
        raising its own error."""
        if self._appender is not None:
            self._appender.shutdown(wait=True)
            self._appender = None
        self._pending = None
        for client in (self._client, self._appending):
            if client is not None:
                close_quietly(client)
        self._client = self._appending = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def manifest_message(manifest: bytes, audit: bytes, head: str, target: str,
                     folder: str) -> bytes:
    """The message that carries the manifest and the audit extract over IMAP: a short text
    (``templates/export/``) saying what it is and how to check it, the two files attached."""
    header = parse_line(manifest.split(b"\n", 1)[0]) or {}
    end = parse_line(manifest.rstrip(b"\n").rsplit(b"\n", 1)[-1]) or {}
    facts = {"client": header.get("client"), "case": header.get("case"),
             "since": header.get("since"), "until": header.get("until"),
             "messages": end.get("messages", 0), "audit_events": end.get("audit_events", 0),
             "folder": folder, "head": head,
             "target": target}
    env = environment()
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = "maild export <maild-export@localhost>"
    message["Subject"] = env.get_template("export/subject.txt.j2").render(facts).strip()
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<export-manifest.{head[:32]}@maild.invalid>"
    message[MANIFEST_HEADER] = head
    message.set_content(env.get_template("export/manifest.txt.j2").render(facts))
    for name, data in ((MANIFEST, manifest), (AUDIT, audit)):
        message.add_attachment(data, maintype="application", subtype="jsonl", filename=name)
    return message.as_bytes()
