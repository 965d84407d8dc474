"""One exception hierarchy, so callers can tell a bad config from a broken mailbox.

Every message names the file, key or mailbox concerned and, where it can, what to do.
"""


class MaildError(Exception):
    """Base of every error maild raises on purpose."""


class ConfigError(MaildError):
    """The configuration file is missing, unreadable or invalid (CLI exit code 2)."""


class SourceError(MaildError):
    """A mail source (IMAP folder, Maildir, file) could not be read."""


class ArchiveError(MaildError):
    """The raw archive or the audit chain is inconsistent or cannot be written."""


class DeliveryError(MaildError):
    """A message could not be handed to the next server (SMTP) or the local outbox (Maildir).

    ``code`` and ``text`` are the server's reply when there was one (``None`` for a refused or
    dropped connection, a timeout or a TLS failure). ``refused`` names the recipients the
    server refused one by one, each with its reply ("550 5.1.1 ...").
    """

    def __init__(self, message: str, *, code: int | None = None, text: str | None = None,
                 refused: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.text = text
        self.refused = dict(refused or {})


class TemporaryFailure(DeliveryError):
    """Try again later: a 4xx reply, a refused, dropped or timed-out connection, a failed TLS
    handshake (RFC 5321 4.2.1: the same transaction may succeed later)."""


class MaybeDelivered(TemporaryFailure):
    """The message data went out and no reply came (the connection dropped or timed out after
    DATA): the server may have taken it. A retry may deliver it twice; a platform reply is
    therefore held for the operator instead (RFC 1047 describes the window)."""


class PermanentFailure(DeliveryError):
    """Do not retry: a 5xx reply, every recipient refused for good, or a server that lacks what
    the message needs (RFC 5321 4.2.1); the operator must look."""
