"""The monthly report's small charts, as PNG bytes drawn by matplotlib (the Agg renderer, used
through ``Figure`` directly: no display, no global pyplot state, safe in the daemon's threads).

PNG, because Gmail and Outlook show neither inline SVG nor ``data:`` images in mail: the mail
carries each chart as a CID part of ``multipart/related``, the file output as a ``data:`` URI.
A chart holds no words, only numbers, priority codes and months; its title and the key to its
colours are in the HTML, in the client's languages, so no chart needs a CJK font.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from maild.report import MonthlyReport
from maild.routing.triage import PRIORITIES

WIDTH_PX, HEIGHT_PX = 560, 200  # shown at this size; drawn at twice it for sharp screens
SCALE = 2
COLOURS = {"previous": "#98a2b3", "current": "#175cd3", "sla": "#175cd3",
           "platform_deadline": "#f79009"}
_INK, _GRID = "#344054", "#eaecf0"


def charts(report: MonthlyReport) -> dict[str, bytes]:
    """Every chart of ``report`` by name: ``priorities``, ``daily``, ``attainment``."""
    total = report.total
    return {
        "priorities": priorities_chart(total.current.by_priority, total.previous.by_priority),
        "daily": daily_chart(report.daily_notices),
        "attainment": attainment_chart(
            [str(point.month)[2:] for point in report.trend],
            [point.sla.percent for point in report.trend],
            [point.platform_deadline.percent for point in report.trend]),
    }


def priorities_chart(current: Mapping[str, int], previous: Mapping[str, int]) -> bytes:
    """Notices per priority: the month before (grey) beside this month (blue)."""
    figure, axes = _canvas()
    places = range(len(PRIORITIES))
    width = 0.38
    for offset, counts, colour in ((-width / 2, previous, COLOURS["previous"]),
                                   (width / 2, current, COLOURS["current"])):
        bars = axes.bar([p + offset for p in places], [counts.get(p, 0) for p in PRIORITIES],
                        width, color=colour)
        axes.bar_label(bars, padding=2, fontsize=8, color=_INK)
    axes.set_xticks(list(places), list(PRIORITIES))
    _integer_axis(axes, [*current.values(), *previous.values()])
    return _png(figure)


def daily_chart(daily: Sequence[int]) -> bytes:
    """Notices per day of the month (the client's local days)."""
    figure, axes = _canvas()
    days = range(1, len(daily) + 1)
    axes.bar(list(days), list(daily), 0.7, color=COLOURS["current"])
    axes.set_xticks([d for d in days if d == 1 or d % 5 == 0])
    axes.set_xlim(0.3, len(daily) + 0.7)
    _integer_axis(axes, daily)
    return _png(figure)


def attainment_chart(months: Sequence[str], sla: Sequence[float | None],
                     deadline: Sequence[float | None]) -> bytes:
    """SLA (blue) and platform-deadline (orange) attainment in percent, month by month; a
    month with nothing to count has no bar."""
    figure, axes = _canvas()
    width = 0.38
    for offset, values, colour in ((-width / 2, sla, COLOURS["sla"]),
                                   (width / 2, deadline, COLOURS["platform_deadline"])):
        shown = [(i + offset, v) for i, v in enumerate(values) if v is not None]
        bars = axes.bar([x for x, _v in shown], [v for _x, v in shown], width, color=colour)
        axes.bar_label(bars, labels=[f"{v:g}" for _x, v in shown], padding=2, fontsize=7,
                       color=_INK)
    axes.set_xticks(list(range(len(months))), list(months))
    axes.set_ylim(0, 112)
    axes.set_yticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100%"])
    return _png(figure)


def _canvas() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_PX / 100, HEIGHT_PX / 100), dpi=100 * SCALE,
                    layout="constrained")
    axes = figure.add_subplot()
    axes.tick_params(colors=_INK, labelsize=8, length=0)
    axes.grid(axis="y", color=_GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(_GRID)
    return figure, axes


def _integer_axis(axes: Axes, values: Sequence[int]) -> None:
    """Whole numbers only, with room above the tallest bar for its label."""
    top = max([*values, 1])
    axes.set_ylim(0, top * 1.18 + 0.5)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor="#ffffff", metadata={"Software": None})
    return out.getvalue()
