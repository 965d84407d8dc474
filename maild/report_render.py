"""The monthly report as people and programs read it: HTML (a file, or the mail), text, CSV and
JSON, all from one :class:`maild.report.MonthlyReport`, so every format shows the same numbers.

- JSON holds everything (figures per scope for both months, open cases, chart data);
- CSV holds every figure, one row per scope and figure with this month and the month before
  (its ``metric`` is the figure's path in the JSON); the open cases are counted there, listed in
  the JSON and the HTML;
- HTML and text come from ``maild/templates/report/`` in the client's languages. A file embeds
  its charts as ``data:`` URIs; the mail carries them as CID parts of ``multipart/related``
  (what Gmail, Outlook and Foxmail show) with the CSV and JSON attached.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from email.message import MIMEPart
from email.policy import SMTP
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from maild.report import TIMINGS, Figures, MonthlyReport, Scope, Share
from maild.report_charts import COLOURS, HEIGHT_PX, WIDTH_PX, charts
from maild.routing.assemble import CRLF, body_bytes, header_bytes, headers_of
from maild.routing.compose import platform_names, render
from maild.templating import environment

MAX_OPEN_LISTED = 25  # the mail lists the nearest ones; the JSON has all
USAGE_ITEMS = (("usage_notices", "notices"), ("usage_drafts", "drafts"),
               ("usage_appeals", "appeals"), ("usage_expedited", "expedited_cases"),
               ("usage_chat", "chat_alerts"))
CSV_COLUMNS = ("client", "month", "previous_month", "scope", "platform", "store", "metric",
               "current", "previous")


def report_json(report: MonthlyReport) -> dict[str, Any]:
    """Everything in the report as JSON values (times in ISO 8601 UTC)."""
    return {
        "client": report.client_id, "client_name": report.client_name,
        "month": str(report.month), "previous_month": str(report.previous),
        "timezone": report.timezone, "start": report.start.isoformat(),
        "end": report.end.isoformat(), "generated_at": report.now.isoformat(),
        "complete": report.complete,
        "scopes": [{**_scope_json(s.scope), "current": figures_json(s.current),
                    "previous": figures_json(s.previous)} for s in report.scopes],
        "open_cases": [{**asdict(o), "notice_at": o.notice_at.isoformat(),
                        "platform_due": _iso(o.platform_due), "sla_due": _iso(o.sla_due)}
                       for o in report.open_cases],
        "trend": [{"month": str(p.month), "sla": _share(p.sla, "met"),
                   "platform_deadline": _share(p.platform_deadline, "met")}
                  for p in report.trend],
        "daily_notices": list(report.daily_notices),
    }


def figures_json(f: Figures) -> dict[str, Any]:
    return {
        "notices": f.notices, "by_category": dict(f.by_category),
        "by_priority": dict(f.by_priority), "sla": _share(f.sla, "met"),
        "platform_deadline": _share(f.platform_deadline, "met"),
        "timings": {name: asdict(f.timings[name]) for name in TIMINGS},
        "first_pass": {"first_pass": f.first_pass.hit, "approvals": f.first_pass.total,
                       "percent": f.first_pass.percent},
        "risk": {**asdict(f.risk), "total": f.risk.total},
        "decisions": {"waited_over_48h": f.slow_decisions,
                      "waiting_over_48h_at_end": f.waiting_decisions},
        "open_at_end": f.open_at_end, "usage": asdict(f.usage),
    }


def render_json(report: MonthlyReport) -> str:
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


def render_csv(report: MonthlyReport) -> str:
    """Every figure of every scope: ``metric`` is its path in the JSON (``sla.percent``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for scope in report_json(report)["scopes"]:
        current = dict(flatten(scope["current"]))
        for metric, value in flatten(scope["previous"]):
            writer.writerow([report.client_id, report.month, report.previous, scope["scope"],
                             scope["platform"] or "", scope["store"] or "", metric,
                             _cell(current[metric]), _cell(value)])
    return out.getvalue()


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf of nested mappings, in order."""
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def render_html(report: MonthlyReport, images: Mapping[str, str]) -> str:
    """The HTML with each chart's ``src`` from ``images`` (a cid: or a data: URI)."""
    return render("report/report.html.j2", _context(report, images))


def render_text(report: MonthlyReport) -> str:
    return render("report/report.txt.j2", _context(report, {}))


def html_file(report: MonthlyReport) -> str:
    """A self-contained HTML file: the charts as ``data:`` URIs."""
    return render_html(report, {name: "data:image/png;base64," + base64.b64encode(png).decode()
                                for name, png in charts(report).items()})


def compose_report(report: MonthlyReport, *, from_address: str, to: Sequence[str],
                   message_id: str, now: datetime) -> bytes:
    """The report as a mail (RFC 5322, CRLF): text and HTML alternatives, the HTML with its
    charts as related PNG parts (RFC 2387, ``cid:`` URLs of RFC 2392), the CSV and JSON
    attached. The same report and Message-ID give the same bytes."""
    images = charts(report)
    token = hashlib.sha256(message_id.encode()).hexdigest()[:16]
    cids = {name: f"{name}.{token}@maild.report" for name in images}
    body = MIMEPart(policy=SMTP)
    body.set_content(render_text(report), subtype="plain", charset="utf-8",
                     cte="quoted-printable")
    body.add_alternative(render_html(report, {n: f"cid:{c}" for n, c in cids.items()}),
                         subtype="html", charset="utf-8", cte="quoted-printable")
    html = next(p for p in body.iter_parts() if p.get_content_type() == "text/html")
    for name, png in images.items():
        html.add_related(png, maintype="image", subtype="png", cid=f"<{cids[name]}>",
                         filename=f"{name}.png", disposition="inline")
    stem = f"report-{report.client_id}-{report.month}"
    body.add_attachment(render_csv(report).encode(), maintype="text", subtype="csv",
                        filename=f"{stem}.csv")
    body.add_attachment(render_json(report).encode(), maintype="application",
                        subtype="json", filename=f"{stem}.json")
    for n, part in enumerate(p for p in body.walk() if p.is_multipart()):
        part.set_boundary(f"=_report_{token}_{n}")  # "=_" never occurs in QP or base64
    headers = headers_of(
        subject=render("report/subject.txt.j2", _context(report, {})),
        from_address=from_address, to=to, reply_to=None, message_id=message_id, now=now,
        zone=_zone(report), in_reply_to=None,
        extra={"X-Maild-Report": f"{report.client_id} {report.month}"})
    for name, value in body.items():
        headers[name] = value
    return header_bytes(headers) + CRLF + body_bytes(body)


def _context(report: MonthlyReport, images: Mapping[str, str]) -> dict[str, Any]:
    total = report.total
    usage_scopes = [s for s in report.scopes if s.scope.kind in ("client", "platform")]
    return {
        "r": report, "langs": report_languages(report.languages), "zone": _zone(report),
        "images": images, "chart_size": (WIDTH_PX, HEIGHT_PX), "chart_colours": COLOURS,
        "timings": TIMINGS, "usage_items": USAGE_ITEMS, "usage_scopes": usage_scopes,
        "categories": [c for c in total.current.by_category
                       if total.current.by_category[c] or total.previous.by_category.get(c)],
        "platform_names": {s.scope.platform: platform_names(s.scope.platform)
                           for s in report.scopes if s.scope.platform}
        | {o.platform: platform_names(o.platform) for o in report.open_cases},
        "open_listed": report.open_cases[:MAX_OPEN_LISTED],
        "open_more": max(0, len(report.open_cases) - MAX_OPEN_LISTED),
    }


@cache
def _report_languages() -> frozenset[str]:
    """Languages with a words file ``report/lang/<code>.j2``: adding one is adding it."""
    names = environment().list_templates(filter_func=lambda n: n.startswith("report/lang/"))
    return frozenset(n.removeprefix("report/lang/").removesuffix(".j2") for n in names)


def report_languages(languages: Sequence[str]) -> list[str]:
    """The client's languages we have report words for, in its order (English otherwise)."""
    return [lang for lang in languages if lang in _report_languages()] or ["en"]


def _zone(report: MonthlyReport) -> ZoneInfo:
    return ZoneInfo(report.timezone)


def _scope_json(scope: Scope) -> dict[str, str | None]:
    return {"scope": scope.kind, "platform": scope.platform, "store": scope.store}


def _share(share: Share, name: str) -> dict[str, int | float | None]:
    return {name: share.hit, "total": share.total, "percent": share.percent}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _cell(value: Any) -> str:
    """A CSV cell: numbers as JSON writes them, nothing for none."""
    return "" if value is None else json.dumps(value)

