"""Sending the monthly report: to the client's decision-maker and summary recipients, through
the outbox, once per client and month.

Each client's report of a month is a :class:`maild.models.ReportRun` row, due on the 1st of
the next month at ``REPORT_AT`` in the client's zone (by then the night's last mail of the month
has been worked). The report step claims due rows like any step (``SKIP LOCKED`` in a fleet),
plans the next month's row and queues the report; rows for the running month are planned
whenever the step is built (daemon start, config reload), so a new client gets its first report
at the end of its first month. ``maild report --send`` goes through the
same row, so a report sent by hand is not sent again by the schedule; it is also how a row that
failed (its error kept on the row, e.g. a recipient over the rate limit) is sent after all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, ClassVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from maild.archive import RawStore
from maild.audit import AuditLog
from maild.config import Client, Config
from maild.config_table import plain_of
from maild.errors import MaildError
from maild.models import Outbound, ReportRun
from maild.outbound.outbox import new_message_id, queue
from maild.report import Month, monthly_report
from maild.report_render import compose_report
from maild.stages import Stage

log = logging.getLogger("maild.report")

ACTOR = "maild:report"
KIND = "report"
REPORT_AT = time(8, 0)  # on the 1st, in the client's zone


class ReportAlreadySent(MaildError):
    """The client's report of that month was queued before (``--again`` sends it once more)."""


def report_recipients(client: Client) -> tuple[str, ...]:
    """The decision-maker and the summary recipients, each address once."""
    seen: dict[str, str] = {}
    for address in (client.decision_maker, *client.summary_recipients):
        seen.setdefault((plain_of(address) or address).lower(), address)
    return tuple(seen.values())


def due_time(client: Client, month: Month) -> datetime:
    """When ``month``'s report of ``client`` goes out: the next 1st at ``REPORT_AT``, local."""
    first = month.next()
    return datetime(first.year, first.month, 1, REPORT_AT.hour, REPORT_AT.minute,
                    tzinfo=client.zone).astimezone(UTC)


@dataclass(frozen=True)
class ReportMail:
    """A composed report mail, ready to queue."""

    client_id: str
    month: Month
    sender: str
    recipients: tuple[str, ...]
    message_id: str
    raw: bytes
    complete: bool


def report_mail(session: Session, config: Config, client: Client, month: Month,
                now: datetime) -> ReportMail:
    """``client``'s report of ``month`` as the database stands at ``now``, as a mail from
    maild's ``[smtp] from`` to the decision-maker and the summary recipients."""
    smtp = config.smtp
    if smtp is None:
        raise MaildError("no [smtp] in the config: a report mail cannot be sent")
    report = monthly_report(session, client, month, now)
    recipients = report_recipients(client)
    message_id = new_message_id(smtp.from_address, f"report.{client.id}.{month}")
    raw = compose_report(report, from_address=smtp.from_address, to=recipients,
                         message_id=message_id, now=now)
    return ReportMail(client.id, month, smtp.from_address, recipients, message_id, raw,
                      report.complete)


def queue_mail(session: Session, store: RawStore, config: Config, mail: ReportMail,
               now: datetime, *, actor: str = ACTOR) -> Outbound:
    """Queue a composed report (kind ``report``) in the caller's transaction, audited as
    ``report_queued``."""
    limit = config.smtp.rate_limit_per_hour if config.smtp is not None else None
    row = queue(session, store, kind=KIND, sender=mail.sender, recipients=mail.recipients,
                raw=mail.raw, message_id=mail.message_id, now=now, actor=actor, limit=limit)
    AuditLog(session).record(actor, "report_queued", f"{mail.client_id} {mail.month}",
                             outbound=row.id, to=list(mail.recipients), complete=mail.complete)
    log.info("report client=%s month=%s queued outbound=%d to=%s", mail.client_id, mail.month,
             row.id, ",".join(mail.recipients))
    return row


def queue_report(session: Session, store: RawStore, config: Config, client: Client,
                 month: Month, now: datetime, *, actor: str = ACTOR) -> Outbound:
    """Compute, compose and queue ``client``'s report of ``month`` in the caller's
    transaction."""
    return queue_mail(session, store, config, report_mail(session, config, client, month, now),
                      now, actor=actor)


def plan(session: Session, client: Client, month: Month, now: datetime) -> ReportRun:
    """The row of ``client``'s report of ``month``, added when missing (a daemon planning the
    same row at the same time is harmless: the row is unique per client and month)."""
    query = select(ReportRun).where(ReportRun.client_id == client.id,
                                    ReportRun.month == str(month))
    row = session.scalars(query.with_for_update()).first()
    if row is None:
        try:
            with session.begin_nested():
                row = ReportRun(client_id=client.id, month=str(month),
                                due_at=due_time(client, month), stage=Stage.SCHEDULED.value,
                                attempts=0, created_at=now)
                session.add(row)
        except IntegrityError:  # planned by another daemon meanwhile
            row = session.scalars(query.with_for_update()).one()
    return row


def send_report(session: Session, store: RawStore, config: Config, client: Client,
                month: Month, now: datetime, *, again: bool = False,
                actor: str = ACTOR) -> Outbound:
    """Queue the report now (``maild report --send``). A month that has ended is marked done,
    so the schedule does not send it again (and the running month's row is planned, which the
    schedule would have done); raises :class:`ReportAlreadySent` for a month already queued,
    unless ``again``. A month still running is sent as it stands and stays scheduled: its
    final report goes out on the 1st."""
    if now < month.end(client.zone):
        return queue_report(session, store, config, client, month, now, actor=actor)
    row = plan(session, client, month, now)
    if row.stage == Stage.FIRED and not again:
        raise ReportAlreadySent(f"the {month} report of {client.id} was queued before "
                                f"(outbound {row.outbound_id}); use --again to send it again")
    sent = queue_report(session, store, config, client, month, now, actor=actor)
    row.stage, row.outbound_id, row.error = Stage.FIRED.value, sent.id, None
    plan(session, client, Month.of(now, client.zone), now)
    return sent


class ReportStep:
    """Queues each client's monthly report when its row is due."""

    name: ClassVar[str] = "report"
    takes: ClassVar[Stage] = Stage.SCHEDULED
    failed: ClassVar[Stage] = Stage.FAILED
    working: ClassVar[Stage | None] = None
    wakes: ClassVar[tuple[Stage, ...]] = (Stage.QUEUED,)

    def __init__(self, config: Config, store: RawStore, sessions: sessionmaker[Session],
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.sessions = sessions
        self.clock = clock or (lambda: datetime.now(UTC))
        now = self.clock()
        with sessions.begin() as session:
            for client in config.clients:
                plan(session, client, Month.of(now, client.zone), now)

    def claim(self, now: datetime) -> Select[Any]:
        return (select(ReportRun).where(ReportRun.stage == Stage.SCHEDULED,
                                        ReportRun.due_at <= now)
                .order_by(ReportRun.due_at, ReportRun.id))

    def next_due(self, session: Session) -> datetime | None:
        return session.scalar(select(func.min(ReportRun.due_at))
                              .where(ReportRun.stage == Stage.SCHEDULED))

    def prepare(self, row: ReportRun) -> ReportMail | None:
        """Plan the next month's row first, in a transaction of its own, so that a month whose
        report fails does not stop the months after it; then read and compose the report in a
        session of its own, before the write lock is taken (drawing the charts takes a
        moment). None when it cannot go out any more."""
        client = self.config.client(row.client_id)
        if client is None:
            return None
        month = Month.parse(row.month)
        with self.sessions.begin() as session:
            plan(session, client, month.next(), self.clock())
        if self.config.smtp is None:
            return None
        with self.sessions() as session:
            return report_mail(session, self.config, client, month, self.clock())

    def reset(self, session: Session, row: Any) -> None:
        """Nothing to undo."""

    def apply(self, session: Session, row: ReportRun, mail: ReportMail | None) -> Stage:
        client = self.config.client(row.client_id)
        if client is None or mail is None:
            AuditLog(session).record(ACTOR, "report_dropped", f"{row.client_id} {row.month}",
                                     reason="client no longer configured" if client is None
                                     else "no [smtp] configured")
            return Stage.CANCELLED
        row.outbound_id = queue_mail(session, self.store, self.config, mail, self.clock()).id
        return Stage.FIRED
