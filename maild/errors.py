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
