"""Play the advisor in the demo: answer one case's summary with a draft for the platform.

In production an advisor answers a summary from their mail client and the answer reaches the
``replies`` mailbox through the summary's tokenised Reply-To. The demo has no mail client and no
server, so this script does the same with files: it reads the advisor's summaries that the demo
"sent" into ``var/demo/outbox/<advisor>/new``, picks one whose platform reply would not be
blocked (an Amazon buyer message first: a plain answer to a buyer breaks no platform rule),
and delivers the answer into the demo's replies Maildir ``var/demo/replies`` the Maildir way
(written in ``tmp/``, renamed into ``new/``). It is laid out as Gmail writes it: the new text,
a ``-- `` signature, an attribution line and the quoted summary; maild keeps only the new text.

Run with the project's interpreter (``.venv/bin/python scripts/demo_advisor_reply.py``); the
next ``maild run`` turns the answer into draft v1 and sends the approval request. Prints the
case's ticket on stdout (what happened on stderr); exit code 1 when no summary can be answered.
"""

from __future__ import annotations

import argparse
import email
import mailbox
import sys
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, localtime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADVISOR = "anna@advisor.example"
SIGNATURE = "Anna\nDemo Advisor Desk"
DRAFT = (
    "Dear customer,\n\n"
    "thank you for your message. We have checked your order with the carrier: the parcel is "
    "on its way and should reach you within the next few days. We will keep you updated "
    "here.\n\n"
    "Kind regards,\n"
    "Example Shop"
)


@dataclass(frozen=True)
class Summary:
    """An advisor's summary that can be answered: it names its case and has a Reply-To."""

    path: Path
    message: EmailMessage
    ticket: str
    reply_to: str

    def preference(self) -> tuple[bool, bool]:
        """Buyer messages first (a plain answer breaks no platform rule), Amazon next."""
        subject = str(self.message["Subject"] or "")
        platform = str(self.message["X-Maild-Platform"] or "").strip().lower()
        return "[Buyer message]" in subject, platform == "amazon"


def read_summary(path: Path) -> Summary | None:
    """The summary in ``path``, or None for mail without a reply path (an escalation, a
    phishing suspect's summary) or without a case."""
    with path.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage objects
    ticket = str(message["X-Maild-Case"] or "").strip()
    addresses = [address for _name, address in getaddresses([str(message["Reply-To"] or "")])
                 if address]
    if not ticket or not addresses:
        return None
    return Summary(path=path, message=message, ticket=ticket, reply_to=addresses[0])


def pick_summary(outbox: Path, advisor: str) -> Summary | None:
    """The advisor's best summary to answer; the oldest file wins among equals."""
    folder = outbox / advisor
    paths = sorted(p for sub in ("new", "cur") if (folder / sub).is_dir()
                   for p in (folder / sub).iterdir() if p.is_file())
    summaries = [s for s in map(read_summary, paths) if s is not None]
    ranked = sorted(summaries, key=lambda s: s.preference(), reverse=True)  # stable: oldest first
    return ranked[0] if ranked else None


def summary_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if isinstance(body, EmailMessage) else ""


def compose_answer(summary: Summary, advisor: str, text: str) -> EmailMessage:
    """The answer as Gmail lays it out: new text, ``-- `` signature, attribution, ``>`` quotes."""
    original = summary.message
    subject = str(original["Subject"] or "")
    quoted = "\n".join(f"> {line}" if line else ">"
                       for line in summary_text(original).rstrip("\n").split("\n"))
    attribution = f"On {original['Date']}, {original['From']} wrote:"
    answer = EmailMessage()
    answer["From"] = advisor
    answer["To"] = summary.reply_to
    answer["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    answer["Date"] = format_datetime(localtime())
    answer["Message-ID"] = make_msgid(domain=advisor.rpartition("@")[2])
    message_id = str(original["Message-ID"] or "").strip()
    if message_id:
        answer["In-Reply-To"] = message_id
        answer["References"] = message_id
    answer.set_content(f"{text}\n\n-- \n{SIGNATURE}\n\n{attribution}\n{quoted}\n")
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outbox", type=Path, default=ROOT / "var/demo/outbox",
                        help="the demo's outbox: one Maildir per recipient")
    parser.add_argument("--replies", type=Path, default=ROOT / "var/demo/replies",
                        help="the Maildir of the demo's replies source")
    parser.add_argument("--advisor", default=ADVISOR, help="whose summary to answer")
    parser.add_argument("--text", default=DRAFT,
                        help="the draft for the platform (another text makes the next version)")
    args = parser.parse_args(argv)
    summary = pick_summary(args.outbox, args.advisor)
    if summary is None:
        print(f"demo_advisor_reply: no summary with a Reply-To in "
              f"{args.outbox / args.advisor}/new", file=sys.stderr)
        return 1
    answer = compose_answer(summary, args.advisor, args.text)
    key = mailbox.Maildir(args.replies, create=True).add(answer.as_bytes())  # tmp/, then new/
    print(f"demo_advisor_reply: {args.advisor} answered {summary.ticket} "
          f"({summary.path.name}) -> {args.replies / 'new' / key}", file=sys.stderr)
    print(summary.ticket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
