"""The admin page: static HTML and JS over the admin API, never framed."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template

from service.web.headers import ADMIN_POLICY

bp = Blueprint("admin_page", __name__, url_prefix="/admin",
               static_folder=str(Path(__file__).parent.parent / "static"),
               static_url_path="/static")


@bp.get("/")
def page() -> Response:
    """The admin UI."""
    response = Response(render_template("admin.html"))
    response.headers["Content-Security-Policy"] = ADMIN_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
