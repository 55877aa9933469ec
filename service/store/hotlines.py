"""Stored hotline boxes (one JSON document per site) and their click counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.store import Store
from service.store.documents import get_json, update_json


def load(store: Store, site: str) -> Any:
    """The stored box, or None."""
    return get_json(store, store.keys.hotlines(site), "hotlines")


def update(store: Store, site: str, change: Callable[[Any], Any]) -> Any:
    """Change the box atomically (compare-and-set); the new box."""
    return update_json(store, store.keys.hotlines(site), change, "hotlines")


def clicks(store: Store, site: str) -> dict[str, int]:
    """Hotline id -> taps."""
    with store.guard("hotline_clicks"):
        raw = store.redis.hgetall(store.keys.hotline_clicks(site))
    return {str(k): int(v) for k, v in raw.items()}


def add_click(store: Store, site: str, hotline_id: str) -> None:
    """Count one tap."""
    with store.guard("hotline_clicks"):
        store.redis.hincrby(store.keys.hotline_clicks(site), hotline_id, 1)
