"""Chat alerts: a short card per client webhook (Feishu/Lark, DingTalk, WeCom, Slack) at or
above the webhook's ``min_priority``, sent through the outbox like mail (retries, receipts =
HTTP status and answer, failure alerts). The card is archived unsigned when queued and signed
when sent (:func:`maild.outbound.webhooks.signed`); the row names the webhook as
``client#index``, so no URL or secret is ever stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from maild.archive import RawStore
from maild.config import Client
from maild.models import Case
from maild.outbound.outbox import new_message_id, queue
from maild.outbound.webhooks import card_payload
from maild.routing.compose import SummaryFacts


def queue_webhooks(session: Session, store: RawStore, client: Client, facts: SummaryFacts,
                   case: Case, now: datetime, actor: str) -> int:
    """Queue one card per webhook of ``client`` that wants ``facts.priority``; returns how many."""
    queued = 0
    for index, hook in enumerate(client.webhooks):
        if not hook.wants(facts.priority):
            continue
        card = card_payload(hook.kind, facts, language=client.languages[0], zone=client.zone,
                            now=now, secret=None)
        queue(session, store, kind=f"webhook:{hook.kind}", sender="maild",
              recipients=[f"{client.id}#{index}"], raw=card.body,
              message_id=new_message_id("maild@webhook.invalid", f"{case.ticket}.{hook.kind}"),
              now=now, case_id=case.id, actor=actor)
        queued += 1
    return queued
