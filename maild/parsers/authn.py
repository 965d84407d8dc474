"""Sender authenticity from the receiving server's verdict (RFC 8601, RFC 8617 ARC).

Reads the topmost `Authentication-Results` header (the one our own receiving server added) and
the `ARC-Authentication-Results` a forwarder added, and answers: did DKIM pass for one of the
platform's genuine domains, and did DKIM or DMARC explicitly fail. Lenient about the syntax
variants in the wild (Microsoft omits the authserv-id, comments in parentheses, missing `;`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from maild.parsers import mime

_COMMENT = re.compile(r"\([^()]{0,500}\)")
_RESULT = re.compile(r"\b(dkim|dmarc|spf|arc)\s*=\s*([a-z]+)", re.I)
_PROPERTY = re.compile(
    r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom)\s*=\s*\"?([^\s;\"]+)", re.I
)
_FAILING = frozenset({"fail", "permerror", "softfail"})


@dataclass(frozen=True)
class AuthResult:
    """One method's verdict (`dkim=pass header.d=amazon.com`) from an Authentication-Results."""

    method: str
    result: str
    domain: str


def parse_results(value: str) -> list[AuthResult]:
    """The method verdicts of one Authentication-Results / ARC-Authentication-Results value."""
    text = _COMMENT.sub(" ", value[:8000])
    matches = list(_RESULT.finditer(text))
    results: list[AuthResult] = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        domain = ""
        for prop in _PROPERTY.finditer(text, match.end(), end):
            name, raw = prop.group(1).lower(), prop.group(2).lower().rstrip(".")
            if name in ("header.d", "header.from") or (name == "header.i" and not domain):
                domain = raw.rsplit("@", 1)[-1]
                if name == "header.d":
                    break
            elif name == "smtp.mailfrom" and not domain:
                domain = raw.rsplit("@", 1)[-1]
        results.append(AuthResult(match.group(1).lower(), match.group(2).lower(), domain))
    return results


def verdicts(message: Message) -> list[AuthResult]:
    """The topmost Authentication-Results plus every ARC-Authentication-Results, in that order."""
    found: list[AuthResult] = []
    topmost = mime.all_headers(message, "Authentication-Results")[:1]
    for value in topmost + mime.all_headers(message, "ARC-Authentication-Results"):
        found.extend(parse_results(value))
    return found


def in_domains(domain: str, genuine: tuple[str, ...]) -> bool:
    """True when `domain` is one of `genuine` or a subdomain of one."""
    domain = domain.lower().strip(".")
    return any(domain == good or domain.endswith("." + good) for good in genuine)


def dkim_passes_for(results: list[AuthResult], genuine: tuple[str, ...]) -> bool:
    """DKIM passed with a signing domain among the platform's genuine ones."""
    return any(
        r.method == "dkim" and r.result == "pass" and in_domains(r.domain, genuine) for r in results
    )


def explicitly_fails(results: list[AuthResult]) -> bool:
    """DKIM or DMARC says fail (or the receiver found no passing DKIM while checking DMARC)."""
    return any(
        (r.method in ("dkim", "dmarc") and r.result in _FAILING)
        or (r.method == "dkim" and r.result == "none")
        for r in results
    )
