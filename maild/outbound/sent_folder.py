"""The store's Sent folder over IMAP: file a copy of what maild sent, exactly once.

A platform reply goes out from the seller's own address, so the seller's mailbox should show it
in Sent as if their mail program had sent it (DESIGN §2, reply path). The copy is APPENDed
(RFC 3501 §6.3.11) with ``\\Seen`` and an INTERNALDATE of the moment the SMTP server accepted
the message, after that acceptance is recorded. A retry (after a crash, or a dropped connection
whose APPEND may or may not have landed) first SEARCHes the folder for the Message-ID, so the
folder never holds two copies of one message.

Connections are opened by :func:`maild.sources.imap_client.connect` (TLS verification, keepalive,
LOGIN or AUTHENTICATE PLAIN), from an :class:`~maild.config.ImapAccount` built here. Failures
are :class:`~maild.errors.TemporaryFailure` (network, TLS, a busy or unavailable server: try
again later, and a password whose variable or file cannot be read) or
:class:`~maild.errors.PermanentFailure` (credentials refused, no permission, no STARTTLS where
it is required: the operator must look), each naming the server, the user and the folder, never
the password.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError

from maild.config import TLS_MODES, ImapAccount
from maild.config_table import Secret, Table, is_loopback
from maild.errors import (
    ConfigError,
    DeliveryError,
    PermanentFailure,
    SourceError,
    TemporaryFailure,
)
from maild.sources.imap_client import close_quietly, connect

SEEN = b"\\Seen"
_MESSAGE_ID_FIELD = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
_NOT_SELECTABLE = frozenset({b"\\NOSELECT", b"\\NONEXISTENT"})
#: RFC 5530 response codes of failures that trying again cannot mend (wrong credentials, no
#: right to the folder, an account that must be looked at); the other codes, and none, are
#: taken as passing (UNAVAILABLE, INUSE, OVERQUOTA, LIMIT, SERVERBUG ...). A login refused
#: without any code is taken as wrong credentials.
_PERMANENT_CODES = frozenset({"AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED",
                              "PRIVACYREQUIRED", "CONTACTADMIN", "NOPERM", "CANNOT"})


@dataclass(frozen=True)
class SentFolder:
    """Where one store's sent mail is filed: an IMAP account and its Sent folder.

    ``tls`` is ``implicit``, ``starttls`` or ``plain`` (loopback only, checked by
    :func:`parse_sent_folder`); ``password`` is read only when connecting; ``timeout`` bounds
    the connection and each command, in seconds.
    """

    host: str
    port: int
    tls: str
    username: str
    password: Secret
    folder: str = "Sent"
    ca_file: Path | None = None
    timeout: float = 30.0

    @property
    def where(self) -> str:
        """How error messages name this folder: server, user and folder."""
        return f"Sent folder {self.folder!r} of {self.username!r} at IMAP {self.host}:{self.port}"


def parse_sent_folder(table: Table) -> SentFolder:
    """Validate a sub-table such as ``[client.store.sent]``, the way ``[[imap]]`` is validated:
    an inline ``password`` is refused (use ``password_env`` or ``password_file``), ``plain``
    only on loopback, ``port`` 993 for implicit TLS and 143 otherwise, and any other key is a
    typo. Every error names the file and the key."""
    if "password" in table.data:
        raise table.fail("password", "inline passwords are not accepted; use password_env "
                                     "or password_file")
    host: str = table.string("host")
    tls: str = table.choice("tls", TLS_MODES, "implicit")
    if tls == "plain" and not is_loopback(host):
        raise table.fail("tls", f"'plain' is allowed only for loopback hosts, not {host!r}")
    password = table.secret("password")
    if password is None:
        raise table.fail("password_env", "is required (or password_file)")
    folder = SentFolder(
        host=host, tls=tls,
        port=table.port("port", 993 if tls == "implicit" else 143),
        username=table.string("username"),
        password=password,
        folder=table.string("folder", "Sent"),
        ca_file=table.existing_file("ca_file"),
        timeout=table.seconds("timeout", 30.0),
    )
    table.check_unknown()
    return folder


def find_message_id(folder: SentFolder, message_id: str) -> bool:
    """True when the folder holds a message whose Message-ID is ``message_id``; a folder that
    does not exist holds nothing (it is not created). The folder is only EXAMINEd: no flag
    changes.

    Raises:
        TemporaryFailure, PermanentFailure: as the module docstring says.
        ValueError: ``message_id`` is empty or holds line breaks.
    """
    _check_message_id(message_id)
    with _session(folder) as client:
        return _exists(client, folder.folder) and _holds(client, folder.folder, message_id)


def append_once(folder: SentFolder, raw: bytes, message_id: str, when: datetime) -> bool:
    """APPEND ``raw`` with ``\\Seen`` and INTERNALDATE ``when`` (timezone-aware), unless the
    folder already holds a message with this Message-ID; create the folder when missing.
    Returns True when it appended, False when the copy was already there.

    So a retry after a crash, or after a connection lost while the APPEND was in flight,
    never files the message twice. IMAP has no conditional APPEND: two callers racing with the
    same message could both append; the send step files each row from one worker only.

    Raises:
        TemporaryFailure, PermanentFailure: as the module docstring says.
        ValueError: ``when`` is naive, ``message_id`` is empty or holds line breaks, or it is
            not the Message-ID of ``raw`` (a search for it would never find the copy, and every
            retry would file another).
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("the INTERNALDATE of a Sent copy must be timezone-aware")
    _check_message_id(message_id)
    if _message_id_of(raw) != message_id:
        raise ValueError(f"the message's own Message-ID is {_message_id_of(raw)!r}, "
                         f"not {message_id!r}")
    with _session(folder) as client:
        exists = _exists(client, folder.folder)
        if exists and _holds(client, folder.folder, message_id):
            return False
        if not exists:
            _create(client, folder.folder)
        client.append(folder.folder, raw, flags=(SEEN,), msg_time=when)
    return True


def _holds(client: IMAPClient, name: str, message_id: str) -> bool:
    """SEARCH HEADER is a case-insensitive substring match (RFC 3501 §6.4.4), so each hit's
    Message-ID is fetched and compared whole."""
    client.select_folder(name, readonly=True)
    charset = None if message_id.isascii() else "UTF-8"
    uids = client.search(["HEADER", "Message-ID", message_id], charset)
    if not uids:
        return False
    fetched = client.fetch(uids, [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    return any(_message_id_of(data.get(_MESSAGE_ID_FIELD, b"")) == message_id
               for data in fetched.values())


def _exists(client: IMAPClient, name: str) -> bool:
    """True when the folder exists and can be selected. LIST takes ``%`` and ``*`` in a name as
    wildcards and reports parents that are only a path (``\\Noselect``, ``\\NonExistent``, RFC
    5258), so the answer is matched by name and flags."""
    for flags, _sep, found in client.list_folders("", name):
        if found == name and not _NOT_SELECTABLE & {flag.upper() for flag in flags}:
            return True
    return False


def _create(client: IMAPClient, name: str) -> None:
    """CREATE the folder and SUBSCRIBE to it (many mail programs list subscribed folders
    only, RFC 3501 §6.3.6); one that another session created meanwhile is just as good."""
    try:
        client.create_folder(name)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:
        if not _exists(client, name):
            raise
        return
    client.subscribe_folder(name)


def _message_id_of(head: bytes) -> str | None:
    """The Message-ID header of a header block (or a whole message), white space unfolded."""
    value = BytesHeaderParser().parsebytes(head).get("Message-ID")
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _check_message_id(message_id: str) -> None:
    # It goes into a SEARCH command as a quoted string, where a line break would end it.
    if not message_id.strip() or any(c in message_id for c in "\r\n\0"):
        raise ValueError(f"not a Message-ID: {message_id!r}")


@contextlib.contextmanager
def _session(folder: SentFolder) -> Iterator[IMAPClient]:
    """A logged-in connection, logged out at the end; every IMAP or network failure inside
    becomes a TemporaryFailure or PermanentFailure naming the folder."""
    account = ImapAccount(
        name=f"sent:{folder.username}@{folder.host}", host=folder.host, port=folder.port,
        tls=folder.tls, username=folder.username, password=folder.password,
        oauth2_token=None, folders=(folder.folder,), connect_timeout=folder.timeout,
        ca_file=folder.ca_file)
    client: IMAPClient | None = None
    try:
        client = connect(account)
        yield client
    except DeliveryError:
        raise
    except ConfigError as exc:  # the password's variable or file: fixable, so worth a retry
        raise TemporaryFailure(f"{folder.where}: cannot read the password: {exc}") from exc
    except (imaplib.IMAP4.error, OSError, SourceError) as exc:
        raise _failure(exc, folder) from exc
    finally:
        if client is not None:
            close_quietly(client)


def _failure(exc: BaseException, folder: SentFolder) -> DeliveryError:
    """The retry decision: network, TLS and a passing server condition are temporary; refused
    credentials or rights, or credentials the server cannot take, are permanent."""
    where = folder.where
    if isinstance(exc, SourceError):  # credentials not in ASCII and no AUTHENTICATE PLAIN
        return PermanentFailure(f"{where}: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TemporaryFailure(f"{where}: the server's certificate was not accepted ({exc}); "
                                "is its CA in ca_file, and does it name the host?")
    if isinstance(exc, CapabilityError):  # STARTTLS required but not offered: never in clear
        return PermanentFailure(f"{where}: {exc}; tls = \"starttls\" needs a server that "
                                "offers it")
    if isinstance(exc, imaplib.IMAP4.abort) or not isinstance(exc, imaplib.IMAP4.error):
        return TemporaryFailure(f"{where}: {type(exc).__name__}: {exc}")
    text = _server_text(exc)
    code = _response_code(text)
    if isinstance(exc, LoginError):
        if code is None or code in _PERMANENT_CODES:
            return PermanentFailure(f"{where}: login refused ({text}); check the username and "
                                    "the password that password_env or password_file gives")
        return TemporaryFailure(f"{where}: login refused for now ({text})")
    kind = PermanentFailure if code in _PERMANENT_CODES else TemporaryFailure
    return kind(f"{where}: the server refused: {text}")


def _server_text(exc: BaseException) -> str:
    """The server's words from an imaplib/imapclient error; imapclient re-raises a login
    failure as ``LoginError(str(error))``, which turns the server's bytes into ``"b'...'"``."""
    said = exc.args[0] if exc.args else ""
    if isinstance(said, bytes):
        return said.decode("utf-8", "replace")
    text = str(said)
    if text[:2] in ("b'", 'b"') and text.endswith(text[1]):
        return text[2:-1]
    return text


def _response_code(text: str) -> str | None:
    """The RFC 5530 response code in brackets, upper-cased (``[AUTHENTICATIONFAILED] ...``)."""
    start = text.find("[")
    if start < 0:
        return None
    end = text.find("]", start)
    words = text[start + 1:end].split() if end > start else []
    return words[0].upper() if words else None
