"""Real time through the real stack: Postfix -> Dovecot (LMTP) -> ``maild run`` (IDLE) -> parsed.

Every slow path is set to 10 minutes -- the IMAP poll, IDLE renewal and liveness check of the
source, and the steps' safety-net poll (``[maild] stage_poll_seconds``) -- so a notice parsed
within 2 s of its SMTP accept can only have been carried by IDLE and by the stage wake-ups (in
process, or PostgreSQL ``NOTIFY`` between daemons). Latency is measured from the ``250`` reply
to DATA to the moment the notice row is visible to another database connection.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maild.db import make_engine, upgrade
from maild.models import Message, Notice
from tests.support import (
    REPO_ROOT,
    Accepted,
    DovecotServer,
    PostfixServer,
    submit,
    with_message_id,
)

from .conftest import IMAP_PASSWORD_ENV, imap_table, wait_until

Spawn = Callable[..., subprocess.Popen[bytes]]

CORPUS = REPO_ROOT / "tests" / "corpus"
LATENCY_LIMIT = 2.0
SLOW = 600  # seconds: every poll and renewal interval, so none of them can explain a latency
BURSTS, BURST_SIZE, MAX_GAP = 10, 10, 0.2
# write_config puts its body right after the [maild] keys: these lines belong to [maild].
SLOW_STEPS = f"stage_poll_seconds = {SLOW}\n\n"
SLOW_IMAP = f"poll_seconds = {SLOW}\nidle_renew_seconds = {SLOW}\nkeepalive_seconds = {SLOW}"


def corpus_notices() -> list[bytes]:
    return [path.read_bytes() for path in sorted(CORPUS.glob("*/*.eml"))]


class ParsedRows:
    """When each expected Message-ID's notice row first became visible, polled from outside."""

    def __init__(self, url: str, message_ids: Sequence[str]) -> None:
        self.engine = make_engine(url)
        self.expected = list(message_ids)
        self.pending = {f"<{mid}>" for mid in message_ids}
        self.seen: dict[str, float] = {}

    def poll(self) -> bool:
        """Look once; True when every expected notice is there."""
        if self.pending:
            query = (select(Message.message_id).join(Notice, Notice.message_id == Message.id)
                     .where(Message.message_id.in_(self.pending)))
            with self.engine.connect() as conn:
                found = conn.scalars(query).all()
            now = time.time()
            for header in found:
                if header is not None and header in self.pending:
                    self.pending.discard(header)
                    self.seen[header[1:-1]] = now
        return not self.pending

    def copies(self) -> dict[str, tuple[int, int, list[str]]]:
        """Message-ID -> (message rows, notice rows, stages) for every expected message."""
        query = (select(Message.message_id, func.count(Message.id), func.count(Notice.id),
                        func.min(Message.stage), func.max(Message.stage))
                 .outerjoin(Notice, Notice.message_id == Message.id)
                 .where(Message.message_id.in_([f"<{mid}>" for mid in self.expected]))
                 .group_by(Message.message_id))
        with Session(self.engine) as session:
            found = {header: (messages, notices, sorted({low, high}))
                     for header, messages, notices, low, high in session.execute(query)}
        return {mid: found.get(f"<{mid}>", (0, 0, [])) for mid in self.expected}

    def close(self) -> None:
        self.engine.dispose()


def start_daemon(maild_process: Spawn, config: Path, log: Path,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``maild run`` writing its log to a file (a pipe nobody reads would block it)."""
    with log.open("ab") as out:
        return maild_process(["--config", config, "run"], env or {}, stdout=out.fileno(),
                             stderr=subprocess.STDOUT)


def log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def send_in_bursts(postfix: PostfixServer, raws: Sequence[tuple[str, bytes]],
                   accepted: dict[str, Accepted], rng: random.Random) -> None:
    """Submit ``raws`` over one SMTP connection, BURST_SIZE back to back, then a 0-200 ms gap."""
    with postfix.connect() as smtp:
        for start in range(0, len(raws), BURST_SIZE):
            for message_id, raw in raws[start:start + BURST_SIZE]:
                accepted[message_id] = submit(smtp, raw, sender="notices@platform.example",
                                              recipients=["alice@example.test"])
            time.sleep(rng.uniform(0, MAX_GAP))  # the traffic's shape, not a wait for a result


@pytest.mark.slow
def test_bursts_through_postfix_are_each_parsed_within_two_seconds_exactly_once(
        postfix: PostfixServer, dovecot: DovecotServer, db_url: str,
        write_config: Callable[..., Path], maild_process: Spawn, tmp_path: Path) -> None:
    """GIVEN `maild run` watching, with IDLE, the INBOX that Postfix delivers to over LMTP, with
    the IMAP poll, IDLE renewal and liveness check and the steps' safety-net poll all at 10 min
    WHEN 100 notices arrive through SMTP in bursts of 10, 0-200 ms apart (so some land while
    the daemon is syncing the previous burst)
    THEN every one is archived and parsed within 2 s of its SMTP 250 reply, exactly once."""
    upgrade(db_url)
    config = write_config(SLOW_STEPS + imap_table(dovecot, extra=SLOW_IMAP), database=db_url)
    log = tmp_path / "maild.log"
    daemon = start_daemon(maild_process, config, log, {IMAP_PASSWORD_ENV: dovecot.password})
    corpus = corpus_notices()
    warm_up = ParsedRows(db_url, ["warm-up@realtime.maild.test"])
    postfix.send(with_message_id(corpus[0], "warm-up@realtime.maild.test"))
    assert wait_until(warm_up.poll, timeout=60), (
        f"the daemon did not parse a first notice within 60 s:\n{log_tail(log)}")
    warm_up.close()

    raws = [(f"burst-{n}@realtime.maild.test",
             with_message_id(corpus[n % len(corpus)], f"burst-{n}@realtime.maild.test"))
            for n in range(BURSTS * BURST_SIZE)]
    rows = ParsedRows(db_url, [message_id for message_id, _raw in raws])
    accepted: dict[str, Accepted] = {}
    sender = threading.Thread(target=send_in_bursts, args=(postfix, raws, accepted,
                                                           random.Random(6)))
    sender.start()
    try:
        while sender.is_alive():
            rows.poll()
            time.sleep(0.01)
        sender.join()
        assert len(accepted) == len(raws), "the SMTP sender failed (see its error above)"
        all_parsed = wait_until(rows.poll, timeout=30, interval=0.01)
        daemon.terminate()
        daemon.wait(30)
        copies = rows.copies()
    finally:
        rows.close()

    late = {mid: round(rows.seen[mid] - accepted[mid].accept_time, 3)
            for mid in rows.seen if rows.seen[mid] - accepted[mid].accept_time > LATENCY_LIMIT}
    missing = sorted(mid for mid, _raw in raws if mid not in rows.seen)
    assert all_parsed and not missing, (
        f"{len(missing)} notice(s) not parsed 30 s after the last send, as (message rows, "
        f"notice rows, stages): {({mid: copies[mid] for mid in missing[:10]})}\n"
        f"daemon log tail:\n{log_tail(log)}")
    assert not late, f"{len(late)} notice(s) took over {LATENCY_LIMIT} s: {late}"
    assert daemon.returncode == 0, log_tail(log)
    wrong = {mid: got for mid, got in copies.items()  # routed: the daemon routes what it parsed
             if got not in ((1, 1, ["parsed"]), (1, 1, ["routed"]))}
    assert not wrong, f"(message rows, notice rows, stages) not (1, 1, parsed/routed): {wrong}"
