"""Public reads answered from memory, in front of Flask, while fresh: a site's stats and
hotline box, a group's stats.

These are what every page with the widgets asks, over and over, and their answer changes
at most once a second per process (service.views.reads). A read that
Flask answered with a 200 is kept here as its finished response (status, headers, body) per
id in the path, until its data stops being fresh: one response for every Origin when it does
not vary on Origin (`Access-Control-Allow-Origin: *`), else one per Origin that it grants
(a site's listed origins; no Origin at all counts as one), so that the table stays bounded
by the sites and their origins whatever Origin headers clients invent. Meanwhile the same GET
is answered here, as the view would answer it: the per-address allowance is checked first
(the views' own LocalLimit; an address over it goes on to Flask for its 429), and the
request is counted in the metrics and written in the access line as Flask's hook does. Any
other request goes to Flask, and so do these reads with a query string, a body, a
conditional or range header (the hotline box answers If-None-Match with a 304), or without
a kept answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from service import metrics
from service.views.reads import ABOUT, FRESH_UNTIL, read_cache
from service.visitor import address_key

READ_PATH = re.compile(r"/api/v1/(sites|groups)/([a-z0-9-]{1,64})/(stats|hotlines)")
# (kind, what) in the path -> the route template in metrics and logs
ROUTES = {("sites", "stats"): "/api/v1/sites/<site_id>/stats",
          ("sites", "hotlines"): "/api/v1/sites/<site_id>/hotlines",
          ("groups", "stats"): "/api/v1/groups/<group_id>/stats"}
# request headers that send a read to Flask: conditional and range requests, and a body
# (Flask's read_body check answers a malformed or oversized one)
TO_FLASK = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
            "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE", "HTTP_TRANSFER_ENCODING")
MAX_ORIGIN = 256  # a longer Origin header is answered by Flask, never kept


class FastReads:
    """WSGI middleware: kept answers of public reads, served without entering Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        with app.app_context():
            self.cache = read_cache()
        self.secret = app.config["PW_SETTINGS"].secret_key

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        found = READ_PATH.fullmatch(environ.get("PATH_INFO", ""))
        origin = environ.get("HTTP_ORIGIN", "").lower()
        if (found is None or (found[1], found[3]) not in ROUTES or len(origin) > MAX_ORIGIN
                or environ.get("CONTENT_LENGTH", "0") not in ("", "0")
                or any(name in environ for name in TO_FLASK)):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        kind, name, what = found.groups()
        # (what, id, ...): ReadCache.forget(id) drops it; None: the answer for every Origin
        shared, own = (what, name, kind, None), (what, name, kind, origin)
        kept = self.cache.response(shared) or self.cache.response(own)
        if kept is not None:
            address = address_key(self.secret, environ.get("REMOTE_ADDR") or "")[:16]
            if self.cache.limit.hit(address) is None:
                status, headers, body, _about = kept
                start_response(status, list(headers))
                metrics.observe(ROUTES[kind, what], "GET", 200, time.perf_counter() - started,
                                name if kind == "sites" else None)
                return [body]
            # over the allowance: the view counts it again and answers the 429
        return self._answer_and_keep(shared, own, environ, start_response)

    def _answer_and_keep(self, shared: tuple[Any, ...], own: tuple[Any, ...],
                         environ: dict[str, Any],
                         start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, capture)
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        until = environ.get(FRESH_UNTIL)
        if until is None or not seen or not seen[0].startswith("200 "):
            return [body]
        key = _key_for(seen[1], shared, own)
        if key is not None:
            self.cache.keep_response(key, until, (seen[0], seen[1], body, environ.get(ABOUT)))
        return [body]


def _key_for(headers: list[tuple[str, str]], shared: tuple[Any, ...],
             own: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Where a response may be kept: `shared` when it answers every Origin alike, `own`
    when it varies on Origin and grants this one (or the request named none), else nowhere
    (it sets a cookie, varies on another header, or refuses the Origin)."""
    varies = False
    granted = None
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return None
        if lower == "vary":
            names = {v.strip().lower() for v in value.split(",")} - {""}
            if names - {"origin"}:
                return None
            varies = varies or "origin" in names
        elif lower == "access-control-allow-origin":
            granted = value.lower()
    if not varies:
        return shared
    origin = own[-1]
    return own if origin == "" or granted == origin else None
