"""Business-calendar arithmetic: service hours on a client's business calendar (issue 9).

China's 2026 Spring Festival as chinese_calendar 1.11.0 carries it (the State Council's
arrangement for 2026): days off Sunday 15 to Monday 23 February; make-up working days Saturday
14 February and Saturday 28 February. Germany changes to summer time on Sunday 29 March 2026
(CET +01 -> CEST +02) and back on Sunday 25 October 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maild.config_clients import Client, ServiceHours
from maild.routing.calendar import (
    SlaTier,
    add_business_days,
    add_service_time,
    is_business_day,
    sla_due,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_NINE = ServiceHours(9 * 60, 21 * 60)  # 09:00-21:00 on business days
SEVEN_BY_TWELVE = ServiceHours(9 * 60, 21 * 60, "every")
NINE_TO_SIX = ServiceHours(9 * 60, 18 * 60)


def client(sla: str, *, timezone: str = "Asia/Shanghai", calendar: str = "CN",
           hours: ServiceHours = NINE_TO_NINE) -> Client:
    return Client(id="acme", name="Acme Lighting", languages=("zh", "en"), timezone=timezone,
                  calendar=calendar, hours=hours, decision_maker="li.wei@acme.example",
                  summary_to=("ops@acme.example",), advisors=("anna@advisor.example",),
                  stores=(), sla=sla)


def shanghai(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_spring_festival_2026_holidays_and_make_up_working_days() -> None:
    """GIVEN China's 2026 Spring Festival arrangement
    WHEN each day around it is asked for
    THEN the two make-up Saturdays are business days, the nine days off (weekdays included) are
    not, and an ordinary weekend is not."""
    assert is_business_day(date(2026, 2, 13), "CN")  # Friday before
    assert is_business_day(date(2026, 2, 14), "CN")  # Saturday, make-up working day
    for day in range(15, 24):
        assert not is_business_day(date(2026, 2, day), "CN"), f"2026-02-{day} is a day off"
    assert is_business_day(date(2026, 2, 24), "CN")  # Tuesday, back at work
    assert is_business_day(date(2026, 2, 28), "CN")  # Saturday, make-up working day
    assert not is_business_day(date(2026, 3, 1), "CN")  # Sunday
    assert not is_business_day(date(2026, 3, 7), "CN")  # an ordinary Saturday


def test_expedited_sla_from_friday_evening_before_spring_festival_runs_into_make_up_saturday(
) -> None:
    """GIVEN an expedited client (4 service hours, 09:00-21:00 on China's business days)
    WHEN a notice arrives on Friday 13 February 2026 at 19:00, the evening before the holiday
    THEN 2 hours count on Friday and 2 on Saturday 14 February, a make-up working day:
    due Saturday 11:00 Shanghai; and a notice on that Saturday at 20:00 (1 hour left that day)
    is due after the nine days off, Tuesday 24 February 12:00."""
    assert sla_due(shanghai(2026, 2, 13, 19, 0), client("expedited")) == datetime(
        2026, 2, 14, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    assert sla_due(shanghai(2026, 2, 14, 20, 0), client("expedited")) == datetime(
        2026, 2, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_business_days_across_spring_festival() -> None:
    """GIVEN Friday 13 February 2026 in Shanghai
    WHEN 3 business days are added THEN they are Saturday 14 (make-up), Tuesday 24 and
    Wednesday 25 February, and the deadline is the end of Wednesday: midnight in Shanghai."""
    due = add_business_days(shanghai(2026, 2, 13, 10, 0), 3, zone=SHANGHAI, country="CN",
                            subdivision=None)
    assert due == datetime(2026, 2, 25, 16, 0, tzinfo=UTC)
    assert due.astimezone(SHANGHAI) == shanghai(2026, 2, 26, 0, 0)


def test_service_time_skips_an_ordinary_weekend() -> None:
    """GIVEN 09:00-21:00 on business days in Shanghai
    WHEN 4 service hours start on Friday 6 March 2026 at 20:00
    THEN 1 hour counts on Friday and 3 on Monday 9 March: due 12:00 Shanghai."""
    due = add_service_time(shanghai(2026, 3, 6, 20, 0), timedelta(hours=4), zone=SHANGHAI,
                           hours=NINE_TO_NINE, country="CN", subdivision=None)
    assert due == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)


def test_a_start_outside_service_hours_begins_at_the_next_opening() -> None:
    """GIVEN 09:00-21:00 on business days in Shanghai
    WHEN time is counted from Tuesday 10 March 2026 at 22:00 (after closing)
    THEN nothing counts before Wednesday's 09:00 opening: no time gives 09:00 and 4 hours give
    13:00; and 4 hours from 17:00 end at the 21:00 closing itself, not the next opening."""
    def plus(start: datetime, hours: int) -> datetime:
        return add_service_time(start, timedelta(hours=hours), zone=SHANGHAI,
                                hours=NINE_TO_NINE, country="CN", subdivision=None)

    assert plus(shanghai(2026, 3, 10, 22, 0), 0) == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)
    assert plus(shanghai(2026, 3, 10, 22, 0), 4) == datetime(2026, 3, 11, 5, 0, tzinfo=UTC)
    assert plus(shanghai(2026, 3, 11, 7, 30), 1) == datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    assert plus(shanghai(2026, 3, 10, 17, 0), 4) == datetime(2026, 3, 10, 13, 0, tzinfo=UTC)


def test_service_hours_are_german_wall_clock_hours_across_the_march_change() -> None:
    """GIVEN a German store served 09:00-18:00 on German business days
    WHEN 4 service hours start on Friday 27 March 2026 at 16:00 CET (+01)
    THEN 2 hours count on Friday and the other 2 from Monday's 09:00 opening, now CEST (+02):
    due Monday 30 March 11:00 local, 09:00 UTC (not 10:00, Friday's offset)."""
    due = add_service_time(berlin(2026, 3, 27, 16, 0), timedelta(hours=4), zone=BERLIN,
                           hours=NINE_TO_SIX, country="DE", subdivision=None)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 11


def test_service_hours_are_german_wall_clock_hours_across_the_october_change() -> None:
    """GIVEN the same German store
    WHEN 4 service hours start on Friday 23 October 2026 at 16:00 CEST (+02)
    THEN Monday 26 October opens at 09:00 CET (+01): due 11:00 local, 10:00 UTC."""
    due = add_service_time(berlin(2026, 10, 23, 16, 0), timedelta(hours=4), zone=BERLIN,
                           hours=NINE_TO_SIX, country="DE", subdivision=None)
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 11


def test_standard_sla_is_48_elapsed_hours_across_the_change_to_summer_time() -> None:
    """GIVEN a standard-SLA German client (48 calendar hours)
    WHEN a notice arrives on Saturday 28 March 2026 at 12:00 CET
    THEN it is due 48 real hours later, nights and the weekend included: Monday 30 March
    11:00 UTC, 13:00 on the summer-time wall clock."""
    german = client("standard", timezone="Europe/Berlin", calendar="DE", hours=NINE_TO_SIX)
    due = sla_due(berlin(2026, 3, 28, 12, 0), german)
    assert due == datetime(2026, 3, 30, 11, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN) == berlin(2026, 3, 30, 13, 0)


def test_a_round_the_clock_window_holds_23_hours_on_the_day_clocks_go_forward() -> None:
    """GIVEN a 00:00-24:00 window every day in Berlin
    WHEN 24 service hours start at midnight beginning Sunday 29 March 2026
    THEN that day holds only 23 hours, so the last hour falls on Monday: 01:00 CEST."""
    always = ServiceHours(0, 24 * 60, "every")
    due = add_service_time(berlin(2026, 3, 29, 0, 0), timedelta(hours=24), zone=BERLIN,
                           hours=always, country="DE", subdivision=None)
    assert due.astimezone(BERLIN) == berlin(2026, 3, 30, 1, 0)


def test_a_seven_by_twelve_window_counts_weekends_and_holidays() -> None:
    """GIVEN a 7x12 service (09:00-21:00 every day) in Shanghai
    WHEN 4 service hours start on Saturday 7 March 2026 at 20:00, and on Monday 16 February
    2026 (Spring Festival) at 20:00
    THEN the rest is counted on Sunday 8 March and on the holiday Tuesday 17 February: 12:00."""
    expedited_7x12 = client("expedited", hours=SEVEN_BY_TWELVE)
    assert sla_due(shanghai(2026, 3, 7, 20, 0), expedited_7x12) == datetime(
        2026, 3, 8, 4, 0, tzinfo=UTC)
    assert sla_due(shanghai(2026, 2, 16, 20, 0), expedited_7x12) == datetime(
        2026, 2, 17, 4, 0, tzinfo=UTC)


def test_tiers_are_data() -> None:
    """GIVEN a tier table where standard means 8 service hours
    WHEN a standard client's notice arrives on Friday 6 March 2026 at 17:00 in Shanghai
    THEN 4 hours count on Friday and 4 on Monday: 13:00; a tier missing from the table is an
    error naming it."""
    tiers = {"standard": SlaTier(timedelta(hours=8), "service")}
    assert sla_due(shanghai(2026, 3, 6, 17, 0), client("standard"), tiers) == datetime(
        2026, 3, 9, 5, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="'expedited'"):
        sla_due(shanghai(2026, 3, 6, 17, 0), client("expedited"), tiers)


def test_weekends_and_subdivisions_follow_the_country() -> None:
    """GIVEN Saudi Arabia (weekend Friday-Saturday) and Bavaria (Corpus Christi)
    WHEN days are asked for THEN Friday 6 March 2026 is off and Sunday 8 March a business day
    in Saudi Arabia; Thursday 4 June 2026 is off in Bavaria, a business day in Germany."""
    assert not is_business_day(date(2026, 3, 6), "SA")
    assert is_business_day(date(2026, 3, 8), "SA")
    assert not is_business_day(date(2026, 6, 4), "DE", "BY")
    assert is_business_day(date(2026, 6, 4), "DE")


def test_china_after_the_published_years_falls_back_to_holidays() -> None:
    """GIVEN a year chinese_calendar has no data for (2027)
    WHEN a day in it is asked for THEN holidays answers: Monday 8 February 2027 (Spring
    Festival) is off, Monday 1 March 2027 is a business day, and nothing raises."""
    assert not is_business_day(date(2027, 2, 8), "CN")
    assert is_business_day(date(2027, 3, 1), "CN")


def test_naive_instants_are_refused() -> None:
    """GIVEN a naive datetime WHEN time is added to it THEN a ValueError says it is naive
    (a naive time has no zone to count service hours in)."""
    with pytest.raises(ValueError, match="naive"):
        add_service_time(datetime(2026, 3, 6, 20, 0), timedelta(hours=1), zone=SHANGHAI,
                         hours=NINE_TO_NINE, country="CN", subdivision=None)
