"""Escalation rules from the config (`maild.routing.escalation_rules`): what they match on,
including the figures the parser reads, and config errors that name the file and the key."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from maild.config_table import Table
from maild.errors import ConfigError
from maild.parsers import parse_message
from maild.parsers.notice import Notice, empty_identifiers
from maild.routing.escalation_rules import Rule, matching_rules, rules_from

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

RULES = """
[[escalation]]
name = "Amazon Account Health Rating below 200"
platform = "amazon"
metric = "account_health_rating"
below = 200
escalate_to = ["lead@advisor.example"]

[[escalation]]
name = "valid tracking rate below 95%"
metric = "valid_tracking_rate"
below = 95
escalate_to = ["Ops Lead <ops@advisor.example>", "lead@advisor.example"]
"""


def _rules(source: str, file: str = "maild.toml") -> tuple[Rule, ...]:
    return rules_from(Table(tomllib.loads(source), "", file, Path(".")))


def _notice(name: str) -> tuple[Notice, str]:
    notice = parse_message((CORPUS / f"{name}.eml").read_bytes())
    return notice, notice.subject


def _names(rules: list[Rule]) -> list[str]:
    return [rule.name for rule in rules]


def test_account_health_rating_below_200_escalates() -> None:
    """GIVEN the rule "Amazon Account Health Rating below 200" and Amazon's notice that the
    rating dropped to 150
    WHEN matched
    THEN that rule matches, with its addresses, and the tracking rule does not."""
    notice, text = _notice("amazon/us_policy_warning_ahr_at_risk_html")
    found = matching_rules(_rules(RULES), notice, text)
    assert _names(found) == ["Amazon Account Health Rating below 200"]
    assert found[0].escalate_to == ("lead@advisor.example",)


def test_account_health_rating_of_250_does_not_escalate() -> None:
    """GIVEN the same notice saying the rating fell to 250 instead
    WHEN parsed and matched
    THEN no rule matches."""
    raw = (CORPUS / "holdout2/amz_us_account_health_at_risk_direct.eml").read_bytes()
    assert b"fell to 170" in raw
    notice = parse_message(raw.replace(b"fell to 170", b"fell to 250"))
    assert notice.metrics == {"account_health_rating": 250.0}
    assert matching_rules(_rules(RULES), notice, notice.subject) == []


def test_valid_tracking_rate_below_95_escalates_and_95_1_does_not() -> None:
    """GIVEN the rule "valid tracking rate below 95%", Amazon AU's notice of a rate of 88%
    and Walmart's of 95.1%
    WHEN matched
    THEN the 88% notice escalates to both addresses, the 95.1% one does not."""
    rules = _rules(RULES)
    low, low_text = _notice("amazon/au_policy_warning_valid_tracking_rate")
    found = matching_rules(rules, low, low_text)
    assert _names(found) == ["valid tracking rate below 95%"]
    assert found[0].escalate_to == ("Ops Lead <ops@advisor.example>", "lead@advisor.example")
    ok, ok_text = _notice("walmart/performance_standards_warning_redirect")
    assert ok.metrics["valid_tracking_rate"] == 95.1
    assert matching_rules(rules, ok, ok_text) == []


def test_a_notice_without_the_figure_never_matches_a_metric_rule() -> None:
    """GIVEN a metric rule and a notice that states no figure (or a stored row whose metrics
    column is still null)
    WHEN matched
    THEN it does not match (a missing figure is not zero)."""
    notice = Notice(message_id=None, platform="amazon", category="suspension", priority="P0")
    assert matching_rules(_rules(RULES), notice, "") == []
    stored_before_metrics = dataclasses.replace(notice, metrics=None)  # type: ignore[arg-type]
    assert matching_rules(_rules(RULES), stored_before_metrics, "") == []


def test_above_and_range() -> None:
    """GIVEN rules "late shipment rate above 4" and "order defect rate between 1 and 2"
    WHEN notices with 6.2 / 3.9 and 1.5 / 2.0 are matched
    THEN only the figures strictly beyond the bounds match."""
    rules = _rules(
        """
[[escalation]]
name = "late"
metric = "late_shipment_rate"
above = 4
escalate_to = ["a@advisor.example"]

[[escalation]]
name = "odr band"
metric = "order_defect_rate"
above = 1
below = 2
escalate_to = ["a@advisor.example"]
"""
    )
    base = Notice(message_id=None)

    def names(**figures: float) -> list[str]:
        return _names(matching_rules(rules, dataclasses.replace(base, metrics=figures), ""))

    assert names(late_shipment_rate=6.2) == ["late"]
    assert names(late_shipment_rate=3.9) == []
    assert names(order_defect_rate=1.5) == ["odr band"]
    assert names(order_defect_rate=2.0) == []


CONDITIONS = """
[[escalation]]
name = "suspension on Amazon EU"
platform = ["amazon"]
marketplace = ["Amazon.de", "amazon.co.uk"]
category = ["suspension", "legal"]
escalate_to = ["a@advisor.example"]

[[escalation]]
name = "P1 or worse"
priority = "P1"
escalate_to = ["a@advisor.example"]

[[escalation]]
name = "counterfeit"
text = "counterfeit|gefälscht"
escalate_to = ["a@advisor.example"]

[[escalation]]
name = "hero ASIN"
identifiers = [{ kind = "asin", value = "b0hero0001" }, { kind = "complaint_id" }]
escalate_to = ["a@advisor.example"]
"""


def _with(**fields: object) -> Notice:
    return dataclasses.replace(Notice(message_id=None), **fields)  # type: ignore[arg-type]


def test_platform_marketplace_and_category() -> None:
    """GIVEN a rule on Amazon suspensions in amazon.de / amazon.co.uk
    WHEN notices differing in one of the three are matched
    THEN only the one with all three matches (marketplace compared case-insensitively)."""
    rules = _rules(CONDITIONS)
    hit = _with(platform="amazon", marketplace="amazon.de", category="suspension")
    assert "suspension on Amazon EU" in _names(matching_rules(rules, hit, ""))
    for miss in (
        dataclasses.replace(hit, platform="ebay"),
        dataclasses.replace(hit, marketplace="amazon.com"),
        dataclasses.replace(hit, category="policy_warning"),
    ):
        assert "suspension on Amazon EU" not in _names(matching_rules(rules, miss, ""))


@pytest.mark.parametrize(("priority", "matches"), [("P0", True), ("P1", True), ("P2", False)])
def test_priority_at_or_above(priority: str, matches: bool) -> None:
    """GIVEN a rule with priority = "P1"
    WHEN notices of P0, P1 and P2 are matched
    THEN P0 and P1 match (at or above), P2 does not."""
    found = _names(matching_rules(_rules(CONDITIONS), _with(priority=priority), ""))
    assert ("P1 or worse" in found) is matches


def test_text_regex_case_insensitive_and_bounded() -> None:
    """GIVEN a text rule "counterfeit|gefälscht"
    WHEN texts with the word, in another case, past the scanned length, and without it are
    matched
    THEN it matches the first two only."""
    rules = _rules(CONDITIONS)
    notice = _with(priority="P3")
    assert "counterfeit" in _names(matching_rules(rules, notice, "Ware GEFÄLSCHT gemeldet"))
    assert "counterfeit" in _names(matching_rules(rules, notice, "A Counterfeit complaint"))
    late = "x" * 20_000 + " counterfeit"
    assert "counterfeit" not in _names(matching_rules(rules, notice, late))
    assert "counterfeit" not in _names(matching_rules(rules, notice, "genuine goods"))


def test_identifier_kind_and_value() -> None:
    """GIVEN a rule on ASIN B0HERO0001 or any complaint ID
    WHEN notices with that ASIN (any case), another ASIN, or a complaint ID are matched
    THEN the first and last match."""
    rules = _rules(CONDITIONS)

    def ids(**found: list[str]) -> Notice:
        return _with(identifiers={**empty_identifiers(), **found})

    assert "hero ASIN" in _names(matching_rules(rules, ids(asin=["B0HERO0001"]), ""))
    assert "hero ASIN" not in _names(matching_rules(rules, ids(asin=["B0OTHER001"]), ""))
    assert "hero ASIN" in _names(matching_rules(rules, ids(complaint_id=["CMP-1"]), ""))


def test_client_rules_and_defaults() -> None:
    """GIVEN [[client.escalation]] in a client's table and no [[escalation]] at all
    WHEN read
    THEN the client's rules load and the top level has none."""
    data = tomllib.loads(
        """
[[client]]
id = "acme"
[[client.escalation]]
name = "zh points"
platform = "aliexpress"
metric = "violation_points"
above = 11
escalate_to = ["lead@advisor.example"]
"""
    )
    top = Table(data, "", "maild.toml", Path("."))
    client = top.tables("client")[0]
    (rule,) = rules_from(client)
    notice, text = _notice("aliexpress/zh_violation_points_gb18030")
    assert matching_rules([rule], notice, text) == [rule]
    assert rules_from(top) == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('metric = "account_health", below = 200',
         "maild.toml: escalation[0].metric: must be one of account_health_rating"),
        ("below = 200", "maild.toml: escalation[0].below: needs metric"),
        ('metric = "valid_tracking_rate"', "maild.toml: escalation[0].metric: needs below"),
        ('metric = "valid_tracking_rate", below = "95%"',
         "maild.toml: escalation[0].below: must be a number, not a string"),
        ('metric = "order_defect_rate", below = 1, above = 2',
         "maild.toml: escalation[0].above: must be less than below"),
        ('priority = "high"', "maild.toml: escalation[0].priority: must be one of P0"),
        ('category = ["suspension", "bans"]',
         "maild.toml: escalation[0].category[1]: must be one of"),
        ('platform = "amazn"', "maild.toml: escalation[0].platform: must be one of amazon"),
        ('text = "(unclosed"', "maild.toml: escalation[0].text: is not a valid regular"),
        ('identifiers = [{ kind = "isbn", value = "1" }]',
         "maild.toml: escalation[0].identifiers[0].kind: must be one of asin"),
        ('category = "legal", below_rate = 3', "maild.toml: escalation[0].below_rate: unknown"),
        ('category = "legal", escalate_to = ["not an address"]',
         "maild.toml: escalation[0].escalate_to[0]: must be an address"),
        ("", "maild.toml: escalation[0]: rule 'r' has no condition"),
    ],
)
def test_config_errors_name_file_and_key(body: str, message: str) -> None:
    """GIVEN an [[escalation]] with one mistake
    WHEN read
    THEN the error names the file and the key path and what is wrong."""
    pairs = ", ".join(part for part in (body, 'name = "r"') if part)
    if "escalate_to" not in body:
        pairs += ', escalate_to = ["a@advisor.example"]'
    with pytest.raises(ConfigError) as raised:
        _rules(f"escalation = [{{ {pairs} }}]")
    assert str(raised.value).startswith(message), str(raised.value)


def test_duplicate_names_and_client_key_paths() -> None:
    """GIVEN two rules of one name, and a client rule with a mistake
    WHEN read
    THEN the errors name the second rule's name, and the client's key path."""
    with pytest.raises(ConfigError, match=r"^maild\.toml: escalation\[1\]\.name: 'r' is used"):
        _rules(
            'escalation = [{ name = "r", category = "legal", escalate_to = ["a@x.example"] },'
            ' { name = "r", category = "legal", escalate_to = ["a@x.example"] }]'
        )
    data = tomllib.loads(
        '[[client]]\n[[client.escalation]]\nname = "r"\nbelow = 3\nescalate_to = ["a@x.example"]'
    )
    client = Table(data, "", "clients.d/acme.toml", Path(".")).tables("client")[0]
    with pytest.raises(ConfigError, match=r"^clients\.d/acme\.toml: client\[0\]\.escalation\[0\]"
                                          r"\.below: needs metric"):
        rules_from(client)
