"""One JSON line per request on stdout: route, status, duration, site; nothing personal."""

from __future__ import annotations

import json
import sys
from functools import lru_cache

from service.sites import SITE_ID_RE

_METHODS = {m: json.dumps(m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                                       "HEAD")}


@lru_cache(maxsize=512)
def _encoded(value: str) -> str:
    """A JSON string of a route template (a bounded set), encoded once."""
    return json.dumps(value)


def access_line(method: str, route: str, status: int, seconds: float,
                site: object) -> None:
    """Write the request's line, without IP, User-Agent, token or Authorization.

    Called by service.runtime.metrics's one after_request hook, which has the route and duration at
    hand. A plain write of one whole line: the logging module cost more than the rest of a
    /healthz request (see docs/benchmarks.md); sys.stdout is looked up per call.
    """
    site_json = json.dumps(site) if isinstance(site, str) and SITE_ID_RE.match(site) else "null"
    sys.stdout.write(
        f'{{"event": "request", "method": {_METHODS.get(method) or json.dumps(method)}, '
        f'"route": {_encoded(route)}, "status": {status}, '
        f'"duration_ms": {round(seconds * 1000, 2)}, "site": {site_json}}}\n')
