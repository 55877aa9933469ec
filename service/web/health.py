"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service.store import StorageUnavailable, get_store
from service.web.errors import error_response

bp = Blueprint("health", __name__)
EVICTING = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
            "volatile-random", "volatile-ttl")


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the process runs."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """200 when Redis answers; a warning when it refuses writes (reads go on: the service
    stays in rotation) or when its eviction policy can delete counters."""
    store = get_store()
    try:
        seconds = store.ping()
        policy = store.eviction_policy()
        refusal = store.write_refusal()
    except StorageUnavailable:
        response = error_response(503, "storage unavailable", {"Retry-After": "5"})
        response.headers["Cache-Control"] = "no-store"
        return response
    body: dict[str, object] = {"status": "ok", "redis_ms": round(seconds * 1000, 2)}
    warnings = []
    if refusal is not None:
        warnings.append(f"redis refuses writes: {refusal}; reads go on")
    if policy in EVICTING:
        warnings.append(
            f"redis maxmemory-policy is {policy}: counters may be evicted; use noeviction")
    if warnings:
        body["warning"] = "; ".join(warnings)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
