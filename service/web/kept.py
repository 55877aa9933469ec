"""Kept reads: the finished answers of a few public reads, replayed without entering Flask
while their data is fresh (a site's stats and hotline box, a group's stats).

These are what every page with the widgets asks, over and over, and their answer changes
at most once a second per process (service.web.reads). There is one router, Flask's:

- A view opts in with `@kept` (an endpoint mark). When Flask answers such a view with a
  200 that came from the read cache, the mark records what Flask matched: the route
  template and the site from `request.url_rule` and the view arguments
  (service.runtime.metrics.request_labels), and the site's allowed origins.
- `KeptReads` (WSGI, in front of Flask, after the proxy fix) keeps that answer by its
  exact path, without its CORS headers, until its data stops being fresh. The same GET is
  answered from it by the functions the Flask path runs: the per-address read allowance
  (service.web.reads.allowance; an address over it goes on to Flask for its 429), the CORS
  headers for this request's Origin (service.web.headers.cors) and the metrics and access
  line (service.runtime.metrics.observe).

A path no marked view answered is never kept, so the table is bounded by the sites, groups
and marked routes (and by its byte budget) whatever URLs or Origins clients invent. Any
other request goes to Flask, and so do these reads with a query string, a body, a
conditional or range header (the hotline box answers If-None-Match with a 304), or an
Origin longer than MAX_ORIGIN.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from flask import Flask, g, request

from service import limits as limiter
from service.runtime import metrics
from service.web.headers import CORS_NAMES, cors
from service.web.reads import ABOUT, FRESH_UNTIL, READ_CHECKED, Kept, Mark, allowance, read_cache

# request headers that send a read to Flask: conditional and range requests, and a body
# (Flask's read_body check answers a malformed or oversized one)
TO_FLASK = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
            "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE", "HTTP_TRANSFER_ENCODING")
MAX_ORIGIN = 256  # a request with a longer Origin header is answered by Flask
KEEP = "pw.keep"  # WSGI environ key: the marked view's Mark, set while Flask answers

MARK = "pw_kept"  # the attribute `kept` sets on a view function

P = ParamSpec("P")
R = TypeVar("R")


def kept(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a public GET view whose fresh 200 answers may be replayed by KeptReads."""

    @functools.wraps(view)
    def marked(*args: P.args, **kwargs: P.kwargs) -> R:
        answer = view(*args, **kwargs)
        environ = request.environ
        if FRESH_UNTIL in environ:
            route, site = metrics.request_labels()
            found = g.get("pw_site")
            ids = {str(v) for v in (request.view_args or {}).values()}
            ids.add(str(environ.get(ABOUT)))
            environ[KEEP] = Mark(route, site, frozenset(ids),
                                 tuple(found.origins) if found is not None else ())
        return answer

    setattr(marked, MARK, True)
    return marked


def kept_routes(app: Flask) -> frozenset[str]:
    """The route templates of the marked views, from Flask's URL map."""
    return frozenset(rule.rule for rule in app.url_map.iter_rules()
                     if getattr(app.view_functions.get(rule.endpoint), MARK, False))


class KeptReads:
    """WSGI middleware: kept answers of marked public reads, served without entering Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        self.routes = kept_routes(app)
        with app.app_context():
            self.cache = read_cache()
            self.limits = limiter.limits()

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN", "")
        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING")
                or len(origin) > MAX_ORIGIN
                or environ.get("CONTENT_LENGTH", "0") not in ("", "0")
                or any(name in environ for name in TO_FLASK)):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        found: Kept | None = self.cache.response(path)
        if found is None:
            return self._answer_and_keep(path, environ, start_response)
        wait = allowance(self.limits, environ.get("REMOTE_ADDR") or "")
        if wait is not None:
            # over the allowance: the view answers the 429 (counted once, here)
            environ[READ_CHECKED] = wait
            return self.wsgi_app(environ, start_response)
        mark = found.mark
        start_response(found.status, found.headers + cors(mark.origins, origin.lower()))
        metrics.observe(mark.route, "GET", 200, time.perf_counter() - started, mark.site)
        return [found.body]

    def _answer_and_keep(self, path: str, environ: dict[str, Any],
                         start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, capture)
        mark = environ.get(KEEP)
        until = environ.get(FRESH_UNTIL)
        if mark is None or until is None or mark.route not in self.routes:
            return answer  # not a marked read: streamed as Flask made it
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        if seen and seen[0].startswith("200 "):
            headers = keepable(seen[1])
            if headers is not None:
                self.cache.keep_response(path, until, Kept(seen[0], headers, body, mark))
        return [body]


def keepable(headers: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The headers to keep (those `cors` sets are set again per request), or None when the
    answer may not be kept: it sets a cookie or varies on more than Origin."""
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return None
        if lower == "vary":
            if {v.strip().lower() for v in value.split(",")} - {"", "origin"}:
                return None
        elif lower not in CORS_NAMES:
            out.append((name, value))
    return out
