"""The rate limiter (flask-limiter on the same Redis)."""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.config import Settings
from service.store.client import LIMITER_TIMEOUT, limiter_storage_uri

# Thousands of people can share one carrier-grade NAT address in Vietnam's mobile networks,
# so the per-IP budget for page loads is generous; it only stops a single client hammering.
HITS_LIMIT = "600/minute"
READS_LIMIT = "1200/minute"
VOTES_LIMIT = "10/minute"
CLICKS_LIMIT = "120/minute"
ADMIN_FAILURES_LIMIT = "20/minute"


def client_key() -> str:
    """The limiter's key: a keyed hash of the client IP, so no raw IP is ever stored."""
    secret = current_app.config["PW_SETTINGS"].secret_key.encode()
    address = (get_remote_address() or "").encode()
    return hmac.new(secret, address, hashlib.sha256).hexdigest()[:24]


limiter = Limiter(key_func=client_key, default_limits=[])


def init_app(app: Flask, settings: Settings) -> None:
    """Bind the limiter: Redis storage, in-memory fallback while Redis is down."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(settings.redis_url))
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS",
        {"socket_timeout": LIMITER_TIMEOUT, "socket_connect_timeout": LIMITER_TIMEOUT,
         "retry": Retry(NoBackoff(), 0),
         # `<prefix>:LIMITER/...`, so a Redis ACL user limited to `~<prefix>:*` runs the
         # limiter too (the default `LIMITS:` prefix would be refused, and silently so,
         # since errors fall back to memory). One key per limit and client: no hash tag
         # is needed in a cluster.
         "key_prefix": settings.key_prefix,
         # Driver errors arrive as limits.errors.StorageError (service.views.auth).
         "wrap_exceptions": True},
    )
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
    # The limiter object is module-wide (the views' decorators name it), and init_app does
    # not clear its fallback state: a new app's new storage starts alive, whatever an
    # earlier app's storage went through (several apps in one test process).
    limiter._storage_dead = False
