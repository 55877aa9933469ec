"""The figures of many sites in one pipelined read: a group's roll-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.counting.periods import Periods
from service.store import Store
from service.store.counters import Figures, _stat_keys

# Reads per site: online, today, week, month, year, total, four HyperLogLogs, baselines.
_PER_SITE = 11


@dataclass(frozen=True)
class Wanted:
    """One site whose figures to read, with its own calendar and online window."""

    site: str
    periods: Periods
    window_ms: int


def figures_many(store: Store, wanted: list[Wanted], *, now_ms: int) -> list[Figures]:
    """Each site's figures (uniques counted afresh, nothing written) in one pipeline of
    plain reads: on a cluster redis-py sends one batch per node (it refuses scripts in a
    cluster pipeline). The same reads as stats.lua's read_stats, decoded the same way."""
    if not wanted:
        return []
    with store.guard("group_stats"):
        pipe = store.redis.pipeline(transaction=False)
        for w in wanted:
            keys = _stat_keys(store, w.site, w.periods)
            pipe.zcount(keys[0], now_ms - w.window_ms, "+inf")
            day = w.periods.day_field
            pipe.hmget(keys[5], [f"{day}:v", f"{day}:p"])
            for key in (keys[4], keys[3], keys[2], keys[1]):  # week, month, year, total
                pipe.hmget(key, ["v", "p"])
            for key in keys[6:10]:  # HyperLogLogs of day, week, month, year
                # (pipe.pfcount is refused in a cluster pipeline, as it may take many keys)
                pipe.execute_command("PFCOUNT", key)
            pipe.hgetall(keys[10])
        replies: list[Any] = pipe.execute()
    out = []
    for i in range(len(wanted)):
        online, *pairs_and_counts, imported = replies[i * _PER_SITE:(i + 1) * _PER_SITE]
        raw: list[Any] = [online]
        for pair in pairs_and_counts[:5]:
            raw += [int(pair[0] or 0), int(pair[1] or 0)]
        raw += pairs_and_counts[5:]
        raw.append([x for item in imported.items() for x in item])
        out.append(Figures.from_reply(raw))
    return out
