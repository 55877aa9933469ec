"""Layout 1 -> 2: per-page data by page id instead of by path (v0.1.0 -> v0.2.0).

Layout 1 kept, per site, `pages` (hash path -> all-time views), `titles` (hash path ->
title) and `top:<period>` (sorted sets path -> views of a day, week, month or year). Layout
2 keeps each path once (`paths`, id -> path) and refers to it by its id everywhere (`pv`,
`ptitle`, `rank:<period>`). Every path moves in batches (migrate_v1_pages.lua): a batch adds
to the new keys and deletes from the old ones in one script, so each view is moved once
however often the step is interrupted. A top list keeps its remaining lifetime. Layout 1's
`dropped` counter (views not tracked per page) stays where it is: no release reads it.
"""

from __future__ import annotations

from collections import defaultdict

from service.store import Store, schema
from service.store.migrations.base import Budget, Step
from service.store.pages import page_id

BATCH = 500


def _old_keys(store: Store) -> dict[str, list[str]]:
    """Site id -> its layout-1 per-page keys (unlisted sites included: their data is kept)."""
    found: dict[str, list[str]] = defaultdict(list)
    with store.guard("migrate"):
        for key in store.redis.scan_iter(match=store.keys.all_sites_pattern(), count=1000):
            parsed = store.keys.site_of(key)
            if parsed is not None and schema.is_v1_key(parsed[1]):
                found[parsed[0]].append(parsed[1])
    return {site: sorted(parts) for site, parts in sorted(found.items())}


def plan(store: Store) -> list[str]:
    """How many sites, pages and top lists would move."""
    old = _old_keys(store)
    if not old:
        return []
    pages = tops = 0
    with store.guard("migrate"):
        for site, parts in old.items():
            if "pages" in parts:
                pages += int(store.redis.hlen(store.keys.v1_pages(site)))
            tops += sum(1 for part in parts if part.startswith("top:"))
    return [f"{len(old)} site(s): {pages} page(s) with their views and titles, and {tops} "
            "top list(s) move from paths to page ids"]


def _pairs(paths: list[str]) -> list[str]:
    out: list[str] = []
    for path in paths:
        out += [page_id(path), path]
    return out


def _move_hash(store: Store, budget: Budget, mode: str, source: str, keys: list[str]) -> None:
    """Move every field of the hash `source` (paths) in batches until it is gone."""
    while True:
        cursor = 0
        while True:
            with store.guard("migrate"):
                cursor, fields = store.redis.hscan(source, cursor, count=BATCH)
            paths = list(fields)
            for start in range(0, len(paths), BATCH):
                with store.guard("migrate"):
                    store.scripts.migrate_v1_pages(
                        keys=keys, args=[mode, *_pairs(paths[start:start + BATCH])])
                budget.spend()
            if cursor == 0:
                break
        with store.guard("migrate"):
            if not store.redis.exists(source):
                return


def _move_top(store: Store, budget: Budget, source: str, target: str) -> None:
    """Move a top list's members in batches until it is gone."""
    while True:
        cursor = 0
        while True:
            with store.guard("migrate"):
                cursor, members = store.redis.zscan(source, cursor, count=BATCH)
            paths = [path for path, _ in members]
            for start in range(0, len(paths), BATCH):
                with store.guard("migrate"):
                    store.scripts.migrate_v1_pages(
                        keys=[source, target], args=["top", *_pairs(paths[start:start + BATCH])])
                budget.spend()
            if cursor == 0:
                break
        with store.guard("migrate"):
            if not store.redis.exists(source):
                return


def run(store: Store, budget: Budget) -> None:
    """Move every site's layout-1 per-page data (pages first: titles go with their page)."""
    k = store.keys
    for site, parts in _old_keys(store).items():
        if "pages" in parts:
            _move_hash(store, budget, "pages", k.v1_pages(site),
                       [k.v1_pages(site), k.v1_titles(site), k.page_views(site),
                        k.page_paths(site), k.page_titles(site)])
        if "titles" in parts:
            _move_hash(store, budget, "titles", k.v1_titles(site),
                       [k.v1_titles(site), k.page_views(site), k.page_titles(site)])
        for part in parts:
            if part.startswith("top:"):
                period = part[len("top:"):]
                _move_top(store, budget, k.v1_top(site, period), k.rank(site, period))


STEP = Step(version=2, title="per-page views, titles and top lists by page id",
            plan=plan, run=run)
