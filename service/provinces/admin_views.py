"""Admin routes that move a portal: its export file out, an export file in.

`GET /api/v1/admin/sites/{site}/export` streams the file (a token for the site may export
it); `POST /api/v1/admin/sites/{site}/import` reads the body as a stream, line by line,
without the 64 KiB limit of other routes (service.web.body leaves it alone), and needs a
token for all sites (`*`): it creates a site, or merges into one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from flask import Response, g, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from service.errors import Forbidden, Invalid, Unsupported
from service.provinces import moving
from service.store import get_store
from service.web import common
from service.web.admin import admin_blueprint
from service.web.auth import admin_required
from service.web.body import streamed

bp = admin_blueprint("admin_moving", __name__)


@bp.get("/sites/<site_id>/export")
@admin_required
def export_site(site_id: str) -> Response:
    """The site's export file (JSON Lines), streamed."""
    now = common.now()
    chunks = moving.export(get_store(), site_id, now=now)
    response = Response(chunks, mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{site_id}-{now:%Y%m%d-%H%M%S}.jsonl"')
    return response


def _body() -> Iterator[bytes]:
    """The request body in chunks; a cut or malformed body is a 400."""
    # this route alone: the file may be large (None would mean the app's 64 KiB)
    request.max_content_length = sys.maxsize
    stream = request.stream
    while True:
        try:
            chunk = stream.read(moving.CHUNK)
        except ClientDisconnected:
            raise Invalid("malformed request body") from None
        except Exception:  # the server's own parse errors (chunked encoding), any type
            raise Invalid("malformed request body") from None
        if not chunk:
            return
        yield chunk


@bp.post("/sites/<site_id>/import")
@admin_required
@streamed
def import_site(site_id: str) -> Response:
    """Create `site_id` from the export file in the body, or with ?into=1 add the file's
    site (or ?as=) to `site_id` exactly as a merge would."""
    if "*" not in g.pw_token.sites:
        raise Forbidden("this needs a token for all sites")
    if request.mimetype != "application/x-ndjson":
        raise Unsupported("the body must be an export file (Content-Type: "
                          "application/x-ndjson)")
    into = request.args.get("into", "") in ("1", "true")
    site_as = request.args.get("as") if into else site_id
    result = moving.import_stream(get_store(), _body(), now=common.now(),
                                  site_as=site_as or None, into=site_id if into else None)
    response = jsonify(result)
    response.status_code = 201
    return response
