"""Security headers, set in one place: the policies of each kind of page and one hook.

Every response gets `X-Content-Type-Options: nosniff` (JSON, scripts, stylesheets, pages).
Every HTML page gets a Content-Security-Policy with a `frame-ancestors` rule: the view picks
one of the policies below, and an HTML response that picked none gets the strictest one
(nothing framed, nothing loaded but the service's own stylesheets).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response

# Pages no one frames: the privacy notice, redirects, anything without its own policy.
DEFAULT_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'none'")

ADMIN_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                "base-uri 'none'")


def widget_policy(origins: Iterable[str]) -> str:
    """The no-JavaScript widget pages: framed by the site's origins (any page without)."""
    ancestors = " ".join(origins) or "*"
    return ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            f"base-uri 'none'; frame-ancestors {ancestors}")


def stats_policy(origins: Iterable[str]) -> str:
    """The public statistics page: no script, its own stylesheet, framed only by the site's
    origins (by no one without)."""
    ancestors = " ".join(origins) or "'none'"
    return ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            f"form-action 'none'; frame-ancestors {ancestors}")


def demo_policy(public_url: str | None) -> str:
    """The demo portal: runs embed.js from the service (PW_PUBLIC_URL when set), not framed."""
    service = f" {public_url}" if public_url else ""
    return (f"default-src 'self'; script-src 'self'{service}; connect-src 'self'{service}; "
            "style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'")


def secure(response: Response) -> Response:
    """nosniff on everything; a CSP with a frame rule on every HTML page."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = DEFAULT_POLICY
        response.headers["X-Frame-Options"] = "DENY"
    return response


def init_app(app: Flask) -> None:
    """Register the hook for every response of the app (static files and errors included)."""
    app.after_request(secure)
