"""Request helpers shared by the views: JSON bodies, text fields, site lookup, CORS."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, g, request

from service import limits as limiter
from service import sites
from service.allowances import VOTES, Allowance
from service.counting.visits import HitFacts
from service.errors import (
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    Unsupported,
    WriteRefused,
)
from service.polls import votes
from service.runtime import metrics
from service.runtime.config import Settings, bounded_int
from service.sites import Site
from service.store import StorageUnavailable, get_store
from service.text import check_unicode, has_control
from service.web import headers

MAX_BODY = 4096
MAX_PATH = 512
MAX_TITLE = 200
MAX_DEPTH = 8
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def json_body(max_bytes: int = MAX_BODY) -> dict[str, Any]:
    """The request body as a JSON object (application/json or text/plain); {} when empty."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise TooLarge("body too large")
    data = request.get_data(cache=True)
    if len(data) > max_bytes:
        raise TooLarge("body too large")
    if not data.strip():
        return {}
    if request.mimetype not in ("application/json", "text/plain"):
        raise Unsupported("body must be application/json or text/plain")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise Invalid("body is not utf-8") from None
    except (ValueError, RecursionError):
        raise Invalid("malformed json") from None
    if not isinstance(value, dict):
        raise Invalid("body must be a json object")
    if _depth(value) > MAX_DEPTH:
        raise Invalid("json nested too deeply")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion; refuses lone surrogates anywhere.

    JSON text may spell a lone surrogate ("\\ud800"), which no UTF-8 store or page can
    hold: every field of every body is checked here, once, keys included.
    """
    # (item, depth, the top-level field it is in: named in the error)
    deepest, stack = 0, [(value, 1, "body")]
    while stack:
        item, depth, name = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        if isinstance(item, str):
            check_unicode(item, name)
        elif isinstance(item, dict):
            for key, child in item.items():
                check_unicode(key, name)
                field = key if depth == 1 else name
                stack.append((child, depth + 1, field))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, name) for child in item)
    return deepest


def page_path(value: Any) -> str:
    """A page path: query and fragment stripped, at most 512 characters; default `/`."""
    if value is None or value == "":
        return "/"
    if not isinstance(value, str) or len(value) > 4 * MAX_PATH:
        raise Invalid("path must be a string of at most 2048 characters")
    path = value.split("#", 1)[0].split("?", 1)[0]
    if not path.startswith("/"):
        raise Invalid("path must start with /")
    path = "/" + path.lstrip("/")  # `//host/x` would be another site's URL in a link
    if has_control(path):
        raise Invalid("path must not contain control characters")
    check_unicode(path, "path")
    return path[:MAX_PATH]


def browser_token(value: Any) -> str:
    """The embed script's random browser token, or '' when absent."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _TOKEN_RE.match(value):
        raise Invalid("token must be 8-64 characters of letters, digits, - or _")
    return value


def load_site(site_id: str) -> Site:
    """The site of a public request (404 when unknown; an alias acts on its target),
    remembered for CORS."""
    site = sites.resolve_public(get_store(), site_id)
    g.pw_site = site
    return site


def request_origin() -> str | None:
    """The page's origin: Origin (`null` for sandboxed frames and data: pages), or the
    Referer's origin when Origin is absent; None when the request names neither."""
    origin = request.headers.get("Origin")
    if origin:
        return origin.lower()
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}".lower()
        return "null"
    return None


def own_origin() -> str:
    """The service's own origin: PW_PUBLIC_URL's, else the one this request was sent to."""
    base = settings().public_url or request.host_url
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(site: Site, *, own_allowed: bool = False) -> None:
    """Refuse a request from a page outside the site's allowed origins (opaque `null` too).

    A request naming no origin at all cannot come from a browser page of another origin
    (browsers send Origin on cross-origin POSTs), so it is accepted. `own_allowed`: votes
    and ratings may come from the service's own no-JS widget pages too.
    """
    if not site.origins:
        return
    origin = request_origin()
    if origin is None or origin in site.origins:
        return
    if own_allowed and origin == own_origin():
        return
    raise Forbidden("origin not allowed")


def settings() -> Settings:
    """The app's settings."""
    found: Settings = current_app.config["PW_SETTINGS"]
    return found


def hit_facts(body: dict[str, Any], path: str, title: str, referrer: str = "") -> HitFacts:
    """What this request says about a page load, as plain values for the domain."""
    return HitFacts(
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        purpose=request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "",
        token=browser_token(body.get("token")),
        path=path,
        title=title,
        referrer=referrer,
        page_origin=request_origin() or "",
    )


def client_ip() -> str:
    """The client address (ProxyFix has applied PW_TRUSTED_PROXIES)."""
    return request.remote_addr or ""


def _site_for_cors() -> Site | None:
    site: Site | None = g.get("pw_site")
    if site is None and request.method == "OPTIONS":
        # a preflight runs no view: look the site up so it gets the site's own answer
        site_id = (request.view_args or {}).get("site_id")
        if site_id:
            with contextlib.suppress(NotFound, StorageUnavailable):
                site = sites.resolve_public(get_store(), site_id)
    return site


def add_cors(response: Response) -> Response:
    """CORS for public routes (service.web.headers.cors): the site's allowed origin or
    `*`, never credentials; a site with origins answers only an allowed origin (a preflight
    too), never `*`."""
    site = _site_for_cors()
    return headers.add_cors(response, site.origins if site is not None else (),
                            request.headers.get("Origin", "").lower(),
                            preflight=request.method == "OPTIONS")


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within bounds."""
    try:
        return bounded_int(request.args.get(name), name, default, low, high)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def now() -> datetime:
    """The current instant by the app's clock (service.clock; a test sets it)."""
    return limiter.now()


def counted_write(site: Site, allowance: Allowance, counter: Any,
                  write: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Run a vote or rating (`write(ip)`) and count its outcome in `counter` (by site and
    result). Attempts are limited per address inside the write's script (the one check of a
    write that reaches it); one refused before its script ran (malformed, bad ticket) is
    counted in process memory, and past the allowance answered with a 429 instead."""
    ip = client_ip()
    try:
        result = write(ip)
    except WriteRefused as refused:
        limited = None if refused.checked else limiter.spend_refused(allowance, ip)
        if limited is not None:
            counter.labels(site=site.id, result="limited").inc()
            raise type(refused)("limited", limited) from None
        counter.labels(site=site.id, result=refused.result).inc()
        raise
    counter.labels(site=site.id, result="accepted").inc()
    return result


def cast_vote(site: Site, poll_id: str, *, options: Any, ticket: Any,
              token: str) -> dict[str, Any]:
    """Vote from this request, counted in pw_votes_total; VoteRefused when not."""
    config = settings()
    return counted_write(site, VOTES, metrics.VOTES, lambda ip: votes.vote(
        get_store(), site, poll_id, options=options, ticket=ticket, token=token, ip=ip,
        secret=config.secret_key, max_per_ip=config.poll_max_votes_per_ip, now=now()))
