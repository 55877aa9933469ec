"""Stored site settings and the list of site ids."""

from __future__ import annotations

import json
from typing import Any

from service.store import Store
from service.store.documents import get_json, get_listed, get_many_json


def load(store: Store, site_id: str) -> dict[str, Any] | None:
    """The site's stored settings, or None."""
    found: dict[str, Any] | None = get_json(store, store.keys.settings(site_id), "site_load")
    return found


def exists(store: Store, site_id: str) -> bool:
    """Whether the site has stored settings."""
    with store.guard("site_load"):
        return bool(store.redis.exists(store.keys.settings(site_id)))


def save(store: Store, site_id: str, settings: dict[str, Any]) -> None:
    """Store the settings and list the site."""
    with store.guard("site_save"):
        store.redis.set(store.keys.settings(site_id), json.dumps(settings, ensure_ascii=False))
        store.redis.sadd(store.keys.sites(), site_id)


def load_all(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """(id, settings) of every site, sorted by id."""
    return get_listed(store, store.keys.sites(), store.keys.settings, "site_list")


def delete(store: Store, site_id: str, *, purge: bool) -> int:
    """Unlist the site and drop its settings; with purge, every key it has. Keys removed."""
    removed = 0
    with store.guard("site_delete"):
        store.redis.srem(store.keys.sites(), site_id)
        removed += store.redis.delete(store.keys.settings(site_id))
        if purge:
            batch: list[str] = []
            for key in store.redis.scan_iter(match=store.keys.site_pattern(site_id), count=500):
                batch.append(key)
                if len(batch) >= 500:
                    removed += store.redis.unlink(*batch)
                    batch = []
            if batch:
                removed += store.redis.unlink(*batch)
    return int(removed)


def load_many(store: Store, site_ids: list[str]) -> list[dict[str, Any] | None]:
    """The stored settings of each site (None when missing), in one pipelined read."""
    return get_many_json(store, [store.keys.settings(s) for s in site_ids], "site_load")


def aliases(store: Store, site_id: str) -> set[str]:
    """Ids of the sites merged into this one."""
    with store.guard("site_load"):
        return set(store.redis.smembers(store.keys.aliases(site_id)))
