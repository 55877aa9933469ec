"""The admin guard: a Bearer token, scoped to sites."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from service import tokens
from service.errors import Forbidden, Unauthorized
from service.store import get_store

F = TypeVar("F", bound=Callable[..., Any])
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="portal-widgets"'}


def current_token() -> tokens.Token:
    """The authenticated token of this request, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("missing bearer token", CHALLENGE)
    token = tokens.authenticate(get_store(), secret.strip())
    if token is None:
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
