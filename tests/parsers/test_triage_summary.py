"""triage (maild/routing/triage.toml and overrides), summaries, and the regex helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maild.errors import ConfigError
from maild.parsers import summary
from maild.parsers.regexkit import required_literals, trie_alternation
from maild.parsers.summary import marketplace_name
from maild.routing.triage import CATEGORIES, load_rules

SENT = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("category", "hours", "priority"),
    [
        ("suspension", None, "P0"),
        ("ip_complaint", None, "P1"),
        ("claim_dispute", None, "P2"),
        ("claim_dispute", 72, "P1"),
        ("claim_dispute", 73, "P2"),
        ("policy_update", 48, "P1"),
        ("legal", 24, "P0"),
        ("other", None, "P3"),
    ],
)
def test_default_table_and_72_hour_rule(category: str, hours: int | None, priority: str) -> None:
    """GIVEN the default triage table
    WHEN a category is triaged with a deadline `hours` after Date (or none)
    THEN the table's priority applies, raised to P1 by a deadline at most 72 h away."""
    deadline = SENT + timedelta(hours=hours) if hours is not None else None
    assert load_rules().priority(category, SENT, deadline) == priority


def test_client_override_merges_over_default(tmp_path: Path) -> None:
    """GIVEN a client override changing one category and the urgency window
    WHEN loaded
    THEN those keys change and all others keep the default."""
    override = tmp_path / "client.toml"
    override.write_text('[priorities]\npayment = "P1"\n[urgent_deadline]\nwithin_hours = 24\n')
    rules = load_rules(override)
    assert rules.priority("payment", SENT, None) == "P1"
    assert rules.priority("claim_dispute", SENT, SENT + timedelta(hours=48)) == "P2"
    assert rules.priority("suspension", SENT, None) == "P0"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[priorities]\npayment = "P9"\n', "payment"),
        ('[priorities]\nnonsense = "P1"\n', "nonsense"),
        ("[priorities\n", "invalid TOML"),
    ],
)
def test_bad_override_names_file_and_key(tmp_path: Path, content: str, message: str) -> None:
    """GIVEN an override with a bad value, unknown key or broken TOML
    WHEN loaded
    THEN ConfigError names the file and the key."""
    override = tmp_path / "bad.toml"
    override.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_rules(override)
    assert str(override) in str(caught.value)


def _facts(category: str, deadline: datetime | None = None, kind: str = "") -> summary.Facts:
    return summary.Facts(
        category=category,
        platform_en="Amazon",
        platform_zh="亚马逊",
        marketplace="amazon.de",
        subject="Ihre Verkaufsberechtigung",
        identifiers={
            "asin": ["B0ABCDEF12"],
            "order_id": [],
            "case_id": [],
            "item_id": [],
            "sku": [],
            "complaint_id": [],
        },
        deadline=deadline,
        sender="seller-performance@amazon.de",
        reinstated=False,
        action_required=True,
        kind=kind,
    )


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_has_both_summaries(category: str) -> None:
    """GIVEN the facts of a notice of each category with a deadline
    WHEN summarised in English and Chinese
    THEN both are non-empty sentences naming the listing and (except phishing) the due date."""
    facts = _facts(category, datetime(2026, 3, 20, 22, 59, 59, tzinfo=UTC))
    english, chinese = summary.render(facts, "en"), summary.render(facts, "zh")
    assert english and chinese
    if category not in {"phishing_suspect", "policy_update"}:
        assert "B0ABCDEF12" in english and "B0ABCDEF12" in chinese
        assert "2026-03-20 22:59 UTC" in english and "2026-03-20 22:59 UTC" in chinese


DUE = datetime(2026, 3, 20, 22, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("category", "deadline", "kind", "english", "chinese", "never"),
    [
        (
            "phishing_suspect",
            DUE,
            "",
            ["probably phishing", "seller-performance@amazon.de", "Do not click its links"],
            ["钓鱼邮件", "seller-performance@amazon.de", "请勿点击"],
            ["2026-03-20", "appeal", "Upload", "Reply", "申诉", "上传"],
        ),
        (
            "policy_update",
            None,
            "",
            ["announces a policy, fee or requirement change", "Read it and check"],
            ["宣布政策、费用或要求变更", "请阅读并确认"],
            ["Comply by", "suspend", "暂停"],
        ),
        (
            "policy_update",
            DUE,
            "",
            ["announces a policy, fee or requirement change", "Comply by 2026-03-20 22:59 UTC"],
            ["宣布政策、费用或要求变更", "请于 2026-03-20 22:59 UTC 前完成调整"],
            ["Read it and check"],
        ),
        (
            "other",
            None,
            "report",
            ["routine report", "nothing wrong", "no action is required"],
            ["例行报告", "未指出任何问题", "无需操作"],
            ["Fix", "fix", "appeal", "纠正", "申诉", "警告"],
        ),
        (
            "other",
            None,
            "newsletter",
            ["newsletter", "nothing about your account", "no action is required"],
            ["资讯邮件", "与您的账户无关", "无需操作"],
            ["Fix", "appeal", "suspended", "纠正", "暂停"],
        ),
    ],
)
def test_summaries_say_what_their_category_means(
    category: str,
    deadline: datetime | None,
    kind: str,
    english: list[str],
    chinese: list[str],
    never: list[str],
) -> None:
    """GIVEN a phishing suspect, a policy update (with and without a date), a routine report
    and a newsletter
    WHEN summarised
    THEN each summary says what its category means (phishing warns and never passes on the
    lure's date; a routine report or newsletter tells nobody to fix anything)."""
    facts = _facts(category, deadline, kind)
    en, zh = summary.render(facts, "en"), summary.render(facts, "zh")
    assert all(phrase in en for phrase in english), en
    assert all(phrase in zh for phrase in chinese), zh
    assert not any(word in en or word in zh for word in never), (en, zh)


def test_regex_gates_are_sound() -> None:
    """GIVEN table-style patterns
    WHEN their gate literals are derived
    THEN every text the pattern matches contains one of them."""
    cases = {
        r"(?:privileges|account)\s(?:has been|was) suspended": "Your ACCOUNT was suspended",
        r"A-to-z(?: Guarantee)? claim": "an a-to-z claim",
        r"商品.{0,6}已被下架": "商品链接已被下架",
    }
    for pattern, text in cases.items():
        gate = required_literals(pattern)
        assert re.search(pattern, text, re.I)
        assert gate is None or any(literal in text.lower() for literal in gate)
    words = ["march", "mars", "marzo", "may", "mai", "mayo"]
    trie = re.compile(trie_alternation(words))
    assert all(trie.fullmatch(word) for word in words) and not trie.fullmatch("ma")


@pytest.mark.parametrize(("marketplace", "shown"), [
    ("ebay.com.au", "eBay.com.au"), ("aliexpress.com", "AliExpress.com"),
    ("amazon.co.jp", "Amazon.co.jp"), ("shein.com", "SHEIN.com"), ("example.org", "Example.org"),
])
def test_marketplaces_are_spelled_as_sellers_write_them(marketplace: str, shown: str) -> None:
    """GIVEN a marketplace domain WHEN shown in a summary THEN the brand keeps its spelling."""
    assert marketplace_name(marketplace) == shown
