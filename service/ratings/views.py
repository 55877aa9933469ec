"""Ratings of information: the public API (read with a ticket, rate) and the no-JS form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from service import limits as limiter
from service import ratings
from service.allowances import RATINGS, READS
from service.errors import DomainError, Forbidden, Invalid, NotFound
from service.runtime import metrics
from service.sites import Site
from service.store import get_store
from service.web import common
from service.web.widgets import _page

bp = Blueprint("ratings", __name__, url_prefix="/api/v1/sites/<site_id>/ratings")
bp.after_request(common.add_cors)
form_bp = Blueprint("rating_form", __name__, url_prefix="/widgets")
TEXT = {
    "vi": {"yes": "Có", "no": "Không", "send": "Gửi đánh giá", "why": "Vì sao? (chọn nếu có)",
           "thanks": "Cảm ơn bạn đã đánh giá.", "title": "Đánh giá thông tin",
           "errors": {"already rated": "Bạn đã đánh giá trang này.",
                      "ticket expired": "Phiếu đã hết hạn, vui lòng đánh giá lại.",
                      "too many ratings from this address":
                          "Địa chỉ mạng này đã đánh giá quá nhiều lần.",
                      "rate limited": "Bạn gửi quá nhanh, vui lòng thử lại sau.",
                      "useful must be true or false": "Hãy chọn Có hoặc Không.",
                      "unknown reason": "Lý do không hợp lệ.",
                      "invalid ticket": "Phiếu không hợp lệ, vui lòng đánh giá lại."}},
    "en": {"yes": "Yes", "no": "No", "send": "Send", "why": "Why? (optional)",
           "thanks": "Thank you for your feedback.", "title": "Rate this information",
           "errors": {"already rated": "You have already rated this page.",
                      "ticket expired": "The form has expired, please rate again.",
                      "too many ratings from this address":
                          "Too many ratings from this network address.",
                      "rate limited": "Too fast, please try again later.",
                      "useful must be true or false": "Please choose Yes or No.",
                      "unknown reason": "Unknown reason.",
                      "invalid ticket": "The form is not valid, please rate again."}},
}


def _path(value: Any) -> str:
    """The rated page's path: required (400 when missing or malformed)."""
    if value is None or value == "":
        raise Invalid("path is required")
    return common.page_path(value)


def _lang(site: Site, value: Any) -> str:
    return value if value in ratings.QUESTION else site.locale


def cast_rating(site: Site, path: str, *, useful: Any, reasons: Any, ticket: Any,
                token: str, lang: str) -> dict[str, Any]:
    """Rate from this request, counted in pw_ratings_total; RatingRefused when not."""
    config = common.settings()
    return common.counted_write(site, RATINGS, metrics.RATINGS, lambda ip: ratings.rate(
        get_store(), site, path, useful=useful, reasons=reasons, ticket=ticket, token=token,
        ip=ip, secret=config.secret_key, per_ip=config.ratings_per_ip, now=common.now(),
        lang=lang))


def _checked(site: Site) -> None:
    """Origins as for votes (the service's own pages allowed); refusals counted."""
    try:
        common.check_origin(site, own_allowed=True)
    except Forbidden:
        metrics.RATINGS.labels(site=site.id, result="refused").inc()
        raise


@bp.get("")
def read(site_id: str) -> Response:
    """The page's rating so far with a fresh single-use ticket; never cached."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    path = _path(request.args.get("path"))
    found = ratings.read(get_store(), site, path, secret=common.settings().secret_key,
                         lang=_lang(site, request.args.get("lang")), now=common.now())
    response = jsonify(found)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("")
def rate(site_id: str) -> Response:
    """One rating: 201 with the page's rating; 409 already rated; 400; 403; 404; 429."""
    with limiter.refusals_of(RATINGS):
        site = common.load_site(site_id)
        _checked(site)
        try:
            body = common.json_body()
            path = _path(body.get("path"))
            token = common.browser_token(body.get("token"))
        except DomainError:
            metrics.RATINGS.labels(site=site.id, result="invalid").inc()
            raise
    try:
        result = cast_rating(site, path, useful=body.get("useful"), reasons=body.get("reasons"),
                             ticket=body.get("ticket"), token=token,
                             lang=_lang(site, body.get("lang")))
    except ratings.RatingRefused as refused:
        raise refused.error from None
    response = jsonify(result)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the no-JavaScript form: /widgets/{site}/rating.html?path=/a -------------------------

def _receipts() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(common.settings().secret_key, salt="pw-rating-receipt")


def _form(site: Site, path: str, *, status: int = 200, rated: bool = False,
          error: str | None = None, step: str = "ask") -> Response:
    lang = request.args.get("lang") or site.locale
    lang = lang if lang in ratings.QUESTION else "vi"
    ticket = None if rated else ratings.read(
        get_store(), site, path, secret=common.settings().secret_key, lang=lang,
        now=common.now())["ticket"]
    response = _page("rating.html", site, status=status, path=path, ticket=ticket,
                     rated=rated, error=error, step=step, text=TEXT[lang],
                     question=ratings.QUESTION[lang], reasons=[
                         (r, ratings.REASON_LABELS[lang][r]) for r in ratings.REASONS])
    response.headers["Cache-Control"] = "no-store"
    return response


@form_bp.get("/<site_id>/rating.html")
def form_page(site_id: str) -> Response:
    """The rating as a plain HTML form; after rating, the thanks."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    path = _path(request.args.get("path"))
    rated = False
    receipt = request.args.get("receipt")
    if receipt:
        try:
            rated = _receipts().loads(receipt, max_age=86400) == [site.id, path]
        except BadSignature:
            rated = False
    return _form(site, path, rated=rated)


@form_bp.post("/<site_id>/rating.html")
def form_rate(site_id: str) -> BaseResponse:
    """A form rating: redirect to the thanks, or the form again with the reason."""
    with limiter.refusals_of(RATINGS):
        site = common.load_site(site_id)
        _checked(site)
        path = _path(request.form.get("path") or request.args.get("path"))
    answer = request.form.get("useful")
    useful: Any = {"yes": True, "no": False}.get(answer or "", answer)
    if useful is False and not request.form.get("send"):
        # "Không" asks for the reasons first: nothing is recorded until they are sent (a
        # read: it hands out a fresh ticket)
        limiter.spend(READS)
        return _form(site, path, step="reasons")
    try:
        cast_rating(site, path, useful=useful, reasons=request.form.getlist("reason"),
                    ticket=request.form.get("ticket"), token="", lang=site.locale)
    except ratings.RatingRefused as refused:
        error = refused.error
        if isinstance(error, NotFound):
            raise error from None
        response = _form(site, path, status=error.status,
                         rated=error.reason == "already rated", error=error.reason,
                         step="reasons" if useful is False else "ask")
        response.headers.update(error.headers)  # a 429's Retry-After
        return response
    receipt = _receipts().dumps([site.id, path])
    return redirect(url_for("rating_form.form_page", site_id=site.id, path=path,
                            receipt=receipt, lang=request.args.get("lang")), code=303)
