"""Clocks and timers: every case's platform and SLA clocks, reminders and escalations that fire
once at the right moment (a controllable clock, never sleeps), survive a restart, and stop when
the case moves on or its clock moves."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maild.models import AuditEvent, Case, Clock, Outbound, Timer
from maild.routing.cases import set_state
from maild.routing.timer_step import TimerStep
from maild.stages import StepRunner
from tests.routing.test_route_and_send import Pipeline, notice, routing  # noqa: F401 (fixture)
from tests.support import SmtpSink

RECEIVED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # the Pipeline's clock at delivery


def timers(pipe: Pipeline) -> StepRunner:
    """A fresh timer runner on the pipeline's clock, as a restarted daemon would build it."""
    step = TimerStep(pipe.send_step.config, pipe.store, clock=lambda: pipe.now)
    return StepRunner(step, pipe.sessions, clock=lambda: pipe.now)


def fired(pipe: Pipeline) -> list[str]:
    with pipe.sessions() as session:
        return list(session.scalars(select(Timer.label).where(Timer.stage == "fired")
                                    .order_by(Timer.fired_at, Timer.id)))


def test_a_notice_gets_both_clocks_and_each_reminder_fires_once_at_its_moment(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:  # noqa: F811
    """GIVEN a complaint due in 72 hours for a standard-SLA client (first draft within 48 h)
    WHEN the clock passes each reminder's moment, with a restart in between THEN the advisors
    get each reminder exactly once, at its moment, and a breach escalates to the advisors."""
    routing.now = RECEIVED
    routing.deliver(notice("acme@inbox.advisor.example"))
    with routing.sessions() as session:
        clocks = {c.kind: c for c in session.scalars(select(Clock))}
        case = session.scalars(select(Case)).one()
    assert clocks["platform"].due_at == datetime(2026, 3, 13, 8, 0, tzinfo=UTC)  # Date: + 72 h
    assert clocks["sla"].due_at == RECEIVED + timedelta(hours=48)
    assert case.deadline == clocks["platform"].due_at
    smtp_sink.clear()

    moments = [(RECEIVED + timedelta(hours=23, minutes=59), []),
               (RECEIVED + timedelta(hours=24), ["50% of the SLA time"]),
               (RECEIVED + timedelta(hours=38, minutes=24), ["80% of the SLA time"]),
               (datetime(2026, 3, 12, 8, 0, tzinfo=UTC), ["24 h before the platform deadline"]),
               (RECEIVED + timedelta(hours=48), ["sla deadline breached"])]
    seen: list[str] = []
    for moment, expected in moments:
        routing.now = moment
        timers(routing).drain()  # a new runner each time: a restart changes nothing
        timers(routing).drain()
        seen += expected
        assert fired(routing) == seen, f"at {moment}"
    routing.runners[2].drain()
    kinds = sorted(row.kind for row in routing.outbound() if not row.kind.startswith("summary"))
    assert kinds == ["escalation", "reminder", "reminder", "reminder"]
    assert {rcpt for mail in smtp_sink.received for rcpt in mail.rcpt_tos} == {
        "anna@advisor.example"}
    subjects = [str(mail.content.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0])
                for mail in smtp_sink.received]
    assert any("Reminder:" in s for s in subjects) and any("ESCALATION:" in s for s in subjects)
    with routing.sessions() as session:
        assert session.scalars(select(Clock.breached_at).where(Clock.kind == "sla")).one()


def test_closing_the_case_cancels_its_timers_and_a_moved_deadline_replaces_them(
        routing: Pipeline) -> None:  # noqa: F811
    """GIVEN a case with pending timers WHEN a follow-up moves the platform deadline THEN the
    old platform timers are cancelled, new ones scheduled, and the history says so; WHEN the
    case is closed THEN nothing fires any more."""
    routing.now = RECEIVED
    routing.deliver(notice("acme@inbox.advisor.example", n=1))
    later = notice("acme@inbox.advisor.example", n=2).replace(b"within 72 hours",
                                                             b"within 24 hours")
    routing.now = RECEIVED + timedelta(hours=1)
    routing.deliver(later)
    with routing.sessions() as session:
        platform = session.scalars(select(Clock).where(Clock.kind == "platform")).one()
        moved = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "clock_moved")).all()
        cancelled = session.scalars(select(Timer).where(Timer.stage == "cancelled")).all()
    assert platform.due_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    assert platform.started_at == RECEIVED + timedelta(hours=1)  # it runs from the follow-up
    assert len(moved) == 1 and cancelled
    with routing.sessions() as session, session.begin():
        set_state(session, session.scalars(select(Case)).one(), "closed", "test")
    routing.now = RECEIVED + timedelta(days=10)
    timers(routing).drain()
    assert fired(routing) == []


def test_a_p0_case_escalates_at_once_to_escalate_to_and_the_advisors(
        routing: Pipeline, smtp_sink: SmtpSink) -> None:  # noqa: F811
    """GIVEN a suspension (P0) WHEN it is routed THEN an escalation fires at once."""
    suspension = notice("acme@inbox.advisor.example").replace(
        b"Rights owner complaint about your listing", b"Your selling privileges are removed"
    ).replace(b"We received a report from a rights owner that your listing",
              b"We have deactivated your selling account because your listing")
    routing.now = RECEIVED
    routing.deliver(suspension)
    with routing.sessions() as session:
        assert session.scalars(select(Case.priority)).one() == "P0"
    timers(routing).drain()
    routing.runners[2].drain()
    assert "P0: at once" in fired(routing)
    with routing.sessions() as session:
        escalations = session.scalars(select(Outbound).where(
            Outbound.kind == "escalation")).all()
    assert len(escalations) == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: one daemon per file
def test_two_timer_runners_fire_each_timer_once(routing: Pipeline) -> None:  # noqa: F811
    """GIVEN ten cases with due reminders WHEN two timer runners (two daemons) drain at once
    THEN every timer fired exactly once (on PostgreSQL the claim skips locked rows)."""
    routing.now = RECEIVED
    for n in range(10):
        routing.deliver(notice("acme@inbox.advisor.example", n=n + 1, complaint=f"77{n:04d}")
                        .replace(b"about your listing", f"about listing {n}".encode()))
    routing.now = RECEIVED + timedelta(hours=24)
    threads = [threading.Thread(target=timers(routing).drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with routing.sessions() as session:
        reminders = session.scalars(select(Outbound).where(Outbound.kind == "reminder")).all()
        fired_timers = session.scalars(select(Timer).where(Timer.stage == "fired")).all()
    with routing.sessions() as session:
        assert len(session.scalars(select(Case)).all()) == 10
    assert len(fired_timers) == 10 and len(reminders) == 10


def test_sla_tiers_and_reminder_moments_are_config(tmp_path: Path) -> None:
    """GIVEN a [sla.gold] tier of 8 service hours and a client on it with its own reminder
    moments WHEN loaded THEN the SLA clock counts 8 service hours and the timers are the
    client's; WHEN a moment is out of range or the tier unknown THEN the error names the key."""
    from maild.config import load_config
    from maild.routing.calendar import sla_due
    from maild.routing.clocks import plan_timers

    base = tmp_path / "maild.toml"
    client = ('[[client]]\nid = "acme"\nname = "Acme"\nlanguages = ["en"]\n'
              'timezone = "Asia/Shanghai"\ncalendar = "CN"\nhours = "09:00-21:00"\n'
              'decision_maker = "boss@acme.example"\nsummary_to = ["ops@acme.example"]\n'
              'advisors = ["anna@advisor.example"]\nsla = "gold"\n'
              'sla_reminders = [25, 75]\ndeadline_reminders = [48]\n\n'
              '[[client.store]]\nplatform = "amazon"\nname = "Acme"\n'
              'addresses = ["acme@inbox.advisor.example"]\n')
    base.write_text('[sla.gold]\nhours = 8\ncounted_in = "service"\n\n' + client)
    config = load_config(base)
    acme = config.clients[0]
    monday_8pm = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    due = sla_due(monday_8pm, acme, config.sla_tiers)
    assert due == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 1 h Monday + 7 h from 09:00 Tuesday
    labels = [t.label for t in plan_timers("sla", monday_8pm, due, monday_8pm, acme)]
    assert labels == ["25% of the SLA time", "75% of the SLA time", "sla deadline breached"]
    platform = [t.label for t in plan_timers("platform", monday_8pm, due + timedelta(days=5),
                                             monday_8pm, acme)]
    assert platform == ["48 h before the platform deadline", "platform deadline breached"]

    from maild.errors import ConfigError
    for text, key in (("sla_reminders = [25, 75]", "sla_reminders = [25, 120]"),
                      ('sla = "gold"', 'sla = "platinum"')):
        base.write_text('[sla.gold]\nhours = 8\ncounted_in = "service"\n\n'
                        + client.replace(text, key))
        with pytest.raises(ConfigError, match=r"client\[0\]\.(sla_reminders\[1\]|sla)"):
            load_config(base)


def test_a_notice_that_arrives_past_its_deadline_escalates_at_once(
        routing: Pipeline) -> None:  # noqa: F811
    """GIVEN a complaint whose 72-hour deadline passed before it reached maild (forwarded late)
    WHEN it is routed THEN the platform breach escalates at once, and no reminder for a moment
    already past is sent."""
    routing.now = RECEIVED + timedelta(days=10)
    routing.deliver(notice("acme@inbox.advisor.example"))
    timers(routing).drain()
    assert fired(routing) == ["platform deadline breached"]
