"""Public reads (stats, page views, top pages): a per-process cache of at most a second
per site and question, and a per-address allowance checked in process memory first."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app, request

from service.errors import TooMany
from service.limiter import READS_LIMIT, READS_PER_MINUTE, LocalLimit, limiter
from service.views import common
from service.visitor import address_key

CACHE_SECONDS = 1.0
MAX_ENTRIES = 10_000
FRESH_UNTIL = "pw.fresh_until"  # WSGI environ key: when the answer's data stops being fresh


class ReadCache:
    """Answers by key for CACHE_SECONDS; Redis is asked at most once a second per key."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self.limit = LocalLimit(READS_PER_MINUTE)
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        # finished responses of GET stats (service.views.fast_reads), same lifetime
        self.responses: dict[Hashable, tuple[float, Any]] = {}

    def forget(self, site_id: str) -> None:
        """Drop the answers about one site (keys are (kind, site id, ...))."""
        def other(key: Hashable) -> bool:
            return not (isinstance(key, tuple) and len(key) > 1 and key[1] == site_id)

        self._entries = {k: v for k, v in self._entries.items() if other(k)}
        self.responses = {k: v for k, v in self.responses.items() if other(k)}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> tuple[float, Any]:
        """(until, answer): the cached answer, or `compute()` (rate limited by
        flask-limiter) stored anew, and the monotonic time it stops being fresh."""
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found
        with limiter.limit(READS_LIMIT):
            value = compute()
        entry = (now + self.seconds, value)
        self._entries = _store(self._entries, key, entry, now)
        return entry

    def keep_response(self, key: Hashable, until: float, response: Any) -> None:
        """Keep a finished response until its data stops being fresh."""
        self.responses = _store(self.responses, key, (until, response), time.monotonic())

    def response(self, key: Hashable) -> Any:
        """A kept response while its data is fresh, else None."""
        found = self.responses.get(key)
        if found is not None and found[0] > time.monotonic():
            return found[1]
        return None


def _store(entries: dict[Hashable, tuple[float, Any]], key: Hashable,
           entry: tuple[float, Any], now: float) -> dict[Hashable, tuple[float, Any]]:
    """`entries` with `entry` at `key`, stale entries dropped once the table is full."""
    if len(entries) >= MAX_ENTRIES:
        entries = {k: v for k, v in entries.items() if v[0] > now}
        if len(entries) >= MAX_ENTRIES:
            entries = {}
    entries[key] = entry
    return entries


def read_cache() -> ReadCache:
    """This app's read cache (one per process)."""
    cache: ReadCache = current_app.extensions.setdefault("pw_reads", ReadCache())
    return cache


def forget(site_id: str) -> None:
    """Drop this process's cached answers about a site (after an admin changed it)."""
    read_cache().forget(site_id)


def cached(key: Hashable, compute: Callable[[], Any]) -> Any:
    """A public read: refused past the address's allowance, else cached or computed."""
    cache = read_cache()
    secret = common.settings().secret_key
    wait = cache.limit.hit(address_key(secret, common.client_ip())[:16])
    if wait is not None:
        raise TooMany("rate limited", {"Retry-After": str(max(1, math.ceil(wait)))})
    until, value = cache.get(key, compute)
    request.environ[FRESH_UNTIL] = until  # service.views.fast_reads keeps the response
    return value
