"""Admin API of a site's polls: create, edit, close, reset, delete, choose the current one."""

from __future__ import annotations

from flask import Response, jsonify

from service.polls import rules as polls
from service.sites import Site
from service.store import get_store
from service.web import common
from service.web.admin import admin_blueprint, admin_body, admin_site
from service.web.auth import admin_required

bp = admin_blueprint("admin_polls", __name__)


@bp.get("/sites/<site_id>/polls")
@admin_required
def list_polls(site_id: str) -> Response:
    """Every poll with results, newest first."""
    site = admin_site(site_id)
    return jsonify(polls=polls.list_polls(get_store(), site, now=common.now()))


@bp.post("/sites/<site_id>/polls")
@admin_required
def create_poll(site_id: str) -> Response:
    """Create a poll."""
    site = admin_site(site_id)
    now = common.now()
    definition = polls.create(get_store(), site, admin_body(), now=now)
    response = jsonify(polls.view(definition, {}, now=now, admin=True))
    response.status_code = 201
    return response


def _poll_view(site: Site, poll_id: str) -> Response:
    definition, tally = polls.load(get_store(), site, poll_id)
    return jsonify(polls.view(definition, tally, now=common.now(), admin=True))


@bp.get("/sites/<site_id>/polls/<poll_id>")
@admin_required
def get_poll(site_id: str, poll_id: str) -> Response:
    """One poll with results."""
    return _poll_view(admin_site(site_id), poll_id)


@bp.patch("/sites/<site_id>/polls/<poll_id>")
@admin_required
def patch_poll(site_id: str, poll_id: str) -> Response:
    """Edit, close or reopen a poll."""
    site = admin_site(site_id)
    polls.update(get_store(), site, poll_id, admin_body(), now=common.now())
    return _poll_view(site, poll_id)


@bp.delete("/sites/<site_id>/polls/<poll_id>")
@admin_required
def delete_poll(site_id: str, poll_id: str) -> Response:
    """Delete a poll and its votes."""
    polls.delete(get_store(), admin_site(site_id), poll_id)
    return Response(status=204)


@bp.post("/sites/<site_id>/polls/<poll_id>/reset")
@admin_required
def reset_poll(site_id: str, poll_id: str) -> Response:
    """Zero a poll's votes."""
    site = admin_site(site_id)
    polls.reset(get_store(), site, poll_id)
    return _poll_view(site, poll_id)


@bp.put("/sites/<site_id>/polls/current")
@admin_required
def set_current_poll(site_id: str) -> Response:
    """Choose which poll `current` means."""
    site = admin_site(site_id)
    poll_id = polls.set_current(get_store(), site, admin_body())
    return _poll_view(site, poll_id)
