"""The framework's own ceiling: one trivial Flask route under the same gunicorn config, and
beside it the ceiling of any route that asks Redis once: the same route plus one PING
through the project's own Redis client (timeouts, retry, hiredis as the service has them)."""

from __future__ import annotations

import os

from flask import Flask

from service.store import Store

app = Flask(__name__)
_store = Store.from_url(os.environ.get("PW_REDIS_URL", "redis://127.0.0.1:6379/0"))


@app.get("/")
def index() -> str:
    """The cheapest possible answer."""
    return "ok"


@app.get("/redis")
def one_round_trip() -> str:
    """The cheapest answer that waits for Redis once."""
    _store.redis.ping()
    return "ok"
