"""The figures of many sites in one pipelined read: a group's roll-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from service.periods import Periods
from service.store import Store
from service.store.counters import Figures, _stat_args, _stat_keys


@dataclass(frozen=True)
class Wanted:
    """One site whose figures to read, with its own calendar and online window."""

    site: str
    periods: Periods
    window_ms: int


def figures_many(store: Store, wanted: list[Wanted], *, now_ms: int) -> list[Figures]:
    """Each site's figures (uniques counted afresh, nothing written), read with the stats
    script in one pipeline: on a cluster, redis-py sends one batch per node."""
    if not wanted:
        return []
    script = store.scripts.stats
    for attempt in range(2):
        with store.guard("group_stats"):
            pipe = store.redis.pipeline(transaction=False)
            for w in wanted:
                script(keys=_stat_keys(store, w.site, w.periods),
                       args=_stat_args(w.periods, now_ms, w.window_ms), client=pipe)
            try:
                raws: list[Any] = pipe.execute()
            except redis.exceptions.NoScriptError:
                # a cluster pipeline does not load scripts itself: load on every node, retry
                if attempt:
                    raise
                store.redis.script_load(script.script)
                continue
        return [Figures.from_reply(raw[0]) for raw in raws]
    raise AssertionError("unreachable")
