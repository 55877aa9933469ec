"""What the admin, the reports and the public pages show of ratings: totals, pages ranked
by share or by number of ratings, and the members of a group ranked by share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.counting.periods import periods_of
from service.errors import Invalid
from service.ratings.rules import MIN_RATINGS, REASONS, share
from service.sites import Site
from service.store import Store
from service.store import ratings as db

PERIODS = ("month", "year", "total")
SORTS = ("least_useful", "most_rated")
# least_useful ranks every page with MIN_RATINGS ratings or more; it reads at most this many
SCAN_LIMIT = 20_000


def bucket(site: Site, period: str, now: datetime) -> str:
    """The bucket of a period: this month (YYYY-MM), this year (YYYY) or all time."""
    if period not in PERIODS:
        raise Invalid("period must be one of month, year, total")
    if period == "total":
        return db.ALL
    p = periods_of(now, site.tz)
    return p.month if period == "month" else p.year


def _share(counts: db.Counts) -> float | None:
    found = share(counts)
    return None if found is None else round(found, 4)


def counts_json(counts: db.Counts) -> dict[str, Any]:
    """Counts as the admin API writes them: useful, not_useful, share_useful, reasons."""
    return {"useful": counts.useful, "not_useful": counts.not_useful,
            "share_useful": _share(counts),
            "reasons": {r: counts.reasons.get(r, 0) for r in REASONS}}


def totals(store: Store, site: Site, bucket_id: str) -> db.Counts:
    """The site's counts in a bucket."""
    return db.totals(store, site.id, bucket_id, REASONS)


def pages(store: Store, site: Site, bucket_id: str, *, sort: str,
          limit: int) -> list[dict[str, Any]]:
    """Rated pages of a bucket: `least_useful` (at least MIN_RATINGS ratings, lowest share
    first, then most rated) or `most_rated`. Pages the page table no longer holds are left
    out (their ratings stay in the totals)."""
    if sort not in SORTS:
        raise Invalid("sort must be least_useful or most_rated")
    if sort == "most_rated":
        found = db.rated(store, site.id, bucket_id, REASONS, limit=limit)
    else:
        found = db.rated(store, site.id, bucket_id, REASONS, limit=SCAN_LIMIT,
                         min_ratings=MIN_RATINGS)
        found.sort(key=lambda p: (p.counts.useful / p.counts.total, -p.counts.total,
                                  p.path or ""))
    return [{"path": p.path, "title": p.title, **counts_json(p.counts)}
            for p in found if p.path is not None][:limit]


def admin_view(store: Store, site: Site, *, period: str, sort: str, limit: int,
               now: datetime) -> dict[str, Any]:
    """GET /api/v1/admin/sites/{site}/ratings."""
    bucket_id = bucket(site, period, now)
    return {"period": period, "bucket": bucket_id, "sort": sort, "min_ratings": MIN_RATINGS,
            "pages": pages(store, site, bucket_id, sort=sort, limit=limit),
            "totals": counts_json(totals(store, site, bucket_id))}


def group_view(store: Store, group_id: str, name: str, members: list[Site], *, period: str,
               now: datetime) -> dict[str, Any]:
    """GET /api/v1/admin/groups/{group}/ratings: the group's totals and its sites ranked by
    share of useful ratings, lowest first (sites without ratings last)."""
    rows = []
    summed = db.Counts(0, 0, dict.fromkeys(REASONS, 0))
    for site in members:
        found = totals(store, site, bucket(site, period, now))
        summed = db.Counts(summed.useful + found.useful, summed.not_useful + found.not_useful,
                           {r: summed.reasons[r] + found.reasons.get(r, 0) for r in REASONS})
        rows.append({"site": site.id, "name": site.name or site.id, **counts_json(found)})
    rows.sort(key=lambda r: (r["share_useful"] is None, r["share_useful"] or 0.0, r["site"]))
    return {"group": group_id, "name": name, "period": period,
            "totals": counts_json(summed), "sites": rows}


def public_summary(store: Store, site: Site, now: datetime) -> dict[str, Any]:
    """What a public statistics page shows: this month's and all-time counts and share."""
    out = {}
    for period in ("month", "total"):
        found = totals(store, site, bucket(site, period, now))
        out[period] = {"ratings": found.total, "useful": found.useful,
                       "share_useful": share(found)}
    return out


def sum_public(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several sites' public summaries summed (a group's page)."""
    out = {}
    for period in ("month", "total"):
        ratings = sum(p[period]["ratings"] for p in parts)
        useful = sum(p[period]["useful"] for p in parts)
        out[period] = {"ratings": ratings, "useful": useful,
                       "share_useful": useful / ratings if ratings else None}
    return out


REPORT_PAGES = 1000  # a report's ratings sheet lists at most this many pages, most rated first


def report_part(store: Store, site: Site, bucket_id: str) -> dict[str, Any]:
    """A report's ratings of one period (a month's or a year's bucket): the site's totals
    and the rated pages, most rated first."""
    found = db.rated(store, site.id, bucket_id, REASONS, limit=REPORT_PAGES)
    return {
        "totals": report_counts(totals(store, site, bucket_id)),
        "pages": [{"path": p.path, "title": p.title, **report_counts(p.counts)}
                  for p in found if p.path is not None],
    }


def report_counts(counts: db.Counts) -> dict[str, Any]:
    """Counts as a report row holds them: useful, not_useful, share (None), reasons."""
    return {"useful": counts.useful, "not_useful": counts.not_useful, "share": share(counts),
            "reasons": {r: counts.reasons.get(r, 0) for r in REASONS}}


def sum_report(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Report totals of several sites summed."""
    useful = sum(p["useful"] for p in parts)
    not_useful = sum(p["not_useful"] for p in parts)
    total = useful + not_useful
    return {"useful": useful, "not_useful": not_useful,
            "share": useful / total if total else None,
            "reasons": {r: sum(p["reasons"][r] for p in parts) for r in REASONS}}
