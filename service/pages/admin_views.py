"""Admin moderation of "Tin xem nhiều": list pages, hide, set and lock titles, forget."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from service.errors import Invalid
from service.pages import rules as pages
from service.pages import verifier
from service.store import get_store
from service.web import common
from service.web.admin import admin_blueprint, admin_body, admin_site
from service.web.auth import admin_required

bp = admin_blueprint("admin_pages", __name__)


@bp.get("/sites/<site_id>/pages")
@admin_required
def list_pages(site_id: str) -> Response:
    """Most viewed pages of a period, hidden ones included and flagged, with their state."""
    site = admin_site(site_id)
    period = request.args.get("period", "month")
    limit = common.int_arg("limit", 100, 1, 1000)
    state = request.args.get("state") or None
    return jsonify(pages=pages.admin_list(get_store(), site, period=period, limit=limit,
                                          now=common.now(), state=state))


@bp.post("/sites/<site_id>/pages/check")
@admin_required
def check_page(site_id: str) -> tuple[Response, int]:
    """Queue a check of a path against the portal's own page, now (202)."""
    site = admin_site(site_id)
    body = admin_body()
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) \
            or set(body) != {"path"}:
        raise Invalid("body must be {\"path\": \"/x\"}")
    path = common.page_path(body["path"])
    pages.check_now(get_store(), site, path, now=common.now())
    verifier.poke(current_app)
    return jsonify(path=path, queued=True), 202


@bp.put("/sites/<site_id>/pages")
@admin_required
def moderate_page(site_id: str) -> Response:
    """Hide or show a path in top lists; set and lock (or unlock) its title."""
    site = admin_site(site_id)
    body = admin_body()
    if isinstance(body, dict) and isinstance(body.get("path"), str):
        body["path"] = common.page_path(body["path"])
    pages.moderate(get_store(), site, body)
    return Response(status=204)


@bp.delete("/sites/<site_id>/pages")
@admin_required
def forget_page(site_id: str) -> Response:
    """Forget a path: its views, title and top-list entries."""
    site = admin_site(site_id)
    raw = request.args.get("path")
    if not raw:
        raise Invalid("give the path to forget: ?path=/x")
    pages.forget(get_store(), site, common.page_path(raw), now=common.now())
    return Response(status=204)
