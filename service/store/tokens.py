"""Stored admin tokens: one hash of name -> JSON record (digest, scope, created)."""

from __future__ import annotations

import json
from typing import Any

from service.store import Store


def add(store: Store, name: str, record: dict[str, Any]) -> bool:
    """Store a new token record; False when the name is taken."""
    with store.guard("tokens"):
        return bool(store.redis.hsetnx(store.keys.tokens(), name, json.dumps(record)))


def load_all(store: Store) -> dict[str, dict[str, Any]]:
    """Every token record by name."""
    with store.guard("tokens"):
        raw = store.redis.hgetall(store.keys.tokens())
    return {str(name): json.loads(value) for name, value in raw.items()}


def remove(store: Store, name: str) -> bool:
    """Delete a token record; False when there was none."""
    with store.guard("tokens"):
        return bool(store.redis.hdel(store.keys.tokens(), name))
