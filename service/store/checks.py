"""The queue of page checks (verification against the portal's own page) and their outcomes.

A check is queued by the hit that first counts a path (pages.lua), claimed by one fetcher
at a time across every worker and instance (check_claim.lua: at most a few a second per
site), and its outcome applied atomically (check_done.lua).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.counting.periods import Periods
from service.store import Store
from service.store.counters import KEEP_SECONDS
from service.store.pages import check_keys, page_id, page_keys

LEGACY_CHUNK = 500  # pages marked per round trip by queue_unchecked


@dataclass(frozen=True)
class Claimed:
    """A page check this fetcher now holds (until its lease ends)."""

    site: str
    page_id: str
    path: str
    tries: int  # failed fetches in a row before this one


@dataclass(frozen=True)
class Idle:
    """Nothing to fetch for the site now: the next check is due in `wait_ms` (-1: none), or
    the site's fetch rate is used up for this second (`limited`)."""

    wait_ms: int
    limited: bool = False


def claim(store: Store, site: str, *, now_ms: int, lease_ms: int,
          per_second: int) -> Claimed | Idle:
    """Take the site's next due check, or say when to look again."""
    k = store.keys
    with store.guard("checks"):
        raw: list[Any] = store.scripts.check_claim(
            keys=[k.check_queue(site), k.page_paths(site), k.page_candidates(site),
                  k.check_rate(site, now_ms // 1000), k.check_tries(site)],
            args=[now_ms, lease_ms, per_second])
    if raw[0] == 1:
        return Claimed(site, str(raw[1]), str(raw[2]), int(raw[3]))
    if raw[0] == -2:
        return Idle(1000 - now_ms % 1000, limited=True)
    if raw[0] == -1:
        return Idle(0)
    return Idle(int(raw[1]))


@dataclass(frozen=True)
class Outcome:
    """What one fetch found, to be applied by check_done.lua."""

    result: str  # verified, rejected, failed
    title: str = ""  # the portal's title of the page ('' = none)
    retry_at_ms: int = 0  # failed: when to try again


def done(store: Store, claimed: Claimed, outcome: Outcome, *, p: Periods, now_ms: int,
         max_pages: int, listable: bool) -> bool:
    """Apply a fetch's outcome; False when the page left the table meanwhile."""
    site = claimed.site
    # as hit.lua's: the month's list is kept 13 months for reports
    lifetimes = [at * 1000 - now_ms for at in
                 (p.expire_day, p.expire_week, p.expire_month + KEEP_SECONDS, p.expire_year)]
    with store.guard("checks"):
        raw: list[Any] = store.scripts.check_done(
            keys=[*page_keys(store, site, p), *check_keys(store, site)],
            args=[claimed.page_id, outcome.result, now_ms, outcome.title,
                  outcome.retry_at_ms, max_pages, 1 if listable else 0, *lifetimes])
    return bool(raw[0])


def check_now(store: Store, site: str, path: str, *, now_ms: int) -> bool:
    """Queue a check of a tracked path, due now; False when the path is not tracked."""
    k, pid = store.keys, page_id(path)
    with store.guard("checks"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.hexists(k.page_paths(site), pid)
        pipe.hexists(k.page_candidates(site), pid)
        tracked, waiting = pipe.execute()
        if not (tracked or waiting):
            return False
        if tracked:
            # a page tracked before its site verified pages gets its state as a hit would
            store.scripts.check_legacy(
                keys=[k.page_states(site), k.pages_unlisted(site), k.check_queue(site)],
                args=[now_ms, pid, int(store.redis.zscore(k.page_views(site), pid) or 0)])
        store.redis.zadd(k.check_queue(site), {pid: now_ms})
    return True


def queue_unchecked(store: Store, site: str, *, now_ms: int) -> int:
    """Mark every tracked page that has no verification state as unverified and queue its
    check, most viewed first (so a site's top pages are listed again first); pages with a
    state are left alone, so running it again (or after an interruption) changes nothing.

    For an upgrade from before verification, and when a site starts verifying its pages.
    Returns how many pages it marked.
    """
    k = store.keys
    marked, start = 0, 0
    while True:
        with store.guard("checks"):
            rows = store.redis.zrevrange(k.page_views(site), start, start + LEGACY_CHUNK - 1,
                                         withscores=True)
            if not rows:
                return marked
            args: list[Any] = [now_ms + start]
            for pid, views in rows:
                args += [pid, int(views)]
            marked += int(store.scripts.check_legacy(
                keys=[k.page_states(site), k.pages_unlisted(site), k.check_queue(site)],
                args=args))
        start += LEGACY_CHUNK


def pending(store: Store, site: str) -> int:
    """How many checks the site's queue holds."""
    with store.guard("checks"):
        return int(store.redis.zcard(store.keys.check_queue(site)))
