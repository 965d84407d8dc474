"""DESIGN §4.2's precedence rules: which category drives the seller's response.

`classify` scores every category; this module settles the cases where a notice is several
things at once, from the evidence of each category (is it in the subject? is a body phrase
stated outright, not hedged by "may", "if", "可能" ...?) and from kind cues read once per
notice (`Cues`):
- newsletters and articles that only mention lawsuits or suspensions are `other`;
- routine periodic reports that say nothing is wrong are `other` (a report that warns keeps its
  category);
- a suspension stated outright outranks the claims, holds, removals and warnings it brings;
- held funds, reserves and frozen settlements are `payment`, unless a court holds them (`legal`);
- a removal caused by a rights owner's report is `ip_complaint`;
- a listing already stopped until documents arrive is `listing_removed` (the documents are the
  remedy); documents asked for under a mere threat stay `verification_request`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """How strongly one category is present in a notice."""

    score: int
    in_subject: bool
    asserted: bool
    hold: bool = False


@dataclass(frozen=True)
class Cues:
    """What kind of mail this is, beyond its categories."""

    newsletter: bool
    routine_report: bool
    rights_owner: bool


SUSPENSION_OUTRANKS = frozenset(
    {
        "claim_dispute",
        "payment",
        "listing_removed",
        "policy_warning",
        "verification_request",
        "ip_complaint",
        "policy_update",
    }
)
PAYMENT_OUTRANKS = frozenset({"claim_dispute", "verification_request", "policy_warning"})
LEGAL_OUTRANKS = frozenset({"payment", "listing_removed", "suspension"})


def decide(best: str, found: dict[str, Evidence], cues: Cues) -> str:
    """The category of a notice whose best-scoring category is `best`."""
    chosen = found.get(best)
    if cues.newsletter and (chosen is None or not chosen.in_subject):
        return "other"
    if cues.routine_report and best != "appeal_decision":
        return "other"
    legal = found.get("legal")
    if best in LEGAL_OUTRANKS and legal is not None and (legal.asserted or legal.in_subject):
        return "legal"
    suspension = found.get("suspension")
    if (
        best in SUSPENSION_OUTRANKS
        and suspension is not None
        and suspension.asserted
        and (suspension.in_subject or chosen is None or not chosen.in_subject)
    ):
        return "suspension"
    payment = found.get("payment")
    if (
        best in PAYMENT_OUTRANKS
        and payment is not None
        and payment.asserted
        and payment.hold
        and not (chosen is not None and chosen.in_subject)
    ):
        return "payment"
    if best == "listing_removed" and "ip_complaint" in found and cues.rights_owner:
        return "ip_complaint"
    removal = found.get("listing_removed")
    if (
        best == "verification_request"
        and removal is not None
        and removal.asserted
        and (chosen is None or not chosen.in_subject)
    ):
        return "listing_removed"
    return best
