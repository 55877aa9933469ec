"""A lone surrogate in any admin field is a 400 that names the field and stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import sites, tokens
from service.store import Store
from tests.redis_proc import RedisProcess

LONE = "\ud800"
HOTLINE = {"label": "Tiếp công dân", "number": "024.62933647", "group": "UBND Quận"}


@pytest.fixture
def root(store: Store, site: sites.Site) -> dict[str, str]:
    token = tokens.create(store, "root", [], now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("PUT", "/api/v1/admin/sites/thanhxuan", {"name": LONE}, "name"),
    ("PUT", "/api/v1/admin/sites/thanhxuan", {"page_prefixes": ["/tin-tuc/", LONE]},
     "page_prefixes"),
    ("PUT", "/api/v1/admin/sites/moi", {"name": "Quận mới", "origins": [LONE]}, "origins"),
    ("POST", "/api/v1/admin/sites/thanhxuan/polls",
     {"id": "p1", "question": f"Khả năng đáp ứng{LONE}?", "options": ["A", "B"]}, "question"),
    ("POST", "/api/v1/admin/sites/thanhxuan/polls",
     {"id": "p1", "question": "Khả năng?", "options": ["A", LONE]}, "options"),
    ("PUT", "/api/v1/admin/groups/hanoi", {"name": LONE, "sites": ["thanhxuan"]}, "name"),
    ("PUT", "/api/v1/admin/sites/thanhxuan/hotlines",
     {"hotlines": [{**HOTLINE, "label": LONE}]}, "hotlines"),
    ("POST", "/api/v1/admin/sites/thanhxuan/hotlines", {**HOTLINE, "group": LONE}, "group"),
    ("POST", "/api/v1/admin/sites/thanhxuan/hotlines",
     {**HOTLINE, "hours": {"note": LONE}}, "hours"),
    ("PUT", "/api/v1/admin/sites/thanhxuan", {LONE: "x"}, "body"),
])
def test_a_lone_surrogate_is_refused_by_name_and_changes_nothing(
        client: FlaskClient, root: dict[str, str], redis_server: RedisProcess,
        method: str, url: str, body: dict[str, Any], field: str) -> None:
    before = redis_server.dump()
    # ASCII JSON: the surrogate arrives as the six characters `\ud800`, as an attacker sends it
    response = client.open(url, method=method, data=json.dumps(body), headers=root)
    assert response.status_code == 400
    assert response.get_json() == {"error": f"{field} is not valid unicode"}
    assert redis_server.dump() == before


def test_no_admin_write_answers_500_to_surrogates(app: Flask, client: FlaskClient,
                                                  root: dict[str, str]) -> None:
    body = json.dumps({key: LONE for key in (
        "name", "question", "label", "number", "group", "id", "title", "prefix")})
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/admin"):
            continue
        url = rule.rule.replace("<site_id>", "thanhxuan").replace("<group_id>", "hanoi")
        url = url.replace("<hotline_id>", "x").replace("<poll_id>", "p")
        for method in sorted((rule.methods or set()) & {"PUT", "POST", "PATCH"}):
            response = client.open(url, method=method, data=body, headers=root)
            assert response.status_code < 500, (method, url, response.get_data())
            checked += 1
    assert checked >= 10
