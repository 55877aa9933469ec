"""Redis side of polls: definitions, the vote script, tallies."""

from __future__ import annotations

import json
from typing import Any

from service.store import Store


def poll_keys(store: Store, site: str, poll: str) -> list[str]:
    """Every key of one poll (all in the site's hash slot)."""
    k = store.keys
    return [k.poll(site, poll), k.poll_tally(site, poll), k.poll_voters(site, poll),
            k.poll_ips(site, poll), k.poll_nonces(site, poll)]


def vote(store: Store, site: str, poll: str, *, now_ms: int, nonce: str, forget_ms: int,
         voter: str, ip: str, max_per_ip: int,
         options: list[str]) -> tuple[str, dict[str, int], dict[str, Any] | None]:
    """Run vote.lua: (outcome, tally, definition) - the last two only when recorded."""
    with store.guard("vote"):
        result = store.scripts.vote(
            keys=poll_keys(store, site, poll),
            args=[now_ms, nonce, forget_ms, voter, ip, max_per_ip, *options],
        )
    if result[0] != "ok":
        return str(result[0]), {}, None
    flat = result[1]
    tally = {str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
    return "ok", tally, json.loads(result[2])


def load(store: Store, site: str, poll: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """(definition, tally) in one round trip."""
    k = store.keys
    with store.guard("poll"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.get(k.poll(site, poll))
        pipe.hgetall(k.poll_tally(site, poll))
        raw, tally = pipe.execute()
    return (json.loads(raw) if raw else None), {str(a): int(b) for a, b in tally.items()}


def current(store: Store, site: str) -> str | None:
    """The id `current` means."""
    with store.guard("poll"):
        value = store.redis.get(store.keys.current_poll(site))
    return str(value) if value else None


def set_current(store: Store, site: str, poll: str | None) -> None:
    """Point `current` at a poll (None: at nothing)."""
    with store.guard("poll"):
        if poll is None:
            store.redis.delete(store.keys.current_poll(site))
        else:
            store.redis.set(store.keys.current_poll(site), poll)


def create(store: Store, site: str, poll: str, definition: dict[str, Any],
           created_ms: int) -> bool:
    """Store a new poll; False when the id is taken."""
    k = store.keys
    with store.guard("poll"):
        if not store.redis.set(k.poll(site, poll), json.dumps(definition, ensure_ascii=False),
                               nx=True):
            return False
        store.redis.zadd(k.polls(site), {poll: created_ms})
    return True


def ids(store: Store, site: str) -> list[str]:
    """Poll ids, newest first."""
    with store.guard("poll"):
        return [str(p) for p in store.redis.zrevrange(store.keys.polls(site), 0, -1)]


def delete(store: Store, site: str, poll: str) -> None:
    """Remove a poll and all its votes."""
    with store.guard("poll"):
        pipe = store.redis.pipeline(transaction=True)
        pipe.delete(*poll_keys(store, site, poll))
        pipe.zrem(store.keys.polls(site), poll)
        pipe.execute()


def reset(store: Store, site: str, poll: str) -> None:
    """Zero the votes (tally, voters, per-IP counts, used tickets)."""
    with store.guard("poll"):
        store.redis.delete(*poll_keys(store, site, poll)[1:])
