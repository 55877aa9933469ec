"""The one JSON error handler for every failure: no HTML error pages, no stack traces."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from service.errors import DomainError
from service.store import StorageRefused, StorageUnavailable, VersionConflict, refusal_reason

log = logging.getLogger("service")


REFUSED_RETRY_SECONDS = 30  # an operator frees the disk or raises the budget: not instant

_SHORT = {
    404: "not found",
    405: "method not allowed",
    413: "body too large",
    414: "uri too long",
    415: "unsupported content type",
    431: "request headers too large",
}


def error_response(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    """`{"error": reason}` with the status."""
    response = jsonify(error=reason)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def refused_response(reason: str) -> Response:
    """503 for a write Redis refuses: a full disk or memory budget heals by itself."""
    return error_response(503, f"storage refuses writes: {reason}",
                          {"Retry-After": str(REFUSED_RETRY_SECONDS)})


def _retry_after(exc: HTTPException) -> int:
    """Seconds until the breached rate-limit window ends (its length: an upper bound)."""
    limit = getattr(exc, "limit", None)
    item = getattr(limit, "limit", None)
    try:
        return max(1, int(item.get_expiry())) if item is not None else 60
    except (AttributeError, TypeError, ValueError):
        return 60


def init_app(app: Flask) -> None:
    """Register the JSON handlers: no HTML error pages, no stack traces to clients."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return error_response(exc.status, exc.reason, exc.headers)

    @app.errorhandler(StorageRefused)
    def _refused(exc: StorageRefused) -> Response:
        log.warning("redis refuses writes (%s) during %s", exc.reason, exc.operation)
        return refused_response(exc.reason)

    @app.errorhandler(StorageUnavailable)
    def _storage(exc: StorageUnavailable) -> Response:
        log.warning("storage unavailable during %s", exc.operation)
        return error_response(503, "storage unavailable", {"Retry-After": "5"})

    @app.errorhandler(VersionConflict)
    def _conflict(exc: VersionConflict) -> Response:
        return error_response(409, "changed by someone else; try again")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 429:
            reason = "rate limited"
        else:
            reason = _SHORT.get(status) or (exc.name or "error").lower()
        response = error_response(status, reason)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        if status == 429:
            response.headers["Retry-After"] = str(_retry_after(exc))
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        reason = refusal_reason(exc)  # a write outside the store's guard
        if reason is not None:
            log.warning("redis refuses writes (%s)", reason)
            return refused_response(reason)
        log.exception("unexpected error")
        return error_response(500, "internal error")
