"""The rate limiter (flask-limiter on the same Redis)."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.config import Settings
from service.store.client import limiter_storage_options, limiter_storage_uri
from service.visitor import address_key

# Thousands of people can share one carrier-grade NAT address in Vietnam's mobile networks,
# so the per-IP budget for page loads is generous; it only stops a single client hammering.
# Hits, heartbeats and JSON votes are limited inside their own Redis scripts (service.visits,
# service.votes); reads of stats and pages in process memory first (LocalLimit), then here
# when they miss the per-process cache.
READS_PER_MINUTE = 1200
READS_LIMIT = f"{READS_PER_MINUTE}/minute"
VOTES_LIMIT = "10/minute"
CLICKS_LIMIT = "120/minute"
ADMIN_FAILURES_LIMIT = "20/minute"


def client_key() -> str:
    """The limiter's key: a keyed hash of the client's address (IPv6: its /64), never raw."""
    secret: str = current_app.config["PW_SETTINGS"].secret_key
    return address_key(secret, get_remote_address() or "")[:24]


limiter = Limiter(key_func=client_key, default_limits=[])


def init_app(app: Flask, settings: Settings) -> None:
    """Bind the limiter: Redis storage, in-memory fallback while Redis is down."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(settings.redis_url))
    # `<prefix>:LIMITER/...`, so a Redis ACL user limited to `~<prefix>:*` runs the limiter
    # too (the default `LIMITS:` prefix would be refused, and silently so, since errors fall
    # back to memory). One key per limit and client: no hash tag is needed in a cluster.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          limiter_storage_options(settings.key_prefix))
    app.config.setdefault("RATELIMIT_STRATEGY", "fixed-window")
    # flask-limiter defaults this to the module-wide object's last value: one app that turned
    # the limiter off (a test) would turn it off for every later app.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    # A Redis outage must not turn every request into a 500: the limiter falls back to
    # per-process memory and the routes themselves answer 503.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # X-RateLimit-* headers would cost a second limiter round trip on every request (and
    # flask-limiter would put a Retry-After on every 200); a 429 still carries Retry-After.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    # The limiter object is module-wide (the views' decorators name it): a new app's new
    # storage starts alive, whatever an earlier app's storage went through (several apps in
    # one test process). flask-limiter sets it only in its constructor, not in init_app.
    limiter._storage_dead = False
    # Only the routes that name a limit pay for flask-limiter: its app-wide before_request
    # check serves default and blueprint-wide limits, which this service does not use (hits,
    # heartbeats and votes are limited inside their scripts, reads in process memory first).
    # Its after_request (deductions for `deduct_when` limits and rate-limit headers: none
    # here) and teardown (its per-request state lives on the request context, which goes
    # anyway) would cost every request too.
    app.before_request_funcs[None] = [f for f in app.before_request_funcs.get(None, [])
                                      if not _is_limiters(f)]
    app.after_request_funcs[None] = [f for f in app.after_request_funcs.get(None, [])
                                     if not _is_limiters(f)]
    app.teardown_request_funcs[None] = [f for f in app.teardown_request_funcs.get(None, [])
                                        if not _is_limiters(f)]


def _is_limiters(hook: Any) -> bool:
    """Whether a hook is one flask-limiter registered (a bound method or a partial of it)."""
    owner = getattr(hook, "__self__", None)
    if owner is None and isinstance(hook, partial):
        owner = hook.args[0] if hook.args else None
    return owner is limiter


class LocalLimit:
    """A fixed-window allowance per address key, in this process's memory (cheap reads).

    Memory stays bounded: the table is dropped when its window ends or when it holds too
    many keys. Thread-safe enough for counting: a race can only let a request or two past.
    """

    def __init__(self, allowed: int, window_s: float = 60.0, max_keys: int = 100_000) -> None:
        self.allowed = allowed
        self.window_s = window_s
        self.max_keys = max_keys
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count one request; None when allowed, else seconds until the window ends."""
        # Wall-clock windows, like the Redis allowances: a window is a calendar minute.
        now = time.time() if now is None else now
        window = int(now // self.window_s)
        if window != self._window or len(self._counts) >= self.max_keys:
            self._window, self._counts = window, {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > self.allowed:
            return (window + 1) * self.window_s - now
        return None
