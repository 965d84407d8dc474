"""Threading keys: subjects, tickets, platform case ids and References (issue 8 "Cases")."""

from __future__ import annotations

import pytest

from maild.routing.threads import (
    normalise_message_id,
    normalise_subject,
    references_of,
    thread_keys,
    ticket_in,
    window_keys,
)

TOPIC = "Your listing was removed"


@pytest.mark.parametrize("subject", [
    "Your listing was removed",
    "  your   LISTING was removed ",
    "Re: Your listing was removed",
    "RE: Fwd: FW: Your listing was removed",
    "AW: WG: Your listing was removed",
    "SV: VS: Your listing was removed",
    "Rif: I: Enc: TR: RV: Your listing was removed",
    "回复：转发: Your listing was removed",
    "回覆: 答复：Your listing was removed",
    "Re[2]: Re(3): Your listing was removed",
    "Re: [Fwd: Your listing was removed]",
    "[P1][Amazon.de][IP complaint] Your listing was removed — due 2026-03-15 (MD-2026-000123)",
    "Re: [P0][Amazon.co.uk][Suspension] Your listing was removed (MD-2026-000123)",
    "AW: Re: [P2][eBay][Claim] Your listing was removed - due 2026-04-01 (md-2026-000123)",
    "[URGENT-MD-2026-000123] Your listing was removed",
    "Re: [URGENT-MD-2026-000123] 【URGENT】 Your listing was removed",
    "[URGENT] Your listing was removed",
    "[MD-2026-000123] Re: Your listing was removed",
    "[P1][Amazon.de][IP complaint] Update: Your listing was removed (MD-2026-000123)",
])
def test_subjects_of_one_thread_normalise_alike(subject: str) -> None:
    """GIVEN a notice's subject as a reply, a forward (in the languages sellers' and advisors'
    clients write), a maild summary or an URGENT ticket acknowledgement
    WHEN normalised THEN it is the original topic, case-folded."""
    assert normalise_subject(subject) == TOPIC.casefold()


@pytest.mark.parametrize(("subject", "expected"), [
    ("Reinstatement of your account", "reinstatement of your account"),
    ("Fwd-ing guide", "fwd-ing guide"),
    ("[Action required] Verify your identity", "[action required] verify your identity"),
    ("Order 123 (shipped)", "order 123 (shipped)"),
    ("Re:", ""),
    ("[P3][Amazon][Other] (no subject) (MD-2026-000123)", ""),
    ("Straße", "strasse"),
])
def test_normalising_keeps_what_is_not_a_prefix_or_maild_tag(subject: str, expected: str) -> None:
    """GIVEN subjects that begin like a prefix but are not one, carry a tag that is not
    maild's, or are nothing but a prefix WHEN normalised THEN only prefixes and maild's marks
    go (an empty result is no key)."""
    assert normalise_subject(subject) == expected


@pytest.mark.parametrize(("subject", "ticket"), [
    ("[P1][Amazon.de][IP complaint] Topic — due 2026-03-15 (MD-2026-000123)", "MD-2026-000123"),
    ("Re: [URGENT-MD-2026-004567] store down", "MD-2026-004567"),
    ("re: (md-2027-1234567) lower case", "MD-2027-1234567"),
    ("MD-2026-12345 has five digits", None),
    ("XMD-2026-000123 is part of a word", None),
    ("no ticket here", None),
])
def test_ticket_in_subject(subject: str, ticket: str | None) -> None:
    """GIVEN subjects with and without a ticket number WHEN looked at THEN the ticket, upper
    case, or None."""
    assert ticket_in(subject) == ticket


def test_thread_keys_are_platform_case_and_complaint_ids() -> None:
    """GIVEN a notice's identifiers of every kind WHEN its thread keys are taken
    THEN only case and complaint ids are keys, without spaces and in upper case; orders,
    ASINs, items and SKUs are window keys (with the category, within a window)."""
    identifiers = {"asin": ["B0CT5P8MW2"], "order_id": ["026-7718293-4456120"],
                   "case_id": ["cs 1234567", ""], "item_id": ["405123456789"],
                   "sku": ["uk-kettle"], "complaint_id": ["2290475813"]}
    assert thread_keys(identifiers) == {("case_id", "CS1234567"),
                                        ("complaint_id", "2290475813")}
    assert window_keys(identifiers) == {("asin", "B0CT5P8MW2"),
                                        ("order_id", "026-7718293-4456120"),
                                        ("item_id", "405123456789"), ("sku", "UK-KETTLE")}
    assert thread_keys({}) == set()


def test_references_and_in_reply_to() -> None:
    """GIVEN a reply whose References are folded over lines with a repeat and whose
    In-Reply-To adds a comment and one more id
    WHEN its references are read
    THEN each Message-ID appears once, bracketed, References first (oldest first)."""
    raw = (b"From: anna@advisor.example\r\nSubject: Re: x\r\n"
           b"References: <a1@amazon.de>\r\n <b2@maild.example>\r\n\t<a1@amazon.de>\r\n"
           b"In-Reply-To: <c3@acme.example> (Li Wei's message of Mon)\r\n"
           b"In-Reply-To: <b2@maild.example>\r\n\r\nbody <d4@not.a.header>\r\n")
    assert references_of(raw) == ["<a1@amazon.de>", "<b2@maild.example>", "<c3@acme.example>"]


def test_references_without_brackets_and_none() -> None:
    """GIVEN an In-Reply-To written without angle brackets, and a message with neither header
    WHEN read THEN the bare id is bracketed; no headers give no references."""
    assert references_of(b"In-Reply-To: c3@acme.example\r\n\r\n") == ["<c3@acme.example>"]
    assert references_of(b"Subject: new\r\n\r\nhello\r\n") == []
    assert normalise_message_id(" <x@y> ") == "<x@y>"
    assert normalise_message_id("x@y") == "<x@y>"
    assert normalise_message_id("") is None
