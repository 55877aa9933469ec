"""The one limiter API: every allowance (service.allowances) is checked here or, for the
writes whose scripts limit themselves, inside their script; windows follow the app's clock.

- `spend(allowance)`: count this request in its client's allowance; TooMany (429 with
  Retry-After until the window ends) beyond it. `process` allowances count in this
  process's memory; `shared` ones through flask-limiter (one `Limiter` per app): its
  fixed-window strategy on the limits Redis storage, keys
  `<prefix>:LIMITER/<client>/<allowance>/<window>/<count>/<window_s>/second`, so a Redis ACL
  user limited to `~<prefix>:*` runs it. While Redis is down flask-limiter counts in process
  memory (its in-memory fallback; it tries Redis again after 1, 2, 4 ... 32 s) and the
  routes answer 503 themselves.
- `spend_refused(allowance)`: a vote or rating refused before its script ran (malformed,
  bad ticket) is counted in process memory, so junk is limited without a round trip;
  `refusals_of(allowance)` does the same for a write's checks before its script (unknown
  site, refused origin, malformed body) in hits, heartbeats, votes and ratings.
- `now()` / `clock()`: the app's clock (service.clock), which views read too.

flask-limiter's fixed window starts at a counter's first hit and ends with its TTL, so no
test could move it: here the window's index by the app's clock (`clock // window_s`) is
part of the limit's scope, and a new window is a new counter. Only the two views that spend
a shared allowance pay for flask-limiter: its app-wide hooks (default and application
limits, X-RateLimit headers) are not registered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded

from service.allowances import ALL, Allowance
from service.clock import Clock
from service.counting.visitor import address_key
from service.errors import DomainError, TooMany
from service.runtime.config import Settings
from service.store.client import limiter_storage_options, limiter_storage_uri


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
    """One app's limiter: its clock, its process counters and its flask-limiter."""

    def __init__(self, app: Flask, settings: Settings, clock: Clock) -> None:
        self.clock = clock
        self.enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
        self.secret = settings.secret_key
        self._local: dict[str, LocalLimit] = {}
        self._lock = threading.Lock()
        self.flask = Limiter(
            lambda: self.client(request.remote_addr or ""),
            storage_uri=limiter_storage_uri(settings.redis_url),
            storage_options=limiter_storage_options(settings.key_prefix),
            strategy="fixed-window",
            # A Redis outage must not turn a request into a 500: counted in process memory
            # (the routes answer 503 themselves), any other limiter error is logged
            in_memory_fallback_enabled=True,
            swallow_errors=True,
            # X-RateLimit-* headers would cost a second round trip; a 429 has Retry-After
            headers_enabled=False,
            enabled=self.enabled,
        )
        # init_app registers its before/after/teardown hooks only for an app that does not
        # list this limiter yet: none of them serve this service (no default, application
        # or conditional limits, no headers; its per-request state goes with the request),
        # and each would cost every request.
        app.extensions.setdefault("limiter", set()).add(self.flask)
        self.flask.init_app(app)
        self._shared = {a.name: self._shared_check(a) for a in ALL if a.where == "shared"}

    def _shared_check(self, allowance: Allowance) -> Callable[[], None]:
        """A call that counts this request in a shared allowance (flask-limiter's decorator
        on a function named after it); RateLimitExceeded beyond it."""

        def check() -> None:
            """Nothing: the decorator counts before it calls this."""

        check.__name__ = check.__qualname__ = f"spend_{allowance.name}"  # its limit's name
        limit = self.flask.shared_limit(
            f"{allowance.count} per {allowance.window_s} second",
            scope=lambda _endpoint: f"{allowance.name}/{allowance.window(self.clock.time())}")
        return limit(check)

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
        """Count one request of this client (`ip`) in a `process` allowance; None within it,
        else Retry-After. Needs no request (the kept reads count here)."""
        if not self.enabled:
            return None
        return self.local(allowance).hit(self.client(ip))

    def spend_shared(self, allowance: Allowance) -> int | None:
        """Count this request in a `shared` allowance; None within it, else Retry-After."""
        if not self.enabled:
            return None
        try:
            self._shared[allowance.name]()
        except RateLimitExceeded:
            return allowance.retry_after(self.clock.time())
        return None


def init_app(app: Flask, settings: Settings) -> None:
    """Bind the limiter and the clock to the app (`RATELIMIT_ENABLED=False` turns the
    limits off, e.g. for a property-based test)."""
    clock: Clock = app.extensions.setdefault("pw_clock", Clock())
    app.extensions["pw_limits"] = Limits(app, settings, clock)


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


def refusal(wait: int) -> TooMany:
    """The 429 of a request over its allowance: Retry-After, the rest of the window."""
    return TooMany.rate_limited(wait * 1000)


def spend(allowance: Allowance) -> None:
    """Count this request (its client: the request's address) in a `process` or `shared`
    allowance; TooMany beyond it."""
    found = limits()
    if allowance.where == "shared":
        wait = found.spend_shared(allowance)
    else:
        wait = found.wait(allowance, request.remote_addr or "")
    if wait is not None:
        raise refusal(wait)


def spend_refused(allowance: Allowance, ip: str) -> TooMany | None:
    """Count a write that was refused before its script (which limits the rest) ran, in
    process memory; the TooMany to answer instead when the client is past its allowance."""
    wait = limits().wait(allowance, ip)
    return None if wait is None else refusal(wait)


@contextmanager
def refusals_of(allowance: Allowance) -> Iterator[None]:
    """A write's checks before its script (which limits the rest): a refusal (unknown site,
    refused origin, malformed body) is counted in the write's allowance in process memory,
    and past the allowance answered with a 429 instead."""
    try:
        yield
    except DomainError:
        limited = spend_refused(allowance, request.remote_addr or "")
        if limited is not None:
            raise limited from None
        raise
