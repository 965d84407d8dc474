"""Announcement dates against act-by dates, and relative limits in claim notices (issue 12).

Sentences are new, one kind per test, several languages each: an effective date, a webinar, a
registration window, a statement period or a rule's scope is no deadline; the seller's act-by
date among them is; "N days to respond" counts from the notice's Date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from maild.parsers.deadlines import Context, find_deadline
from maild.parsers.notice import format_utc

SENT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKYO = ZoneInfo("Asia/Tokyo")


def _due(text: str, zone: tzinfo, *, china: bool = False) -> str | None:
    found, _effective = find_deadline("", text, Context(SENT, zone, zone is LA, china))
    return format_utc(found.due) if found else None


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        (
            "From 1 June 2026 all parcels must be delivered within three days. Join the live"
            " session on 20 May 2026; registration is open until 19 May 2026.",
            LA,
        ),
        (
            "The new rates apply to inventory received before April 30, 2026. The recording"
            " will be available until May 31, 2026.",
            LA,
        ),
        (
            "Ab dem 01.05.2026 gelten neue Versandregeln. Die Anmeldung zum Webinar ist bis zum"
            " 20.04.2026 offen.",
            BERLIN,
        ),
        ("Abrechnungszeitraum: 01.03.2026 bis 14.03.2026. Die Auszahlung folgt.", BERLIN),
        ("Statement period: March 1 – March 14, 2026.", LA),
        ("新规自2026年5月1日起生效，平台将于2026年4月20日举办线上说明会。", SHANGHAI),
        ("À partir du 1er juin 2026, les colis devront être livrés sous 3 jours.", BERLIN),
        ("Ab Juni 2026 müssen Bestellungen innerhalb von 2 Tagen zugestellt werden.", BERLIN),
        ("Desde junio de 2026 los pedidos deberán ser entregados en 3 días.", BERLIN),
        ("Da giugno 2026 gli ordini dovranno essere consegnati entro 3 giorni.", BERLIN),
    ],
)
def test_announcement_dates_are_not_deadlines(text: str, zone: tzinfo) -> None:
    """GIVEN effective dates, webinars, registration windows, periods and rule scopes
    WHEN the deadline is looked for
    THEN there is none."""
    assert _due(text, zone, china=zone is SHANGHAI) is None


@pytest.mark.parametrize(
    ("text", "effective"),
    [
        ("Dal 1° giugno 2026 cambieranno le tariffe.", "2026-06-01"),
        ("A partir del 1º de junio de 2026 cambiarán las tarifas.", "2026-06-01"),
        ("À compter du 1er juin 2026, les frais changent.", "2026-06-01"),
    ],
)
def test_effective_date_with_an_ordinal_day(text: str, effective: str) -> None:
    """GIVEN an announcement whose day is written as an ordinal (1°, 1º, 1er)
    WHEN read
    THEN that day is the effective date and no deadline."""
    found, moment = find_deadline("", text, Context(SENT, BERLIN, False, False))
    assert found is None
    assert moment is not None and moment.date().isoformat() == effective


@pytest.mark.parametrize(
    ("text", "zone", "due"),
    [
        (
            "Starting May 15, 2026 the fee changes. Our webinar is on April 2, 2026. To keep the"
            " current plan, opt in by April 10, 2026. Orders placed before May 15, 2026 keep"
            " today's fee.",
            LA,
            "2026-04-11T06:59:59Z",
        ),
        (
            "新规则自2026年5月1日起执行；4月8日14:00举办说明会；需要豁免的商家请于2026年4月15日前提交申请。",
            SHANGHAI,
            "2026-04-15T15:59:59Z",
        ),
    ],
)
def test_act_by_date_among_announcement_dates(text: str, zone: tzinfo, due: str) -> None:
    """GIVEN an announcement with an effective date, a webinar and a seller's act-by date
    WHEN the deadline is looked for
    THEN the act-by date wins."""
    assert _due(text, zone, china=zone is SHANGHAI) == due


@pytest.mark.parametrize(
    ("text", "zone", "days"),
    [
        ("Please respond in the next 5 calendar days from the claim page.", LA, 5),
        ("Send your response within 6 days from the A-to-z claims section.", LA, 6),
        ("Sie haben 4 Kalendertage Zeit, um zu antworten.", BERLIN, 4),
        ("Responda en un plazo de 6 días naturales.", BERLIN, 6),
        ("5日以内にご回答ください。", TOKYO, 5),
    ],
)
def test_claim_gives_days_to_respond(text: str, zone: tzinfo, days: int) -> None:
    """GIVEN a claim notice giving the seller N days to respond
    WHEN the deadline is looked for
    THEN it is the notice's Date plus N days."""
    assert _due(text, zone) == format_utc(SENT + timedelta(days=days))
