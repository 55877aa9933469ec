"""Merging a portal into another: its figures move to the target and it becomes an alias.

The order matters, and every part of it can be interrupted and run again:

1. checks (400/404/409 before anything is written);
2. the source becomes an alias (its settings gain `merged_into`; in its own slot, refused if
   others were merged into it), then the target lists it (in the target's slot, refused if
   the target is itself an alias; the source claim is undone then);
3. a pause until every process's settings cache (service.sites, 1 s) knows the alias, so
   the source receives no more hits while it is copied: hits addressed to it count into the
   target from then on;
4. the copy, as idempotent steps in the target's slot (service.store.merges): totals, this
   week's/month's/year's counters, who is online and their open visits and reload guards
   (an alias's readers keep their visitor ids, service.sites.resolve_public), the daily
   history, sources, ratings of information, the HyperLogLogs, the imported baselines,
   per-page views and top lists; then `done`.

A re-run skips the steps already done, so nothing is added twice; a merge that completed
answers 409 `already merged`. Hotlines, polls and hotline clicks stay with the source.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from service import sites
from service.counting import figures, visits
from service.counting.periods import ms, periods_of
from service.errors import Conflict, Invalid, NotFound
from service.sites import SITE_ID_RE, Site
from service.store import Store, VersionConflict, page_merge
from service.store import checks as checks_db
from service.store import merge_steps as steps
from service.store import merges as db
from service.store import sites as sites_db
from service.store.counters import PERIODS

SETTLE_SECONDS = sites.CACHE_SECONDS + 1.0
_FIELD = {"visits": "v", "pageviews": "p"}


def check(store: Store, source_id: str, target_id: Any) -> tuple[Site, Site, bool]:
    """(source, target, resuming) or the refusal: 404 unknown source, 400 bad target or the
    site itself, 409 already merged, target an alias, or others merged into the source."""
    source = sites.get_site(store, source_id, cached=False)
    if not isinstance(target_id, str) or not SITE_ID_RE.match(target_id):
        raise Invalid("into must be a site id")
    if target_id == source.id:
        raise Invalid("cannot merge a site into itself")
    if not sites.exists(store, target_id):
        raise Invalid(f"unknown site: {target_id}")
    target = sites.get_site(store, target_id, cached=False)
    if source.merged_into:
        if source.merged_into != target.id or "done" in db.progress(store, source.id,
                                                                    target.id):
            raise Conflict("already merged")
        return source, target, True
    if target.merged_into:
        raise Conflict("target is an alias")
    if sites_db.aliases(store, source.id):
        raise Conflict("other sites were merged into this site")
    return source, target, False


def merge(store: Store, source_id: str, target_id: Any, *, now: datetime,
          settle_seconds: float | None = None,
          after_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Merge the source into the target (or finish an interrupted merge); what moved.

    `after_step` is called with each step's name once it is done (tests stop merges there).
    """
    source, target, resuming = check(store, source_id, target_id)
    claimed = db.claim_source(store, source.id, target.id)
    if claimed == -1:
        raise Conflict("other sites were merged into this site")
    if claimed == -2:
        raise NotFound("unknown site")
    if claimed == 0:
        raise VersionConflict(source.id)  # its settings kept changing: 409, try again
    if claimed != 1:
        raise Conflict("already merged")
    accepted = db.claim_target(store, source.id, target.id, ms(now))
    if accepted != 1:
        if not resuming:
            db.release_source(store, source.id, target.id)
        raise Conflict("target is an alias") if accepted == -2 else Invalid(
            f"unknown site: {target.id}")
    for site_id in (source.id, target.id):
        store.site_cache.pop(site_id)
    _settle(store, source.id, target.id, now,
            SETTLE_SECONDS if settle_seconds is None else settle_seconds)

    moved = visits.read_stats(store, source, now=now)
    p = periods_of(now, target.tz)
    now_ms = ms(now)
    done = after_step or (lambda step: None)
    steps.merge_counters(store, source.id, target.id, p, now_ms, done)
    steps.merge_sessions(store, source.id, target.id, done)
    steps.merge_history(store, source.id, target.id, now_ms, done)
    steps.merge_sources(store, source.id, target.id, now_ms, done)
    steps.merge_ratings(store, source.id, target.id, now_ms, done)
    steps.merge_uniques(store, source.id, target.id, p, now_ms, done)
    steps.merge_baselines(store, source.id, target.id, _baselines(store, source.id, p.ids()),
                       now_ms, done)
    pages = page_merge.merge_pages(store, source.id, target.id, p,
                                   max_pages=target.max_pages, listable=target.listable,
                                   now_ms=now_ms, done=done)
    if target.verifies:  # pages it took from the source are listed once its portal has them
        checks_db.queue_unchecked(store, target.id, now_ms=now_ms)
    db.finish(store, source.id, target.id, now_ms)
    return {"site": source.id, "merged_into": target.id, "resumed": resuming,
            "moved": {"visits": moved["visits"], "pageviews": moved["pageviews"]},
            "pages": {"added": pages.added, "evicted": pages.evicted,
                      "dropped": pages.dropped}}


def _settle(store: Store, source: str, target: str, now: datetime, seconds: float) -> None:
    """Wait until `seconds` have passed since the source became an alias."""
    claimed = int(db.progress(store, source, target).get("claimed") or ms(now))
    remaining = claimed / 1000 + seconds - now.timestamp()
    if remaining > 0:
        time.sleep(min(remaining, seconds))


def _baselines(store: Store, source: str,
               ids: dict[str, str]) -> dict[str, tuple[int, str | None]]:
    """The source's baselines that count now: field -> (value, period id; None for total)."""
    current = figures.imported_values(steps.imported(store, source), ids)
    out: dict[str, tuple[int, str | None]] = {}
    for kind, values in current.items():
        for period in (*PERIODS, "total"):
            out[f"{_FIELD[kind]}:{period}"] = (
                values[period], None if period == "total" else ids[period])
    return out


def pending(store: Store, site: Site) -> bool:
    """Whether the site is an alias whose merge has not finished (run it again)."""
    return bool(site.merged_into) and "done" not in db.progress(store, site.id,
                                                                site.merged_into)
