"""Public reads answered from memory, in front of Flask, while fresh: a site's stats and
hotline box, a group's stats.

These are what every page with the widgets asks, over and over, and their answer changes
at most once a second per process (service.views.reads). A stats read that
Flask answered with a 200 is kept here as its finished response (status, headers, body) per
id in the path and Origin header, until its data stops being fresh. Meanwhile the same GET
is answered here, as the view would answer it: the per-address allowance is checked first
(the views' own LocalLimit; an address over it goes on to Flask for its 429), and the
request is counted in the metrics and written in the access line as Flask's hook does. Any
other request goes to Flask, and so do these reads with a query string, with a conditional
or range header (the hotline box answers If-None-Match with a 304), or without a kept answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from service import metrics
from service.views.reads import FRESH_UNTIL, read_cache
from service.visitor import address_key

READ_PATH = re.compile(r"/api/v1/(sites|groups)/([a-z0-9-]{1,64})/(stats|hotlines)")
# (kind, what) in the path -> the route template in metrics and logs
ROUTES = {("sites", "stats"): "/api/v1/sites/<site_id>/stats",
          ("sites", "hotlines"): "/api/v1/sites/<site_id>/hotlines",
          ("groups", "stats"): "/api/v1/groups/<group_id>/stats"}
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
               "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE")
MAX_ORIGIN = 256  # a longer Origin header is answered by Flask, never kept


class FastReads:
    """WSGI middleware: kept answers of public reads, served without entering Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
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
                or any(name in environ for name in CONDITIONAL)):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        kind, name, what = found.groups()
        key = (what, name, kind, origin)  # (what, id, ...): ReadCache.forget(id) drops it
        kept = self.cache.response(key)
        if kept is not None:
            address = address_key(self.secret, environ.get("REMOTE_ADDR") or "")[:16]
            if self.cache.limit.hit(address) is None:
                status, headers, body = kept
                start_response(status, headers)
                metrics.observe(ROUTES[kind, what], "GET", 200, time.perf_counter() - started,
                                name if kind == "sites" else None)
                return [body]
            # over the allowance: the view counts it again and answers the 429
        return self._answer_and_keep(key, environ, start_response)

    def _answer_and_keep(self, key: tuple[str, ...], environ: dict[str, Any],
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
        if until is not None and seen and seen[0].startswith("200 ") and _same_for_all(seen[1]):
            self.cache.keep_response(key, until, (seen[0], seen[1], body))
        return [body]


def _same_for_all(headers: list[tuple[str, str]]) -> bool:
    """Whether a response may answer every request of its key (path and Origin): it varies
    on nothing else and sets no cookie."""
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return False
        if lower == "vary" and any(v.strip().lower() not in ("origin", "")
                                   for v in value.split(",")):
            return False
    return True
