"""Security headers on every route: nosniff everywhere, a CSP with a frame rule on HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import sites, tokens
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.provinces import groups
from service.store import Store
from service.web.widgets import script

PORTAL = "https://thanhxuan.hanoi.gov.vn"


@pytest.fixture
def world(store: Store) -> dict[str, str]:
    site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân", "origins": [PORTAL],
                                                  "verify_pages": False})
    sites.put_site(store, "caugiay", {})
    item = hotlines.add(store, site, {"label": "Tiếp công dân", "number": "024.62933647"})
    polls.create(store, site, {"id": "dap-ung", "question": "Đáp ứng?", "options": ["Tốt", "Kém"],
                               "results": "always"}, now=datetime.now(UTC))
    polls.set_current(store, site, {"poll": "dap-ung"})
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["thanhxuan", "caugiay"]})
    return {"site_id": "thanhxuan", "group_id": "hanoi", "hotline_id": item["id"],
            "poll_id": "dap-ung", "digest": script().digest, "filename": "admin.js",
            "token": tokens.create(store, "root", [], now=datetime.now(UTC))}


def url_for_rule(rule: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", fill, rule)


def check(response: Any, what: str) -> None:
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    if response.mimetype == "text/html":
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors" in csp, what
        assert "default-src" in csp, what
        html = response.get_data(as_text=True)
        # The pages' own CSP has no 'unsafe-inline': nothing inline may depend on it.
        assert "<style" not in html and " style=" not in html, what
        assert not re.search(r"<script(?![^>]*\b(src|type=\"application/ld\+json\"))", html), what


def test_every_route_of_the_app_sends_the_security_headers(
        app: Flask, client: FlaskClient, world: dict[str, str]) -> None:
    seen = set()
    for rule in app.url_map.iter_rules():
        url = url_for_rule(rule.rule, world)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for auth in ({}, {"Authorization": f"Bearer {world['token']}"}):
                response = client.open(url, method=method, json={} if method != "GET" else None,
                                       headers=auth, follow_redirects=False)
                check(response, f"{method} {url} -> {response.status_code}")
                response.close()
            seen.add(rule.endpoint)
    every = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert seen == every and len(every) >= 40


@pytest.mark.parametrize("url", ["/nosuch", "/api/v1/sites/nosuch/stats", "/widgets/x/y.html"])
def test_errors_send_nosniff_too(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("url", "ancestors"), [
    ("/demo", "'self'"),
    ("/privacy", "'none'"),
    ("/admin/", "'none'"),
    ("/widgets/thanhxuan/counter.html", PORTAL),
    ("/widgets/thanhxuan/hotlines.html", PORTAL),
    ("/widgets/thanhxuan/poll.html?poll=current", PORTAL),
    ("/widgets/caugiay/counter.html", "*"),  # no origins: any portal may frame it
])
def test_each_page_has_its_frame_rule(client: FlaskClient, world: dict[str, str], url: str,
                                      ancestors: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    directives = dict(d.strip().split(" ", 1)
                      for d in response.headers["Content-Security-Policy"].split(";"))
    assert directives["frame-ancestors"] == ancestors
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]


def test_static_assets_and_the_script_are_nosniff(client: FlaskClient) -> None:
    for url in ("/admin/static/admin.js", "/admin/static/admin.css", "/static/widget.css",
                "/static/demo.css", "/static/privacy.css", "/widgets/embed.js",
                "/widgets/manifest.json", "/api/v1/openapi.json", "/healthz"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        response.close()
