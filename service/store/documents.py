"""JSON documents in Redis (site settings, hotline boxes, poll definitions), changed by CAS."""

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
