"""Prometheus metrics (multiprocess-aware) and the /metrics view."""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service import sites
from service.counting import visits
from service.errors import Forbidden, Unauthorized
from service.runtime.logs import access_line
from service.store import StorageUnavailable, get_store
from service.store.errors import REDIS_ERRORS

REQUESTS = Counter(
    "pw_http_requests_total", "HTTP requests by route template", ["route", "method", "status"]
)
DURATION = Histogram(
    "pw_http_request_duration_seconds", "Request duration by route template", ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
# The store counts its own failures (service.store.errors); exported here with the rest.
__all__ = ["REDIS_ERRORS"]
HITS = Counter("pw_hits_total", "Page loads by result", ["site", "result"])
VOTES = Counter("pw_votes_total", "Poll votes by result", ["site", "result"])
RATINGS = Counter("pw_ratings_total", "Ratings of information by result", ["site", "result"])
RATE_LIMITED = Counter("pw_rate_limited_total", "Requests refused by the rate limiter", ["route"])
HOTLINE_CLICKS = Counter("pw_hotline_clicks_total", "Taps on hotline numbers", ["site"])
PAGES_EVICTED = Counter(
    "pw_pages_evicted_total", "Tracked pages dropped to make room for new ones (max_pages)",
    ["site"]
)
PAGE_CHECKS = Counter(
    "pw_page_checks_total", "Pages checked against the portal's own page, by result",
    ["site", "result"]
)

bp = Blueprint("metrics", __name__)


class OnlineCollector(Collector):
    """pw_online_visitors{site} and pw_redis_used_memory_bytes, read from Redis at scrape
    time."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("pw_online_visitors", "Visitors online now", labels=["site"])
        with self.app.app_context():
            store = get_store()
            now = datetime.now(UTC)
            try:
                for site in sites.list_sites(store):
                    family.add_metric([site.id], visits.online(store, site, now=now))
            except StorageUnavailable:
                pass
            memory = store.memory()
        yield family
        if memory is not None:
            used = GaugeMetricFamily("pw_redis_used_memory_bytes",
                                     "Memory Redis uses (its budget: PW_REDIS_MAXMEMORY)")
            used.add_metric([], memory[0])
            yield used


@lru_cache(maxsize=4096)
def _children(route: str, method: str, status: int) -> tuple[Any, Any]:
    """The labelled counter and histogram of a request (bounded label sets, looked up once)."""
    return (REQUESTS.labels(route=route, method=method, status=str(status)),
            DURATION.labels(route=route))


def route_label() -> str:
    """The matched route template; never the raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def request_labels() -> tuple[str, object]:
    """This request's route template and site (its `site_id` view argument, if any): what
    `observe` is given for it, here and for its kept answer (service.web.kept)."""
    return route_label(), (request.view_args or {}).get("site_id")


def observe(route: str, method: str, status: int, seconds: float | None,
            site: object) -> None:
    """Count one finished request (duration unknown: None) and write its access line: the
    one call for every request, answered by Flask or from a kept read."""
    requests, duration = _children(route, method, status)
    if seconds is not None:
        duration.observe(seconds)
    requests.inc()
    if status == 429:
        RATE_LIMITED.labels(route=route).inc()
    access_line(method, route, status, seconds or 0.0, site)


def init_app(app: Flask) -> None:
    """Time every request and serve /metrics."""

    @app.before_request
    def _start() -> None:
        g.pw_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        # One hook for the metrics and the access line: the route and duration once.
        started = g.get("pw_started")
        route, site = request_labels()
        observe(route, request.method, response.status_code,
                time.perf_counter() - started if started is not None else None, site)
        return response

    app.register_blueprint(bp)


# Loopback, RFC 1918 and unique local IPv6: where a scraper beside the service lives.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))


def socket_peer(environ: dict[str, Any]) -> str:
    """The address of the socket's other end, whatever X-Forwarded-For says: ProxyFix keeps
    the original REMOTE_ADDR aside when it rewrites it."""
    original = environ.get("werkzeug.proxy_fix.orig") or {}
    return str(original.get("REMOTE_ADDR") or environ.get("REMOTE_ADDR") or "")


def private_peer(address: str) -> bool:
    """Whether an address is on loopback or a private network (IPv4-mapped included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address == ""  # a unix socket has no address: only local processes reach it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in PRIVATE_NETWORKS)


@bp.get("/metrics")
def metrics_view() -> Response:
    """Prometheus text: all workers' metrics plus online visitors from Redis."""
    token = current_app.config["PW_SETTINGS"].metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("invalid token", {"WWW-Authenticate": "Bearer"})
    elif not private_peer(socket_peer(request.environ)):
        raise Forbidden("metrics answer loopback and private networks only; "
                        "set PW_METRICS_TOKEN to scrape from elsewhere")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # A fresh registry per scrape reads every worker's files (multiprocess mode).
        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)  # type: ignore[no-untyped-call]
    else:
        base = REGISTRY
    online = CollectorRegistry()
    online.register(OnlineCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    # content_type, not mimetype: CONTENT_TYPE_LATEST names its charset already
    return Response(generate_latest(base) + generate_latest(online),
                    content_type=CONTENT_TYPE_LATEST)
