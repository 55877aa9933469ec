"""GET stats (a site's, a group's) answered from memory, in front of Flask, while fresh.

The public stats routes are what every page with the counter asks, over and over, and their
answer changes at most once a second per process (service.views.reads). A stats read that
Flask answered with a 200 is kept here as its finished response (status, headers, body) per
id in the path and Origin header, until its data stops being fresh. Meanwhile the same GET
is answered here, as the view would answer it: the per-address allowance is checked first
(the views' own LocalLimit; an address over it goes on to Flask for its 429), and the
request is counted in the metrics and written in the access line as Flask's hook does. Any
other request, and a stats read with a query string or without a kept answer, goes to Flask.
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

STATS_PATH = re.compile(r"/api/v1/(sites|groups)/([a-z0-9-]{1,64})/stats")
# kind in the path -> (the route template in metrics and logs, whether the id is a site's)
ROUTES = {"sites": ("/api/v1/sites/<site_id>/stats", True),
          "groups": ("/api/v1/groups/<group_id>/stats", False)}
MAX_ORIGIN = 256  # a longer Origin header is answered by Flask, never kept


class FastReads:
    """WSGI middleware: kept GET stats answers, served without entering the framework."""

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
        found = STATS_PATH.fullmatch(environ.get("PATH_INFO", ""))
        origin = environ.get("HTTP_ORIGIN", "").lower()
        if found is None or len(origin) > MAX_ORIGIN:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        kind, name = found.groups()
        key = (kind, name, origin)  # (kind, id, ...): ReadCache.forget(id) drops it
        kept = self.cache.response(key)
        if kept is not None:
            address = address_key(self.secret, environ.get("REMOTE_ADDR") or "")[:16]
            if self.cache.limit.hit(address) is None:
                status, headers, body = kept
                start_response(status, headers)
                route, of_site = ROUTES[kind]
                metrics.observe(route, "GET", 200, time.perf_counter() - started,
                                name if of_site else None)
                return [body]
            # over the allowance: the view counts it again and answers the 429
        return self._answer_and_keep(key, environ, start_response)

    def _answer_and_keep(self, key: tuple[str, str, str], environ: dict[str, Any],
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
        if until is not None and seen and seen[0].startswith("200 "):
            self.cache.keep_response(key, until, (seen[0], seen[1], body))
        return [body]
