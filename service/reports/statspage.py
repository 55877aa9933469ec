"""The public statistics page's content: figures, the last 30 days and 12 months as bar
charts (geometry computed here, so the page needs no JavaScript), the month's top pages,
the current poll's visible results, the share of useful ratings of information and, per
period, how much was imported from the portal's old counter and how much measured."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from service.counting import figures, visits
from service.counting.periods import periods_of, shift_month
from service.errors import NotFound
from service.pages import rules as pages
from service.polls import rules as polls
from service.ratings import summary as ratings
from service.sites import Site
from service.store import Store

TOP_PAGES = 10
# chart geometry, in SVG user units
_PLOT_TOP, _PLOT_HEIGHT, _LABEL_SPACE = 56, 150, 28


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and geometry."""

    label: str  # "27/11" or "11/2026"
    long_label: str  # for the table: "27/11/2026"
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A bar chart: bars, the view box and where the value and axis labels go."""

    bars: list[Bar]
    width: int
    height: int
    baseline: int  # y of the bars' foot
    step: float

    @property
    def total(self) -> int:
        """Sum of the bars."""
        return sum(bar.value for bar in self.bars)

    @property
    def top(self) -> int:
        """The largest bar (at least 1): the scale of the phone layout's horizontal bars."""
        return max([bar.value for bar in self.bars] + [1])


def chart(rows: list[tuple[str, str, int]], step: float) -> Chart:
    """Bars for (label, long label, value) rows, scaled to the largest value."""
    top = max([value for _, _, value in rows] + [1])
    bars = []
    for i, (label, long_label, value) in enumerate(rows):
        height = round(value * _PLOT_HEIGHT / top, 1)
        bars.append(Bar(label, long_label, value, x=round(8 + i * step, 1),
                        y=round(_PLOT_TOP + _PLOT_HEIGHT - height, 1),
                        width=round(step * 0.7, 1), height=height))
    return Chart(bars, width=int(16 + step * len(rows)),
                 height=_PLOT_TOP + _PLOT_HEIGHT + _LABEL_SPACE,
                 baseline=_PLOT_TOP + _PLOT_HEIGHT, step=step)


def page(store: Store, site: Site, *, now: datetime) -> dict[str, Any]:
    """Everything /stats/{site} shows; NotFound unless the site's public_stats is on."""
    if not site.public_stats:
        raise NotFound("not found")
    today = date.fromisoformat(periods_of(now, site.tz).day)
    stats = visits.read_stats(store, site, now=now)
    last30 = figures.history(store, site, today - timedelta(days=29), today)
    first = date.fromisoformat(shift_month(today.strftime("%Y-%m"), -11) + "-01")
    year_days = figures.history(store, site, first, today)
    sums: dict[str, int] = {}
    for day in year_days:
        sums[day["date"][:7]] = sums.get(day["date"][:7], 0) + day["visits"]
    months = []
    for n in range(12):
        month = shift_month(first.strftime("%Y-%m"), n)
        label = f"{int(month[5:])}/{month[:4]}"
        months.append((label, label, sums.get(month, 0)))
    days = [(f"{d['date'][8:]}/{d['date'][5:7]}",
             f"{d['date'][8:]}/{d['date'][5:7]}/{d['date'][:4]}", d["visits"]) for d in last30]
    imported_periods = dict(figures.counters(store, site, now=now)["imported"]["visits"])
    poll = None
    try:
        definition, tally = polls.load(store, site, "current")
    except NotFound:
        definition = None
    if definition is not None:
        view = polls.view(definition, tally, now=now)
        if view["results_visible"]:
            total = view["total_votes"] or 0
            poll = {**view, "options": [
                {**o, "percent": round(100 * o["votes"] / total, 1) if total else 0.0}
                for o in view["options"]]}
    return {
        "stats": stats,
        "days": chart(days, 30),
        "months": chart(months, 64),
        "top_pages": pages.top_of(store, site, periods_of(now, site.tz).month, TOP_PAGES),
        "poll": poll,
        "imported": imported_periods["total"],
        "imported_periods": imported_periods,
        "month": today.strftime("%Y-%m"),
        "ratings": ratings.public_summary(store, site, now),
    }
