"""Public reads (stats, page views, top pages): a per-process cache of at most a second
per site and question, and a per-address allowance checked in process memory first."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app

from service.errors import TooMany
from service.limiter import READS_LIMIT, READS_PER_MINUTE, LocalLimit, limiter
from service.views import common
from service.visitor import address_key

CACHE_SECONDS = 1.0
MAX_ENTRIES = 10_000


class ReadCache:
    """Answers by key for CACHE_SECONDS; Redis is asked at most once a second per key."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self.limit = LocalLimit(READS_PER_MINUTE)
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def forget(self, site_id: str) -> None:
        """Drop the answers about one site (keys are (kind, site id, ...))."""
        self._entries = {k: v for k, v in self._entries.items()
                         if not (isinstance(k, tuple) and len(k) > 1 and k[1] == site_id)}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached answer, or `compute()` (rate limited by flask-limiter) stored anew."""
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        with limiter.limit(READS_LIMIT):
            value = compute()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = (now + self.seconds, value)
        return value


def forget(site_id: str) -> None:
    """Drop this process's cached answers about a site (after an admin changed it)."""
    cache: ReadCache | None = current_app.extensions.get("pw_reads")
    if cache is not None:
        cache.forget(site_id)


def cached(key: Hashable, compute: Callable[[], Any]) -> Any:
    """A public read: refused past the address's allowance, else cached or computed."""
    cache: ReadCache = current_app.extensions.setdefault("pw_reads", ReadCache())
    secret = common.settings().secret_key
    wait = cache.limit.hit(address_key(secret, common.client_ip())[:16])
    if wait is not None:
        raise TooMany("rate limited", {"Retry-After": str(max(1, math.ceil(wait)))})
    return cache.get(key, compute)
