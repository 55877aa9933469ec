"""Admin API of a site's hotline box: the ordered list, one hotline at a time or whole."""

from __future__ import annotations

from flask import Response, jsonify

from service.hotlines import rules as hotlines
from service.store import get_store
from service.web.admin import admin_blueprint, admin_body, admin_site
from service.web.auth import admin_required

bp = admin_blueprint("admin_hotlines", __name__)


@bp.get("/sites/<site_id>/hotlines")
@admin_required
def get_hotlines(site_id: str) -> Response:
    """The ordered list with click counts."""
    return jsonify(hotlines.admin_view(get_store(), admin_site(site_id)))


@bp.put("/sites/<site_id>/hotlines")
@admin_required
def put_hotlines(site_id: str) -> Response:
    """Replace the whole ordered list."""
    site = admin_site(site_id)
    hotlines.replace(get_store(), site, admin_body())
    return jsonify(hotlines.admin_view(get_store(), site))


@bp.post("/sites/<site_id>/hotlines")
@admin_required
def add_hotline(site_id: str) -> Response:
    """Append one hotline."""
    response = jsonify(hotlines.add(get_store(), admin_site(site_id), admin_body()))
    response.status_code = 201
    return response


@bp.patch("/sites/<site_id>/hotlines/<hotline_id>")
@admin_required
def patch_hotline(site_id: str, hotline_id: str) -> Response:
    """Change some fields of one hotline."""
    return jsonify(hotlines.patch(get_store(), admin_site(site_id), hotline_id, admin_body()))


@bp.delete("/sites/<site_id>/hotlines/<hotline_id>")
@admin_required
def delete_hotline(site_id: str, hotline_id: str) -> Response:
    """Delete one hotline."""
    hotlines.remove(get_store(), admin_site(site_id), hotline_id)
    return Response(status=204)
