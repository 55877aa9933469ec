"""The stats object: measured figures plus imported baselines; baselines and daily history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from service.counting.periods import Periods, local_iso, ms, periods_of
from service.errors import Invalid
from service.sites import Site
from service.store import Store
from service.store import counters as db
from service.store.counters import PERIODS, Figures

KINDS = ("visits", "pageviews")
_KIND_FIELD = {"visits": "v", "pageviews": "p"}
MAX_HISTORY_DAYS = 3 * 366 + 1


def imported_values(imported: dict[str, str], ids: dict[str, str]) -> dict[str, dict[str, int]]:
    """kind -> period -> baseline; a period's baseline counts only within its own period."""
    out: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        out[kind] = {}
        for period in (*PERIODS, "total"):
            field = f"{_KIND_FIELD[kind]}:{period}"
            current = period == "total" or imported.get(field + ":id") == ids[period]
            out[kind][period] = int(imported[field]) if field in imported and current else 0
    return out


def stats_object(site: Site, figures: Figures, p: Periods, now: datetime) -> dict[str, Any]:
    """The public stats object: each figure is measured plus imported."""
    imported = imported_values(figures.imported, p.ids())
    measured = {"visits": figures.visits, "pageviews": figures.pageviews}
    stats: dict[str, Any] = {"site": site.id, "online": figures.online}
    for kind in KINDS:
        stats[kind] = {period: measured[kind][period] + imported[kind][period]
                       for period in (*PERIODS, "total")}
    stats["uniques"] = dict(figures.uniques)
    stats["as_of"] = local_iso(now, site.tz)
    stats["online_window_seconds"] = site.online_window_seconds
    return stats


def set_baselines(store: Store, site: Site, values: Any, *, now: datetime) -> None:
    """Set imported counter values: {"visits": {"total": n, ...}, "pageviews": {...}}."""
    if not isinstance(values, dict) or not values:
        raise Invalid("baselines must be an object with visits and/or pageviews")
    ids = periods_of(now, site.tz).ids()
    fields: dict[str, str] = {}
    for kind, figures in values.items():
        if kind not in KINDS or not isinstance(figures, dict) or not figures:
            raise Invalid("baselines take visits and pageviews objects")
        for period, value in figures.items():
            if period not in (*PERIODS, "total"):
                raise Invalid(f"unknown period: {str(period)[:20]}")
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**15:
                raise Invalid(f"{kind}.{period} must be a non-negative integer")
            field = f"{_KIND_FIELD[kind]}:{period}"
            fields[field] = str(value)
            if period != "total":
                fields[field + ":id"] = ids[period]
    db.set_imported(store, site.id, fields)


def counters(store: Store, site: Site, *, now: datetime) -> dict[str, Any]:
    """{"imported": ..., "measured": ...}: the public figure is their sum."""
    p = periods_of(now, site.tz)
    figures = db.figures(store, site.id, p, now_ms=ms(now),
                         window_ms=site.online_window_seconds * 1000)
    return {"imported": imported_values(figures.imported, p.ids()),
            "measured": {"visits": figures.visits, "pageviews": figures.pageviews}}


def history(store: Store, site: Site, start: date, end: date, *,
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Daily visits, pageviews and uniques from start to end inclusive; with `now`, today's
    uniques are counted afresh (the stored figure may be a few seconds old)."""
    if end < start:
        raise Invalid("from must not be after to")
    if (end - start).days + 1 > MAX_HISTORY_DAYS:
        raise Invalid(f"at most {MAX_HISTORY_DAYS} days at once")
    years = [str(y) for y in range(start.year, end.year + 1)]
    stored = db.history(store, site.id, years)
    if now is not None:
        today = periods_of(now, site.tz)
        if start.isoformat() <= today.day <= end.isoformat():
            fresh = db.day_uniques(store, site.id, today.day)
            stored[today.year][today.day_field + ":u"] = str(fresh)
    days = []
    day = start
    while day <= end:
        row = stored[str(day.year)]
        prefix = f"{day.month:02d}-{day.day:02d}"
        days.append({
            "date": day.isoformat(),
            "visits": int(row.get(prefix + ":v", 0)),
            "pageviews": int(row.get(prefix + ":p", 0)),
            "uniques": int(row.get(prefix + ":u", 0)),
        })
        day += timedelta(days=1)
    return days
