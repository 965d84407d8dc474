"""``maild cases``, ``maild case MD-…`` and ``maild outbox`` through the real command line, on a
database the route and send steps filled: three cases of two clients, one summary refused for
good by the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from maild.config import load_config
from maild.db import make_engine, session_factory, upgrade
from tests.routing.test_end_to_end import NOTICE as SUSPENSION
from tests.routing.test_route_and_send import CONFIG, SECRET_ENV, Pipeline, notice
from tests.support import SmtpSink, run_maild


@dataclass(frozen=True)
class Desk:
    config: Path
    env: dict[str, str]

    def maild(self, *args: str) -> tuple[int, str, str]:
        done = run_maild(["--config", self.config, *args], self.env)
        return done.returncode, done.stdout, done.stderr

    def cases(self, *filters: str) -> list[dict[str, object]]:
        code, out, err = self.maild("cases", "--json", *filters)
        assert code == 0, err
        found: list[dict[str, object]] = json.loads(out)
        return found

    def tickets(self, *filters: str) -> list[object]:
        return [case["ticket"] for case in self.cases(*filters)]


def dated(raw: bytes, at: datetime, subject: str | None = None) -> bytes:
    """``raw`` with its Date: set to ``at`` (relative deadlines count from it)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.startswith(b"Date:")]
    if subject is not None:
        lines = [f"Subject: {subject}".encode() if line.startswith(b"Subject:") else line
                 for line in lines]
    lines.append(f"Date: {format_datetime(at)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """MD-2026-000001: Acme, IP complaint (P1) due in about 12 h; MD-2026-000002: Acme,
    suspension (P0) due in about 17 days; MD-2026-000003: Beta, IP complaint (P1) due in about
    12 h whose first summary the server refused with 550 (failed; the operator alerted)."""
    root = tmp_path_factory.mktemp("cases-cli")
    env = {SECRET_ENV: "cases-cli-secret"}
    path = root / "maild.toml"
    now = datetime.now(UTC).replace(microsecond=0)
    with SmtpSink() as sink, pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, env[SECRET_ENV])
        path.write_text(CONFIG.format(database=f"sqlite:///{root}/maild.db", root=root,
                                      port=sink.port, secret_env=SECRET_ENV), encoding="utf-8")
        config = load_config(path)
        upgrade(config.database)
        engine = make_engine(config.database)
        routing = Pipeline(config, session_factory(engine))
        routing.now = now
        routing.deliver(dated(notice("acme@inbox.advisor.example", n=1, complaint="111"),
                              now - timedelta(hours=60), "Rights owner complaint: lamp"))
        routing.deliver(dated(SUSPENSION.replace(b"alice@example.test",
                                                 b"acme@inbox.advisor.example"), now))
        sink.fail_next(550, "5.7.1 rejected by policy", times=1)
        routing.deliver(dated(notice("beta@inbox.advisor.example", n=3, complaint="333"),
                              now - timedelta(hours=60), "Rights owner complaint: chair"))
        engine.dispose()
    yield Desk(path, env)


def test_cases_lists_every_case_nearest_deadline_first(desk: Desk) -> None:
    """GIVEN three cases WHEN ``maild cases --json`` THEN all three are listed, the two due in
    about 12 h first, each with client, priority, state and the seconds left."""
    cases = desk.cases()
    assert [c["ticket"] for c in cases] == ["MD-2026-000001", "MD-2026-000003",
                                            "MD-2026-000002"]
    assert [(c["client"], c["priority"], c["state"]) for c in cases] == [
        ("acme", "P1", "triaged"), ("beta", "P1", "triaged"), ("acme", "P0", "triaged")]
    left = [c["seconds_left"] for c in cases]
    assert all(isinstance(s, float) for s in left)
    assert 11 * 3600 < left[0] <= 12 * 3600 and left[2] > 16 * 86400  # type: ignore[operator]


@pytest.mark.parametrize(("filters", "expected"), [
    (("--client", "acme"), ["MD-2026-000001", "MD-2026-000002"]),
    (("--priority", "P0"), ["MD-2026-000002"]),
    (("--state", "closed"), []),
    (("--due-within", "24h"), ["MD-2026-000001", "MD-2026-000003"]),
    (("--due-within", "1d", "--client", "acme"), ["MD-2026-000001"]),
    (("--due-within", "3w", "--priority", "P0"), ["MD-2026-000002"]),
])
def test_cases_filters_combine(desk: Desk, filters: tuple[str, ...],
                               expected: list[str]) -> None:
    """GIVEN three cases WHEN ``maild cases`` is filtered by client, state, priority and
    --due-within (alone and combined) THEN exactly the matching cases are listed."""
    assert desk.tickets(*filters) == expected


def test_cases_text_shows_the_deadline_in_the_clients_zone(desk: Desk) -> None:
    """GIVEN Acme (Asia/Shanghai) and Beta (Europe/Berlin) WHEN ``maild cases --due-within 24h``
    prints text THEN each line names the ticket, priority, client and the deadline in the
    client's zone with the time left; a bad duration is a usage error (exit 2)."""
    code, out, _err = desk.maild("cases", "--due-within", "24h")
    assert code == 0
    acme, beta = out.splitlines()
    assert acme.startswith("MD-2026-000001  P1  acme") and "Asia/Shanghai (in 11h" in acme
    assert beta.startswith("MD-2026-000003  P1  beta") and "Europe/Berlin (in 11h" in beta
    code, _out, err = desk.maild("cases", "--due-within", "soon")
    assert code == 2 and "soon" in err


def test_case_shows_the_whole_history(desk: Desk) -> None:
    """GIVEN Beta's case whose client summary was refused with 550 WHEN ``maild case
    MD-2026-000003`` THEN it shows the notice with its Message-ID, both summaries with their
    states and the operator's alert, the 550 and 250 receipts (with the queue id), the routing
    decision with its reason, the send failure and the case's opening and state change."""
    code, out, err = desk.maild("case", "md-2026-000003")
    assert code == 0, err
    assert out.startswith("MD-2026-000003 [P1] amazon")
    assert "client: beta  store: Beta Home DE" in out
    assert "notice" in out and "<ip-3@amazon.de>" in out
    outs = sorted(line.split("out      ")[1].split(" [")[0]
                  for line in out.splitlines() if " out " in line)
    assert outs == ["operator_alert to ops@advisor.example: sent",
                    "summary:advisor to ben@advisor.example: sent",
                    "summary:client to team@beta.example: failed"]
    assert "receipt  summary:" in out and "550 5.7.1 rejected by policy" in out
    assert "queue id SINK" in out
    for action in ("case_opened", "case_state", "routed", "send_failed"):
        assert f"audit    {action}" in out, f"{action} missing:\n{out}"
    assert "beta@inbox.advisor.example" in out  # the reason of the routing decision
    code, _out, err = desk.maild("case", "MD-2026-999999")
    assert code == 1 and "no case MD-2026-999999" in err


def test_outbox_lists_the_failed_summary_with_its_reason(desk: Desk) -> None:
    """GIVEN one summary refused with 550 WHEN ``maild outbox --state failed`` THEN exactly that
    row is listed with its recipients, attempts, the server's reply and the error; ``--state
    sent`` lists the others (five summaries and the operator's alert)."""
    code, out, err = desk.maild("outbox", "--state", "failed")
    assert code == 0, err
    [line] = out.splitlines()
    assert "failed" in line and "summary:" in line and "attempts 1" in line
    assert "550 5.7.1 rejected by policy" in line and "error: PermanentFailure" in line
    code, out, _err = desk.maild("outbox", "--state", "sent")
    lines = out.splitlines()
    assert len(lines) == 6 and sum("operator_alert" in line for line in lines) == 1
    assert all(" 250 " in line for line in lines)


def test_state_filters_know_every_state_and_refuse_typos(desk: Desk) -> None:
    """GIVEN the case states and the outbox stages WHEN ``maild outbox --state bounced`` (a
    stage the bounce step gives) THEN it is accepted (nothing bounced here); WHEN ``maild cases
    --state traiged`` (a typo) THEN it is a usage error naming the valid states, not an empty
    list that reads as 'no such cases'."""
    code, out, err = desk.maild("outbox", "--state", "bounced")
    assert (code, out.strip()) == (0, "nothing bounced"), err
    code, _out, err = desk.maild("cases", "--state", "traiged")
    assert code == 2 and "triaged" in err and "awaiting_approval" in err
