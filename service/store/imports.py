"""Markers of imports: each export file applied once, and resumable where it stopped.

- `pw:imports` (one hash for the deployment): export id -> JSON {site, into, state} with
  state `started` or `done`; a file whose id is `done` is refused, one `started` is resumed.
- `pw:{site}:import` (the created site's slot): export_id, `lines` (the file's lines applied
  so far: a checkpoint written in the same pipeline as their writes) and `active` (the
  settings are written: the site exists, the lines are never replayed again).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from service.store import Store
from service.store.sections import SECTIONS, Line


def record(store: Store, export_id: str) -> dict[str, Any] | None:
    """The deployment's record of this export id, or None."""
    with store.guard("import"):
        raw = store.redis.hget(store.keys.imports(), export_id)
    found: dict[str, Any] | None = json.loads(raw) if raw else None
    return found


def claim(store: Store, export_id: str, value: dict[str, Any]) -> bool:
    """Record the import as started; False when the id was already recorded."""
    with store.guard("import"):
        return bool(store.redis.hsetnx(store.keys.imports(), export_id,
                                       json.dumps({**value, "state": "started"})))


def finish(store: Store, export_id: str, value: dict[str, Any]) -> None:
    """Record the import as done: the same file is refused from now on."""
    with store.guard("import"):
        store.redis.hset(store.keys.imports(), export_id,
                         json.dumps({**value, "state": "done"}))


def progress(store: Store, site: str) -> dict[str, str]:
    """The site's import progress (export_id, lines, active), {} when none."""
    with store.guard("import"):
        found: dict[str, str] = store.redis.hgetall(store.keys.import_progress(site))
    return found


def begin(store: Store, site: str, export_id: str, *, fresh: bool) -> None:
    """Mark the site's keys as being written by this import (`fresh`: its first run, which
    replaces the marker a finished import of a since deleted site left)."""
    key = store.keys.import_progress(site)
    with store.guard("import"):
        if fresh:
            store.redis.delete(key)
        store.redis.hsetnx(key, "export_id", export_id)


def apply_lines(store: Store, site: str, lines: Iterable[Line], applied: int) -> None:
    """Write the lines (one pipeline, all in the site's slot) with the checkpoint `applied`."""
    pipe = store.redis.pipeline(transaction=False)
    for line in lines:
        SECTIONS[line["section"]].apply(pipe, store.keys, site, line)
    pipe.hset(store.keys.import_progress(site), "lines", applied)
    with store.guard("import"):
        pipe.execute()


def activate(store: Store, site: str, settings: dict[str, Any], export_id: str) -> None:
    """Write the settings (the site exists from now on) and list the site."""
    k = store.keys
    with store.guard("import"):
        store.scripts.import_activate(
            keys=[k.settings(site), k.import_progress(site)],
            args=[json.dumps(settings, ensure_ascii=False), export_id])
        store.redis.sadd(k.sites(), site)


def finish_line(store: Store, site: str, line: Line) -> None:
    """A line's writes outside the site's slot (its section's finish), if any."""
    finish = SECTIONS[line["section"]].finish
    if finish is not None:
        finish(store, site, line)


def has_data(store: Store, site: str, allowed: set[str]) -> bool:
    """Whether the site id has any key besides those in `allowed` (data left by a deleted
    site, or written since)."""
    with store.guard("import"):
        for key in store.redis.scan_iter(match=store.keys.site_pattern(site), count=1000):
            if key not in allowed:
                return True
    return False
