"""HTML pages: the demo portal and the privacy notice; the favicon every page asks for."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from service.web.headers import demo_policy

bp = Blueprint("pages", __name__)
FAVICON = (Path(__file__).parent.parent / "static" / "favicon.ico").read_bytes()


@bp.get("/")
def index() -> BaseResponse:
    """The demo portal."""
    return redirect(url_for("pages.demo"))


@bp.get("/demo")
def demo() -> Response:
    """A page laid out like the seed portal, using the real embed snippet.

    The script URL is absolute only with PW_PUBLIC_URL; the Host header is never echoed.
    """
    public_url = current_app.config["PW_SETTINGS"].public_url
    response = Response(render_template("demo.html", base=public_url or ""))
    response.headers["Content-Security-Policy"] = demo_policy(public_url)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/privacy")
def privacy() -> Response:
    """What is stored and for how long, in Vietnamese and English."""
    response = Response(render_template("privacy.html"))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/favicon.ico")
def favicon() -> BaseResponse:
    """The service's icon (browsers ask for it on every page; a 404 would fill the logs)."""
    response = Response(FAVICON, mimetype="image/x-icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
