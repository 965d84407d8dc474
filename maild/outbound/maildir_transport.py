"""The embedded outbox: deliver into local Maildirs, one per recipient, with no server at all.

``[smtp] transport = "maildir:var/demo/outbox"`` (DESIGN §6) makes the README's first run show
summaries with nothing installed: each recipient gets a Maildir ``ROOT/<address>/`` and every
message lands in its ``new/`` the way a delivery agent writes it (maildir(5)): written and
fsync'd in ``tmp/``, then renamed into ``new/`` and the directory fsync'd, so a reader never
sees half a file and a crash leaves no partial message in ``new/``. The file holds the bytes
given, unchanged (no Return-Path or Delivered-To added, no line ending converted).

:func:`transport_send` is what the send step calls: SMTP or Maildir as the settings say.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from maild.config_smtp import SmtpSettings
from maild.errors import TemporaryFailure
from maild.outbound.receipts import Receipt
from maild.outbound.smtp import send_message


def transport_send(settings: SmtpSettings, sender: str, recipients: Sequence[str],
                   raw: bytes) -> Receipt:
    """Deliver ``raw`` as ``[smtp]`` says: into ``outbox_maildir`` when set, else over SMTP.

    Same receipt and exceptions as :func:`maild.outbound.smtp.send_message`; ``sender`` is the
    SMTP envelope sender and not written into the Maildir copy.
    """
    if settings.outbox_maildir is not None:
        return deliver_to_maildirs(settings.outbox_maildir, recipients, raw)
    return send_message(settings, sender, recipients, raw)


def maildir_name(address: str) -> str:
    """The folder name of ``address``'s Maildir under the outbox root: the address itself,
    with anything outside ``A-Z a-z 0-9 @ + - . _ =`` percent-encoded (so ``/`` cannot climb
    out and two addresses never share a folder) and a leading dot encoded (no hidden folder,
    no ``..``)."""
    if not address:
        raise ValueError("an empty address has no Maildir")
    name = quote(address, safe="@+-._=")
    return "%2E" + name[1:] if name.startswith(".") else name


def deliver_to_maildirs(root: Path, recipients: Sequence[str], raw: bytes) -> Receipt:
    """Write ``raw`` into ``root/<address>/new/`` for every recipient; the receipt names the files.

    All copies are written and fsync'd in ``tmp/`` first and renamed into ``new/`` only then,
    so a disk that fills up leaves no recipient served and the retry does not deliver twice.
    The copies share one file name, which is the receipt's ``queue_id``.

    Raises:
        TemporaryFailure: a folder or file could not be written (the text names it).
        ValueError: no recipients, or an empty address.
    """
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    name = _unique_name()
    folders = [root / maildir_name(address) for address in dict.fromkeys(recipients)]
    written: list[Path] = []
    try:
        for folder in folders:
            _make_maildir(folder)
            written.append(_write_synced(folder / "tmp" / name, raw))
        for folder, temporary in zip(folders, written, strict=True):
            temporary.rename(folder / "new" / name)
            _sync_dir(folder / "new")
    except OSError as exc:
        for leftover in written:
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise TemporaryFailure(f"Maildir outbox {root}: cannot deliver: {exc}") from exc
    delivered = ", ".join(str(folder / "new" / name) for folder in folders)
    return Receipt(code=250, text=f"delivered to {delivered}", queue_id=name,
                   at=datetime.now(UTC))


def _unique_name() -> str:
    """A maildir(5) file name: time, microseconds, pid, random part, host; ``/`` and ``:`` in
    the host name escaped as the spec says."""
    now = time.time()
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{int(now)}.M{int(now * 1e6) % 1_000_000}P{os.getpid()}R{secrets.token_hex(8)}.{host}"


def _make_maildir(folder: Path) -> None:
    """``tmp``, ``new`` and ``cur`` under ``folder`` (owner only); new folders are fsync'd into
    their parents so the delivery that follows does not outlive its directory entry."""
    if (folder / "new").is_dir() and (folder / "tmp").is_dir():
        return
    created = not folder.exists()
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    _sync_dir(folder)
    if created:
        _sync_dir(folder.parent)


def _write_synced(path: Path, data: bytes) -> Path:
    """``data`` in a new file at ``path``, on disk when this returns; no partial file is left
    behind when writing fails."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return path


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
