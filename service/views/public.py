"""Public counting routes: hits, heartbeat, stats, pages, top pages (no auth, CORS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from service import metrics, visits
from service.errors import Forbidden, Invalid, NotFound
from service.limiter import HITS_LIMIT, READS_LIMIT, limiter
from service.sites import Site
from service.store import get_store
from service.views import common

bp = Blueprint("public", __name__, url_prefix="/api/v1/sites/<site_id>")
bp.after_request(common.add_cors)


def _visitor(site: Site, token: str, now: datetime) -> str:
    """This request's visitor id (never stored raw: a keyed hash)."""
    secret: str = current_app.config["PW_SETTINGS"].secret_key
    return visits.visitor_id(get_store(), secret, site, ip=common.client_ip(),
                             user_agent=common.user_agent(), token=token, now=now)


@bp.post("/hits")
@limiter.limit(HITS_LIMIT)
def hits(site_id: str) -> Response:
    """Record one page load; answer the stats, whether it counted, and the page's views."""
    site = common.load_site(site_id)
    body = common.json_body()
    path = common.page_path(body.get("path"))
    title = common.text(body.get("title"), "title", max_len=common.MAX_TITLE) or ""
    common.text(body.get("referrer"), "referrer", max_len=2048)  # validated, never stored
    token = common.browser_token(body.get("token"))
    try:
        common.check_origin(site)
    except Forbidden:
        metrics.HITS.labels(site=site.id, result="refused").inc()
        raise
    store = get_store()
    now = datetime.now(UTC)
    if common.not_counted_reason() is not None:
        metrics.HITS.labels(site=site.id, result="bot").inc()
        stats = visits.read_stats(store, site, now=now)
        views = visits.pages(store, site, [path])[path]["views"]
        return jsonify({**stats, "counted": False, "page": {"path": path, "views": views}})
    visitor = _visitor(site, token, now)
    result = visits.record_hit(store, site, visitor=visitor, path=path, title=title, now=now)
    if result is None:
        raise NotFound("unknown site")
    metrics.HITS.labels(site=site.id, result="counted" if result.counted else "duplicate").inc()
    if result.dropped:
        metrics.PAGES_DROPPED.labels(site=site.id).inc()
    payload: dict[str, Any] = {
        **result.stats, "counted": result.counted, "page": {"path": path, "views": result.views}
    }
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/heartbeat")
@limiter.limit(HITS_LIMIT)
def heartbeat(site_id: str) -> Response:
    """Keep a visitor who is still reading in `online`; counts nothing."""
    site = common.load_site(site_id)
    body = common.json_body()
    common.page_path(body.get("path"))
    token = common.browser_token(body.get("token"))
    common.check_origin(site)
    if common.not_counted_reason() is None:
        now = datetime.now(UTC)
        visits.heartbeat(get_store(), site, visitor=_visitor(site, token, now), now=now)
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

