"""The parsed notice: the frozen value `parse_message` returns and its JSON contract.

A `Notice` holds plain values only (str, None, bool, datetime, dicts of lists or of floats), so
the ingestion side can store its fields in the database as they are; `to_contract` renders
exactly the object of DESIGN 4.1 (keys in that order; the optional `effective_date`, `metrics`
and `error` only when they have a value) and `describe` one line for humans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

IDENTIFIER_KEYS: tuple[str, ...] = ("asin", "order_id", "case_id", "item_id", "sku", "complaint_id")


def empty_identifiers() -> dict[str, list[str]]:
    """All six identifier keys, each with an empty list (DESIGN 4.1 always lists all six)."""
    return {key: [] for key in IDENTIFIER_KEYS}


def format_utc(moment: datetime | None) -> str | None:
    """`2026-03-15T07:59:00Z`, or None; naive datetimes are taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Notice:
    """What one message says: platform, category, urgency, deadline, identifiers, authenticity."""

    message_id: str | None
    platform: str = "other"
    marketplace: str | None = None
    category: str = "other"
    priority: str = "P3"
    deadline: datetime | None = None
    deadline_text: str | None = None
    identifiers: dict[str, list[str]] = field(default_factory=empty_identifiers)
    language: str = "en"
    sender_verified: bool | None = None
    action_required: bool = False
    summary_zh: str = ""
    summary_en: str = ""
    effective_date: date | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    subject: str = ""
    sent_at: datetime | None = None
    parser: str = "generic"
    error: str | None = None

    def to_contract(self, source: str) -> dict[str, Any]:
        """The JSON object of DESIGN 4.1 for this notice, read from `source`."""
        record: dict[str, Any] = {
            "source": source,
            "message_id": self.message_id,
            "platform": self.platform,
            "marketplace": self.marketplace,
            "category": self.category,
            "priority": self.priority,
            "deadline": format_utc(self.deadline),
            "deadline_text": self.deadline_text,
            "identifiers": {key: list(self.identifiers.get(key, [])) for key in IDENTIFIER_KEYS},
            "language": self.language,
            "sender_verified": self.sender_verified,
            "action_required": self.action_required,
            "summary_zh": self.summary_zh,
            "summary_en": self.summary_en,
        }
        if self.effective_date is not None:
            record["effective_date"] = self.effective_date.isoformat()
        if self.metrics:
            record["metrics"] = dict(self.metrics)
        if self.error is not None:
            record["error"] = self.error
        return record

    def describe(self, source: str) -> str:
        """One terminal line: source, priority, marketplace, category, due date and summary."""
        where = self.marketplace or self.platform
        due = f" due {format_utc(self.deadline)}" if self.deadline else ""
        error = f" ERROR: {self.error}" if self.error else ""
        return (
            f"{source}: [{self.priority}][{where}][{self.category}]{due} {self.summary_en}{error}"
        )


def failed_notice(message_id: str | None, error: str) -> Notice:
    """The notice of a message that could not be understood: category other, P3, `error` set."""
    return Notice(
        message_id=message_id,
        summary_en=f"This message could not be parsed ({error}); please read it yourself.",
        summary_zh=f"此邮件无法解析（{error}），请人工查看原文。",
        error=error,
        parser="error",
    )
