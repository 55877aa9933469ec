"""The data-moving steps of a merge: counters, sessions, sources, history, uniques,
baselines (per-page data: service.store.page_merge). Each step reads the source, then writes
its figures with its marker in the target's slot (service.store.merges.apply)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from service.counting.periods import Periods
from service.store import Store
from service.store.counters import MAX_HOSTS
from service.store.merges import DAY_MS, Step, Writes, run_step


def _lifetimes(p: Periods, now_ms: int) -> dict[str, int]:
    """Period id -> ms until its keys expire (as hit.lua sets them)."""
    return {p.day: p.expire_day * 1000 - now_ms, p.week: p.expire_week * 1000 - now_ms,
            p.month: p.expire_month * 1000 - now_ms, p.year: p.expire_year * 1000 - now_ms,
            p.yesterday: p.expire_day * 1000 - DAY_MS - now_ms}


def merge_counters(store: Store, source: str, target: str, p: Periods, now_ms: int,
                   done: Step) -> None:
    """Totals, this week's, month's and year's counters, and who is online now with their
    open visits (the online set holds each visitor's last activity)."""
    k = store.keys
    life = _lifetimes(p, now_ms)
    periods = (p.week, p.month, p.year)
    with store.guard("merge"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.hgetall(k.total(source))
        for period in periods:
            pipe.hgetall(k.counter(source, period))
        pipe.zrange(k.online(source), 0, -1, withscores=True)
        total, *counts, online = pipe.execute()
    writes = Writes()
    for name, value in total.items():
        writes.hincrby(k.total(target), name, int(value))
    run_step(store, source, target, "total", writes, now_ms, done)
    for period, found in zip(periods, counts, strict=True):
        writes = Writes()
        for name, value in found.items():
            writes.hincrby(k.counter(target, period), name, int(value))
        if writes.args:
            writes.pexpire(k.counter(target, period), life[period])
        run_step(store, source, target, f"c:{period}", writes, now_ms, done)
    writes = Writes()
    for member, score in online:
        writes.zmax(k.online(target), member, score)
    if writes.args:
        window = int(max(now_ms - min(s for _, s in online), 0)) + 3_600_000
        writes.pexpire(k.online(target), window)
    run_step(store, source, target, "online", writes, now_ms, done)


def merge_sessions(store: Store, source: str, target: str, done: Step) -> None:
    """Reload guards, so a reader of the source who goes on reading (through the alias,
    with the same visitor id) makes no extra view; their open visit moved with the online
    set (merge_counters: it holds each visitor's last activity). Copies with NX and the
    remaining lifetime: idempotent without a step marker."""
    k = store.keys
    seen_prefix = k.dedupe(source, "", "")[:-1]
    with store.guard("merge"):
        found = list(store.redis.scan_iter(match=k.dedupe(source, "*", "*"), count=1000))
    for start in range(0, len(found), 500):
        chunk = found[start:start + 500]
        with store.guard("merge"):
            pipe = store.redis.pipeline(transaction=False)
            for key in chunk:
                pipe.get(key)
                pipe.pttl(key)
            replies = pipe.execute()
            pipe = store.redis.pipeline(transaction=False)
            for i, key in enumerate(chunk):
                value, ttl = replies[2 * i], int(replies[2 * i + 1])
                if value is None or ttl <= 0:
                    continue
                visitor, _, path_hash = key[len(seen_prefix):].rpartition(":")
                pipe.set(k.dedupe(target, visitor, path_hash), value, px=ttl, nx=True)
            pipe.execute()
    done("sessions")


KeyOf = Callable[[str, str], str]


def _per_period(store: Store, source: str, target: str, hashes: KeyOf, zsets: KeyOf
                ) -> Iterator[tuple[str, str, bool, Any, int]]:
    """Each key of the source of two per-period kinds (a hash kind and a sorted-set kind):
    (its period, the target's key for it, whether it is the sorted set, its data, its
    lifetime in ms), in key order, so that a re-run names the same steps."""
    kinds = ((hashes(source, ""), hashes), (zsets(source, ""), zsets))
    with store.guard("merge"):
        found = sorted(key for prefix, _ in kinds
                       for key in store.redis.scan_iter(match=prefix + "*", count=1000))
    for key in found:
        prefix, make = next((pre, mk) for pre, mk in kinds if key.startswith(pre))
        period = key[len(prefix):]
        zset = prefix == kinds[1][0]
        with store.guard("merge"):
            pipe = store.redis.pipeline(transaction=False)
            if zset:
                pipe.zrange(key, 0, -1, withscores=True)
            else:
                pipe.hgetall(key)
            pipe.pttl(key)
            data, ttl = pipe.execute()
        yield period, make(target, period), zset, data, int(ttl)


def merge_sources(store: Store, source: str, target: str, now_ms: int, done: Step) -> None:
    """New visits by source, day by day (`src:<year>`), and referring hosts by month
    (`src-hosts:<month>`, kept to its MAX_HOSTS most counted), with the source's lifetimes."""
    k = store.keys
    for period, copy, hosts, data, ttl in _per_period(store, source, target, k.sources,
                                                      k.source_hosts):
        writes = Writes()
        if hosts:
            for host, score in data:
                writes.zincrby(copy, host, int(score))
            if data:
                writes.ztrim(copy, MAX_HOSTS)
        else:
            for name, value in sorted(data.items()):
                writes.hincrby(copy, name, int(value))
        if writes.args and ttl > 0:
            writes.pexpire(copy, ttl)
        run_step(store, source, target, f"{'src-hosts' if hosts else 'src'}:{period}", writes,
             now_ms, done)


def merge_history(store: Store, source: str, target: str, now_ms: int, done: Step) -> None:
    """Every day of the source's history (visits, pageviews, uniques) added day by day."""
    k = store.keys
    with store.guard("merge"):
        found = sorted(store.redis.scan_iter(match=k.history(source, "*"), count=1000))
    prefix = k.history(source, "")
    for key in found:
        year = key[len(prefix):]
        with store.guard("merge"):
            days = store.redis.hgetall(key)
        writes = Writes()
        for name, value in sorted(days.items()):
            writes.hincrby(k.history(target, year), name, int(value))
        run_step(store, source, target, f"hist:{year}", writes, now_ms, done)


def merge_uniques(store: Store, source: str, target: str, p: Periods, now_ms: int,
                  done: Step) -> None:
    """The HyperLogLogs of today, yesterday, this week, month and year (a union: PFMERGE)."""
    k = store.keys
    life = _lifetimes(p, now_ms)
    periods = [p.day, p.yesterday, p.week, p.month, p.year]
    with store.guard("merge"):
        hexes = store.scripts.merge_read_hll(keys=[k.uniques(source, x) for x in periods])
    for period, hex_value in zip(periods, hexes, strict=True):
        writes = Writes()
        if hex_value:
            writes.pfmerge_hex(k.uniques(target, period), k.merge_scratch(target, source),
                               str(hex_value))
            writes.pexpire(k.uniques(target, period), life[period])
        run_step(store, source, target, f"hll:{period}", writes, now_ms, done)


def merge_baselines(store: Store, source: str, target: str,
                    values: dict[str, tuple[int, str | None]], now_ms: int,
                    done: Step) -> None:
    """Imported baselines: field (v:total, p:month, ...) -> (value, period id or None)."""
    writes = Writes()
    key = store.keys.imported(target)
    for name, (value, period_id) in sorted(values.items()):
        if value and period_id is None:
            writes.hincrby(key, name, value)
        elif value and period_id is not None:
            writes.baseline(key, name, value, period_id)
    run_step(store, source, target, "baselines", writes, now_ms, done)


def imported(store: Store, site: str) -> dict[str, str]:
    """The site's baselines hash."""
    with store.guard("merge"):
        found: dict[str, str] = store.redis.hgetall(store.keys.imported(site))
    return found




RATING_CHUNK = 4000  # hash fields or set members written by one step


def merge_ratings(store: Store, source: str, target: str, now_ms: int, done: Step) -> None:
    """Ratings of information: each bucket's counts (`rt:<month|year|all>`, fields added) and
    rated pages (`rt-pages:...`, members added), with the source's lifetimes. Big buckets go
    in chunks of sorted fields, so a re-run names the same steps. The raters' guards and the
    address allowances stay behind: they are keyed by the source's id."""
    k = store.keys
    for bucket, copy, members, data, ttl in _per_period(store, source, target, k.ratings,
                                                        k.rated_pages):
        items = sorted((str(m), int(v)) for m, v in (data if members else data.items()))
        for start in range(0, max(len(items), 1), RATING_CHUNK):
            writes = Writes()
            for name, value in items[start:start + RATING_CHUNK]:
                if members:
                    writes.zincrby(copy, name, value)
                else:
                    writes.hincrby(copy, name, value)
            if writes.args and ttl > 0:
                writes.pexpire(copy, ttl)
            step = f"{'rt-pages' if members else 'rt'}:{bucket}:{start // RATING_CHUNK}"
            run_step(store, source, target, step, writes, now_ms, done)
