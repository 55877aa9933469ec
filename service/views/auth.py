"""The admin guard: a Bearer token, scoped to sites; failed attempts limited per address.

The token is checked first and only failures are counted, so failures from an address
(an attacker behind the same NAT, a script with an old token) never lock out a valid token
from it: a request with a valid token skips the rate limits, and an invalid token is counted
in one allowance per client address shared by every admin route (429 beyond it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from limits import parse
from limits.errors import StorageError

from service import tokens
from service.errors import Forbidden, TooMany, Unauthorized
from service.limiter import ADMIN_FAILURES_LIMIT, client_key, limiter
from service.store import StorageUnavailable, get_store

F = TypeVar("F", bound=Callable[..., Any])
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="portal-widgets"'}
FAILURES = parse(ADMIN_FAILURES_LIMIT)
ADMIN_PREFIX = "/api/v1/admin/"  # the admin prefix (OpenAPI)
log = logging.getLogger("service")


def _secret() -> str | None:
    """The bearer secret of this request, or None without one."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def _lookup(secret: str) -> tokens.Token | None:
    """The token for this secret, looked up once per request (kept in the WSGI environ,
    which, unlike `g`, never outlives the request)."""
    cached: tuple[str, tokens.Token | None] | None = request.environ.get("pw.auth")
    if cached is None or cached[0] != secret:
        cached = (secret, tokens.authenticate(get_store(), secret))
        request.environ["pw.auth"] = cached
    return cached[1]


@limiter.request_filter
def _only_guesses_are_rate_limited() -> bool:
    """An admin request is exempt from the rate limits unless it presents an invalid token.

    flask-limiter checks its limits before the view, so a per-route limit on the admin
    blueprint would refuse a valid token once failures filled it; the failures' own
    allowance is counted below, after the token check. A request without a token costs
    no lookup and guesses nothing.
    """
    if not request.path.startswith(ADMIN_PREFIX):
        return False
    secret = _secret()
    if secret is None:
        return True
    try:
        return _lookup(secret) is not None
    except StorageUnavailable:
        return False  # the view answers 503 itself


def _count_failure() -> None:
    """Count one failed attempt from this address; 429 past the allowance."""
    if not limiter.enabled:  # RATELIMIT_ENABLED=False
        return
    strategy = limiter.limiter  # Redis, or per-process memory while Redis is down
    key = ("admin-failures", client_key())
    try:
        if strategy.hit(FAILURES, *key):
            return
        reset = strategy.get_window_stats(FAILURES, *key).reset_time
    except StorageError:
        log.warning("rate limiter storage unavailable while counting an admin failure")
        return
    retry_after = max(1, int(reset - time.time()) + 1)
    raise TooMany("rate limited", {"Retry-After": str(retry_after)})


def current_token() -> tokens.Token:
    """The authenticated token of this request: 401 without one, 429 after many failures."""
    secret = _secret()
    if secret is None:
        raise Unauthorized("missing bearer token", CHALLENGE)
    token = _lookup(secret)
    if token is None:
        _count_failure()
        raise Unauthorized("invalid token", CHALLENGE)
    return token


def admin_required(view: F) -> F:
    """Require a valid token; when the route names a site, a token allowed for it (403)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        token = current_token()
        site_id = kwargs.get("site_id")
        if site_id is not None and not token.allows(site_id):
            raise Forbidden("token not allowed for this site")
        g.pw_token = token
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
