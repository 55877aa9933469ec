"""Per-page views and titles by page id, top lists, and the admin's moderation of pages.

Each path is stored once (`page_paths`); views, titles and top lists refer to it by its page
id, so a site's per-page data stays bounded whatever clients send (pages.lua, top.lua).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from service.counting.periods import Periods
from service.store import Store

PAGE_SCAN_LIMIT = 1000
# What the states hash's first letter means (pages.lua): l is a path tracked before its site
# verified pages, unverified like u
STATES = {"u": "unverified", "l": "unverified", "v": "verified", "r": "rejected"}


def page_id(path: str) -> str:
    """A path's id: 64 bits of its SHA-256, in hex."""
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PageWrite:
    """The per-page part of a counted hit (track_page in pages.lua)."""

    path: str
    title: str  # '' when the hit named none
    address: str  # the client's address unit, keyed (3 distinct ones retitle a page)
    listable: bool  # whether the path may appear in top lists (page_prefixes)
    max_pages: int
    verify: bool = False  # whether the site checks its pages against its portal

    @property
    def id(self) -> str:
        """The page id."""
        return page_id(self.path)

    def named(self) -> dict[str, Any]:
        """track_page's arguments (pages.lua) by name, as hit.lua passes them on."""
        title_hash = hashlib.sha256(self.title.encode("utf-8")).hexdigest()[:16]
        return {"id": self.id, "path": self.path, "title": self.title,
                "title_hash": title_hash, "address": self.address,
                "listable": "1" if self.listable else "0", "max_pages": self.max_pages,
                "verify": "1" if self.verify else "0"}


@dataclass(frozen=True)
class Page:
    """One tracked path."""

    path: str
    views: int
    title: str | None
    hidden: bool = False
    title_locked: bool = False
    state: str = ""  # verified, unverified, rejected; '' when the site does not verify


def page_keys(store: Store, site: str, p: Periods) -> list[str]:
    """KEYS of track_page (pages.lua k[1..9]), in order."""
    return list(named_page_keys(store, site, p).values())


def check_keys(store: Store, site: str) -> list[str]:
    """The verification keys of track_page (pages.lua k[10..15]), in order."""
    return list(named_check_keys(store, site).values())


def named_page_keys(store: Store, site: str, p: Periods) -> dict[str, str]:
    """The page keys of track_page (pages.lua k[1..9]) by hit.lua's names, in that order."""
    k = store.keys
    return {"views": k.page_views(site), "paths": k.page_paths(site),
            "titles": k.page_titles(site), "proposals": k.title_proposals(site),
            "locked": k.titles_locked(site), "rank_day": k.rank(site, p.day),
            "rank_week": k.rank(site, p.week), "rank_month": k.rank(site, p.month),
            "rank_year": k.rank(site, p.year)}


def named_check_keys(store: Store, site: str) -> dict[str, str]:
    """The verification keys of track_page (pages.lua k[10..15]) by hit.lua's names."""
    k = store.keys
    return {"states": k.page_states(site), "unlisted": k.pages_unlisted(site),
            "candidates": k.page_candidates(site), "check_queue": k.check_queue(site),
            "check_tries": k.check_tries(site), "rejected": k.candidates_rejected(site)}


def _state(raw: str | None) -> str:
    return STATES.get((raw or "")[:1], "unverified")


def views(store: Store, site: str, paths: list[str], *, verify: bool = False) -> list[Page]:
    """Views and title of each path (0 and None when untracked), in one round trip; for a
    site that verifies, the state too, and a title only once verified."""
    k = store.keys
    ids = [page_id(path) for path in paths]
    with store.guard("pages"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.zmscore(k.page_views(site), ids)
        pipe.hmget(k.page_titles(site), ids)
        if verify:
            pipe.hmget(k.page_states(site), ids)
        found = pipe.execute()
    states = [_state(raw) for raw in found[2]] if verify else [""] * len(ids)
    return [Page(path, int(v or 0), t if state in ("", "verified") else None, state=state)
            for path, v, t, state in zip(paths, found[0], found[1], states, strict=True)]


def top(store: Store, site: str, period_id: str, scan: int, *, include_hidden: bool = False,
        verified_only: bool = False, want: int | None = None) -> list[Page]:
    """The most viewed pages of one period (a day, week, month or year id): up to `want`
    rows, reading at most `scan` ranked ids; `verified_only` for public lists of a site that
    verifies its pages."""
    k = store.keys
    scan = min(scan, PAGE_SCAN_LIMIT)
    with store.guard("top_pages"):
        rows = store.scripts.top(
            keys=[k.rank(site, period_id), k.page_paths(site), k.page_titles(site),
                  k.pages_hidden(site), k.titles_locked(site), k.page_states(site)],
            args=[scan, 1 if include_hidden else 0, 1 if verified_only else 0,
                  min(want or scan, scan)])
    return [Page(str(path), int(float(score)), title, bool(hidden), bool(locked),
                 STATES.get(str(state), "") if state else "")
            for path, score, title, hidden, locked, state in rows]


def unlisted(store: Store, site: str, limit: int) -> list[Page]:
    """The most viewed unverified and rejected pages (views since first seen)."""
    k = store.keys
    with store.guard("pages"):
        rows = store.redis.zrevrange(k.pages_unlisted(site), 0, limit - 1, withscores=True)
        ids = [pid for pid, _ in rows]
        if not ids:
            return []
        pipe = store.redis.pipeline(transaction=False)
        pipe.hmget(k.page_paths(site), ids)
        pipe.hmget(k.page_titles(site), ids)
        pipe.hmget(k.page_states(site), ids)
        pipe.smismember(k.pages_hidden(site), ids)
        pipe.smismember(k.titles_locked(site), ids)
        paths, titles, states, hidden, locked = pipe.execute()
    return [Page(str(path), int(score), title, bool(h), bool(lk), _state(state))
            for (_, score), path, title, state, h, lk
            in zip(rows, paths, titles, states, hidden, locked, strict=True) if path]


def tracked(store: Store, site: str, path: str) -> bool:
    """Whether the path is in the site's page table."""
    with store.guard("pages"):
        return bool(store.redis.hexists(store.keys.page_paths(site), page_id(path)))


def set_hidden(store: Store, site: str, path: str, hidden: bool) -> None:
    """Hide the path from public top lists, or show it again."""
    key = store.keys.pages_hidden(site)
    with store.guard("pages"):
        if hidden:
            store.redis.sadd(key, page_id(path))
        else:
            store.redis.srem(key, page_id(path))


def set_title(store: Store, site: str, path: str, title: str | None) -> None:
    """Set and lock the path's title; None unlocks it (hits may retitle it again)."""
    k, pid = store.keys, page_id(path)
    with store.guard("pages"):
        pipe = store.redis.pipeline(transaction=True)
        if title is None:
            pipe.srem(k.titles_locked(site), pid)
        else:
            pipe.hset(k.page_titles(site), pid, title)
            pipe.sadd(k.titles_locked(site), pid)
            pipe.hdel(k.title_proposals(site), pid)
        pipe.execute()


def forget(store: Store, site: str, path: str, p: Periods) -> None:
    """Drop the path's views, title and top-list entries (site totals keep its views)."""
    k, pid = store.keys, page_id(path)
    with store.guard("pages"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.zrem(k.page_views(site), pid)
        for key in (k.page_paths(site), k.page_titles(site), k.title_proposals(site)):
            pipe.hdel(key, pid)
        pipe.srem(k.titles_locked(site), pid)
        pipe.srem(k.pages_hidden(site), pid)
        for period in (p.day, p.week, p.month, p.year):
            pipe.zrem(k.rank(site, period), pid)
        pipe.hdel(k.page_states(site), pid)
        pipe.zrem(k.pages_unlisted(site), pid)
        pipe.zrem(k.check_queue(site), pid)
        pipe.hdel(k.check_tries(site), pid)
        pipe.hdel(k.page_candidates(site), pid)
        pipe.execute()
