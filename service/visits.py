"""Visit counting rules: visitor ids, hits, heartbeats, stats, pages, baselines, history."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from service.errors import Invalid
from service.periods import Periods, local_iso, periods_of
from service.sites import Site
from service.store import Store, counting

PERIODS = ("today", "week", "month", "year")
KINDS = ("visits", "pageviews")
_KIND_FIELD = {"visits": "v", "pageviews": "p"}
MAX_HISTORY_DAYS = 3 * 366 + 1


@dataclass(frozen=True)
class HitResult:
    """What recording one hit did, and the stats after it."""

    counted: bool
    views: int
    dropped: bool
    stats: dict[str, Any]


def visitor_id(store: Store, secret: str, site: Site, *, ip: str, user_agent: str,
               token: str, now: datetime) -> str:
    """A keyed hash of (daily salt, site, IP, User-Agent, browser token): never stored raw."""
    day = periods_of(now, site.tz).day
    salt = counting.daily_salt(store, day)
    message = "\x00".join((salt, site.id, ip, user_agent, token)).encode("utf-8", "replace")
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return digest[:16].hex()


def _ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def _stats(site: Site, p: Periods, raw: list[Any], now: datetime) -> dict[str, Any]:
    imported = _pairs(raw[15])
    measured = _measured(raw)
    ids = p.ids()
    stats: dict[str, Any] = {"site": site.id, "online": int(raw[0])}
    for kind in KINDS:
        figures = {}
        for period in (*PERIODS, "total"):
            figures[period] = measured[kind][period] + _imported_value(imported, kind, period, ids)
        stats[kind] = figures
    stats["uniques"] = dict(zip(PERIODS, (int(x) for x in raw[11:15]), strict=True))
    stats["as_of"] = local_iso(now, site.tz)
    stats["online_window_seconds"] = site.online_window_seconds
    return stats


def _pairs(flat: list[Any]) -> dict[str, str]:
    return {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}


def _measured(raw: list[Any]) -> dict[str, dict[str, int]]:
    # raw[1..10]: today v,p; week v,p; month v,p; year v,p; total v,p
    out: dict[str, dict[str, int]] = {"visits": {}, "pageviews": {}}
    for i, period in enumerate((*PERIODS, "total")):
        out["visits"][period] = int(raw[1 + 2 * i])
        out["pageviews"][period] = int(raw[2 + 2 * i])
    return out


def _imported_value(imported: dict[str, str], kind: str, period: str,
                    ids: dict[str, str]) -> int:
    field = f"{_KIND_FIELD[kind]}:{period}"
    if field not in imported:
        return 0
    # A baseline for a period counts only within the period it was set in.
    if period != "total" and imported.get(field + ":id") != ids[period]:
        return 0
    return int(imported[field])


def record_hit(store: Store, site: Site, *, visitor: str, path: str, title: str,
               now: datetime, request_id: str | None = None) -> HitResult | None:
    """Count one page load; None when the site vanished meanwhile."""
    p = periods_of(now, site.tz)
    path_hash = hashlib.sha256(path.encode()).hexdigest()[:16]
    keys, args = counting.hit_call(
        store, site.id, p, now_ms=_ms(now), window_s=site.online_window_seconds,
        visitor=visitor, request_id=request_id or uuid.uuid4().hex, path_hash=path_hash,
        session_s=site.session_timeout_seconds, dedupe_s=site.pageview_dedupe_seconds,
        path=path, title=title, max_pages=site.max_pages,
    )
    raw = counting.hit(store, keys, args)
    if raw is None:
        return None
    return HitResult(
        counted=bool(raw[1]), views=int(raw[2]), dropped=bool(raw[3]),
        stats=_stats(site, p, raw[4], now),
    )


def heartbeat(store: Store, site: Site, *, visitor: str, now: datetime) -> None:
    """Keep a reading visitor online; counts nothing."""
    counting.heartbeat(store, site.id, visitor, now_ms=_ms(now),
                       window_s=site.online_window_seconds,
                       session_s=site.session_timeout_seconds)


def read_stats(store: Store, site: Site, *, now: datetime) -> dict[str, Any]:
    """The stats object."""
    p = periods_of(now, site.tz)
    raw = counting.stats(store, site.id, p, now_ms=_ms(now), window_s=site.online_window_seconds)
    return _stats(site, p, raw, now)


def online(store: Store, site: Site, *, now: datetime) -> int:
    """Visitors online now."""
    return counting.online_count(store, site.id, now_ms=_ms(now),
                                 window_s=site.online_window_seconds)


def pages(store: Store, site: Site, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Views and last title of each path."""
    views, titles = counting.page_views(store, site.id, paths)
    return {
        path: {"views": int(v or 0), "title": t}
        for path, v, t in zip(paths, views, titles, strict=True)
    }


def top_pages(store: Store, site: Site, *, period: str, limit: int,
              now: datetime) -> list[dict[str, Any]]:
    """The most viewed pages of a period."""
    if period not in PERIODS:
        raise Invalid("period must be one of today, week, month, year")
    p = periods_of(now, site.tz)
    period_id = {"today": p.day, "week": p.week, "month": p.month, "year": p.year}[period]
    return [
        {"path": path, "title": title, "views": views}
        for path, views, title in counting.top_pages(store, site.id, period_id, limit)
    ]


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
    counting.set_imported(store, site.id, fields)


def counters(store: Store, site: Site, *, now: datetime) -> dict[str, Any]:
    """{"imported": ..., "measured": ...}: the public figure is their sum."""
    p = periods_of(now, site.tz)
    raw = counting.stats(store, site.id, p, now_ms=_ms(now), window_s=site.online_window_seconds)
    imported_raw = _pairs(raw[15])
    ids = p.ids()
    imported = {
        kind: {period: _imported_value(imported_raw, kind, period, ids)
               for period in (*PERIODS, "total")}
        for kind in KINDS
    }
    return {"imported": imported, "measured": _measured(raw)}


def history(store: Store, site: Site, start: date, end: date) -> list[dict[str, Any]]:
    """Daily visits, pageviews and uniques from start to end inclusive."""
    if end < start:
        raise Invalid("from must not be after to")
    if (end - start).days + 1 > MAX_HISTORY_DAYS:
        raise Invalid(f"at most {MAX_HISTORY_DAYS} days at once")
    years = [str(y) for y in range(start.year, end.year + 1)]
    stored = counting.history(store, site.id, years)
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
