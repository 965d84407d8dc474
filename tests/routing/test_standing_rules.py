"""Standing rules: the platform deadline of a notice that states none, with its public source
(issue 9). The shipped table is `maild/routing/deadlines.toml`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maild.errors import ConfigError
from maild.routing.standing_rules import default_rules, load_rules, platform_deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
TORONTO = ZoneInfo("America/Toronto")
BERLIN = ZoneInfo("Europe/Berlin")


def test_the_shipped_table_holds_the_sourced_figures() -> None:
    """GIVEN the table shipped with maild
    WHEN it is loaded THEN it holds exactly the figures we could source, each with a public
    source that names its address."""
    rows = {(r.platform, r.category, r.marketplace): (r.duration, r.unit, r.calendar)
            for r in default_rules()}
    assert rows == {
        ("amazon", "buyer_message", None): (24, "hours", None),
        ("amazon", "claim_dispute", "amazon.com"): (72, "hours", None),
        ("amazon", "claim_dispute", "amazon.com.au"): (48, "hours", None),
        ("ebay", "claim_dispute", "ebay.co.uk"): (3, "business_days", "GB"),
        ("ebay", "claim_dispute", "ebay.ca"): (3, "business_days", "CA"),
        ("walmart", "buyer_message", None): (48, "hours", None),
    }
    for rule in default_rules():
        assert "https://" in rule.source, rule


def test_amazon_buyer_message_is_due_24_hours_later_on_any_marketplace() -> None:
    """GIVEN an Amazon buyer message received on Saturday 28 March 2026 at 12:00 UTC
    WHEN its standing deadline is asked for (amazon.de has no row of its own)
    THEN it is 24 elapsed hours later, weekend included, from the platform-wide row."""
    found = platform_deadline("amazon", "buyer_message", "amazon.de",
                              datetime(2026, 3, 28, 12, 0, tzinfo=UTC), BERLIN)
    assert found is not None
    due, rule = found
    assert due == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert "sellercentral.amazon.com/gp/help/external/202152030" in rule.source


def test_a_marketplace_row_wins_and_no_row_means_no_deadline() -> None:
    """GIVEN A-to-z claims on amazon.com (72 h), amazon.com.au (48 h) and amazon.de (no source)
    WHEN their standing deadlines are asked for
    THEN each marketplace gets its own figure, and amazon.de and an unknown category none."""
    received = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    us = platform_deadline("amazon", "claim_dispute", "amazon.com", received, SHANGHAI)
    au = platform_deadline("amazon", "claim_dispute", "amazon.com.au", received, SHANGHAI)
    assert us is not None and us[0] == datetime(2026, 5, 7, 8, 0, tzinfo=UTC)
    assert au is not None and au[0] == datetime(2026, 5, 6, 8, 0, tzinfo=UTC)
    assert platform_deadline("amazon", "claim_dispute", "amazon.de", received, SHANGHAI) is None
    assert platform_deadline("amazon", "suspension", None, received, SHANGHAI) is None


def test_ebay_uk_business_days_skip_christmas_and_boxing_day_in_london() -> None:
    """GIVEN an eBay UK return request opened on Wednesday 23 December 2026 at 10:00 London,
    for a client in Shanghai
    WHEN its standing deadline is asked for (3 business days, UK bank holidays, London)
    THEN Christmas (Fri), the weekend and Boxing Day observed (Mon 28) do not count: the days
    are Thu 24, Tue 29 and Wed 30 December, due at midnight ending Wednesday in London."""
    found = platform_deadline("ebay", "claim_dispute", "ebay.co.uk",
                              datetime(2026, 12, 23, 10, 0, tzinfo=LONDON), SHANGHAI)
    assert found is not None
    assert found[0] == datetime(2026, 12, 31, 0, 0, tzinfo=UTC)


def test_ebay_canada_counts_business_days_in_the_clients_zone() -> None:
    """GIVEN an eBay Canada case opened on Friday 26 June 2026 at 10:00 for a Toronto client
    WHEN its standing deadline is asked for (3 business days, Canada's holidays, no zone named)
    THEN Canada Day (Wed 1 July) does not count: Mon 29, Tue 30 June and Thu 2 July, due at
    midnight ending Thursday in Toronto (04:00 UTC)."""
    found = platform_deadline("ebay", "claim_dispute", "ebay.ca",
                              datetime(2026, 6, 26, 10, 0, tzinfo=TORONTO), TORONTO)
    assert found is not None
    assert found[0] == datetime(2026, 7, 3, 4, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deadlines.toml"
    path.write_text(text, encoding="utf-8")
    return path


ROW = 'platform = "shein"\ncategory = "policy_warning"\nsource = "a test"\n'


def test_calendar_days_keep_the_wall_clock_across_a_dst_change(tmp_path: Path) -> None:
    """GIVEN a rule of 7 calendar days
    WHEN a notice arrives on Monday 23 March 2026 at 10:00 in Berlin (CET)
    THEN it is due Monday 30 March at 10:00 on the wall clock (CEST), 08:00 UTC."""
    rules = load_rules(write(tmp_path, f'[[rule]]\n{ROW}duration = 7\nunit = "days"\n'))
    found = platform_deadline("shein", "policy_warning", None,
                              datetime(2026, 3, 23, 10, 0, tzinfo=BERLIN), BERLIN, rules=rules)
    assert found is not None
    assert found[0] == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("row", "message"), [
    (f'{ROW}duration = 3\nunit = "business_days"\n', r"rule\[0\]\.calendar: is required"),
    (f'{ROW}duration = 0\nunit = "hours"\n', r"rule\[0\]\.duration: must be a positive"),
    (f'{ROW}duration = 3\nunit = "weeks"\n', r"rule\[0\]\.unit: must be one of"),
    (f'{ROW}duration = 3\nunit = "hours"\nsorce = "x"\n', r"rule\[0\]\.sorce: unknown key"),
    (f'{ROW}duration = 3\nunit = "hours"\ntimezone = "Mars/Base"\n', r"timezone: unknown"),
    (ROW.replace("policy_warning", "warning") + 'duration = 3\nunit = "hours"\n',
     r"rule\[0\]\.category: must be one of"),
    (f'{ROW}unit = "hours"\n', r"rule\[0\]\.duration: is required"),
])
def test_a_bad_row_is_an_error_naming_file_and_key(tmp_path: Path, row: str,
                                                    message: str) -> None:
    """GIVEN a table with one faulty row WHEN it is loaded
    THEN a ConfigError names the file and the row's key."""
    path = write(tmp_path, f"[[rule]]\n{row}")
    with pytest.raises(ConfigError, match=message) as caught:
        load_rules(path)
    assert str(path) in str(caught.value)


def test_a_second_row_for_the_same_platform_category_and_marketplace_is_refused(
        tmp_path: Path) -> None:
    """GIVEN two rows for shein/policy_warning without a marketplace WHEN the table is loaded
    THEN a ConfigError names the second row (which of the two figures would hold is unclear)."""
    row = f'[[rule]]\n{ROW}duration = 3\nunit = "hours"\n'
    with pytest.raises(ConfigError, match=r"rule\[1\]: a second row for shein/policy_warning"):
        load_rules(write(tmp_path, row + row))


def test_a_marketplace_row_wins_over_the_platform_row(tmp_path: Path) -> None:
    """GIVEN a platform-wide row (72 hours) and a row of its own for shein.de (24 hours)
    WHEN notices from shein.de and shein.fr ask for their deadlines
    THEN shein.de gets its own 24 hours and shein.fr the platform's 72, whatever the order."""
    general = f'[[rule]]\n{ROW}duration = 72\nunit = "hours"\n'
    own = f'[[rule]]\n{ROW}marketplace = "shein.de"\nduration = 24\nunit = "hours"\n'
    received = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    for order in ((general, own), (own, general)):
        rules = load_rules(write(tmp_path, "".join(order)))
        de = platform_deadline("shein", "policy_warning", "shein.de", received, BERLIN,
                               rules=rules)
        fr = platform_deadline("shein", "policy_warning", "shein.fr", received, BERLIN,
                               rules=rules)
        assert de is not None and de[0] == datetime(2026, 5, 5, 8, 0, tzinfo=UTC)
        assert fr is not None and fr[0] == datetime(2026, 5, 7, 8, 0, tzinfo=UTC)
