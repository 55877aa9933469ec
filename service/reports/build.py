"""Reports for leadership: a month's or a year's figures of a site, or of several summed.

This module gathers the numbers (plain values); service.reports.workbook lays them out as Excel.
A group report is the site report summed over member sites plus one row per site
(`group_report`, which takes a list of sites).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from service.counting import figures, sources
from service.counting.periods import local_iso, ms, periods_of, shift_month
from service.errors import Invalid
from service.pages import rules as pages
from service.polls import rules as polls
from service.ratings import summary as ratings
from service.sites import Site
from service.store import Store
from service.store import counters as counters_db

TOP_PAGES = 50
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^\d{4}$")
KINDS = ("visits", "pageviews", "uniques")


@dataclass(frozen=True)
class ReportPeriod:
    """A calendar month or year of the report, and the one before it."""

    kind: str  # month or year
    id: str  # 2026-11 or 2026
    start: date
    end: date  # last day (inclusive)

    def previous(self) -> ReportPeriod:
        """The month or year before."""
        if self.kind == "year":
            return year_period(self.start.year - 1)
        return month_period(shift_month(self.id, -1))

    def label(self, lang: str = "vi") -> str:
        """Tháng 11/2026, Năm 2026 (or November 2026 / 2026 in English)."""
        if self.kind == "year":
            return f"Năm {self.id}" if lang == "vi" else self.id
        if lang == "vi":
            return f"Tháng {self.start.month}/{self.start.year}"
        return self.start.strftime("%B %Y")


def month_period(month: str) -> ReportPeriod:
    """The period of a month id YYYY-MM."""
    year, mon = (int(x) for x in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + mon // 12, mon % 12 + 1, 1) - timedelta(days=1)
    return ReportPeriod("month", month, start, end)


def year_period(year: int) -> ReportPeriod:
    """The period of a calendar year."""
    return ReportPeriod("year", str(year), date(year, 1, 1), date(year, 12, 31))


def period_from(month: str | None, year: str | None, *, today: date) -> ReportPeriod:
    """The report's period from ?month=YYYY-MM or ?year=YYYY (default: this month)."""
    if month and year:
        raise Invalid("give month or year, not both")
    if year:
        if not _YEAR_RE.match(year) or not 2000 <= int(year) <= 2999:
            raise Invalid("year must be YYYY")
        period = year_period(int(year))
    elif month:
        found = _MONTH_RE.match(month)
        if not found or not 2000 <= int(found.group(1)) <= 2999 \
                or not 1 <= int(found.group(2)) <= 12:
            raise Invalid("month must be YYYY-MM")
        period = month_period(month)
    else:
        period = month_period(today.strftime("%Y-%m"))
    if period.start > today:
        raise Invalid("the period has not begun")
    return period


@dataclass
class Report:
    """Everything a report shows, as plain values."""

    name_id: str  # the site's (or group's) id, for the file name
    name: str
    period: ReportPeriod
    generated: str  # local ISO time
    # kind -> {"current", "previous"} measured; imported baselines apart
    measured: dict[str, dict[str, int]]
    imported: dict[str, dict[str, int]]  # visits/pageviews -> {"current", "previous"}
    total: dict[str, int]  # all-time public visits/pageviews (imported included)
    total_imported: dict[str, int]
    days: list[dict[str, Any]]  # {"date": "YYYY-MM-DD", "visits", "pageviews", "uniques"}
    top_pages: list[dict[str, Any]]  # {"path", "title", "views"} (+ "site" in a group)
    sources: dict[str, int]
    hosts: list[dict[str, Any]]
    polls: list[dict[str, Any]]  # {"question", "status", "total", "options": [...]} (+ "site")
    sites: list[dict[str, Any]] = field(default_factory=list)  # group: one row per site
    # ratings of information: {"useful", "not_useful", "share", "reasons"} of the period, and
    # the rated pages with theirs, most rated first (+ "site" in a group)
    rating_totals: dict[str, Any] = field(default_factory=lambda: ratings.sum_report([]))
    rated_pages: list[dict[str, Any]] = field(default_factory=list)


def _last_day(period: ReportPeriod, today: date) -> date:
    return min(period.end, today)


def _sum_days(days: list[dict[str, Any]]) -> dict[str, int]:
    return {kind: sum(int(d[kind]) for d in days) for kind in KINDS}


def _imported_for(raw: dict[str, str], period: ReportPeriod) -> dict[str, int]:
    """Baselines an admin set inside `period` for that month or year."""
    out = {}
    for kind, letter in (("visits", "v"), ("pageviews", "p")):
        name = f"{letter}:{period.kind}"
        out[kind] = int(raw[name]) if raw.get(name + ":id") == period.id else 0
    return out


def top_pages(store: Store, site: Site, period: ReportPeriod, *, today: date,
              limit: int = TOP_PAGES) -> list[dict[str, Any]]:
    """The period's most viewed pages. A past year's list has expired: it is summed from its
    months' lists (each kept 13 months, trimmed to its 1,000 most viewed paths)."""
    if period.kind == "month" or period.start.year == today.year:
        return pages.top_of(store, site, period.id, limit)
    summed: dict[str, dict[str, Any]] = {}
    for month in sources.months_between(period.start, period.end):
        for page in pages.top_of(store, site, month, 1000):
            entry = summed.setdefault(page["path"], {**page, "views": 0})
            entry["views"] += page["views"]
    ranked = sorted(summed.values(), key=lambda p: (-p["views"], p["path"]))
    return ranked[:limit]


def _poll_rows(store: Store, site: Site, period: ReportPeriod, now: datetime
               ) -> list[dict[str, Any]]:
    """Each poll open at some time during the period, with its current tally."""
    start = ms(datetime(period.start.year, period.start.month, period.start.day,
                        tzinfo=site.tz))
    after = period.end + timedelta(days=1)
    end = ms(datetime(after.year, after.month, after.day, tzinfo=site.tz))
    rows = []
    for poll in polls.list_polls(store, site, now=now):
        opened = poll.get("opens_at") or poll.get("created")
        opens = ms(datetime.fromisoformat(opened)) if opened else 0
        closes = ms(datetime.fromisoformat(poll["closes_at"])) if poll.get("closes_at") \
            else None
        if opens >= end or (closes is not None and closes <= start):
            continue
        total = int(poll["total_votes"] or 0)
        rows.append({
            "question": poll["question"], "status": poll["status"], "total": total,
            "options": [{"label": o["label"], "votes": int(o["votes"] or 0),
                         "share": (int(o["votes"] or 0) / total) if total else 0.0}
                        for o in poll["options"]],
        })
    return rows


def site_report(store: Store, site: Site, period: ReportPeriod, *, now: datetime) -> Report:
    """One site's report of a month or year."""
    today = date.fromisoformat(periods_of(now, site.tz).day)
    previous = period.previous()
    days = figures.history(store, site, period.start, _last_day(period, today))
    before = figures.history(store, site, previous.start, previous.end)
    found = counters_db.figures(store, site.id, periods_of(now, site.tz), now_ms=ms(now),
                                window_ms=site.online_window_seconds * 1000)
    current, prior = _sum_days(days), _sum_days(before)
    imported_now, imported_before = (_imported_for(found.imported, period),
                                     _imported_for(found.imported, previous))
    total_imported = {kind: int(found.imported.get(f"{kind[0]}:total", 0))
                      for kind in ("visits", "pageviews")}
    end = _last_day(period, today)
    return Report(
        name_id=site.id, name=site.name or site.id, period=period,
        generated=local_iso(now, site.tz),
        measured={kind: {"current": current[kind], "previous": prior[kind]} for kind in KINDS},
        imported={kind: {"current": imported_now[kind], "previous": imported_before[kind]}
                  for kind in ("visits", "pageviews")},
        total={"visits": found.visits["total"] + total_imported["visits"],
               "pageviews": found.pageviews["total"] + total_imported["pageviews"]},
        total_imported=total_imported,
        days=days,
        top_pages=top_pages(store, site, period, today=today),
        sources=sources.counts_between(store, site.id, period.start, end),
        hosts=sources.hosts_between(store, site.id, period.start, end, limit=50),
        polls=_poll_rows(store, site, period, now),
        **_ratings(store, site, period),
    )


def _ratings(store: Store, site: Site, period: ReportPeriod) -> dict[str, Any]:
    """The period's ratings (a month's or a year's bucket; kept 13 months after it ends)."""
    found = ratings.report_part(store, site, period.id)
    return {"rating_totals": found["totals"], "rated_pages": found["pages"]}


def group_report(store: Store, group_id: str, name: str, members: list[Site],
                 period: ReportPeriod, *, now: datetime) -> Report:
    """A group's report: each member site's report summed, plus one row per site
    (for the `Theo cổng` sheet). Ready for /api/v1/admin/groups/{group}/report."""
    if not members:
        raise Invalid("the group has no sites")
    parts = [site_report(store, site, period, now=now) for site in members]
    first = parts[0]
    days: dict[str, dict[str, Any]] = {}
    for part in parts:
        for day in part.days:
            row = days.setdefault(day["date"], {"date": day["date"], **dict.fromkeys(KINDS, 0)})
            for kind in KINDS:
                row[kind] += day[kind]
    hosts: dict[str, int] = {}
    for part in parts:
        for host in part.hosts:
            hosts[host["host"]] = hosts.get(host["host"], 0) + host["visits"]
    ranked = [{**page, "site": part.name} for part in parts for page in part.top_pages]
    return Report(
        name_id=group_id, name=name, period=period, generated=first.generated,
        measured={kind: {when: sum(p.measured[kind][when] for p in parts)
                         for when in ("current", "previous")} for kind in KINDS},
        imported={kind: {when: sum(p.imported[kind][when] for p in parts)
                         for when in ("current", "previous")}
                  for kind in ("visits", "pageviews")},
        total={kind: sum(p.total[kind] for p in parts) for kind in ("visits", "pageviews")},
        total_imported={kind: sum(p.total_imported[kind] for p in parts)
                        for kind in ("visits", "pageviews")},
        days=[days[d] for d in sorted(days)],
        top_pages=sorted(ranked, key=lambda p: (-p["views"], p["site"], p["path"]))[:TOP_PAGES],
        sources={c: sum(p.sources[c] for p in parts) for c in sources.CATEGORIES},
        hosts=[{"host": h, "visits": v} for h, v in
               sorted(hosts.items(), key=lambda item: (-item[1], item[0]))[:50]],
        polls=[{**poll, "site": part.name} for part in parts for poll in part.polls],
        sites=sorted(({"site": part.name_id, "name": part.name,
                       "visits": part.measured["visits"]["current"]
                       + part.imported["visits"]["current"],
                       "pageviews": part.measured["pageviews"]["current"]
                       + part.imported["pageviews"]["current"],
                       "uniques": part.measured["uniques"]["current"],
                       "ratings": part.rating_totals["useful"]
                       + part.rating_totals["not_useful"],
                       "share_useful": part.rating_totals["share"]} for part in parts),
                     key=lambda row: (-row["visits"], row["site"])),
        rating_totals=ratings.sum_report([part.rating_totals for part in parts]),
        rated_pages=sorted(({**page, "site": part.name} for part in parts
                            for page in part.rated_pages),
                           key=lambda p: (-(p["useful"] + p["not_useful"]), p["site"],
                                          p["path"]))[:ratings.REPORT_PAGES],
    )
