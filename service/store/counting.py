"""Redis side of visit counting: the hit and stats scripts and the per-page reads."""

from __future__ import annotations

import secrets
from typing import Any

from service.periods import Periods
from service.store import Store

ONCE_SECONDS = 120
# A hit's answer may carry uniques counted up to this long ago (GET stats counts afresh).
UNIQUES_MAX_AGE_MS = 5000
SALT_SECONDS = 3 * 86400


def _stat_keys(store: Store, site: str, p: Periods) -> list[str]:
    k = store.keys
    return [
        k.online(site), k.total(site), k.counter(site, p.year), k.counter(site, p.month),
        k.counter(site, p.week), k.history(site, p.year),
        k.uniques(site, p.day), k.uniques(site, p.week), k.uniques(site, p.month),
        k.uniques(site, p.year), k.imported(site), k.uniques_cache(site),
        k.uniques(site, p.yesterday), k.history(site, p.yesterday[:4]),
    ]


def daily_salt(store: Store, day: str) -> str:
    """The random salt of `day`, created by the first instance that needs it."""
    cached = store.salt_cache.get(day)
    if cached is not None:
        return cached
    key = store.keys.salt(day)
    with store.guard("salt"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.set(key, secrets.token_hex(32), nx=True, ex=SALT_SECONDS)
        pipe.get(key)
        salt = str(pipe.execute()[1])
    if len(store.salt_cache) > 8:
        store.salt_cache.clear()
    store.salt_cache[day] = salt
    return salt


def hit_call(
    store: Store, site: str, p: Periods, *, now_ms: int, window_s: int, visitor: str,
    request_id: str, path_hash: str, session_s: int, dedupe_s: int, path: str, title: str,
    max_pages: int,
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of hit.lua (also used pipelined by the benchmark)."""
    k = store.keys
    keys = _stat_keys(store, site, p) + [
        k.settings(site), k.once(site, request_id), k.session(site, visitor),
        k.dedupe(site, visitor, path_hash), k.pages(site), k.titles(site),
        k.top(site, p.day), k.top(site, p.week), k.top(site, p.month), k.top(site, p.year),
        k.dropped(site),
    ]
    args = [
        now_ms, window_s * 1000, p.day_field, p.yesterday_field, visitor, session_s, dedupe_s,
        path, title,
        max_pages, *(at * 1000 - now_ms for at in
                     (p.expire_day, p.expire_week, p.expire_month, p.expire_year)),
        ONCE_SECONDS, UNIQUES_MAX_AGE_MS,
    ]
    return keys, args


def hit(store: Store, keys: list[str], args: list[Any]) -> list[Any] | None:
    """Run hit.lua; None when the site no longer exists."""
    with store.guard("hit"):
        result: list[Any] = store.scripts.hit(keys=keys, args=args)
    if result[0] == -1:
        return None
    return result


def stats(store: Store, site: str, p: Periods, *, now_ms: int, window_s: int) -> list[Any]:
    """Run stats.lua: the raw stats list."""
    with store.guard("stats"):
        result: list[Any] = store.scripts.stats(
            keys=_stat_keys(store, site, p),
            args=[now_ms, window_s * 1000, p.day_field, p.yesterday_field],
        )
    return result


def heartbeat(store: Store, site: str, visitor: str, *, now_ms: int, window_s: int,
              session_s: int) -> None:
    """Refresh a visitor already online (never adds one) and their open visit."""
    k = store.keys
    with store.guard("heartbeat"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.zadd(k.online(site), {visitor: now_ms}, xx=True)
        pipe.pexpire(k.online(site), window_s * 1000)
        pipe.set(k.session(site, visitor), now_ms, xx=True, px=session_s * 1000)
        pipe.execute()


def online_count(store: Store, site: str, *, now_ms: int, window_s: int) -> int:
    """Distinct visitors active in the window."""
    with store.guard("online"):
        return int(store.redis.zcount(store.keys.online(site), now_ms - window_s * 1000, "+inf"))


def page_views(store: Store, site: str, paths: list[str]) -> tuple[list[Any], list[Any]]:
    """(views, titles) for the paths, in one round trip."""
    k = store.keys
    with store.guard("pages"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.hmget(k.pages(site), paths)
        pipe.hmget(k.titles(site), paths)
        views, titles = pipe.execute()
    return views, titles


def top_pages(store: Store, site: str, period: str, limit: int) -> list[tuple[str, int, Any]]:
    """(path, views, title) of the most viewed paths of one period."""
    k = store.keys
    with store.guard("top_pages"):
        ranked = store.redis.zrevrange(k.top(site, period), 0, limit - 1, withscores=True)
        titles = store.redis.hmget(k.titles(site), [path for path, _ in ranked]) if ranked else []
    return [(path, int(score), title) for (path, score), title in zip(ranked, titles, strict=True)]


def set_imported(store: Store, site: str, fields: dict[str, str]) -> None:
    """Replace the named baseline fields."""
    with store.guard("baselines"):
        store.redis.hset(store.keys.imported(site), mapping=fields)


def history(store: Store, site: str, years: list[str]) -> dict[str, dict[str, str]]:
    """Year -> that year's daily history hash."""
    with store.guard("history"):
        pipe = store.redis.pipeline(transaction=False)
        for year in years:
            pipe.hgetall(store.keys.history(site, year))
        rows = pipe.execute()
    return dict(zip(years, rows, strict=True))


def dropped_count(store: Store, site: str) -> int:
    """Page views not tracked per page because of max_pages."""
    with store.guard("dropped"):
        return int(store.redis.get(store.keys.dropped(site)) or 0)
