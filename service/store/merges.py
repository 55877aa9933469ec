"""Merging one site's figures into another's, as idempotent steps.

The two sites live in different cluster slots, so a merge cannot be one transaction. Each
step reads the source (its slot), then runs one script in the target's slot that writes the
step's figures *and* the step's marker in the progress hash: a merge interrupted anywhere and
run again skips the steps already done and adds nothing twice. Steps are named after the
source data they move (`total`, `c:2026-11`, `hist:2025`, `hll:2026-W48`, `pages:3`, ...), so
a re-run on a later day never re-applies a step under a new name.

The source must no longer change while its data is copied: the merge first makes it an alias
(its settings carry `merged_into`, so hits addressed to it count into the target) and waits
until every process's settings cache has seen that (service.merges).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.periods import Periods
from service.store import Store
from service.store.counters import MAX_HOSTS, MONTH_TOP_KEEP

# Paths (or top-list entries) per merge_pages call: bounded script arguments for 50,000 paths.
PAGES_CHUNK = 500
DAY_MS = 86_400_000


@dataclass
class Writes:
    """The operations of one merge_step call (merge_step.lua documents them)."""

    keys: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def _k(self, key: str) -> int:
        if key not in self.keys:
            self.keys.append(key)
        return self.keys.index(key) + 2  # KEYS[1] is the progress hash

    def hincrby(self, key: str, name: str, amount: int) -> None:
        """Add to a hash field (nothing when 0)."""
        if amount:
            self.args += ["HINCRBY", self._k(key), name, amount]

    def pexpire(self, key: str, ms: int) -> None:
        """Expire a time-bucketed key `ms` from now."""
        self.args += ["PEXPIRE", self._k(key), max(ms, 1000)]

    def zmax(self, key: str, member: str, score: float) -> None:
        """Keep the larger of two scores."""
        self.args += ["ZMAX", self._k(key), member, int(score)]

    def pfmerge_hex(self, key: str, scratch: str, hex_value: str) -> None:
        """Merge a HyperLogLog given as hex into `key`."""
        self.args += ["PFMERGEHEX", self._k(key), self._k(scratch), hex_value]

    def zincrby(self, key: str, member: str, amount: int) -> None:
        """Add to a sorted-set member."""
        if amount:
            self.args += ["ZINCRBY", self._k(key), member, amount]

    def ztrim(self, key: str, keep: int) -> None:
        """Keep the `keep` highest members."""
        self.args += ["ZTRIM", self._k(key), keep]

    def baseline(self, key: str, name: str, amount: int, period_id: str) -> None:
        """Add to an imported period baseline of `period_id`."""
        self.args += ["BASELINE", self._k(key), name, amount, period_id]


@dataclass(frozen=True)
class PagesMoved:
    """What merge_pages did: source pages the target newly tracks, target pages that made
    room for them (max_pages), source pages not kept (fewer views than any tracked page)."""

    added: int
    evicted: int
    dropped: int


def apply(store: Store, source: str, target: str, step: str, writes: Writes,
          now_ms: int) -> bool:
    """Run one step in the target's slot unless done; whether it ran now."""
    keys = [store.keys.merge_progress(target, source), *writes.keys]
    with store.guard("merge"):
        done = store.scripts.merge_step(keys=keys, args=[step, now_ms, *writes.args])
    return bool(done)


def progress(store: Store, source: str, target: str) -> dict[str, str]:
    """Step -> time done (ms) of merging source into target."""
    with store.guard("merge"):
        found: dict[str, str] = store.redis.hgetall(store.keys.merge_progress(target, source))
    return found


def claim_source(store: Store, source: str, target: str) -> int:
    """Make the source an alias of the target (its settings gain `merged_into`): 1 done,
    -1 others were merged into it, -2 it does not exist, -3 it is an alias of another site."""
    key = store.keys.settings(source)
    for _ in range(5):
        with store.guard("merge"):
            raw = store.redis.get(key)
        if not raw:
            return -2
        settings = json.loads(raw)
        current = settings.get("merged_into")
        if current == target:
            return 1
        if current:
            return -3
        new = json.dumps({**settings, "merged_into": target}, ensure_ascii=False)
        with store.guard("merge"):
            result = int(store.scripts.merge_claim(
                keys=[key, store.keys.aliases(source)], args=["source", raw, new]))
        if result != 0:
            return result
    return 0


def release_source(store: Store, source: str, target: str) -> None:
    """Undo claim_source (when the target refused the merge)."""
    key = store.keys.settings(source)
    for _ in range(5):
        with store.guard("merge"):
            raw = store.redis.get(key)
        settings = json.loads(raw) if raw else {}
        if settings.get("merged_into") != target:
            return
        del settings["merged_into"]
        with store.guard("merge"):
            if store.scripts.cas(keys=[key], args=[raw, json.dumps(settings,
                                                                   ensure_ascii=False)]):
                return


def claim_target(store: Store, source: str, target: str, now_ms: int) -> int:
    """The target lists the source as its alias: 1 done, -1 no target, -2 target is an alias."""
    k = store.keys
    with store.guard("merge"):
        return int(store.scripts.merge_claim(
            keys=[k.settings(target), k.aliases(target), k.merge_progress(target, source)],
            args=["target", source, now_ms]))


def forget_alias(store: Store, alias: str, target: str) -> None:
    """The target no longer lists `alias` (the alias site was deleted)."""
    with store.guard("merge"):
        store.redis.srem(store.keys.aliases(target), alias)


def _lifetimes(p: Periods, now_ms: int) -> dict[str, int]:
    """Period id -> ms until its keys expire (as hit.lua sets them)."""
    return {p.day: p.expire_day * 1000 - now_ms, p.week: p.expire_week * 1000 - now_ms,
            p.month: p.expire_month * 1000 - now_ms, p.year: p.expire_year * 1000 - now_ms,
            p.yesterday: p.expire_day * 1000 - DAY_MS - now_ms}


Step = Callable[[str], None]


def merge_counters(store: Store, source: str, target: str, p: Periods, now_ms: int,
                   done: Step) -> None:
    """Totals, this week's, month's and year's counters, and who is online now."""
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
    _run(store, source, target, "total", writes, now_ms, done)
    for period, found in zip(periods, counts, strict=True):
        writes = Writes()
        for name, value in found.items():
            writes.hincrby(k.counter(target, period), name, int(value))
        if writes.args:
            writes.pexpire(k.counter(target, period), life[period])
        _run(store, source, target, f"c:{period}", writes, now_ms, done)
    writes = Writes()
    for member, score in online:
        writes.zmax(k.online(target), member, score)
    if writes.args:
        window = int(max(now_ms - min(s for _, s in online), 0)) + 3_600_000
        writes.pexpire(k.online(target), window)
    _run(store, source, target, "online", writes, now_ms, done)


def merge_sessions(store: Store, source: str, target: str, done: Step) -> None:
    """Open visits and reload guards, so a reader of the source who goes on reading (through
    the alias, with the same visitor id) starts no new visit and no extra view. Copies with
    NX and the remaining lifetime: idempotent without a step marker."""
    k = store.keys
    session_prefix, seen_prefix = k.session(source, ""), k.dedupe(source, "", "")[:-1]
    with store.guard("merge"):
        found = [key for pattern in (k.session(source, "*"), k.dedupe(source, "*", "*"))
                 for key in store.redis.scan_iter(match=pattern, count=1000)]
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
                if key.startswith(session_prefix):
                    copy = k.session(target, key[len(session_prefix):])
                else:
                    visitor, _, path_hash = key[len(seen_prefix):].rpartition(":")
                    copy = k.dedupe(target, visitor, path_hash)
                pipe.set(copy, value, px=ttl, nx=True)
            pipe.execute()
    done("sessions")


def merge_sources(store: Store, source: str, target: str, now_ms: int, done: Step) -> None:
    """New visits by source, day by day (`src:<year>`), and referring hosts by month
    (`src-hosts:<month>`, kept to its MAX_HOSTS most counted), with the source's lifetimes."""
    k = store.keys
    kinds = ((k.sources(source, ""), k.sources), (k.source_hosts(source, ""), k.source_hosts))
    with store.guard("merge"):
        found = sorted(key for prefix, _ in kinds
                       for key in store.redis.scan_iter(match=prefix + "*", count=1000))
    for key in found:
        prefix, make = next((pre, mk) for pre, mk in kinds if key.startswith(pre))
        period = key[len(prefix):]
        copy = make(target, period)
        hosts = prefix == kinds[1][0]
        with store.guard("merge"):
            pipe = store.redis.pipeline(transaction=False)
            if hosts:
                pipe.zrange(key, 0, -1, withscores=True)
            else:
                pipe.hgetall(key)
            pipe.pttl(key)
            data, ttl = pipe.execute()
        writes = Writes()
        if hosts:
            for host, score in data:
                writes.zincrby(copy, host, int(score))
            if data:
                writes.ztrim(copy, MAX_HOSTS)
        else:
            for name, value in sorted(data.items()):
                writes.hincrby(copy, name, int(value))
        if writes.args and int(ttl) > 0:
            writes.pexpire(copy, int(ttl))
        _run(store, source, target, f"{'src-hosts' if hosts else 'src'}:{period}", writes,
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
        _run(store, source, target, f"hist:{year}", writes, now_ms, done)


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
        _run(store, source, target, f"hll:{period}", writes, now_ms, done)


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
    _run(store, source, target, "baselines", writes, now_ms, done)


def imported(store: Store, site: str) -> dict[str, str]:
    """The site's baselines hash."""
    with store.guard("merge"):
        found: dict[str, str] = store.redis.hgetall(store.keys.imported(site))
    return found


def merge_pages(store: Store, source: str, target: str, p: Periods, *, max_pages: int,
                listable: Callable[[str], bool], now_ms: int, done: Step) -> PagesMoved:
    """Per-page views, titles, moderation, and every rank list the source has (today's, this
    week's, month's, year's and the past months' that reports read).

    Written against the page layout of pages.lua (`pv` zset id -> views, `paths`, `ptitle`,
    `tprop`, `tlocked`, `phidden`, `rank:<period>` zsets by id): the one function to port
    when that changes. The views of a page both sites track are added; the target keeps its
    own title (a page without one takes the source's, locked if it was). New pages go in most
    viewed first: into free places up to `max_pages`, then in place of the target's least
    viewed page when they have more views (that page's data goes, as a hit's eviction does);
    the rest are not kept (site totals are never affected). A page hidden on the source stays
    hidden. Rank lists get the source's entries for the pages the target tracks and may list
    (`listable`: the target's page_prefixes), keep the longer of the two lifetimes, and an
    ended month's list its MONTH_TOP_KEEP most viewed. Chunks of PAGES_CHUNK pages, each one
    step, in a fixed order (views, then id), so a re-run meets the same chunks.
    """
    k = store.keys
    with store.guard("merge"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.zrange(k.page_views(source), 0, -1, withscores=True)
        pipe.hgetall(k.page_paths(source))
        pipe.hgetall(k.page_titles(source))
        pipe.smembers(k.titles_locked(source))
        pipe.smembers(k.pages_hidden(source))
        ranked, paths, titles, locked, hidden = pipe.execute()
    ordered = sorted(((pid, int(n)) for pid, n in ranked if pid in paths),
                     key=lambda item: (-item[1], item[0]))
    ranks = [k.rank(target, period) for period in (p.day, p.week, p.month, p.year)]
    target_keys = [k.merge_progress(target, source), k.page_views(target),
                   k.page_paths(target), k.page_titles(target), k.title_proposals(target),
                   k.titles_locked(target), k.pages_hidden(target), *ranks]
    added = evicted = dropped = 0
    for n, start in enumerate(range(0, len(ordered), PAGES_CHUNK)):
        args: list[Any] = [f"pages:{n}", now_ms, "pages", max_pages]
        for pid, views in ordered[start:start + PAGES_CHUNK]:
            args += [pid, paths[pid], views, titles.get(pid) or "",
                     1 if pid in locked else 0, 1 if pid in hidden else 0]
        with store.guard("merge"):
            _, new, gone, lost = store.scripts.merge_pages(keys=target_keys, args=args)
        added, evicted, dropped = added + int(new), evicted + int(gone), dropped + int(lost)
        done(f"pages:{n}")
    # every rank list the source still has: today's, this week's, ... and the past months'
    # that reports read (they keep the source's lifetime, and an ended month its top 1,000)
    prefix = k.rank(source, "")
    with store.guard("merge"):
        found = sorted(store.redis.scan_iter(match=k.rank(source, "*"), count=1000))
    for key in found:
        period = key[len(prefix):]
        with store.guard("merge"):
            pipe = store.redis.pipeline(transaction=False)
            pipe.zrange(key, 0, -1, withscores=True)
            pipe.pttl(key)
            listed, ttl = pipe.execute()
        entries = [(pid, int(score)) for pid, score in listed
                   if pid in paths and listable(paths[pid])]
        ended_month = len(period) == 7 and period[4] == "-" and period < p.month
        for n, start in enumerate(range(0, len(entries), PAGES_CHUNK)):
            args = [f"rank:{period}:{n}", now_ms, "rank", 5, max(int(ttl), 0),
                    MONTH_TOP_KEEP if ended_month else 0]
            for pid, score in entries[start:start + PAGES_CHUNK]:
                args += [pid, score]
            with store.guard("merge"):
                store.scripts.merge_pages(keys=[*target_keys, k.rank(target, period)],
                                          args=args)
            done(f"rank:{period}:{n}")
    return PagesMoved(added=added, evicted=evicted, dropped=dropped)


def finish(store: Store, source: str, target: str, now_ms: int) -> None:
    """Record that every step is done."""
    _run(store, source, target, "done", Writes(), now_ms, lambda step: None)


def _run(store: Store, source: str, target: str, step: str, writes: Writes, now_ms: int,
         done: Step) -> None:
    apply(store, source, target, step, writes, now_ms)
    done(step)
