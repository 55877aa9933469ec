"""The rate limiter (flask-limiter on the same Redis)."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.config import Settings
from service.store.client import limiter_storage_options, limiter_storage_uri
from service.visitor import address_key

# Thousands of people can share one carrier-grade NAT address in Vietnam's mobile networks,
# so the per-IP budget for page loads is generous; it only stops a single client hammering.
HITS_LIMIT = "600/minute"
READS_LIMIT = "1200/minute"
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
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", limiter_storage_options())
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{settings.key_prefix}-limiter")
    app.config.setdefault("RATELIMIT_STRATEGY", "fixed-window")
    # A Redis outage must not turn every request into a 500: the limiter falls back to
    # per-process memory and the routes themselves answer 503.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # X-RateLimit-* headers would cost a second limiter round trip on every request (and
    # flask-limiter would put a Retry-After on every 200); a 429 still carries Retry-After.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
