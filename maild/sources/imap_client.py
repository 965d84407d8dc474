"""The IMAP connection: opening and authenticating it, and reading what imaplib keeps.

imapclient wraps imaplib; a few things the daemon needs are only in imaplib's object
(``client._imap``): its protocol tracing switch and the untagged responses a command did not
ask for. Those reaches live here, each with the reason, and nowhere else but the bulk FETCH
reader (:mod:`maild.sources.imap_fetch`).
"""

from __future__ import annotations

import contextlib
import functools
import select
import socket
import ssl
from pathlib import Path

from imapclient import IMAPClient

from maild.config import ImapAccount
from maild.errors import SourceError


def connect(account: ImapAccount) -> IMAPClient:
    """Open and authenticate a connection. The secret is read now and never kept or logged.

    TLS always verifies the server's certificate and name, against the system's CAs or the
    account's ``ca_file`` (a private CA). TCP keepalive is on, so a connection that a NAT box
    dropped silently fails within a few ``keepalive_seconds`` instead of looking idle.
    """
    context = tls_context(account.ca_file)
    client = IMAPClient(account.host, port=account.port, ssl=account.tls == "implicit",
                        ssl_context=context, timeout=account.connect_timeout)
    # imapclient turns imaplib's protocol tracing to its highest level, and imaplib then formats
    # a repr of every response, whole message bodies included, before the logger drops it: a
    # large share of a backfill's CPU, and message text in debug logs. Off.
    client._imap.debug = 0
    try:
        enable_keepalive(client.socket(), account.keepalive_seconds)
        if account.tls == "starttls":
            client.starttls(context)
        if account.oauth2_token is not None:
            client.oauth2_login(account.username, account.oauth2_token.reveal())
        else:
            assert account.password is not None
            login(client, account.username, account.password.reveal())
    except BaseException:
        close_quietly(client)
        raise
    return client


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context trusting ``ca_file`` or the system CAs, shared by every
    connection of the same CA file (as it stands on disk: a new version is loaded anew). One per
    connection held the system CA store once per mailbox: 200 mailboxes took 150 MB of RSS
    (bench/soak.py on this machine)."""
    stamp = ca_file.stat().st_mtime_ns if ca_file is not None else 0
    return _tls_context_for(ca_file, stamp)


@functools.lru_cache(maxsize=8)
def _tls_context_for(ca_file: Path | None, stamp: int) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def login(client: IMAPClient, username: str, password: str) -> None:
    """Authenticate with LOGIN, or with AUTHENTICATE PLAIN when the name or password is not
    ASCII: LOGIN's quoted strings are ASCII only, SASL PLAIN carries UTF-8 (RFC 4616, RFC 6855).

    Neither the password nor any part of it appears in an error: imaplib's own encoding error
    quotes the offending character, so it is replaced by a message naming only the account.
    """
    try:
        if username.isascii() and password.isascii():
            client.login(username, password)
        else:
            client.plain_login(username, password)
    except UnicodeError:
        raise SourceError(f"cannot send the credentials of {username!r}: the server needs "
                          f"them in ASCII") from None


def enable_keepalive(sock: socket.socket, seconds: int) -> None:
    """TCP keepalive probes after ``seconds`` of silence, then every quarter of that; four
    unanswered probes close the socket."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, "TCP_KEEPIDLE"):  # Linux; other systems keep their defaults
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, seconds)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, seconds // 4))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 4)


def close_quietly(client: IMAPClient) -> None:
    """Log out politely; a dead socket is simply dropped."""
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection is being discarded either way
        with contextlib.suppress(Exception):
            client.shutdown()


def peer_closed(client: IMAPClient) -> bool:
    """True when the server has closed the socket.

    imapclient's ``idle_check`` swallows EOF and returns no responses, so a dead server would
    look like a quiet one until the IDLE renewal. A zero-timeout select plus a peek at the raw
    socket (below TLS, which cannot peek) tells EOF from silence.
    """
    sock = client.socket()
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and socket.socket.recv(sock, 1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def take_mailbox_news(client: IMAPClient) -> bool:
    """True when the server reported a new message count (``EXISTS``) since the last look.

    A server may send ``EXISTS`` during any command (RFC 3501 §7.3.1, §5.2), not only in IDLE.
    imaplib files untagged responses that the running command did not ask for in
    ``untagged_responses``, where they would sit unseen while the worker enters IDLE and waits
    for a push that already came. imapclient has no accessor for them, hence the one reach into
    ``client._imap`` here.
    """
    return bool(client._imap.untagged_responses.pop("EXISTS", None))


def reports_new_mail(responses: list[tuple[object, ...]]) -> bool:
    """True when parsed untagged responses (from IDLE or NOOP) include EXISTS or RECENT."""
    return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
