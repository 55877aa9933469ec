"""The per-page step of a merge: the page table, titles, moderation and rank lists.

Written against the page layout of pages.lua (`pv` zset id -> views, `paths`, `ptitle`, title
proposals, locked titles, hidden pages, `rank:<period>` zsets by id): the one module to port
when that changes. Each chunk is one step of service.store.merges (its marker written with
its figures in the target's slot), in a fixed order, so a re-run meets the same chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.counting.periods import Periods
from service.store import Store
from service.store.counters import MONTH_TOP_KEEP
from service.store.merges import Step

# Paths (or top-list entries) per merge_pages call: bounded script arguments for 50,000 paths.
PAGES_CHUNK = 500


@dataclass(frozen=True)
class PagesMoved:
    """What merge_pages did: source pages the target newly tracks, target pages that made
    room for them (max_pages), source pages not kept (fewer views than any tracked page)."""

    added: int
    evicted: int
    dropped: int


def merge_pages(store: Store, source: str, target: str, p: Periods, *, max_pages: int,
                listable: Callable[[str], bool], now_ms: int, done: Step) -> PagesMoved:
    """Per-page views, titles, moderation, and every rank list the source has (today's, this
    week's, month's, year's and the past months' that reports read).

    The views of a page both sites track are added; the target keeps its own title (a page
    without one takes the source's, locked if it was). New pages go in most viewed first:
    into free places up to `max_pages`, then in place of the target's least viewed page when
    they have more views (that page's data goes, as a hit's eviction does); the rest are not
    kept (site totals are never affected). A page hidden on the source stays hidden. Rank
    lists get the source's entries for the pages the target tracks and may list (`listable`:
    the target's page_prefixes), keep the longer of the two lifetimes, and an ended month's
    list its MONTH_TOP_KEEP most viewed. Chunks of PAGES_CHUNK pages, each one step, in a
    fixed order (views, then id).
    """
    paths, moved = _merge_table(store, source, target, p, max_pages, now_ms, done)
    _merge_ranks(store, source, target, p, paths, listable, now_ms, done)
    return moved


def _target_keys(store: Store, source: str, target: str, p: Periods) -> list[str]:
    k = store.keys
    ranks = [k.rank(target, period) for period in (p.day, p.week, p.month, p.year)]
    return [k.merge_progress(target, source), k.page_views(target), k.page_paths(target),
            k.page_titles(target), k.title_proposals(target), k.titles_locked(target),
            k.pages_hidden(target), *ranks]


def _merge_table(store: Store, source: str, target: str, p: Periods, max_pages: int,
                 now_ms: int, done: Step) -> tuple[dict[str, str], PagesMoved]:
    """The page table in chunks; the source's paths by id, and what moved."""
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
    target_keys = _target_keys(store, source, target, p)
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
    return paths, PagesMoved(added=added, evicted=evicted, dropped=dropped)


def _merge_ranks(store: Store, source: str, target: str, p: Periods, paths: dict[str, str],
                 listable: Callable[[str], bool], now_ms: int, done: Step) -> None:
    """Every rank list the source still has: today's, this week's, ... and the past months'
    that reports read (they keep the source's lifetime, and an ended month its top 1,000)."""
    k = store.keys
    target_keys = _target_keys(store, source, target, p)
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
            args: list[Any] = [f"rank:{period}:{n}", now_ms, "rank", 5, max(int(ttl), 0),
                               MONTH_TOP_KEEP if ended_month else 0]
            for pid, score in entries[start:start + PAGES_CHUNK]:
                args += [pid, score]
            with store.guard("merge"):
                store.scripts.merge_pages(keys=[*target_keys, k.rank(target, period)],
                                          args=args)
            done(f"rank:{period}:{n}")
