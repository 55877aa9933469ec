"""The admin guard: a Bearer token, scoped to sites; failed attempts limited per address.

The token is checked first and only failures are counted, so failures from an address
(an attacker behind the same NAT, a script with an old token) never lock out a valid token
from it: a request with a valid token is never limited, and an invalid token is counted in
one allowance per client address shared by every admin route (service.allowances
ADMIN_FAILURES; 429 beyond it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from service import limits as limiter
from service import tokens
from service.allowances import ADMIN_FAILURES
from service.errors import Forbidden, Unauthorized
from service.store import get_store

F = TypeVar("F", bound=Callable[..., Any])
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="portal-widgets"'}
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


def _count_failure() -> None:
    """Count one failed attempt from this address; 429 past the allowance (in Redis, in
    process memory while Redis is down)."""
    limiter.spend(ADMIN_FAILURES)


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
