"""Per-page views and titles, and the top-pages lists of each period."""

from __future__ import annotations

from dataclasses import dataclass

from service.store import Store


@dataclass(frozen=True)
class Page:
    """One tracked path."""

    path: str
    views: int
    title: str | None


def views(store: Store, site: str, paths: list[str]) -> list[Page]:
    """Views and title of each path (0 and None when untracked), in one round trip."""
    k = store.keys
    with store.guard("pages"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.hmget(k.pages(site), paths)
        pipe.hmget(k.titles(site), paths)
        counts, titles = pipe.execute()
    return [Page(path, int(v or 0), t) for path, v, t in zip(paths, counts, titles, strict=True)]


def top(store: Store, site: str, period_id: str, limit: int) -> list[Page]:
    """The most viewed paths of one period (a day, week, month or year id)."""
    k = store.keys
    with store.guard("top_pages"):
        ranked = store.redis.zrevrange(k.top(site, period_id), 0, limit - 1, withscores=True)
        titles = store.redis.hmget(k.titles(site), [path for path, _ in ranked]) if ranked else []
    return [Page(path, int(score), title)
            for (path, score), title in zip(ranked, titles, strict=True)]
