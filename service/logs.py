"""One JSON line per request on stdout: route, status, duration, site; nothing personal."""

from __future__ import annotations

import json
import sys
import time

from flask import Flask, Response, g, request

from service.metrics import route_label
from service.sites import SITE_ID_RE


def init_app(app: Flask) -> None:
    """Log every request as JSON, without IP, User-Agent, token or Authorization."""

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("pw_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        site = (request.view_args or {}).get("site_id")
        line = json.dumps({
            "event": "request",
            "method": request.method,
            "route": route_label(),
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "site": site if isinstance(site, str) and SITE_ID_RE.match(site) else None,
        })
        # A plain write of one whole line: the logging module cost more than the rest of a
        # /healthz request (see README, Benchmark); sys.stdout is looked up per call.
        sys.stdout.write(line + "\n")
        return response
