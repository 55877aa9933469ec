"""Public hotline routes: the box and click counts."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, request
from werkzeug.wrappers import Response as BaseResponse

from service import limits as limiter
from service.allowances import CLICKS
from service.hotlines import rules as hotlines
from service.runtime import metrics
from service.store import get_store
from service.web import common
from service.web.kept import kept
from service.web.reads import allow, cached

bp = Blueprint("public_hotlines", __name__, url_prefix="/api/v1/sites/<site_id>/hotlines")
bp.after_request(common.add_cors)


@bp.get("")
@kept
def box(site_id: str) -> BaseResponse:
    """Title and hotlines with tel and open_now; cacheable briefly, with an ETag. A public
    read (service.web.reads): cached a second per process, limited per address."""
    allow()  # before the site lookup: unknown ids count too
    site = common.load_site(site_id)
    found = cached(("hotlines", site.id),
                   lambda: hotlines.public(get_store(), site, common.now()))
    body = json.dumps(found, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)


@bp.post("/<hotline_id>/clicks")
def click(site_id: str, hotline_id: str) -> Response:
    """A visitor tapped the number."""
    limiter.spend(CLICKS)
    site = common.load_site(site_id)
    common.check_origin(site)
    hotlines.click(get_store(), site, hotline_id)
    metrics.HOTLINE_CLICKS.labels(site=site.id).inc()
    return Response(status=204)
