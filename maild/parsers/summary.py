"""Bilingual one- or two-sentence summaries from the extracted facts, via jinja2 templates.

Phrasing lives in `maild/templates/summary/{en,zh}.txt.j2` (one branch per category), not in Python
and not in machine translation; this module only gathers the facts the templates print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Template

from maild.templating import environment

ID_LABELS: dict[str, tuple[str, str]] = {
    "asin": ("ASIN", "ASIN"),
    "order_id": ("order", "订单"),
    "case_id": ("case", "案例"),
    "item_id": ("item", "商品"),
    "sku": ("SKU", "SKU"),
    "complaint_id": ("complaint", "投诉"),
}
MAX_IDS = 3
MAX_TOPIC = 90


@dataclass(frozen=True)
class Facts:
    """What a summary may say about a notice."""

    category: str
    platform_en: str
    platform_zh: str
    marketplace: str | None
    subject: str
    identifiers: dict[str, list[str]]
    deadline: datetime | None
    sender: str
    reinstated: bool
    action_required: bool
    kind: str = ""  # "report" (routine, nothing wrong) or "newsletter" for `other` mail


def _template(language: str) -> Template:
    return environment().get_template(f"summary/{language}.txt.j2")


def _about(identifiers: dict[str, list[str]], language: str) -> str:
    parts: list[str] = []
    for key, (label_en, label_zh) in ID_LABELS.items():
        values = identifiers.get(key, [])
        if values:
            label = label_en if language == "en" else label_zh
            more = f" +{len(values) - MAX_IDS}" if len(values) > MAX_IDS else ""
            parts.append(f"{label} {', '.join(values[:MAX_IDS])}{more}")
    return "; ".join(parts[:3])


BRAND_SPELLING = {"amazon": "Amazon", "ebay": "eBay", "walmart": "Walmart", "temu": "Temu",
                  "shein": "SHEIN", "aliexpress": "AliExpress"}


def marketplace_name(marketplace: str) -> str:
    """``ebay.com.au`` as sellers write it: ``eBay.com.au``."""
    brand, dot, rest = marketplace.partition(".")
    return BRAND_SPELLING.get(brand, brand.capitalize()) + dot + rest


def _topic(subject: str) -> str:
    subject = " ".join(subject.split()) or "(no subject)"
    return subject if len(subject) <= MAX_TOPIC else subject[: MAX_TOPIC - 1] + "…"


def render(facts: Facts, language: str) -> str:
    """The summary of `facts` in `language` ("en" or "zh")."""
    due = facts.deadline.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if facts.deadline else ""
    text = _template(language).render(
        category=facts.category,
        platform=facts.platform_en if language == "en" else facts.platform_zh,
        where=marketplace_name(facts.marketplace) if facts.marketplace else "",
        topic=_topic(facts.subject),
        about=_about(facts.identifiers, language),
        due=due,
        sender=facts.sender or "unknown sender",
        reinstated=facts.reinstated,
        action_required=facts.action_required,
        kind=facts.kind,
    )
    return " ".join(text.split())
