"""The one limiter API: every allowance (service.allowances) is checked here or, for the
writes whose scripts limit themselves, inside their script; windows follow the app's clock.

- `spend(allowance)`: count this request in its client's allowance; TooMany (429 with
  Retry-After) beyond it. `process` allowances count in this process's memory, `shared`
  ones in Redis through the `limits` storage (flask-limiter's storage library: keys
  `<prefix>:LIMITER/<name>/<client>/<window>`, so a Redis ACL user limited to `~<prefix>:*`
  runs it), in process memory while Redis is down (the routes then answer 503 themselves).
- `spend_refused(allowance)`: a vote or rating refused before its script ran (malformed,
  bad ticket) is counted in process memory, so junk is limited without a round trip.
- `now()` / `clock()`: the app's clock (service.clock), which views read too.

flask-limiter's own decorators are not used: its fixed windows start at a counter's first
hit and end with the key's Redis TTL, so no test could move them; here a window is
`clock // window_s` and its index is part of the key.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import cast

from flask import Flask, current_app, request
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string

from service.allowances import Allowance
from service.clock import Clock
from service.config import Settings
from service.errors import TooMany
from service.store.client import limiter_storage_options, limiter_storage_uri
from service.visitor import address_key

log = logging.getLogger("service")
RECHECK_SECONDS = 1.0  # while Redis is down, how often the shared storage is tried again


class LocalLimit:
    """A fixed-window allowance per address key, in this process's memory (cheap reads).

    Memory stays bounded: the table is dropped when its window ends or when it holds too
    many keys. Thread-safe enough for counting: a race can only let a request or two past.
    """

    def __init__(self, allowance: Allowance, clock: Clock, max_keys: int = 100_000) -> None:
        self.allowance = allowance
        self.clock = clock
        self.max_keys = max_keys
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> int | None:
        """Count one request; None when allowed, else whole seconds until the window ends."""
        now = self.clock.time()
        window = self.allowance.window(now)
        if window != self._window or len(self._counts) >= self.max_keys:
            self._window, self._counts = window, {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > self.allowance.count:
            return self.allowance.retry_after(now)
        return None


class Limits:
    """One app's limiter: its clock, its process counters and its shared storage."""

    def __init__(self, settings: Settings, clock: Clock, *, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self.secret = settings.secret_key
        storage = storage_from_string(limiter_storage_uri(settings.redis_url),
                                      **limiter_storage_options(settings.key_prefix))
        # redis://, unix, sentinel or cluster: a synchronous storage (never limits.aio's)
        self.storage = cast(Storage, storage)
        self.fallback = MemoryStorage()
        self._dead_until = 0.0
        self._local: dict[str, LocalLimit] = {}
        self._lock = threading.Lock()

    def local(self, allowance: Allowance) -> LocalLimit:
        """This process's counter of an allowance (one per app and allowance)."""
        found = self._local.get(allowance.name)
        if found is None:
            with self._lock:
                found = self._local.setdefault(allowance.name, LocalLimit(allowance, self.clock))
        return found

    def client(self, ip: str) -> str:
        """A keyed hash of the client's address unit (IPv6: its /64), never the address."""
        return address_key(self.secret, ip)[:16]

    def wait(self, allowance: Allowance, ip: str) -> int | None:
        """Count one request of this client; None within the allowance, else Retry-After."""
        if not self.enabled:
            return None
        client = self.client(ip)
        if allowance.where == "process":
            return self.local(allowance).hit(client)
        now = self.clock.time()
        window = allowance.window(now)
        key = f"LIMITER/{allowance.name}/{client}/{window}"
        if self._count(key, allowance.window_s) > allowance.count:
            return allowance.retry_after(now)
        return None

    def _count(self, key: str, expiry: int) -> int:
        if time.monotonic() >= self._dead_until:
            try:
                return int(self.storage.incr(key, expiry))
            except StorageError:
                log.warning("rate limiter storage unavailable: counting in process memory")
                self._dead_until = time.monotonic() + RECHECK_SECONDS
        return int(self.fallback.incr(key, expiry))


def init_app(app: Flask, settings: Settings) -> None:
    """Bind the limiter and the clock to the app (`RATELIMIT_ENABLED=False` turns the
    limits off, e.g. for a property-based test)."""
    clock: Clock = app.extensions.setdefault("pw_clock", Clock())
    app.extensions["pw_limits"] = Limits(
        settings, clock, enabled=bool(app.config.get("RATELIMIT_ENABLED", True)))


def limits() -> Limits:
    """The current app's limiter."""
    found: Limits = current_app.extensions["pw_limits"]
    return found


def clock() -> Clock:
    """The current app's clock."""
    found: Clock = current_app.extensions["pw_clock"]
    return found


def now() -> datetime:
    """The current instant by the app's clock."""
    return clock().now()


def _refuse(wait: int) -> TooMany:
    return TooMany("rate limited", {"Retry-After": str(wait)})


def spend(allowance: Allowance, ip: str | None = None) -> None:
    """Count this request (its client: `ip`, default the request's address) in a `process`
    or `shared` allowance; TooMany beyond it."""
    wait = limits().wait(allowance, (request.remote_addr or "") if ip is None else ip)
    if wait is not None:
        raise _refuse(wait)


def spend_refused(allowance: Allowance, ip: str) -> TooMany | None:
    """Count a write that was refused before its script (which limits the rest) ran, in
    process memory; the TooMany to answer instead when the client is past its allowance."""
    found = limits()
    if not found.enabled:
        return None
    wait = found.local(allowance).hit(found.client(ip))
    return None if wait is None else _refuse(wait)
