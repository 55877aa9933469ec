"""The data layout's version in Redis (`pw:schema`), and finding it where none is stored.

Layout 1 is v0.1.0's (per-page keys `pages`, `titles`, `top:<period>` by path), layout 2 is
v0.2.0's (page ids: `pv`, `paths`, `ptitle`, `rank:<period>`), later layouts are named by
the migration steps that make them (service.store.migrations). Releases before layouts were
stored wrote no `pw:schema`: their layout is read from which keys exist.
"""

from __future__ import annotations

from service.store import Store

# Layout 1's per-page keys, by what follows `pw:{site}:` (none of them exists in layout 2).
V1_PARTS = ("pages", "titles")
V1_PREFIXES = ("top:",)


def is_v1_key(rest: str) -> bool:
    """Whether a per-site key (what follows `pw:{site}:`) belongs to layout 1 only."""
    return rest in V1_PARTS or rest.startswith(V1_PREFIXES)


def stored(store: Store) -> int | None:
    """The version written in `pw:schema`, or None."""
    with store.guard("schema"):
        raw = store.redis.get(store.keys.schema())
    return int(raw) if raw is not None else None


def is_empty(store: Store) -> bool:
    """Whether no key under the prefix exists (a fresh deployment)."""
    with store.guard("schema"):
        for _ in store.redis.scan_iter(match=store.keys.everything(), count=1000):
            return False
    return True


def detect(store: Store) -> int | None:
    """The layout of data without `pw:schema`: None when there is no data at all, 1 when a
    layout-1 per-page key exists, else 2 (v0.2.0 wrote nothing that tells it apart)."""
    found_any = False
    with store.guard("schema"):
        for key in store.redis.scan_iter(match=store.keys.all_sites_pattern(), count=1000):
            found_any = True
            parsed = store.keys.site_of(key)
            if parsed is not None and is_v1_key(parsed[1]):
                return 1
    if found_any or not is_empty(store):
        return 2
    return None


def current_layout(store: Store) -> tuple[int | None, bool]:
    """(layout, whether it is written in `pw:schema`); layout None: an empty deployment."""
    found = stored(store)
    if found is not None:
        return found, True
    return detect(store), False


def write(store: Store, version: int, *, only_if_missing: bool = False) -> bool:
    """Write the layout version (with only_if_missing: unless one is stored); whether set."""
    with store.guard("schema"):
        return bool(store.redis.set(store.keys.schema(), str(version), nx=only_if_missing))
