"""JSON documents in Redis (site settings, hotline boxes, poll definitions), changed by CAS,
and the pipelined reads of many documents or hashes at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from service.store import Store, VersionConflict


def get_json(store: Store, key: str, operation: str) -> Any:
    """A JSON document, or None."""
    with store.guard(operation):
        raw = store.redis.get(key)
    return json.loads(raw) if raw else None


def get_many_json(store: Store, keys: list[str], operation: str) -> list[Any]:
    """The JSON documents at `keys` (None where missing), in one pipelined read (a cluster
    pipeline sends one batch per node)."""
    if not keys:
        return []
    with store.guard(operation):
        pipe = store.redis.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        raws = pipe.execute()
    return [json.loads(raw) if raw else None for raw in raws]


def get_listed(store: Store, index: str, key_of: Callable[[str], str],
               operation: str) -> list[tuple[str, Any]]:
    """(id, document) of every id listed in the set `index`, sorted by id (an id whose
    document is gone is left out)."""
    with store.guard(operation):
        ids = sorted(store.redis.smembers(index))
    found = get_many_json(store, [key_of(i) for i in ids], operation)
    return [(i, doc) for i, doc in zip(ids, found, strict=True) if doc is not None]


def get_hashes(store: Store, keys: list[str], operation: str) -> list[dict[str, str]]:
    """The hashes at `keys` ({} where missing), in one pipelined read."""
    with store.guard(operation):
        pipe = store.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        rows: list[dict[str, str]] = pipe.execute()
    return rows


def update_json(store: Store, key: str, change: Callable[[Any], Any], operation: str,
                attempts: int = 5) -> Any:
    """Apply `change` to a JSON document atomically (compare-and-set, retried); the new value.

    `change` gets the current document (None when missing) and may raise to refuse.
    """
    for _ in range(attempts):
        with store.guard(operation):
            raw = store.redis.get(key) or ""
        new = change(json.loads(raw) if raw else None)
        encoded = json.dumps(new, ensure_ascii=False)
        with store.guard(operation):
            if store.scripts.cas(keys=[key], args=[raw, encoded]):
                return new
    raise VersionConflict(key)
