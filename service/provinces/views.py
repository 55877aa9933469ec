"""Provinces: groups of sites (admin CRUD, public roll-up, counter page) and site merges."""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from service.cache import Cache
from service.errors import Forbidden
from service.provinces import groups, merges
from service.reports import build as reports
from service.reports.views import LABELS as STATS_LABELS
from service.runtime import metrics
from service.store import get_store
from service.web import common
from service.web.admin import report_response
from service.web.auth import admin_required
from service.web.headers import add_cors, stats_policy, widget_policy
from service.web.kept import kept
from service.web.reads import cached, forget
from service.web.widgets import LABELS, number_format

# failed tokens are limited by service.web.auth, as on every admin route
admin_bp = Blueprint("provinces_admin", __name__, url_prefix="/api/v1/admin")
public_bp = Blueprint("provinces_public", __name__)

ADMIN_BODY = 64 * 1024
GROUP_JSON_BYTES = 16 * 1024 * 1024  # per process: the encoded roll-ups of public reads


@admin_bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _all_sites() -> None:
    """Groups and merges span sites: a token scoped to some sites may not use them."""
    if "*" not in g.pw_token.sites:
        raise Forbidden("this needs a token for all sites")


@admin_bp.get("/groups")
@admin_required
def list_groups() -> Response:
    """Every group."""
    _all_sites()
    return jsonify(groups=[grp.to_json() for grp in groups.list_groups(get_store())])


@admin_bp.get("/groups/<group_id>")
@admin_required
def get_group(group_id: str) -> Response:
    """One group."""
    _all_sites()
    return jsonify(groups.get_group(get_store(), group_id).to_json())


@admin_bp.put("/groups/<group_id>")
@admin_required
def put_group(group_id: str) -> Response:
    """Create or replace a group; an unknown member site is a 400."""
    _all_sites()
    group, created = groups.put_group(get_store(), group_id, common.json_body(ADMIN_BODY))
    response = jsonify(group.to_json())
    response.status_code = 201 if created else 200
    return response


@admin_bp.delete("/groups/<group_id>")
@admin_required
def delete_group(group_id: str) -> Response:
    """Remove a group (its sites stay)."""
    _all_sites()
    groups.delete_group(get_store(), group_id)
    return Response(status=204)


@admin_bp.get("/groups/<group_id>/report")
@admin_required
def group_report(group_id: str) -> Response:
    """The group's month (?month=YYYY-MM) or year (?year=YYYY) report: each member site's
    figures summed (an alias counted as its target) and one row per site (`Theo cổng`)."""
    _all_sites()
    store = get_store()
    group = groups.get_group(store, group_id)
    members = groups.members(store, group, cached=False)
    today = common.now().astimezone(members[0].tz if members else UTC).date()
    period = reports.period_from(request.args.get("month"), request.args.get("year"),
                                 today=today)
    key = ("group", group.id, group.name, *(site.id for site in members))
    return report_response(key, period, today, lambda: reports.group_report(
        store, group.id, group.name, members, period, now=common.now()))


@admin_bp.post("/sites/<site_id>/merge")
@admin_required
def merge_site(site_id: str) -> Response:
    """Merge the site into `into`: its figures move there and it becomes an alias."""
    _all_sites()
    body = common.json_body(ADMIN_BODY)
    settle = current_app.config.get("MERGE_SETTLE_SECONDS")  # tests set 0
    result = merges.merge(get_store(), site_id, body.get("into"), now=common.now(),
                          settle_seconds=settle)
    for changed in (site_id, result["merged_into"]):
        forget(changed)  # this process's cached public reads
    if result["pages"]["evicted"]:
        metrics.PAGES_EVICTED.labels(site=result["merged_into"]).inc(result["pages"]["evicted"])
    return jsonify(result)


@public_bp.get("/api/v1/groups/<group_id>/stats")
@kept
def group_stats(group_id: str) -> Response:
    """The group's roll-up (up to 5 s old); limited per address in memory, like the site
    reads (service.web.reads)."""
    found = cached(("group", group_id),
                   lambda: groups.stats(get_store(), group_id, now=common.now()))
    # encoding 500 sites' figures costs more than the rest of the request (and a read with a
    # query string is never kept by web.kept): encode each cached roll-up once
    encoded: Cache[str, tuple[Any, bytes]] = current_app.extensions.setdefault(
        "pw_group_json", Cache("group-json", GROUP_JSON_BYTES))
    known = encoded.get(group_id)
    if known is None or known[0] is not found:
        known = (found, json.dumps(found, ensure_ascii=False).encode())
        encoded.put(group_id, known, time.monotonic() + groups.CACHE_SECONDS + 1)
    response = Response(known[1], mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=5"
    return add_cors(response, (), "")  # any origin: a group has none of its own


@public_bp.get("/widgets/groups/<group_id>/counter.html")
def group_counter_page(group_id: str) -> Response:
    """The group's counter without JavaScript, for an <iframe> (the same cached roll-up)."""
    store = get_store()
    stats = cached(("group", group_id),
                   lambda: groups.stats(store, group_id, now=common.now()))
    members = groups.members(store, groups.get_group(store, group_id), cached=True)
    lang = request.args.get("lang") or (members[0].locale if members else "vi")
    lang = lang if lang in LABELS else "vi"
    page: dict[str, Any] = {"id": stats["group"], "name": stats["name"]}
    response = Response(render_template(
        "counter.html", site=page, t=LABELS[lang], lang=lang, number=number_format(lang),
        stats=stats, window=stats["online_window_seconds"] // 60))
    # framed by any member's pages; by anyone when a member allows any origin
    open_to_all = not members or any(not s.origins for s in members)
    origins = [] if open_to_all else list(dict.fromkeys(o for s in members for o in s.origins))
    response.headers["Content-Security-Policy"] = widget_policy(origins)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@public_bp.get("/stats/groups/<group_id>")
def group_stats_page(group_id: str) -> Response:
    """A group's public statistics page (every member's public_stats on, else 404): the
    site page's layout plus the ranking of its sites."""
    found = cached(("group-page", group_id),
                   lambda: groups.public_page(get_store(), group_id, now=common.now()))
    lang = "en" if request.args.get("lang") == "en" else "vi"
    title = {"id": group_id, "name": found["stats"]["name"], "timezone": found["timezone"]}
    content = {k: v for k, v in found.items() if k not in ("timezone", "origins")}
    response = Response(render_template(
        "stats.html", site=title, lang=lang, t=STATS_LABELS[lang], number=number_format(lang),
        ranking=found["stats"]["sites"], **content))
    response.headers["Content-Security-Policy"] = stats_policy(found["origins"])
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
