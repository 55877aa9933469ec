"""Admin API of ratings: a site's least useful (or most rated) pages, a group's sites."""

from __future__ import annotations

from flask import Response, g, jsonify, request

from service.errors import Forbidden
from service.provinces import groups
from service.ratings import summary
from service.store import get_store
from service.web import common
from service.web.admin import admin_blueprint, admin_site
from service.web.auth import admin_required

bp = admin_blueprint("admin_ratings", __name__)


@bp.get("/sites/<site_id>/ratings")
@admin_required
def site_ratings(site_id: str) -> Response:
    """?period=month|year|total&sort=least_useful|most_rated&limit=100."""
    site = admin_site(site_id)
    return jsonify(summary.admin_view(
        get_store(), site, period=request.args.get("period", "month"),
        sort=request.args.get("sort", "least_useful"),
        limit=common.int_arg("limit", 100, 1, 1000), now=common.now()))


@bp.get("/groups/<group_id>/ratings")
@admin_required
def group_ratings(group_id: str) -> Response:
    """?period=month|year|total: the group's totals and its sites ranked by share."""
    if "*" not in g.pw_token.sites:
        raise Forbidden("this needs a token for all sites")
    store = get_store()
    group = groups.get_group(store, group_id)
    return jsonify(summary.group_view(store, group.id, group.name,
                                      groups.members(store, group, cached=False),
                                      period=request.args.get("period", "month"),
                                      now=common.now()))
