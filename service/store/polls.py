"""Redis side of polls: definitions, the vote script, tallies."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.store import Store
from service.store.counters import Rate
from service.store.documents import update_json
from service.store.scripts import Call, run


@dataclass(frozen=True)
class Ballot:
    """One vote as vote.lua checks it: every allowance is decided inside the script."""

    site: str
    poll: str
    now_ms: int
    nonce: str  # the ticket's single-use nonce
    forget_ms: int  # when the used nonce may be forgotten (the ticket has expired)
    voter: str  # keyed hash of the browser token ('' without one)
    ip: str  # keyed hash of the client address
    max_per_ip: int
    aggregate: str  # keyed hash of the client's IPv6 /48 in this poll ('' for IPv4)
    max_per_aggregate: int
    options: list[str]
    rate: Rate  # attempts per address unit, checked first inside vote.lua


@dataclass(frozen=True)
class VoteReply:
    """vote.lua's outcome; the tally and definition only when the vote was recorded."""

    outcome: str  # ok, missing, scheduled, closed, duplicate, used, limited, unknown, toomany,
    # ratelimited
    tally: dict[str, int] = field(default_factory=dict)
    definition: dict[str, Any] | None = None
    retry_after_ms: int = 0


def poll_keys(store: Store, site: str, poll: str) -> list[str]:
    """Every key of one poll (all in the site's hash slot)."""
    k = store.keys
    return [k.poll(site, poll), k.poll_tally(site, poll), k.poll_voters(site, poll),
            k.poll_ips(site, poll), k.poll_nonces(site, poll)]


def vote(store: Store, b: Ballot) -> VoteReply:
    """Run vote.lua: check and record one ballot in one round trip (its names: the script's
    header)."""
    k = store.keys
    call = Call(
        keys={"poll": k.poll(b.site, b.poll), "tally": k.poll_tally(b.site, b.poll),
              "voters": k.poll_voters(b.site, b.poll), "ips": k.poll_ips(b.site, b.poll),
              "nonces": k.poll_nonces(b.site, b.poll),
              "rate": b.rate.key(store, b.site, b.now_ms),
              # the /48's attempt counter only for an IPv6 client (IPv4: no such key)
              **({"rate48": b.rate.aggregate_key(store, b.site, b.now_ms)}
                 if b.rate.aggregate else {})},
        args={"now": b.now_ms, "nonce": b.nonce, "forget_ms": b.forget_ms, "voter": b.voter,
              "ip": b.ip, "max_per_ip": b.max_per_ip, "network": b.aggregate,
              "max_per_network": b.max_per_aggregate, "rate_allowed": b.rate.allowed,
              "rate_window_ms": b.rate.window_ms, "rate48_allowed": b.rate.aggregate_allowed,
              "options": b.options})
    with store.guard("vote"):
        result = run(store.scripts.vote, call)
    if result[0] == "ratelimited":
        return VoteReply("ratelimited", retry_after_ms=int(result[1]))
    if result[0] != "ok":
        return VoteReply(str(result[0]))
    flat = result[1]
    tally = {str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
    return VoteReply("ok", tally, json.loads(result[2]))


def load(store: Store, site: str, poll: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """(definition, tally) in one round trip."""
    k = store.keys
    with store.guard("poll"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.get(k.poll(site, poll))
        pipe.hgetall(k.poll_tally(site, poll))
        raw, tally = pipe.execute()
    return (json.loads(raw) if raw else None), {str(a): int(b) for a, b in tally.items()}


def exists(store: Store, site: str, poll: str) -> bool:
    """Whether the poll is defined."""
    with store.guard("poll"):
        return bool(store.redis.exists(store.keys.poll(site, poll)))


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


def set_current_if_none(store: Store, site: str, poll: str) -> bool:
    """Point `current` at the poll unless it points somewhere already; True when it did."""
    with store.guard("poll"):
        return bool(store.redis.set(store.keys.current_poll(site), poll, nx=True))


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


def update(store: Store, site: str, poll: str,
           change: Callable[[Any], Any]) -> Any:
    """Change a definition atomically (compare-and-set); the new definition."""
    return update_json(store, store.keys.poll(site, poll), change, "poll")


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
