"""Stored site settings and the list of site ids."""

from __future__ import annotations

import json
from collections.abc import Callable
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


def tombstone(store: Store, site_id: str) -> dict[str, Any] | None:
    """The tombstone of a site deleted without purge (its data kept), or None."""
    found: dict[str, Any] | None = get_json(store, store.keys.deleted(site_id), "site_load")
    return found


def mark_deleted(store: Store, site_id: str, settings: dict[str, Any] | None,
                 now_ms: int) -> None:
    """Delete the site but keep its data: its settings move into its tombstone (one
    transaction in the site's slot), then it is unlisted."""
    k = store.keys
    record = json.dumps({"deleted_at": now_ms, "settings": settings}, ensure_ascii=False)
    with store.guard("site_delete"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.set(k.deleted(site_id), record, nx=True)
        pipe.delete(k.settings(site_id))
        pipe.execute()
        store.redis.srem(k.sites(), site_id)


def restore(store: Store, site_id: str, settings: dict[str, Any]) -> None:
    """Undo mark_deleted: the settings come back and the tombstone goes (one transaction),
    then the site is listed again."""
    k = store.keys
    with store.guard("site_save"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.set(k.settings(site_id), json.dumps(settings, ensure_ascii=False))
        pipe.delete(k.deleted(site_id))
        pipe.execute()
        store.redis.sadd(k.sites(), site_id)


def _unlink_all(store: Store, pattern: str, keep: str | None = None,
                accept: Callable[[str], bool] = lambda key: True) -> int:
    """UNLINK every key SCAN finds for `pattern` (on every cluster node), one command per
    key in pipelined batches (keys of other sites lie in other slots); keys removed."""
    removed = 0
    batch: list[str] = []

    def flush() -> int:
        pipe = store.redis.pipeline(transaction=False)
        for key in batch:
            pipe.unlink(key)
        return sum(int(n) for n in pipe.execute())

    for key in store.redis.scan_iter(match=pattern, count=500):
        if key != keep and accept(key):
            batch.append(key)
        if len(batch) >= 500:
            removed += flush()
            batch = []
    if batch:
        removed += flush()
    return removed


def purge(store: Store, site_id: str, settings: dict[str, Any] | None, now_ms: int) -> int:
    """Remove every key of the site (SCAN of its hash tag, on every cluster node), and the
    merge progress it left in other sites' slots; keys removed. The tombstone is written
    first and removed last, so a purge interrupted anywhere keeps the id from being created
    again until it is run again."""
    k = store.keys
    mark_deleted(store, site_id, settings, now_ms)

    def names_source(key: str) -> bool:
        parsed = k.site_of(key)
        return parsed is not None and parsed[1] in (f"merge:{site_id}", f"merge-tmp:{site_id}")

    with store.guard("site_delete"):
        removed = _unlink_all(store, k.site_pattern(site_id), keep=k.deleted(site_id))
        removed += _unlink_all(store, k.merge_markers_pattern(site_id), accept=names_source)
        removed += int(store.redis.unlink(k.deleted(site_id)))
    return removed


def clear_strays(store: Store, site_id: str) -> int:
    """Before a site is created: remove what a hit racing an earlier purge of the id may
    have written (hit.lua does not check that the site exists; the caller resolved it from a
    cache that may be a second old); keys removed."""
    with store.guard("site_save"):
        return _unlink_all(store, store.keys.site_pattern(site_id))


def has_data(store: Store, site_id: str) -> bool:
    """Whether any key of the site, or merge progress naming it, is left."""
    k = store.keys
    with store.guard("site_load"):
        for pattern in (k.site_pattern(site_id), k.merge_markers_pattern(site_id)):
            for key in store.redis.scan_iter(match=pattern, count=1000):
                parsed = k.site_of(key)
                if parsed is None or parsed[1].startswith("rl:"):
                    continue  # a rate-limit window: any requested id may have one
                if parsed[0] == site_id or parsed[1].endswith(f":{site_id}"):
                    return True
    return False


def load_many(store: Store, site_ids: list[str]) -> list[dict[str, Any] | None]:
    """The stored settings of each site (None when missing), in one pipelined read."""
    return get_many_json(store, [store.keys.settings(s) for s in site_ids], "site_load")


def aliases(store: Store, site_id: str) -> set[str]:
    """Ids of the sites merged into this one."""
    with store.guard("site_load"):
        return set(store.redis.smembers(store.keys.aliases(site_id)))
