"""HTML pages: the demo portal and the privacy notice."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> BaseResponse:
    """The demo portal."""
    return redirect(url_for("pages.demo"))


@bp.get("/demo")
def demo() -> str:
    """A page laid out like the seed portal, using the real embed snippet."""
    return render_template("demo.html", base=request.host_url.rstrip("/"))


@bp.get("/privacy")
def privacy() -> Response:
    """What is stored and for how long, in Vietnamese and English."""
    response = Response(render_template("privacy.html"))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
