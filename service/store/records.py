"""Stored documents: site settings, hotlines, polls, admin tokens (JSON in Redis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from service.errors import Conflict
from service.store import Store


def load_site(store: Store, site_id: str) -> dict[str, Any] | None:
    """The site's stored settings, or None."""
    found: dict[str, Any] | None = get_json(store, store.keys.settings(site_id), "site_load")
    return found


def save_site(store: Store, site_id: str, settings: dict[str, Any]) -> None:
    """Store the settings and list the site."""
    with store.guard("site_save"):
        store.redis.set(store.keys.settings(site_id), json.dumps(settings, ensure_ascii=False))
        store.redis.sadd(store.keys.sites(), site_id)


def load_sites(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """(id, settings) of every site, sorted by id."""
    with store.guard("site_list"):
        ids = sorted(store.redis.smembers(store.keys.sites()))
        pipe = store.redis.pipeline(transaction=False)
        for site_id in ids:
            pipe.get(store.keys.settings(site_id))
        raws = pipe.execute() if ids else []
    return [(sid, json.loads(raw)) for sid, raw in zip(ids, raws, strict=True) if raw]


def delete_site(store: Store, site_id: str, *, purge: bool) -> int:
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


def get_json(store: Store, key: str, operation: str) -> Any:
    """A JSON document, or None."""
    with store.guard(operation):
        raw = store.redis.get(key)
    return json.loads(raw) if raw else None


def update_json(store: Store, key: str, change: Callable[[Any], Any], operation: str,
                attempts: int = 5) -> Any:
    """Apply `change` to a JSON document atomically (compare-and-set, retried); the new value."""
    for _ in range(attempts):
        with store.guard(operation):
            raw = store.redis.get(key) or ""
        new = change(json.loads(raw) if raw else None)
        encoded = json.dumps(new, ensure_ascii=False)
        with store.guard(operation):
            if store.scripts.cas(keys=[key], args=[raw, encoded]):
                return new
    raise Conflict("changed by someone else; try again")


def hash_counts(store: Store, key: str, operation: str) -> dict[str, int]:
    """A hash of counters."""
    with store.guard(operation):
        raw = store.redis.hgetall(key)
    return {str(k): int(v) for k, v in raw.items()}


def incr_field(store: Store, key: str, field: str, operation: str) -> None:
    """Add one to a hash field."""
    with store.guard(operation):
        store.redis.hincrby(key, field, 1)
