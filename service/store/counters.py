"""Visit counters in Redis: the hit and stats scripts, online set, history, baselines, salt."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from service.cache import Cache
from service.counting.periods import Periods, shift_month
from service.store import Store
from service.store.documents import get_hashes
from service.store.pages import PageWrite, named_check_keys, named_page_keys
from service.store.scripts import Call, run

# A retried hit script arrives within seconds of the first (0.4 s socket and connect
# timeouts, one retry after at most 0.1 s; finding a Sentinel master asks each sentinel once
# with the same timeouts): its request's marker must outlive that. 30 s leaves a wide margin
# and keeps 30,000 markers at 1,000 hits/s (about 3 MB), not the 120,000 of 120 s.
ONCE_SECONDS = 30
# A hit's answer may carry uniques counted up to this long ago (GET stats counts afresh).
UNIQUES_MAX_AGE_MS = 5000
SALT_SECONDS = 3 * 86400
PERIODS = ("today", "week", "month", "year")
# Reports read past months: a month's top pages and referring hosts, and a year's sources,
# are kept 13 months (397 days, the longest 13 months) after their period ends.
KEEP_SECONDS = 397 * 86400
MONTH_TOP_KEEP = 1000  # paths a month's top-pages list keeps once the month has ended
MAX_HOSTS = 200  # referring hosts counted per site and month
# new paths that wait, per site, outside a page table full of verified pages (pages.lua)
MAX_CANDIDATES = 1000


@dataclass(frozen=True)
class Figures:
    """Measured figures of one site (baselines apart, as stored)."""

    online: int
    visits: dict[str, int]  # today, week, month, year, total
    pageviews: dict[str, int]
    uniques: dict[str, int]  # today, week, month, year
    imported: dict[str, str]  # the baselines hash: v:total, v:year, v:year:id, ...

    @classmethod
    def from_reply(cls, raw: list[Any]) -> Figures:
        """Decode read_stats' list (stats.lua documents its layout)."""
        names = (*PERIODS, "total")
        flat = raw[15]
        return cls(
            online=int(raw[0]),
            visits={name: int(raw[1 + 2 * i]) for i, name in enumerate(names)},
            pageviews={name: int(raw[2 + 2 * i]) for i, name in enumerate(names)},
            uniques={name: int(raw[11 + i]) for i, name in enumerate(PERIODS)},
            imported={str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)},
        )


@dataclass(frozen=True)
class Rate:
    """A per-address allowance checked inside the script that does the work."""

    scope: str  # hit, beat, vote
    address: str  # keyed hash of the client's address unit
    allowed: int  # requests per window
    window_ms: int
    aggregate: str = ""  # keyed hash of the client's IPv6 /48 ('' = none: IPv4)
    aggregate_allowed: int = 0  # what the /48 together may do per window (0 = no limit)

    def key(self, store: Store, site: str, now_ms: int) -> str:
        """The counter of the window that contains `now_ms`."""
        return store.keys.rate(site, self.scope, self.address, now_ms // self.window_ms)

    def aggregate_key(self, store: Store, site: str, now_ms: int) -> str:
        """The /48's counter of that window (an unused name for IPv4)."""
        return store.keys.rate(site, self.scope + "48", self.aggregate or "-",
                               now_ms // self.window_ms)


@dataclass(frozen=True)
class Limited:
    """A request refused by its rate limit; retry after this many milliseconds."""

    retry_after_ms: int


@dataclass(frozen=True)
class HitWrite:
    """Everything hit.lua needs to record one page load."""

    site: str
    periods: Periods
    now_ms: int
    window_ms: int
    visitor: str
    request_id: str
    page: PageWrite
    session_s: int
    dedupe_s: int
    rate: Rate
    source: str = ""  # the new visit's source category; '' = internal (not a source)
    source_host: str = ""  # its referring host name ('' for none)


@dataclass(frozen=True)
class HitReply:
    """What hit.lua did: counted or a reload, the page's views, and the figures after it."""

    counted: bool
    views: int
    evicted: int  # pages that made room for this one (max_pages)
    figures: Figures
    queued: bool = False  # the hit queued a check of its page (a fetcher may be woken)


def stat_keys(store: Store, site: str, p: Periods) -> dict[str, str]:
    """The figures' keys by the names stats.lua gives them."""
    k = store.keys
    return {
        "online": k.online(site), "total": k.total(site), "year": k.counter(site, p.year),
        "month": k.counter(site, p.month), "week": k.counter(site, p.week),
        "history": k.history(site, p.year),
        "u_day": k.uniques(site, p.day), "u_week": k.uniques(site, p.week),
        "u_month": k.uniques(site, p.month), "u_year": k.uniques(site, p.year),
        "imported": k.imported(site), "uniques_cache": k.uniques_cache(site),
        "u_yesterday": k.uniques(site, p.yesterday),
        "history_yesterday": k.history(site, p.yesterday[:4]),
    }


def _stat_keys(store: Store, site: str, p: Periods) -> list[str]:
    """The figures' keys in stat_keys' order (a group's roll-up reads them by position)."""
    return list(stat_keys(store, site, p).values())


def stat_args(p: Periods, now_ms: int, window_ms: int) -> dict[str, Any]:
    """The figures' arguments by the names stats.lua gives them."""
    return {"now": now_ms, "window": window_ms, "day": p.day_field,
            "yesterday": p.yesterday_field}


def daily_salt(store: Store, day: str) -> str:
    """The random salt of `day`, created by the first instance that needs it."""
    cached: str | None = store.salt_cache.get(day)
    if cached is not None:
        return cached
    key = store.keys.salt(day)
    with store.guard("salt"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.set(key, secrets.token_hex(32), nx=True, ex=SALT_SECONDS)
        pipe.get(key)
        salt = str(pipe.execute()[1])
    # a day's salt never changes; kept a day, past the day it salts
    store.salt_cache.put(day, salt, time.monotonic() + 86400)
    return salt


# A hit's keys that follow from its site and day alone (most of them), built once per site
# and day: building 36 key strings was a tenth of a hit's Python time.
_FIXED_KEYS: Cache[tuple[str, str, str], dict[str, str]] = Cache("hit-keys", 1024 * 1024)


def _fixed_keys(store: Store, site: str, p: Periods) -> dict[str, str]:
    k = store.keys

    def build() -> dict[str, str]:
        return {
            **stat_keys(store, site, p), **named_page_keys(store, site, p),
            **named_check_keys(store, site),
            "sources": k.sources(site, p.year), "source_hosts": k.source_hosts(site, p.month),
            "rank_previous": k.rank(site, shift_month(p.month, -1)),
        }

    found: dict[str, str] = _FIXED_KEYS.remember((k.prefix, site, p.day), 3600, build)
    return found


def hit_call(store: Store, w: HitWrite) -> Call:
    """hit.lua's call: its named keys and arguments (hit.lua documents each); the one place
    that builds it (the benchmark and tests pipeline its `encoded()` form)."""
    k, site, p = store.keys, w.site, w.periods
    keys = {
        **_fixed_keys(store, site, p),
        "once": k.once(site, w.request_id), "dedupe": k.dedupe(site, w.visitor, w.page.id),
        "rate": w.rate.key(store, site, w.now_ms),
        "rate48": w.rate.aggregate_key(store, site, w.now_ms),
    }
    kept = (p.expire_month + KEEP_SECONDS) * 1000 - w.now_ms
    args = {
        **stat_args(p, w.now_ms, w.window_ms),
        "visitor": w.visitor, "session_ms": w.session_s * 1000,
        "keep_ms": max(w.session_s * 1000, w.window_ms), "dedupe_ms": w.dedupe_s * 1000,
        "once_s": ONCE_SECONDS, "uniques_max_age": UNIQUES_MAX_AGE_MS,
        "rate_allowed": w.rate.allowed, "rate_window": w.rate.window_ms,
        "rate48_allowed": w.rate.aggregate_allowed if w.rate.aggregate else 0,
        "lifetimes": [at * 1000 - w.now_ms for at in
                      (p.expire_day, p.expire_week, p.expire_month, p.expire_year)],
        "page": {**w.page.named(), "max_candidates": MAX_CANDIDATES},
        "source": w.source, "source_host": w.source_host, "max_hosts": MAX_HOSTS,
        "sources_life": (p.expire_year + KEEP_SECONDS) * 1000 - w.now_ms,
        "hosts_life": kept, "rank_month_life": kept, "month_top_keep": MONTH_TOP_KEEP,
    }
    return Call(keys, args)


def hit(store: Store, w: HitWrite) -> HitReply | Limited:
    """Record one page load in one round trip (the caller resolved the site)."""
    with store.guard("hit"):
        raw: list[Any] = run(store.scripts.hit, hit_call(store, w))
    if raw[0] == -2:
        return Limited(int(raw[1]))
    return HitReply(counted=bool(raw[1]), views=int(raw[2]), evicted=int(raw[3]),
                    figures=Figures.from_reply(raw[4]), queued=bool(raw[5]))


def stats_call(store: Store, site: str, p: Periods, *, now_ms: int, window_ms: int) -> Call:
    """stats_only.lua's call for GET stats: read only, uniques counted afresh."""
    return Call(stat_keys(store, site, p), stat_args(p, now_ms, window_ms))


def figures(store: Store, site: str, p: Periods, *, now_ms: int,
            window_ms: int) -> Figures:
    """The figures, uniques counted afresh, read only."""
    with store.guard("stats"):
        raw: list[Any] = run(store.scripts.stats,
                             stats_call(store, site, p, now_ms=now_ms, window_ms=window_ms))
    return Figures.from_reply(raw[0])


def peek_call(store: Store, site: str, p: Periods, *, now_ms: int, window_ms: int,
              page_id: str, rate: Rate) -> Call:
    """stats_only.lua's call for a bot's hit: the figures, the page's views, the rate."""
    return Call(
        {**stat_keys(store, site, p), "views": store.keys.page_views(site),
         "rate": rate.key(store, site, now_ms)},
        {**stat_args(p, now_ms, window_ms), "uniques_max_age": UNIQUES_MAX_AGE_MS,
         "page": page_id, "rate_allowed": rate.allowed, "rate_window": rate.window_ms})


def peek(store: Store, site: str, p: Periods, *, now_ms: int, window_ms: int, page_id: str,
         rate: Rate) -> tuple[Figures, int] | Limited:
    """What a bot's hit answers: the figures (cached uniques, as a hit's) and the page's
    views, in one round trip with its rate limit; nothing counted."""
    call = peek_call(store, site, p, now_ms=now_ms, window_ms=window_ms, page_id=page_id,
                     rate=rate)
    with store.guard("stats"):
        raw: list[Any] = run(store.scripts.stats, call)
    if raw[0] == -2:
        return Limited(int(raw[1]))
    return Figures.from_reply(raw[0]), int(raw[1])


def heartbeat_call(store: Store, site: str, visitor: str, *, now_ms: int, window_ms: int,
                   session_s: int, rate: Rate) -> Call:
    """heartbeat.lua's call."""
    return Call(
        {"online": store.keys.online(site), "rate": rate.key(store, site, now_ms)},
        {"now": now_ms, "visitor": visitor, "session_ms": session_s * 1000,
         "keep_ms": max(session_s * 1000, window_ms), "rate_allowed": rate.allowed,
         "rate_window": rate.window_ms})


def heartbeat(store: Store, site: str, visitor: str, *, now_ms: int, window_ms: int,
              session_s: int, rate: Rate) -> Limited | None:
    """Refresh a visitor whose visit is still open (never adds one): online and the visit."""
    call = heartbeat_call(store, site, visitor, now_ms=now_ms, window_ms=window_ms,
                          session_s=session_s, rate=rate)
    with store.guard("heartbeat"):
        raw = run(store.scripts.heartbeat, call)
    return Limited(int(raw[1])) if raw[0] == -2 else None


def online_count(store: Store, site: str, *, now_ms: int, window_ms: int) -> int:
    """Distinct visitors active in the window."""
    with store.guard("online"):
        return int(store.redis.zcount(store.keys.online(site), now_ms - window_ms, "+inf"))


def set_imported(store: Store, site: str, fields: dict[str, str]) -> None:
    """Replace the named baseline fields."""
    with store.guard("baselines"):
        store.redis.hset(store.keys.imported(site), mapping=fields)


def day_uniques(store: Store, site: str, day: str) -> int:
    """Distinct visitors of one day, counted now (PFCOUNT)."""
    with store.guard("history"):
        return int(store.redis.pfcount(store.keys.uniques(site, day)))


def history(store: Store, site: str, years: list[str]) -> dict[str, dict[str, str]]:
    """Year -> that year's daily history hash."""
    rows = get_hashes(store, [store.keys.history(site, year) for year in years], "history")
    return dict(zip(years, rows, strict=True))
