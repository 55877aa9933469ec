"""Sources of visits: per-year daily counts by category, per-month referring hosts.

hit.lua writes them (through count_source in sources.lua); this module only reads.
"""

from __future__ import annotations

from service.store import Store
from service.store.documents import get_hashes


def daily(store: Store, site: str, years: list[str]) -> dict[str, dict[str, str]]:
    """Year -> that year's hash of MM-DD:<category> -> new visits."""
    rows = get_hashes(store, [store.keys.sources(site, year) for year in years], "sources")
    return dict(zip(years, rows, strict=True))


def hosts(store: Store, site: str, months: list[str]) -> list[dict[str, int]]:
    """Each month's referring hosts -> new visits (at most 200 a month)."""
    with store.guard("sources"):
        pipe = store.redis.pipeline(transaction=False)
        for month in months:
            pipe.zrange(store.keys.source_hosts(site, month), 0, -1, withscores=True)
        rows = pipe.execute()
    return [{str(host): int(score) for host, score in row} for row in rows]
