"""Public counting routes: hits, heartbeat, stats, pages, top pages (no auth, CORS)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from service import limits as limiter
from service.allowances import HEARTBEATS, HITS
from service.counting import visits
from service.errors import Forbidden, Invalid, TooMany
from service.pages import rules as pages
from service.pages import verifier
from service.runtime import metrics
from service.store import get_store
from service.text import text
from service.web import common
from service.web.kept import kept
from service.web.reads import allow, cached

bp = Blueprint("public", __name__, url_prefix="/api/v1/sites/<site_id>")
bp.after_request(common.add_cors)


@bp.post("/hits")
def hits(site_id: str) -> Response:
    """Record one page load; answer the stats, whether it counted, and the page's views."""
    with limiter.refusals_of(HITS):
        site = common.load_site(site_id)
        body = common.json_body()
        path = common.page_path(body.get("path"))
        title = text(body.get("title"), "title", max_len=common.MAX_TITLE, truncate=True) or ""
        # classified (a source and a host name), never stored
        referrer = text(body.get("referrer"), "referrer", max_len=2048, truncate=True) or ""
        facts = common.hit_facts(body, path, title, referrer)
    try:
        common.check_origin(site)
        outcome = visits.hit(get_store(), common.settings().secret_key, site, facts,
                             now=common.now())
    except Forbidden:
        metrics.HITS.labels(site=site.id, result="refused").inc()
        raise
    except TooMany:
        metrics.HITS.labels(site=site.id, result="limited").inc()
        raise
    metrics.HITS.labels(site=site.id, result=outcome.result).inc()
    if outcome.evicted:
        metrics.PAGES_EVICTED.labels(site=site.id).inc(outcome.evicted)
    if outcome.queued:
        verifier.poke(current_app)  # the page is fetched in the background, never here
    response = jsonify({**outcome.stats, "counted": outcome.counted,
                        "page": {"path": path, "views": outcome.views}})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/heartbeat")
def heartbeat(site_id: str) -> Response:
    """Keep a visitor who is still reading in `online`; counts nothing."""
    with limiter.refusals_of(HEARTBEATS):
        site = common.load_site(site_id)
        body = common.json_body()
        facts = common.hit_facts(body, common.page_path(body.get("path")), "")
        common.check_origin(site)
    visits.beat(get_store(), common.settings().secret_key, site, facts, now=common.now())
    return Response(status=204)


def _read(payload: dict[str, Any], max_age: int) -> Response:
    response = jsonify(payload)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/stats")
@kept
def stats(site_id: str) -> Response:
    """The stats object, read only."""
    allow()  # before the site lookup: unknown ids count too
    site = common.load_site(site_id)
    found = cached(("stats", site.id),
                   lambda: visits.read_stats(get_store(), site, now=common.now()))
    return _read(found, 5)


@bp.get("/pages")
def page_views(site_id: str) -> Response:
    """Views and title of up to 100 paths."""
    allow()  # before the site lookup: unknown ids count too
    site = common.load_site(site_id)
    raw = request.args.getlist("path")
    if not raw:
        raise Invalid("give at least one path")
    if len(raw) > 100:
        raise Invalid("at most 100 paths")
    paths = list(dict.fromkeys(common.page_path(p) for p in raw))
    found = cached(("pages", site.id, *paths), lambda: pages.views(get_store(), site, paths))
    return _read({"pages": found}, 5)


@bp.get("/pages/top")
def top_pages(site_id: str) -> Response:
    """The most viewed pages of today, this week, month or year."""
    allow()  # before the site lookup: unknown ids count too
    site = common.load_site(site_id)
    period = request.args.get("period", "month")
    limit = common.int_arg("limit", 5, 1, 50)
    found = cached(("top", site.id, period, limit), lambda: pages.top(
        get_store(), site, period=period, limit=limit, now=common.now()))
    return _read({"pages": found}, 30)
