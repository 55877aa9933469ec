"""Visit counters in Redis: the hit and stats scripts, online set, history, baselines, salt."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from service.periods import Periods, shift_month
from service.store import Store
from service.store.documents import get_hashes
from service.store.pages import PageWrite, check_keys, page_keys

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


def _stat_keys(store: Store, site: str, p: Periods) -> list[str]:
    k = store.keys
    return [
        k.online(site), k.total(site), k.counter(site, p.year), k.counter(site, p.month),
        k.counter(site, p.week), k.history(site, p.year),
        k.uniques(site, p.day), k.uniques(site, p.week), k.uniques(site, p.month),
        k.uniques(site, p.year), k.imported(site), k.uniques_cache(site),
        k.uniques(site, p.yesterday), k.history(site, p.yesterday[:4]),
    ]


def _stat_args(p: Periods, now_ms: int, window_ms: int) -> list[Any]:
    return [now_ms, window_ms, p.day_field, p.yesterday_field]


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


def hit_call(store: Store, w: HitWrite) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of hit.lua (also used pipelined by the benchmark and tests)."""
    k, site, p = store.keys, w.site, w.periods
    keys = _stat_keys(store, site, p) + [
        k.settings(site), k.once(site, w.request_id), k.session(site, w.visitor),
        k.dedupe(site, w.visitor, w.page.id), w.rate.key(store, site, w.now_ms),
        *page_keys(store, site, p),
        k.sources(site, p.year), k.source_hosts(site, p.month),
        k.rank(site, shift_month(p.month, -1)),
        w.rate.aggregate_key(store, site, w.now_ms), *check_keys(store, site),
    ]
    lifetimes = [at * 1000 - w.now_ms for at in
                 (p.expire_day, p.expire_week, p.expire_month, p.expire_year)]
    args = [
        *_stat_args(p, w.now_ms, w.window_ms), w.visitor, w.session_s, w.dedupe_s,
        ONCE_SECONDS, UNIQUES_MAX_AGE_MS, w.rate.allowed, w.rate.window_ms, *lifetimes,
        *w.page.args(),
        w.source, w.source_host, MAX_HOSTS,
        (p.expire_year + KEEP_SECONDS) * 1000 - w.now_ms,
        (p.expire_month + KEEP_SECONDS) * 1000 - w.now_ms,
        (p.expire_month + KEEP_SECONDS) * 1000 - w.now_ms, MONTH_TOP_KEEP,
        w.rate.aggregate_allowed if w.rate.aggregate else 0, 1 if w.page.verify else 0,
        MAX_CANDIDATES,
    ]
    return keys, args


def hit(store: Store, w: HitWrite) -> HitReply | Limited | None:
    """Record one page load in one round trip; None when the site no longer exists."""
    keys, args = hit_call(store, w)
    with store.guard("hit"):
        raw: list[Any] = store.scripts.hit(keys=keys, args=args)
    if raw[0] == -1:
        return None
    if raw[0] == -2:
        return Limited(int(raw[1]))
    return HitReply(counted=bool(raw[1]), views=int(raw[2]), evicted=int(raw[3]),
                    figures=Figures.from_reply(raw[4]), queued=bool(raw[5]))


def figures(store: Store, site: str, p: Periods, *, now_ms: int,
            window_ms: int) -> Figures:
    """The figures, uniques counted afresh, read only."""
    with store.guard("stats"):
        raw: list[Any] = store.scripts.stats(keys=_stat_keys(store, site, p),
                                             args=_stat_args(p, now_ms, window_ms))
    return Figures.from_reply(raw[0])


def peek(store: Store, site: str, p: Periods, *, now_ms: int, window_ms: int, page_id: str,
         rate: Rate) -> tuple[Figures, int] | Limited:
    """What a bot's hit answers: the figures (cached uniques, as a hit's) and the page's
    views, in one round trip with its rate limit; nothing counted."""
    keys = [*_stat_keys(store, site, p), store.keys.page_views(site),
            rate.key(store, site, now_ms)]
    args = [*_stat_args(p, now_ms, window_ms), UNIQUES_MAX_AGE_MS, page_id, rate.allowed,
            rate.window_ms]
    with store.guard("stats"):
        raw: list[Any] = store.scripts.stats(keys=keys, args=args)
    if raw[0] == -2:
        return Limited(int(raw[1]))
    return Figures.from_reply(raw[0]), int(raw[1])


def heartbeat(store: Store, site: str, visitor: str, *, now_ms: int, window_ms: int,
              session_s: int, rate: Rate) -> Limited | None:
    """Refresh a visitor already online (never adds one) and their open visit."""
    k = store.keys
    with store.guard("heartbeat"):
        raw = store.scripts.heartbeat(
            keys=[k.online(site), k.session(site, visitor), rate.key(store, site, now_ms)],
            args=[now_ms, window_ms, visitor, session_s * 1000, rate.allowed, rate.window_ms])
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
