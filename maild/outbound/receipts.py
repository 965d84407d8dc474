"""What a delivery left behind: the server's reply, the queue id, the time, who was refused.

A :class:`Receipt` is returned by every transport (SMTP or the local Maildir outbox) once the
message is handed over; the send step stores it on the outbox row (DESIGN §3 ``Receipt``). A
failure is an exception instead: :class:`maild.errors.TemporaryFailure` (retry later) or
:class:`maild.errors.PermanentFailure` (do not retry), re-exported here for callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from maild.errors import DeliveryError, PermanentFailure, TemporaryFailure

__all__ = ["DeliveryError", "PermanentFailure", "Receipt", "TemporaryFailure"]


@dataclass(frozen=True)
class Receipt:
    """The proof of one hand-over.

    Attributes:
        code: the reply code to the end of DATA (``250``); the Maildir outbox also says 250.
        text: the reply text after the code (``2.0.0 Ok: queued as 4XyZ…``), or for the Maildir
            outbox the files written.
        queue_id: the server's id for the message where its reply names one (Postfix and
            aiosmtpd-style ``queued as ID``, Exim's ``id=ID``), the file name in the Maildir
            outbox, else ``None``.
        at: when the reply arrived (UTC, timezone-aware).
        refused: recipients the server refused one by one while taking the message for the
            others, each with its reply ``"550 5.1.1 text"`` (code first, so 4xx ones can be
            retried apart).
    """

    code: int
    text: str
    queue_id: str | None
    at: datetime
    refused: dict[str, str] = field(default_factory=dict)
