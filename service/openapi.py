"""The OpenAPI 3.1 description, kept as data in openapi.yaml beside this module."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__)


@cache
def spec() -> dict[str, Any]:
    """The parsed description (read once per process)."""
    text = resources.files("service").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    """The spec."""
    response = jsonify(spec())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
