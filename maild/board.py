"""The advisors' board: what needs a person now, across every client, read from the database.

Open cases with the nearest running deadline first (overdue ones on top) and the time left,
draft versions waiting for their decision-maker and for how long, escalations fired on open
cases, and the health of the mailboxes and the outbox. The page is rendered from
``templates/board/`` with the shared environment (words in zh and en, inline CSS, no outside
asset, a meta refresh), so it is read-only by construction: it has no form and no script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from maild.config import Config
from maild.config_http import HttpSettings
from maild.health import Check, DeskFacts, MailboxHealth, OutboxHealth, checks_of, desk_facts
from maild.models import Case, Clock, Message, Notice, Timer
from maild.routing.clocks import PLATFORM
from maild.routing.timer_step import CLOSED
from maild.stages import Stage
from maild.templating import environment

BOARD_CASES = 500  # more open cases than this: the nearest are shown, the rest counted
BOARD_ESCALATIONS = 50
DEFAULT_LANGUAGE = "en"  # advisors draft and act in English first


@dataclass(frozen=True)
class BoardCase:
    ticket: str
    client: str | None  # the client's name; None: matched no client
    store: str | None
    platform: str
    marketplace: str | None
    category: str
    priority: str
    state: str
    topic: str | None  # the subject of the case's latest notice
    due: datetime | None  # the nearest running clock
    clock: str | None  # which one: platform | sla
    zone: str  # the client's time zone, for the deadline's wall time


@dataclass(frozen=True)
class BoardApproval:
    ticket: str
    client: str | None
    version: int
    author: str
    decision_maker: str | None
    since: datetime


@dataclass(frozen=True)
class BoardEscalation:
    ticket: str
    client: str | None
    reason: str  # p0 | platform | sla | approval: what the templates word
    label: str
    fired_at: datetime


@dataclass(frozen=True)
class Board:
    now: datetime
    cases: tuple[BoardCase, ...]
    more_cases: int  # open cases beyond BOARD_CASES
    approvals: tuple[BoardApproval, ...]
    escalations: tuple[BoardEscalation, ...]
    mailboxes: tuple[MailboxHealth, ...]
    outbox: OutboxHealth
    checks: tuple[Check, ...]


def read_board(session: Session, config: Config, settings: HttpSettings, now: datetime,
               since: datetime) -> Board:
    facts = desk_facts(session, config, settings, now, since)
    cases = _open_cases(session, config)
    return Board(now=now, cases=tuple(cases[:BOARD_CASES]),
                 more_cases=max(0, len(cases) - BOARD_CASES),
                 approvals=_approvals(facts, config), escalations=_escalations(session, config),
                 mailboxes=facts.mailboxes, outbox=facts.outbox,
                 checks=checks_of(facts, settings))


def _client_name(config: Config, client_id: str | None) -> str | None:
    client = config.client(client_id) if client_id else None
    return client.name if client else client_id


def _open_cases(session: Session, config: Config) -> list[BoardCase]:
    """Every case not sent or closed, by its nearest running clock (a breached clock is still
    running: overdue first); cases with no running clock last, the oldest first."""
    cases = list(session.scalars(select(Case).where(Case.state.not_in(CLOSED))))
    ids = [case.id for case in cases]
    nearest: dict[int, Clock] = {}
    for clock in session.scalars(select(Clock).where(Clock.case_id.in_(ids),
                                                     Clock.stopped_at.is_(None))):
        if clock.case_id not in nearest or clock.due_at < nearest[clock.case_id].due_at:
            nearest[clock.case_id] = clock
    topics = dict(session.execute(select(Message.case_id, Notice.subject)
                                  .join(Notice, Notice.message_id == Message.id)
                                  .where(Message.case_id.in_(ids)).order_by(Message.id)).all())
    rows = []
    for case in cases:
        running = nearest.get(case.id)
        client = config.client(case.client_id) if case.client_id else None
        rows.append(BoardCase(
            ticket=case.ticket, client=_client_name(config, case.client_id),
            store=case.store_name, platform=case.platform, marketplace=case.marketplace,
            category=case.category, priority=case.priority, state=case.state,
            topic=topics.get(case.id), due=running.due_at if running else None,
            clock=running.kind if running else None,
            zone=client.timezone if client else "UTC"))
    opened = {case.ticket: case.opened_at for case in cases}
    rows.sort(key=lambda row: (row.due is None, row.due or opened[row.ticket], row.ticket))
    return rows


def _approvals(facts: DeskFacts, config: Config) -> tuple[BoardApproval, ...]:
    found = []
    for waiting in facts.approvals:
        client = config.client(waiting.client_id) if waiting.client_id else None
        found.append(BoardApproval(
            ticket=waiting.ticket, client=_client_name(config, waiting.client_id),
            version=waiting.version, author=waiting.author,
            decision_maker=client.decision_maker if client else None, since=waiting.since))
    return tuple(found)


def _escalations(session: Session, config: Config) -> tuple[BoardEscalation, ...]:
    """Escalations fired on cases still open, the newest first."""
    rows = session.execute(select(Timer, Case.ticket, Case.client_id)
                           .join(Case, Case.id == Timer.case_id)
                           .where(Timer.kind == "escalation", Timer.stage == Stage.FIRED,
                                  Case.state.not_in(CLOSED))
                           .order_by(Timer.fired_at.desc(), Timer.id.desc())
                           .limit(BOARD_ESCALATIONS))
    return tuple(BoardEscalation(
        ticket=ticket, client=_client_name(config, client_id), reason=_reason(timer),
        label=timer.label, fired_at=timer.fired_at or timer.due_at)
        for timer, ticket, client_id in rows)


def _reason(timer: Timer) -> str:
    if timer.clock == PLATFORM and timer.label.startswith("P0"):
        return "p0"  # clocks.py: a P0 case escalates at once
    return timer.clock


@cache
def board_languages() -> tuple[str, ...]:
    """Languages with a words file ``board/lang/<code>.j2``."""
    names = environment().list_templates(filter_func=lambda n: n.startswith("board/lang/"))
    return tuple(sorted(n.removeprefix("board/lang/").removesuffix(".j2") for n in names))


def board_language(asked: str | None, accept_language: str | None) -> str:
    """``?lang=`` when we have it, else the browser's first language we have (RFC 9110
    §12.5.4, q-values honoured), else English."""
    if asked is not None and asked in board_languages():
        return asked
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().split("-")[0].lower()))
    for quality, _position, language in sorted(ranked):
        if quality < 0 and language in board_languages():
            return language
    return DEFAULT_LANGUAGE


def render_board(board: Board, language: str, refresh_seconds: int) -> str:
    """The board page in ``language``, reloading itself every ``refresh_seconds``."""
    return environment().get_template("board/board.html.j2").render(
        board=board, lang=language, refresh=refresh_seconds, languages=board_languages())
