"""Merging one site's figures into another's, as idempotent steps.

The two sites live in different cluster slots, so a merge cannot be one transaction. Each
step reads the source (its slot), then runs one script in the target's slot that writes the
step's figures *and* the step's marker in the progress hash: a merge interrupted anywhere and
run again skips the steps already done and adds nothing twice. Steps are named after the
source data they move (`total`, `c:2026-11`, `hist:2025`, `hll:2026-W48`, `pages:3`, ...), so
a re-run on a later day never re-applies a step under a new name.

The source must no longer change while its data is copied: the merge first makes it an alias
(its settings carry `merged_into`, so hits addressed to it count into the target) and waits
until every process's settings cache has seen that (service.provinces.merges).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.store import Store

DAY_MS = 86_400_000


@dataclass
class Writes:
    """The operations of one merge_step call (merge_step.lua documents them)."""

    keys: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def _k(self, key: str) -> int:
        if key not in self.keys:
            self.keys.append(key)
        return self.keys.index(key) + 2  # KEYS[1] is the progress hash

    def hincrby(self, key: str, name: str, amount: int) -> None:
        """Add to a hash field (nothing when 0)."""
        if amount:
            self.args += ["HINCRBY", self._k(key), name, amount]

    def pexpire(self, key: str, ms: int) -> None:
        """Expire a time-bucketed key `ms` from now."""
        self.args += ["PEXPIRE", self._k(key), max(ms, 1000)]

    def zmax(self, key: str, member: str, score: float) -> None:
        """Keep the larger of two scores."""
        self.args += ["ZMAX", self._k(key), member, int(score)]

    def pfmerge_hex(self, key: str, scratch: str, hex_value: str) -> None:
        """Merge a HyperLogLog given as hex into `key`."""
        self.args += ["PFMERGEHEX", self._k(key), self._k(scratch), hex_value]

    def zincrby(self, key: str, member: str, amount: int) -> None:
        """Add to a sorted-set member."""
        if amount:
            self.args += ["ZINCRBY", self._k(key), member, amount]

    def ztrim(self, key: str, keep: int) -> None:
        """Keep the `keep` highest members."""
        self.args += ["ZTRIM", self._k(key), keep]

    def baseline(self, key: str, name: str, amount: int, period_id: str) -> None:
        """Add to an imported period baseline of `period_id`."""
        self.args += ["BASELINE", self._k(key), name, amount, period_id]


def apply(store: Store, source: str, target: str, step: str, writes: Writes,
          now_ms: int) -> bool:
    """Run one step in the target's slot unless done; whether it ran now."""
    keys = [store.keys.merge_progress(target, source), *writes.keys]
    with store.guard("merge"):
        done = store.scripts.merge_step(keys=keys, args=[step, now_ms, *writes.args])
    return bool(done)


def progress(store: Store, source: str, target: str) -> dict[str, str]:
    """Step -> time done (ms) of merging source into target."""
    with store.guard("merge"):
        found: dict[str, str] = store.redis.hgetall(store.keys.merge_progress(target, source))
    return found


def claim_source(store: Store, source: str, target: str) -> int:
    """Make the source an alias of the target (its settings gain `merged_into`): 1 done,
    -1 others were merged into it, -2 it does not exist, -3 it is an alias of another site."""
    key = store.keys.settings(source)
    for _ in range(5):
        with store.guard("merge"):
            raw = store.redis.get(key)
        if not raw:
            return -2
        settings = json.loads(raw)
        current = settings.get("merged_into")
        if current == target:
            return 1
        if current:
            return -3
        new = json.dumps({**settings, "merged_into": target}, ensure_ascii=False)
        with store.guard("merge"):
            result = int(store.scripts.merge_claim(
                keys=[key, store.keys.aliases(source)], args=["source", raw, new]))
        if result != 0:
            return result
    return 0


def release_source(store: Store, source: str, target: str) -> None:
    """Undo claim_source (when the target refused the merge)."""
    key = store.keys.settings(source)
    for _ in range(5):
        with store.guard("merge"):
            raw = store.redis.get(key)
        settings = json.loads(raw) if raw else {}
        if settings.get("merged_into") != target:
            return
        del settings["merged_into"]
        with store.guard("merge"):
            if store.scripts.cas(keys=[key], args=[raw, json.dumps(settings,
                                                                   ensure_ascii=False)]):
                return


def claim_target(store: Store, source: str, target: str, now_ms: int) -> int:
    """The target lists the source as its alias: 1 done, -1 no target, -2 target is an alias."""
    k = store.keys
    with store.guard("merge"):
        return int(store.scripts.merge_claim(
            keys=[k.settings(target), k.aliases(target), k.merge_progress(target, source)],
            args=["target", source, now_ms]))


def forget_alias(store: Store, alias: str, target: str) -> None:
    """The target no longer lists `alias` (the alias site was deleted)."""
    with store.guard("merge"):
        store.redis.srem(store.keys.aliases(target), alias)


def relist_alias(store: Store, alias: str, target: str) -> None:
    """The target lists `alias` again (a deleted alias was restored)."""
    with store.guard("merge"):
        store.redis.sadd(store.keys.aliases(target), alias)


Step = Callable[[str], None]


def finish(store: Store, source: str, target: str, now_ms: int) -> None:
    """Record that every step is done."""
    run_step(store, source, target, "done", Writes(), now_ms, lambda step: None)


def run_step(store: Store, source: str, target: str, step: str, writes: Writes, now_ms: int,
         done: Step) -> None:
    apply(store, source, target, step, writes, now_ms)
    done(step)
