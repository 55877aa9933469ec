"""The admin page: static HTML and JS over the admin API, never framed."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template

bp = Blueprint("admin_page", __name__, url_prefix="/admin",
               static_folder=str(Path(__file__).parent.parent / "static"),
               static_url_path="/static")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


@bp.get("/")
def page() -> Response:
    """The admin UI."""
    response = Response(render_template("admin.html"))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
