"""Public counting routes: hits, heartbeat, stats, pages, top pages (no auth, CORS)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from service import metrics, visits
from service.errors import Forbidden, Invalid
from service.limiter import HITS_LIMIT, READS_LIMIT, limiter
from service.store import get_store
from service.text import text
from service.views import common

bp = Blueprint("public", __name__, url_prefix="/api/v1/sites/<site_id>")
bp.after_request(common.add_cors)


@bp.post("/hits")
@limiter.limit(HITS_LIMIT)
def hits(site_id: str) -> Response:
    """Record one page load; answer the stats, whether it counted, and the page's views."""
    site = common.load_site(site_id)
    body = common.json_body()
    path = common.page_path(body.get("path"))
    title = text(body.get("title"), "title", max_len=common.MAX_TITLE, truncate=True) or ""
    # classified (a source and a host name), never stored
    referrer = text(body.get("referrer"), "referrer", max_len=2048, truncate=True) or ""
    facts = common.hit_facts(body, path, title, referrer)
    try:
        common.check_origin(site)
    except Forbidden:
        metrics.HITS.labels(site=site.id, result="refused").inc()
        raise
    outcome = visits.hit(get_store(), common.settings().secret_key, site, facts,
                         now=datetime.now(UTC))
    metrics.HITS.labels(site=site.id, result=outcome.result).inc()
    if outcome.dropped:
        metrics.PAGES_DROPPED.labels(site=site.id).inc()
    response = jsonify({**outcome.stats, "counted": outcome.counted,
                        "page": {"path": path, "views": outcome.views}})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/heartbeat")
@limiter.limit(HITS_LIMIT)
def heartbeat(site_id: str) -> Response:
    """Keep a visitor who is still reading in `online`; counts nothing."""
    site = common.load_site(site_id)
    body = common.json_body()
    facts = common.hit_facts(body, common.page_path(body.get("path")), "")
    common.check_origin(site)
    visits.beat(get_store(), common.settings().secret_key, site, facts, now=datetime.now(UTC))
    return Response(status=204)


@bp.get("/stats")
@limiter.limit(READS_LIMIT)
def stats(site_id: str) -> Response:
    """The stats object, read only."""
    site = common.load_site(site_id)
    response = jsonify(visits.read_stats(get_store(), site, now=datetime.now(UTC)))
    response.headers["Cache-Control"] = "public, max-age=5"
    return response


@bp.get("/pages")
@limiter.limit(READS_LIMIT)
def pages(site_id: str) -> Response:
    """Views and last title of up to 100 paths."""
    site = common.load_site(site_id)
    raw = request.args.getlist("path")
    if not raw:
        raise Invalid("give at least one path")
    if len(raw) > 100:
        raise Invalid("at most 100 paths")
    paths = list(dict.fromkeys(common.page_path(p) for p in raw))
    response = jsonify(pages=visits.pages(get_store(), site, paths))
    response.headers["Cache-Control"] = "public, max-age=5"
    return response


@bp.get("/pages/top")
@limiter.limit(READS_LIMIT)
def top_pages(site_id: str) -> Response:
    """The most viewed pages of today, this week, month or year."""
    site = common.load_site(site_id)
    period = request.args.get("period", "month")
    limit = common.int_arg("limit", 5, 1, 50)
    found = visits.top_pages(get_store(), site, period=period, limit=limit,
                             now=datetime.now(UTC))
    response = jsonify(pages=found)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response

