"""Hand one message's exact bytes to an SMTP server (RFC 5321) with aiosmtplib; return the receipt.

The send step calls :func:`send_message` from a worker thread; it opens one connection per
message (``asyncio.run`` per call), because the outbox sends rarely and a fresh connection
cannot carry a half-finished transaction over from a failed one.

What goes on the wire:

- the bytes given, through ``SMTP.sendmail`` (never re-generated from a parsed message). The
  library dot-stuffs lines that start with ``.`` (the server removes it again) and turns a lone
  CR or LF into CRLF and ends the data with CRLF (RFC 5321 2.3.8 requires CRLF lines). So a
  message that already uses CRLF and ends with one arrives byte for byte; build and archive
  messages that way (``email.policy.SMTP``) and the archived SHA-256 is what the server got.
- ``BODY=8BITMIME`` when the bytes hold 8-bit data and the server offers 8BITMIME (RFC 6152);
  a server that does not offer it is a permanent failure, never a silent 8-bit send.
- ``SMTPUTF8`` when an address is not ASCII (RFC 6531); likewise refused when not offered.

TLS as ``[smtp] tls`` says: ``implicit`` (TLS from the first byte), ``starttls`` (required: a
server that does not offer it is not sent to in clear), ``plain`` (config allows it on loopback
only). The certificate is checked against ``ca_file`` when set, else the system CAs, and must
name the host. AUTH happens only when ``username`` is set; the password is read from its
:class:`~maild.config_table.Secret` right before AUTH and never logged or put in an error text.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import getaddresses
from pathlib import Path

import aiosmtplib

from maild.config_smtp import SmtpSettings
from maild.config_table import Secret
from maild.errors import (
    ConfigError,
    DeliveryError,
    MaybeDelivered,
    PermanentFailure,
    TemporaryFailure,
)
from maild.outbound.receipts import Receipt

#: Queue ids in 250 replies: Postfix and many others ("queued as 4XyZ"), Exim ("OK id=1a-2b-3c").
_QUEUE_ID = (re.compile(r"\bqueued as ([0-9A-Za-z][\w.-]*)", re.IGNORECASE),
             re.compile(r"\bid=([0-9A-Za-z][\w.-]*)"))
#: A bare envelope address: one "@", no white space, angle brackets or control characters.
_BARE_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def queue_id_of(reply: str) -> str | None:
    """The queue id a server put in its reply to DATA, or ``None`` when it names none."""
    for pattern in _QUEUE_ID:
        match = pattern.search(reply)
        if match:
            return match.group(1)
    return None


def send_message(settings: SmtpSettings, sender: str, recipients: Sequence[str],
                 raw: bytes) -> Receipt:
    """Send ``raw`` from ``sender`` (envelope MAIL FROM) to ``recipients``; block until done.

    For a worker thread: runs its own event loop (not callable from inside a running loop; use
    :func:`send_message_async` there). Returns the :class:`Receipt` once the server accepted
    the message for at least one recipient (the others are in ``receipt.refused``).

    Raises:
        TemporaryFailure: 4xx reply, every recipient refused with at least one 4xx, connection
            refused, dropped or timed out (``settings.timeout`` per step), TLS failure.
        PermanentFailure: 5xx reply, every recipient refused with 5xx, the server lacks
            STARTTLS, AUTH, 8BITMIME or SMTPUTF8 that this message needs, an envelope address that
            is neither ``local@domain`` nor ``Name <local@domain>`` (checked before
            connecting).
        ConfigError: the password's environment variable or file, or ``ca_file``, cannot be
            read.
        ValueError: no recipients, or no SMTP host (a Maildir transport).
    """
    return asyncio.run(send_message_async(settings, sender, recipients, raw))


async def send_message_async(settings: SmtpSettings, sender: str, recipients: Sequence[str],
                             raw: bytes) -> Receipt:
    """:func:`send_message` for callers that already run an event loop."""
    if settings.host is None:
        raise ValueError("[smtp] has no host: this config delivers into a Maildir "
                         "(use maild.outbound.maildir_transport.transport_send)")
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    where = f"SMTP {settings.host}:{settings.port}"
    sender, bare_recipients = _envelope(sender, recipients, where)
    client = aiosmtplib.SMTP(
        hostname=settings.host, port=settings.port, timeout=settings.timeout,
        use_tls=settings.tls == "implicit", start_tls=False,
        tls_context=None if settings.tls == "plain" else _tls_context(settings.ca_file),
        local_hostname=_client_name())
    try:
        await client.connect()
        if settings.tls == "starttls":
            await _start_tls(client, where)
        if settings.username is not None and settings.password is not None:
            await _login(client, settings.username, settings.password, where)
        options = await _mail_options(client, sender, bare_recipients, raw, where)
        refused = await _envelope_to(client, sender, bare_recipients, options, raw)
        try:
            reply = (await client.data(raw)).message
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError,
                TimeoutError) as exc:
            raise MaybeDelivered(f"{where}: no answer after the message data "
                                 f"({type(exc).__name__}: {exc}); the server may have "
                                 f"taken it") from exc
        at = datetime.now(UTC)
    except DeliveryError:
        raise
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise _failure(exc, where) from exc
    finally:
        await _hang_up(client)
    return Receipt(code=250, text=reply, queue_id=queue_id_of(reply), at=at,
                   refused={address: f"{response.code} {response.message}"
                            for address, response in refused.items()})


async def _envelope_to(client: aiosmtplib.SMTP, sender: str, recipients: Sequence[str],
                       options: list[str], raw: bytes) -> dict[str, aiosmtplib.SMTPResponse]:
    """MAIL FROM and RCPT TO as aiosmtplib's ``sendmail`` does them (SIZE where the server
    takes it, UTF-8 addresses with SMTPUTF8; a recipient refused alone is noted, every
    recipient refused fails), kept apart from DATA so that only a failure after the data is
    taken for a maybe-delivered message."""
    encoding = "utf-8" if any(o.lower() == "smtputf8" for o in options) else "ascii"
    if client.supports_extension("size"):
        options = [f"size={len(raw)}", *options]
    await client.mail(sender, options=options, encoding=encoding)
    refused: dict[str, aiosmtplib.SMTPResponse] = {}
    errors: list[aiosmtplib.SMTPRecipientRefused] = []
    for recipient in recipients:
        try:
            await client.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPRecipientRefused as exc:
            refused[recipient] = aiosmtplib.SMTPResponse(exc.code, exc.message)
            errors.append(exc)
    if len(errors) == len(recipients):
        raise aiosmtplib.SMTPRecipientsRefused(errors)
    return refused


def _envelope(sender: str, recipients: Sequence[str], where: str) -> tuple[str, list[str]]:
    """The bare ``local@domain`` of every envelope address, which may also be written
    ``Name <local@domain>`` (like ``[smtp] from``); the sender may be empty (the null
    reverse-path). Anything else fails: aiosmtplib alone would read
    ``"a@b>\\r\\nRCPT TO:<c@d"`` as ``a@b``, ``"x y"`` as ``x`` and ``""`` as ``<>``, and a
    row holding such an address must fail, not go elsewhere."""
    bare = {address: _bare(address) for address in (*recipients, *([sender] if sender else []))}
    bad = [address for address, plain in bare.items() if plain is None]
    if bad:
        raise PermanentFailure(f"{where}: not sent: envelope address(es) {bad!r} are not "
                               "local@domain addresses")
    return bare.get(sender) or "", [bare[r] or "" for r in recipients]


def _bare(address: str) -> str | None:
    if _CONTROL.search(address):
        return None
    found = getaddresses([address])
    plain = found[0][1] if len(found) == 1 else ""
    return plain if _BARE_ADDRESS.fullmatch(plain) else None


async def _start_tls(client: aiosmtplib.SMTP, where: str) -> None:
    """STARTTLS (RFC 3207), required: a server that does not offer it gets nothing in clear."""
    await client.ehlo()
    if not client.supports_extension("starttls"):
        raise PermanentFailure(f"{where} does not offer STARTTLS and [smtp] tls = \"starttls\"; "
                               "nothing was sent in clear")
    await client.starttls()


async def _login(client: aiosmtplib.SMTP, username: str, password: Secret, where: str) -> None:
    """SMTP AUTH (RFC 4954) as ``username``; the password is read only now. A server that does
    not offer AUTH (on this connection: many offer it only after STARTTLS) is a config matter."""
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    if not client.supports_extension("auth"):
        raise PermanentFailure(f"{where} does not offer AUTH and [smtp] username is set")
    await client.login(username, password.reveal())


async def _mail_options(client: aiosmtplib.SMTP, sender: str, recipients: Sequence[str],
                        raw: bytes, where: str) -> list[str]:
    """MAIL FROM parameters this message needs, checked against the server's EHLO."""
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    options: list[str] = []
    if not raw.isascii():
        if not client.supports_extension("8bitmime"):
            raise PermanentFailure(f"{where} does not offer 8BITMIME and the message holds "
                                   "8-bit data; send it encoded as 7-bit (quoted-printable "
                                   "or base64)")
        options.append("BODY=8BITMIME")
    if not all(address.isascii() for address in (sender, *recipients)):
        if not client.supports_extension("smtputf8"):
            raise PermanentFailure(f"{where} does not offer SMTPUTF8 and an address of this "
                                   "message is not ASCII")
        options.append("SMTPUTF8")
    return options


def _failure(exc: BaseException, where: str) -> DeliveryError:
    """The retry decision for what aiosmtplib raised: 4xx and network trouble are temporary,
    5xx and missing server features are permanent (RFC 5321 4.2.1)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = {e.recipient: f"{e.code} {e.message}" for e in exc.recipients}
        first = exc.recipients[0]
        kind = (TemporaryFailure if any(e.code < 500 for e in exc.recipients)
                else PermanentFailure)
        listed = "; ".join(f"{address}: {reply}" for address, reply in refused.items())
        return kind(f"{where} refused every recipient ({listed})", code=first.code,
                    text=first.message, refused=refused)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = PermanentFailure if 500 <= exc.code < 600 else TemporaryFailure
        step = type(exc).__name__.removeprefix("SMTP")
        return kind(f"{where} answered {exc.code} {exc.message} ({step})", code=exc.code,
                    text=exc.message)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentFailure(f"{where}: {exc}")
    if _caused_by(exc, ssl.SSLCertVerificationError):
        return TemporaryFailure(f"{where}: the server's certificate was not accepted ({exc}); "
                                "is its CA in [smtp] ca_file, and does it name the host?")
    return TemporaryFailure(f"{where}: {type(exc).__name__}: {exc}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _hang_up(client: aiosmtplib.SMTP) -> None:
    """QUIT politely, then drop the socket; a server that is already gone changes nothing about
    the outcome (the receipt, or the failure, was decided by the reply to DATA).

    The socket is aborted rather than closed: a TLS close would wait for the peer's close_notify
    on a loop that ``asyncio.run`` is about to stop, and leave the socket open. After QUIT there
    is nothing left to flush."""
    transport = client.transport
    if client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()
    if isinstance(transport, asyncio.Transport):
        transport.abort()  # the socket closes on the loop's next turn


@functools.lru_cache(maxsize=8)
def _tls_context_for(ca_file: Path | None, stamp: int) -> ssl.SSLContext:
    # Loading the system CA store takes ~60 ms on this machine: once per CA file version
    # (``stamp``, the file's mtime, is in the cache key only).
    return ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context (hostname checked) trusting ``ca_file`` or the system CAs;
    rebuilt when the CA file changes on disk. A CA file gone or unreadable is a ConfigError."""
    try:
        stamp = ca_file.stat().st_mtime_ns if ca_file is not None else 0
        return _tls_context_for(ca_file, stamp)
    except (OSError, ssl.SSLError) as exc:  # ssl.SSLError: not PEM certificates
        raise ConfigError(f"[smtp] ca_file {ca_file}: cannot load CA certificates: "
                          f"{exc}") from exc


@functools.cache
def _client_name() -> str:
    """Our EHLO name (RFC 5321 4.1.4): the host's FQDN, looked up once, not per message."""
    return socket.getfqdn()
