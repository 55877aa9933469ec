"""The OpenAPI document is valid and describes every route in the URL map."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_the_spec_is_valid_openapi_31(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_is_in_the_spec(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/admin/static"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in spec["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_admin_operations_declare_bearer_security(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        if path.startswith("/api/v1/admin"):
            for op in ops.values():
                assert op["security"] == [{"bearer": []}], path
