"""Layout 2 -> 3: sites deleted without purge are marked (`pw:{site}:deleted`).

Layout 3 keeps the id of a site deleted without purge from being created again while its
data is kept (service.sites.delete_site). Before it, the data of such a site stayed with no
mark, and creating the id again brought the old counts back. This step finds those sites
(keys of a site id that has no settings, other than the short-lived rate-limit keys any
requested id may get) and writes their tombstone; merge progress hashes that name a source
site of which nothing is left (purged before layout 3) are removed, so the id can be merged
again. Both are single commands that are harmless to repeat.
"""

from __future__ import annotations

import json
from collections import defaultdict

from service.store import Store
from service.store.migrations.base import Budget, Step

# What a request for any id may leave behind without the site existing: not a site's data.
_TRANSIENT = ("rl:",)
_MARKER_PARTS = ("merge:", "merge-tmp:")


def _scan(store: Store) -> tuple[list[str], list[str]]:
    """(ids of deleted sites whose data is left, orphaned merge-marker keys)."""
    parts: dict[str, list[str]] = defaultdict(list)
    with store.guard("migrate"):
        for key in store.redis.scan_iter(match=store.keys.all_sites_pattern(), count=1000):
            parsed = store.keys.site_of(key)
            if parsed is not None:
                parts[parsed[0]].append(parsed[1])
        listed = set(store.redis.smembers(store.keys.sites()))
    deleted = sorted(
        site for site, rests in parts.items()
        if site not in listed and "settings" not in rests and "deleted" not in rests
        and any(not rest.startswith(_TRANSIENT) for rest in rests))
    orphans = []
    for site, rests in parts.items():
        for rest in rests:
            if rest.startswith(_MARKER_PARTS):
                source = rest.split(":", 1)[1]
                if source not in parts:  # nothing at all is left of the source
                    orphans.append(store.keys.merge_progress(site, source)
                                   if rest.startswith("merge:")
                                   else store.keys.merge_scratch(site, source))
    return deleted, sorted(orphans)


def plan(store: Store) -> list[str]:
    """How many deleted sites get their tombstone and orphaned markers go."""
    deleted, orphans = _scan(store)
    lines = []
    if deleted:
        lines.append(f"{len(deleted)} site(s) deleted without purge keep their data and get a "
                     f"tombstone (the id cannot be created again): {', '.join(deleted[:20])}")
    if orphans:
        lines.append(f"{len(orphans)} merge marker(s) of sources purged earlier are removed")
    return lines


def run(store: Store, budget: Budget) -> None:
    """Write the tombstones and remove the orphaned markers."""
    deleted, orphans = _scan(store)
    tombstone = json.dumps({"deleted_at": None, "settings": None, "by": "migration 3"})
    for site in deleted:
        with store.guard("migrate"):
            store.redis.set(store.keys.deleted(site), tombstone, nx=True)
        budget.spend()
    for key in orphans:
        with store.guard("migrate"):
            store.redis.delete(key)
        budget.spend()


STEP = Step(version=3, title="sites deleted without purge are marked; their ids stay taken",
            plan=plan, run=run)
