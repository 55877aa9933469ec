"""Security and CORS headers, set in one place: the policies of each kind of page, one hook,
and the one CORS function (the Flask path and the kept reads of service.web.kept
both call `cors`).

Every response gets `X-Content-Type-Options: nosniff` (JSON, scripts, stylesheets, pages).
Every HTML page gets a Content-Security-Policy with a `frame-ancestors` rule: the view picks
one of the policies below, and an HTML response that picked none gets the strictest one
(nothing framed, nothing loaded but the service's own stylesheets).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Flask, Response

# what a page's script may read of a public answer (the rate-limit headers)
EXPOSED = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
# the headers `cors` sets: a kept read is stored without them and gets them per request
CORS_NAMES = frozenset({"access-control-allow-origin", "access-control-expose-headers",
                        "access-control-allow-methods", "access-control-allow-headers",
                        "access-control-max-age"})

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


def cors(origins: Sequence[str], origin: str, *,
         preflight: bool = False) -> list[tuple[str, str]]:
    """CORS for a public answer: a site with `origins` grants only a listed one (the request's
    lower-cased `origin`) and varies on Origin, never `*`; any other answer is `*`. Never
    credentials. `preflight`: the OPTIONS answer's methods, headers and max age too."""
    if origins:
        out = [("Access-Control-Allow-Origin", origin)] if origin in origins else []
        out.append(("Vary", "Origin"))
    else:
        out = [("Access-Control-Allow-Origin", "*")]
    out.append(("Access-Control-Expose-Headers", EXPOSED))
    if preflight:
        out += [("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Content-Type"),
                ("Access-Control-Max-Age", "86400")]
    return out


def add_cors(response: Response, origins: Sequence[str], origin: str, *,
             preflight: bool = False) -> Response:
    """Set `cors(...)` on a Flask response (Vary merged with what it varies on already)."""
    for name, value in cors(origins, origin, preflight=preflight):
        if name == "Vary":
            response.vary.add(value)
        else:
            response.headers[name] = value
    return response


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
