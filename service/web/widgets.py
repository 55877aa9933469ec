"""The embed script (plain and content-hashed) and the no-JavaScript widget pages."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from service import limits as limiter
from service.allowances import READS, VOTES
from service.counting import visits
from service.errors import NotFound
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.polls import votes
from service.sites import Site
from service.store import get_store
from service.web import common
from service.web.headers import widget_policy
from widgets import embed_css, embed_js, labels

bp = Blueprint("widgets", __name__, url_prefix="/widgets")
# One label table for embed.js and these pages: widgets/labels.json.
LABELS = labels()


@dataclass(frozen=True)
class Script:
    """embed.js as served: bytes, gzip, content hash and SRI integrity."""

    body: bytes
    gzipped: bytes
    digest: str
    integrity: str


@cache
def script() -> Script:
    """embed.js as served (labels inlined), built once per process; hashes of those bytes."""
    body = embed_js()
    sri = base64.b64encode(hashlib.sha384(body).digest()).decode()
    return Script(body=body, gzipped=gzip.compress(body, 9, mtime=0),
                  digest=hashlib.sha256(body).hexdigest()[:16], integrity=f"sha384-{sri}")


def _serve_script(cache_control: str) -> Response:
    s = script()
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(s.gzipped if use_gzip else s.body,
                        mimetype="text/javascript", content_type="text/javascript; charset=utf-8")
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(s.digest)
    response.headers["Cache-Control"] = cache_control
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)
    return response


@bp.get("/embed.js")
def embed() -> Response:
    """The loader; revalidated every few minutes so fixes reach portals quickly."""
    return _serve_script("public, max-age=300, stale-while-revalidate=86400")


@bp.get("/embed.<digest>.js")
def embed_hashed(digest: str) -> Response:
    """The same bytes at a content-hashed URL, cacheable forever (use with SRI)."""
    if digest != script().digest:
        raise NotFound("not found")
    return _serve_script("public, max-age=31536000, immutable")


@bp.get("/embed.css")
def stylesheet() -> Response:
    """The boxes the widgets take, reserved before embed.js fills them (no layout shift)."""
    body = embed_css()
    response = Response(body, mimetype="text/css", content_type="text/css; charset=utf-8")
    response.set_etag(hashlib.sha256(body).hexdigest()[:16])
    response.headers["Cache-Control"] = "public, max-age=300, stale-while-revalidate=86400"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)
    return response


@bp.get("/manifest.json")
def manifest() -> Response:
    """The hashed URL and its SRI integrity, for portals that pin the script.

    The URL is absolute only with PW_PUBLIC_URL: this answer is cacheable, so it must not
    depend on the request's Host header.
    """
    s = script()
    base = current_app.config["PW_SETTINGS"].public_url or ""
    response = Response(
        json.dumps({"url": f"{base}/widgets/embed.{s.digest}.js", "integrity": s.integrity}),
        mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _page(template: str, site: Site, status: int = 200, **context: object) -> Response:
    lang = request.args.get("lang") or site.locale
    lang = lang if lang in LABELS else "vi"
    response = Response(render_template(template, site=site, t=LABELS[lang], lang=lang,
                                        number=number_format(lang), **context), status=status)
    response.headers["Content-Security-Policy"] = widget_policy(site.origins)
    response.headers["Cache-Control"] = "no-store" if template == "poll.html" else \
        "public, max-age=30"
    return response


def number_format(lang: str) -> object:
    """A template filter for whole numbers: 12,345 in English, 12.345 in Vietnamese."""
    sep = "," if lang == "en" else "."

    def fmt(value: int) -> str:
        return f"{value:,}".replace(",", sep)

    return fmt


@bp.get("/<site_id>/counter.html")
def counter_page(site_id: str) -> Response:
    """The counter without JavaScript, for an <iframe>."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    stats = visits.read_stats(get_store(), site, now=common.now())
    return _page("counter.html", site, stats=stats,
                 window=site.online_window_seconds // 60)


@bp.get("/<site_id>/hotlines.html")
def hotlines_page(site_id: str) -> Response:
    """The hotline box without JavaScript."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    box = hotlines.public(get_store(), site, common.now())
    groups: dict[str, list[dict[str, object]]] = {}
    for item in box["hotlines"]:
        groups.setdefault(item["group"] or "", []).append(item)
    return _page("hotlines.html", site, box=box, groups=groups, ld=_contact_points(site, box))


def _contact_points(site: Site, box: dict[str, Any]) -> dict[str, Any]:
    """schema.org JSON-LD for search engines, which do not see the script's shadow roots."""
    return {
        "@context": "https://schema.org", "@type": "GovernmentOrganization",
        "name": site.name or site.id,
        "contactPoint": [
            {"@type": "ContactPoint", "contactType": item["label"], "telephone": item["tel"],
             "areaServed": "VN", "availableLanguage": "vi"}
            for item in box["hotlines"]
        ],
    }


@bp.get("/<site_id>/poll.html")
def poll_page(site_id: str) -> Response:
    """The poll as a plain HTML form (results shown as the poll's settings allow anyone)."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    wanted = request.args.get("poll", "current")
    try:
        definition, tally = polls.load(get_store(), site, wanted)
    except NotFound:
        if wanted != "current":
            raise
        lang = request.args.get("lang") or site.locale
        return _page("empty.html", site, message=LABELS.get(lang, LABELS["vi"])["noPoll"])
    secret = current_app.config["PW_SETTINGS"].secret_key
    poll = polls.view(definition, tally, now=common.now(),
                      ticket=votes.issue_ticket(secret, site, definition["id"], common.now()))
    return _page("poll.html", site, poll=poll, voted=False, error=None)


@bp.post("/<site_id>/poll.html")
def poll_vote(site_id: str) -> BaseResponse:
    """A form vote: the results as the answer to this POST, or the form with the reason.

    No receipt link: a voter's results page (after_vote) is the answer to the voter's own
    request, so there is nothing to pass on that would show it to someone else.
    """
    with limiter.refusals_of(VOTES):
        site = common.load_site(site_id)
        common.check_origin(site, own_allowed=True)
    poll_id = request.form.get("poll", "")
    try:
        result = common.cast_vote(site, poll_id, options=request.form.getlist("option"),
                                  ticket=request.form.get("ticket"), token="")
    except votes.VoteRefused as refused:
        error = refused.error
        if isinstance(error, NotFound):
            raise error from None
        definition, tally = polls.load(get_store(), site, poll_id)
        poll = polls.view(definition, tally, now=common.now(), ticket=votes.issue_ticket(
            common.settings().secret_key, site, definition["id"], common.now()))
        response = _page("poll.html", site, status=error.status, poll=poll, voted=False,
                         error=error.reason)
        response.headers.update(error.headers)  # a 429's Retry-After
        return response
    return _page("poll.html", site, poll=result, voted=True, error=None)
