"""Layout 3 -> 4: the pages of sites that verify them are queued for their first check.

Layout 4 keeps, for each tracked page of a site with `origins` (and `verify_pages` not
turned off), what the portal's own page says of it (`pstate`, the check queue: see
service.store.checks). Pages tracked before it have no state: this step marks each as
checked-never ("legacy", still listed) and queues its check, most viewed first, so the
site's top pages are confirmed first. The marking is HSETNX per page, so a step killed at
any point and run again marks nothing twice.
"""

from __future__ import annotations

import json
import time

from service.store import Store, checks
from service.store.migrations.base import Budget, Step


def _verifying(store: Store) -> list[str]:
    """Ids of the sites (not aliases) whose pages are checked against their portal."""
    found = []
    with store.guard("migrate"):
        ids = sorted(store.redis.smembers(store.keys.sites()))
    for site in ids:
        with store.guard("migrate"):
            raw = store.redis.get(store.keys.settings(site))
        settings = json.loads(raw) if raw else {}
        if settings.get("origins") and settings.get("verify_pages") is not False \
                and not settings.get("merged_into"):
            found.append(site)
    return found


def _unchecked(store: Store, site: str) -> int:
    with store.guard("migrate"):
        tracked = int(store.redis.zcard(store.keys.page_views(site)))
        stated = int(store.redis.hlen(store.keys.page_states(site)))
    return max(tracked - stated, 0)


def plan(store: Store) -> list[str]:
    """How many pages of verifying sites get queued for their first check."""
    waiting = {site: n for site in _verifying(store) if (n := _unchecked(store, site))}
    if not waiting:
        return []
    return [f"{sum(waiting.values())} page(s) of {len(waiting)} site(s) with origins are "
            f"queued to be checked against their portal: {', '.join(sorted(waiting)[:20])}"]


def run(store: Store, budget: Budget) -> None:
    """Queue every unchecked page of every verifying site."""
    for site in _verifying(store):
        checks.queue_unchecked(store, site, now_ms=int(time.time() * 1000))
        budget.spend()


STEP = Step(version=4, title="pages of sites with origins are queued for their first check",
            plan=plan, run=run)
