"""Reply tokens: a case's ticket signed into the Reply-To's local part (DESIGN §6, issue 8)."""

from __future__ import annotations

import re

import pytest

from maild.routing.matching import arrival_addresses
from maild.routing.tokens import (
    TokenClaim,
    make_token,
    read_token,
    reply_address,
    token_from_addresses,
)

SECRET = "correct horse battery staple"
TICKET = "MD-2026-000123"
TEMPLATE = "desk+{token}@advisor.example"


def test_round_trip_gives_the_ticket_and_scope() -> None:
    """GIVEN a token made for a ticket, for the case and for draft version 3
    WHEN each is read with the same secret
    THEN each claim gives the ticket and its own scope, and the token is a lower-case
    local-part piece of letters, digits and dashes, short enough for desk+ and a domain."""
    for scope in ("case", "v3"):
        token = make_token(SECRET, TICKET, scope)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", token)
        assert len(token) <= 40
        assert read_token(SECRET, token) == TokenClaim(ticket=TICKET, scope=scope)
    assert make_token(SECRET, TICKET) == make_token(SECRET, TICKET.lower(), "CASE")


def test_upper_cased_token_is_still_valid() -> None:
    """GIVEN a token that a server or client upper-cased (local parts are not case-kept)
    WHEN read THEN it is genuine."""
    token = make_token(SECRET, TICKET)
    assert read_token(SECRET, token.upper()) == TokenClaim(TICKET, "case")


def test_forged_mac_is_refused() -> None:
    """GIVEN a genuine token with one character of its MAC changed WHEN read THEN None."""
    token = make_token(SECRET, TICKET)
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert read_token(SECRET, forged) is None


def test_other_secret_is_refused() -> None:
    """GIVEN a token made with another secret WHEN read THEN None; an empty secret reads
    nothing."""
    token = make_token("another secret", TICKET)
    assert read_token(SECRET, token) is None
    assert read_token("", make_token(SECRET, TICKET)) is None


def test_altered_ticket_or_scope_is_refused() -> None:
    """GIVEN a genuine token whose ticket (another case) or scope (another draft) is changed
    while its MAC is kept WHEN read THEN None."""
    token = make_token(SECRET, TICKET, "v3")
    assert read_token(SECRET, token.replace("000123", "000124")) is None
    assert read_token(SECRET, token.replace("-v3-", "-v4-")) is None
    assert read_token(SECRET, token.replace("-v3-", "-case-")) is None


@pytest.mark.parametrize("garbled", ["", "md-2026-000123", "md-2026-000123-case-",
                                     "md-2026-000123-case-abcdefghijklmnop0",
                                     "md-2026-000123-case-abcdefghijklmno1",
                                     "md--2026-case-abcdefghijklmnop", "../../etc/passwd"])
def test_garbled_tokens_are_refused(garbled: str) -> None:
    """GIVEN text that is not a token's shape WHEN read THEN None, never an exception."""
    assert read_token(SECRET, garbled) is None


def test_bad_inputs_to_make_token_are_errors() -> None:
    """GIVEN an empty secret, a ticket or scope that cannot live in a local part
    WHEN a token is made THEN ValueError (a programming or config error, not a token)."""
    for secret, ticket, scope in (("", TICKET, "case"), (SECRET, "MD 2026", "case"),
                                  (SECRET, "MD+1", "case"), (SECRET, TICKET, "v-3")):
        with pytest.raises(ValueError):
            make_token(secret, ticket, scope)


def test_reply_address_fills_the_template() -> None:
    """GIVEN the configured template (bare or with a display name) WHEN filled
    THEN the token stands where {token} was; a local part past 64 characters is an error, and
    so is a template without {token} (the config refuses one at load:
    tests/test_config_clients.py)."""
    token = make_token(SECRET, TICKET)
    assert reply_address(TEMPLATE, token) == f"desk+{token}@advisor.example"
    assert (reply_address("Advisor Desk <desk+{token}@advisor.example>", token)
            == f"Advisor Desk <desk+{token}@advisor.example>")
    with pytest.raises(ValueError, match="longer than 64"):
        reply_address(TEMPLATE, make_token(SECRET, "MD-2026-" + "1" * 30))
    with pytest.raises(ValueError, match="must hold"):
        reply_address("desk@advisor.example", token)


def test_token_is_found_among_the_addresses_a_reply_arrived_through() -> None:
    """GIVEN an advisor's reply that went to the tokenised address (upper-cased by a client)
    besides other recipients
    WHEN the token is looked for among its arrival addresses
    THEN it is found and reads back as the case's claim; addresses of another shape give
    None."""
    token = make_token(SECRET, TICKET)
    raw = (f"From: Anna <anna@advisor.example>\r\nTo: Acme Ops <ops@acme.example>\r\n"
           f"Cc: Desk <DESK+{token.upper()}@Advisor.Example>\r\n"
           "Delivered-To: desk@advisor.example\r\nSubject: Re: case\r\n\r\nDraft below.\r\n"
           ).encode()
    found = token_from_addresses(TEMPLATE, arrival_addresses(raw))
    assert found == token
    assert read_token(SECRET, found) == TokenClaim(TICKET, "case")
    assert token_from_addresses("Desk <desk+{token}@advisor.example>", [f"desk+{token}@"
                                                                       "advisor.example"])
    for others in (["desk@advisor.example"], [f"desk+{token}@elsewhere.example"],
                   [f"other+{token}@advisor.example"], ["desk+not_a_token@advisor.example"]):
        assert token_from_addresses(TEMPLATE, others) is None
