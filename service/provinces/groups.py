"""Groups of sites (a province, a city) and their roll-up figures."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service import sites
from service.counting import figures
from service.counting.periods import local_iso, ms, periods_of
from service.errors import Invalid, NotFound
from service.ratings import summary as rating_summary
from service.reports import statspage
from service.sites import SITE_ID_RE, Site
from service.store import Store
from service.store import groups as db
from service.store.counters import PERIODS
from service.store.rollup import Wanted, figures_many

MAX_SITES = 500
# The public page of a group reads each member's page content (history, top pages, ...): it
# is kept about as long as browsers may keep it (Cache-Control max-age=60), less the second
# service.web.reads may keep it on top (its top pages may lag by at most 60 s).
PAGE_SECONDS = 59.0
# The roll-up of a group is kept this long per process: a province's front page may show it
# on every load, and it reads every member site. With the read cache's second on top, a
# group's figures lag a write by at most 5 s.
CACHE_SECONDS = 4.0
_ALL = (*PERIODS, "total")


@dataclass(frozen=True)
class Group:
    """A named, ordered set of site ids."""

    id: str
    name: str
    sites: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """As the admin API shows it."""
        return {"id": self.id, "name": self.name, "sites": list(self.sites)}


def _check_id(group_id: str) -> str:
    if not SITE_ID_RE.match(group_id):
        raise NotFound("unknown group")
    return group_id


def validate(store: Store, body: Any, group_id: str) -> Group:
    """A group from a PUT body; Invalid names the first problem (an unknown site too)."""
    if not isinstance(body, Mapping):
        raise Invalid("group must be an object with name and sites")
    unknown = set(body) - {"name", "sites"}
    if unknown:
        raise Invalid(f"unknown field: {str(sorted(unknown)[0])[:40]}")
    name = body.get("name", group_id)
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        raise Invalid("name must be 1-200 characters")
    members = body.get("sites")
    if not isinstance(members, list) or len(members) > MAX_SITES:
        raise Invalid(f"sites must be a list of at most {MAX_SITES} site ids")
    for site_id in members:
        if not isinstance(site_id, str) or not SITE_ID_RE.match(site_id):
            raise Invalid("sites must be a list of site ids")
    ids = list(dict.fromkeys(members))
    known = sites.get_many(store, ids, cached=False)  # an admin's write: current settings
    missing = [site_id for site_id in ids if site_id not in known]
    if missing:
        raise Invalid(f"unknown site: {missing[0]}")
    return Group(id=group_id, name=name.strip(), sites=tuple(ids))


def put_group(store: Store, group_id: str, body: Any) -> tuple[Group, bool]:
    """Create or replace the group; (group, created)."""
    if not SITE_ID_RE.match(group_id):
        raise Invalid("group id must match ^[a-z0-9][a-z0-9-]{0,62}$")
    group = validate(store, body, group_id)
    created = db.load(store, group_id) is None
    db.save(store, group_id, {"name": group.name, "sites": list(group.sites)})
    store.group_cache.pop(group_id)
    store.group_cache.pop(f"page:{group_id}")
    return group, created


def get_group(store: Store, group_id: str) -> Group:
    """The group, or NotFound."""
    doc = db.load(store, _check_id(group_id))
    if doc is None:
        raise NotFound("unknown group")
    return Group(id=group_id, name=str(doc.get("name") or group_id),
                 sites=tuple(doc.get("sites", [])))


def list_groups(store: Store) -> list[Group]:
    """Every group, sorted by id."""
    return [Group(id=gid, name=str(doc.get("name") or gid), sites=tuple(doc.get("sites", [])))
            for gid, doc in db.load_all(store)]


def delete_group(store: Store, group_id: str) -> None:
    """Remove the group (its sites stay)."""
    if not db.delete(store, _check_id(group_id)):
        raise NotFound("unknown group")
    store.group_cache.pop(group_id)
    store.group_cache.pop(f"page:{group_id}")


def members(store: Store, group: Group, *, cached: bool) -> list[Site]:
    """The sites whose figures the group sums: each member once, an alias replaced by the
    site it was merged into (so a merge never counts a site twice), deleted sites left out.
    `cached`: settings from the site cache (public reads only; admin reads are current)."""
    found = sites.get_many(store, list(group.sites), cached=cached)
    targets = [s.merged_into for s in found.values() if s.merged_into]
    found.update(sites.get_many(store, [t for t in targets if t not in found], cached=cached))
    out: dict[str, Site] = {}
    for site_id in group.sites:
        site = found.get(site_id)
        if site is not None and site.merged_into:
            site = found.get(site.merged_into)
        if site is not None and not site.merged_into:
            out.setdefault(site.id, site)
    return list(out.values())


def stats(store: Store, group_id: str, *, now: datetime) -> dict[str, Any]:
    """The roll-up: sums of the members' public figures and the members ranked by visits
    this month; up to CACHE_SECONDS old."""
    clock = time.monotonic()
    cached: dict[str, Any] | None = store.group_cache.get(_check_id(group_id), clock)
    if cached is not None:
        return cached
    group = get_group(store, group_id)
    result = _roll_up(store, group, now)
    store.group_cache.put(group_id, result, clock + CACHE_SECONDS, now=clock)
    return result


def _roll_up(store: Store, group: Group, now: datetime) -> dict[str, Any]:
    member_sites = members(store, group, cached=True)
    wanted = [Wanted(s.id, periods_of(now, s.tz), s.online_window_seconds * 1000)
              for s in member_sites]
    each = [figures.stats_object(site, found, w.periods, now) for site, found, w in
            zip(member_sites, figures_many(store, wanted, now_ms=ms(now)), wanted, strict=True)]
    ranked = sorted(zip(member_sites, each, strict=True),
                    key=lambda pair: (-pair[1]["visits"]["month"], pair[0].id))
    tz = member_sites[0].tz if member_sites else Site(id="-").tz
    return {
        "group": group.id,
        "name": group.name,
        "online": sum(s["online"] for s in each),
        "visits": {p: sum(s["visits"][p] for s in each) for p in _ALL},
        "pageviews": {p: sum(s["pageviews"][p] for s in each) for p in _ALL},
        "uniques": {p: sum(s["uniques"][p] for s in each) for p in PERIODS},
        "sites": [{"site": site.id, "name": site.name or site.id, "online": s["online"],
                   "visits": s["visits"], "pageviews": s["pageviews"]}
                  for site, s in ranked],
        "as_of": local_iso(now, tz),
        "online_window_seconds": max((s.online_window_seconds for s in member_sites),
                                     default=300),
    }


def public_page(store: Store, group_id: str, *, now: datetime) -> dict[str, Any]:
    """What /stats/groups/{group} shows: the roll-up, the members' charts summed, their
    month's top pages together and the sites ranked; NotFound unless every member's
    public_stats is on. Kept up to PAGE_SECONDS per process."""
    clock = time.monotonic()
    key = f"page:{_check_id(group_id)}"
    cached: dict[str, Any] | None = store.group_cache.get(key, clock)
    if cached is not None:
        return cached
    group = get_group(store, group_id)
    member_sites = members(store, group, cached=True)
    if not member_sites or not all(s.public_stats for s in member_sites):
        raise NotFound("not found")
    parts = [statspage.page(store, site, now=now) for site in member_sites]
    names = {site.id: site.name or site.id for site in member_sites}

    def summed(name: str, step: float) -> statspage.Chart:
        bars = parts[0][name].bars
        return statspage.chart([(bar.label, bar.long_label,
                                 sum(part[name].bars[i].value for part in parts))
                                for i, bar in enumerate(bars)], step)

    top = sorted(({**page, "site": names[site.id]} for site, part in
                  zip(member_sites, parts, strict=True) for page in part["top_pages"]),
                 key=lambda page: -int(page["views"]))[:statspage.TOP_PAGES]
    result = {
        "stats": stats(store, group_id, now=now),
        "days": summed("days", 30),
        "months": summed("months", 64),
        "top_pages": top,
        "poll": None,
        "ratings": rating_summary.sum_public([part["ratings"] for part in parts]),
        "imported": sum(int(part["imported"]) for part in parts),
        "imported_periods": {period: sum(int(part["imported_periods"][period]) for part in parts)
                             for period in parts[0]["imported_periods"]},
        "month": parts[0]["month"],
        "timezone": member_sites[0].timezone,
        "origins": list(dict.fromkeys(o for site in member_sites for o in site.origins)),
    }
    store.group_cache.put(key, result, clock + PAGE_SECONDS, now=clock)
    return result
