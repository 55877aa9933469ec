"""Layout 4 -> 5: each open visit's session key is folded into the site's online set.

Layout 5 keeps one entry per visitor for "seen": the online sorted set holds each visitor's
last activity (ms) for the session timeout, so it answers both "online now" (the entries
inside the online window) and "is this visitor's visit still open" (hit.lua). Layout 4 kept
the visit in a key of its own per visitor (`session:<visitor>`, its last activity, expiring
with the session timeout) beside an online set trimmed to the online window. This step moves
each live session key into the online set (ZADD GT: the later activity wins) and removes it,
with the set's lifetime raised to the longest session's, in one transaction per batch in the
site's slot; so a visit open across the upgrade is not counted twice, and a step killed at
any point and run again moves nothing twice (the keys it moved are gone).
"""

from __future__ import annotations

from collections import defaultdict

from service.store import Store
from service.store.migrations.base import Budget, Step

BATCH = 500


def _sessions(store: Store) -> dict[str, list[str]]:
    """Site id -> its layout-4 session keys."""
    found: dict[str, list[str]] = defaultdict(list)
    with store.guard("migrate"):
        for key in store.redis.scan_iter(match=store.keys.sessions_pattern(), count=1000):
            parsed = store.keys.site_of(key)
            if parsed is not None:
                found[parsed[0]].append(key)
    return found


def plan(store: Store) -> list[str]:
    """How many open visits move into their site's online set."""
    found = _sessions(store)
    if not found:
        return []
    return [f"{sum(len(keys) for keys in found.values())} open visit(s) of {len(found)} "
            "site(s) move into the online set (one entry per visitor)"]


def _fold(store: Store, site: str, keys: list[str]) -> None:
    k = store.keys
    prefix = k.session(site, "")
    online = k.online(site)
    with store.guard("migrate"):
        pipe = store.redis.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        pipe.pttl(online)
        replies = pipe.execute()
    scores: dict[str, float] = {}
    longest = max(int(replies[-1]), 0)
    for i, key in enumerate(keys):
        value, ttl = replies[2 * i], int(replies[2 * i + 1])
        if value is None or ttl == -2:
            continue  # expired meanwhile
        try:
            scores[key[len(prefix):]] = float(value)
        except ValueError:
            continue  # not a time: nothing to keep
        longest = max(longest, ttl)
    with store.guard("migrate"):
        pipe = store.redis.pipeline(transaction=True)
        if scores:
            pipe.zadd(online, scores, gt=True)
            if longest > 0:
                pipe.pexpire(online, longest)
        pipe.unlink(*keys)
        pipe.execute()


def run(store: Store, budget: Budget) -> None:
    """Fold every site's session keys into its online set, a batch at a time."""
    for site, keys in sorted(_sessions(store).items()):
        for start in range(0, len(keys), BATCH):
            _fold(store, site, keys[start:start + BATCH])
            budget.spend()


STEP = Step(version=5, title="open visits move into the online set (one entry per visitor)",
            plan=plan, run=run)
