"""Stored groups of sites: one JSON document per group and the set of group ids."""

from __future__ import annotations

import json
from typing import Any

from service.store import Store
from service.store.documents import get_json, get_listed


def load(store: Store, group_id: str) -> dict[str, Any] | None:
    """The group's document ({"name", "sites"}), or None."""
    found: dict[str, Any] | None = get_json(store, store.keys.group(group_id), "group_load")
    return found


def save(store: Store, group_id: str, doc: dict[str, Any]) -> None:
    """Store the group and list it."""
    with store.guard("group_save"):
        store.redis.set(store.keys.group(group_id), json.dumps(doc, ensure_ascii=False))
        store.redis.sadd(store.keys.groups(), group_id)


def delete(store: Store, group_id: str) -> bool:
    """Unlist and drop the group; whether it existed."""
    with store.guard("group_delete"):
        store.redis.srem(store.keys.groups(), group_id)
        return bool(store.redis.delete(store.keys.group(group_id)))


def load_all(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """(id, document) of every group, sorted by id."""
    return get_listed(store, store.keys.groups(), store.keys.group, "group_list")
