"""dates and deadlines: absolute and relative limits, zones, business days, non-deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from maild.parsers.deadlines import Context, add_business_days, find_deadline
from maild.parsers.notice import format_utc

BERLIN = ZoneInfo("Europe/Berlin")
SENT = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)  # a Friday


def _due(
    text: str, zone: tzinfo = BERLIN, month_first: bool = False, china: bool = False
) -> tuple[str | None, str | None]:
    found, _effective = find_deadline("", text, Context(SENT, zone, month_first, china))
    return (format_utc(found.due), found.text) if found else (None, None)


@pytest.mark.parametrize(
    ("text", "zone", "due", "phrase"),
    [
        ("Please respond within 72 hours.", BERLIN, "2026-03-16T10:00:00Z", "within 72 hours"),
        (
            "Bitte antworten Sie innerhalb von 17 Tagen.",
            BERLIN,
            "2026-03-30T10:00:00Z",
            "innerhalb von 17 Tagen",
        ),
        (
            "请于3个工作日内提交资料。",
            ZoneInfo("Asia/Shanghai"),
            "2026-03-18T10:00:00Z",
            "请于3个工作日内",
        ),
        (
            "2営業日以内にご対応ください。",
            ZoneInfo("Asia/Tokyo"),
            "2026-03-17T10:00:00Z",
            "2営業日以内に",
        ),
        (
            "Répondez dans les 5 jours ouvrables.",
            BERLIN,
            "2026-03-20T10:00:00Z",
            "dans les 5 jours ouvrables",
        ),
        (
            "Submit it by March 18, 2026 11:59 PM PST.",
            ZoneInfo("America/Los_Angeles"),
            "2026-03-19T07:59:00Z",
            "by March 18, 2026 11:59 PM PST",
        ),
        (
            "Reichen Sie die Unterlagen bis zum 18.03.2026 ein.",
            BERLIN,
            "2026-03-18T22:59:59Z",
            "bis zum 18.03.2026",
        ),
        (
            "Envoyez-les avant le 18 mars 2026.",
            BERLIN,
            "2026-03-18T22:59:59Z",
            "avant le 18 mars 2026",
        ),
        (
            "Envíelos antes del 18 de marzo de 2026.",
            BERLIN,
            "2026-03-18T22:59:59Z",
            "antes del 18 de marzo de 2026",
        ),
        (
            "请在北京时间2026年3月18日 18:00前完成。",
            UTC,
            "2026-03-18T10:00:00Z",
            "2026年3月18日 18:00前",
        ),
        (
            "by 11:59 PM PST on March 20, 2026",
            UTC,
            "2026-03-21T07:59:00Z",
            "11:59 PM PST on March 20, 2026",
        ),
    ],
)
def test_deadlines(text: str, zone: tzinfo, due: str, phrase: str) -> None:
    """GIVEN a notice sent Friday 2026-03-13 10:00 UTC with one deadline phrase
    WHEN its deadline is found
    THEN it is the stated moment in UTC (bare dates end 23:59:59 local) and the phrase is kept."""
    got_due, got_phrase = _due(text, zone)
    assert got_due == due
    assert got_phrase is not None and phrase.lower() in got_phrase.lower()


@pytest.mark.parametrize(
    "text",
    [
        "We will respond within 48 hours.",
        "You will receive a response within 2 business days.",
        "Funds may be held for up to 90 days.",
        "Order date: March 1, 2026. Complaint received on 10.03.2026.",
        "Orders must be shipped within 48 hours of payment.",
        "Book before March 31 to get 10% off your first shipment.",
        "复审结果将在5个工作日内通知您。",
        "The review usually completes within 5 business days.",
    ],
)
def test_non_deadlines(text: str) -> None:
    """GIVEN turnaround times, holds, order dates, rule windows and promotions
    WHEN deadlines are looked for
    THEN none is found."""
    assert _due(text) == (None, None)


def test_earliest_of_several_wins() -> None:
    """GIVEN two seller deadlines in one notice
    WHEN found
    THEN the earliest is the deadline."""
    due, phrase = _due("Reply within 7 days. Upload the invoice within 48 hours.")
    assert (due, phrase) == ("2026-03-15T10:00:00Z", "within 48 hours")


def test_effective_date_is_not_a_deadline() -> None:
    """GIVEN a rule change effective on a date
    WHEN deadlines are looked for
    THEN there is no deadline but an effective date."""
    found, effective = find_deadline(
        "", "The new fees take effect on April 15, 2026.", Context(SENT, BERLIN, False, False)
    )
    assert found is None and effective is not None and effective.date().isoformat() == "2026-04-15"


def test_business_days_skip_weekends_and_keep_local_time_across_dst() -> None:
    """GIVEN Friday 2026-03-27 10:00 CET, just before the switch to summer time
    WHEN 2 business days are added in Europe/Berlin
    THEN the result is Tuesday 10:00 local (CEST), i.e. 08:00 UTC."""
    start = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    assert add_business_days(start, 2, BERLIN).astimezone(UTC) == datetime(
        2026, 3, 31, 8, 0, tzinfo=UTC
    )


def test_numeric_dates_follow_the_marketplace_order() -> None:
    """GIVEN 04/05/2026 after "by"
    WHEN read for a US marketplace and for a European one
    THEN it is April 5 in the US and May 4 in Europe."""
    us = _due("Respond by 04/05/2026.", ZoneInfo("America/Los_Angeles"), month_first=True)[0]
    eu = _due("Respond by 04/05/2026.", BERLIN, month_first=False)[0]
    assert us == "2026-04-06T06:59:59Z" and eu == "2026-05-04T21:59:59Z"


def test_cst_depends_on_the_platform() -> None:
    """GIVEN "23:59 CST"
    WHEN read for a Chinese platform and for Walmart
    THEN it is China Standard Time for the first and US Central for the second."""
    text = "请于2026-03-20 23:59 CST前处理"
    china = _due(text, ZoneInfo("Asia/Shanghai"), china=True)[0]
    us = _due("Respond by 2026-03-20 23:59 CST.", ZoneInfo("America/Chicago"))[0]
    assert china == "2026-03-20T15:59:00Z" and us == "2026-03-21T05:59:00Z"
