"""The OpenAPI 3.1 description of every route (hand-kept; tests check it covers the URL map)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__)

_COUNTS = {"type": "object", "properties": {p: {"type": "integer", "minimum": 0} for p in
                                             ("today", "week", "month", "year", "total")}}
_UNIQUES = {"type": "object", "properties": {p: {"type": "integer", "minimum": 0} for p in
                                              ("today", "week", "month", "year")}}
SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "string"}}},
    "Stats": {
        "type": "object",
        "required": ["site", "online", "visits", "pageviews", "uniques", "as_of"],
        "properties": {
            "site": {"type": "string"}, "online": {"type": "integer", "minimum": 0},
            "visits": _COUNTS, "pageviews": _COUNTS,
            "uniques": {**_UNIQUES, "description": "Distinct visitors of the day (HyperLogLog); "
                        "for a week, month or year: distinct (visitor, day) pairs."},
            "as_of": {"type": "string", "format": "date-time"},
            "online_window_seconds": {"type": "integer"},
        },
    },
    "HitBody": {
        "type": "object",
        "properties": {
            "path": {"type": "string", "maxLength": 2048},
            "title": {"type": "string"}, "referrer": {"type": "string"},
            "token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        },
    },
    "Hit": {"allOf": [{"$ref": "#/components/schemas/Stats"}, {
        "type": "object", "required": ["counted", "page"],
        "properties": {"counted": {"type": "boolean"}, "page": {
            "type": "object", "properties": {"path": {"type": "string"},
                                             "views": {"type": "integer"}}}}}]},
    "Hotline": {
        "type": "object", "required": ["id", "label", "number"],
        "properties": {
            "id": {"type": "string"}, "label": {"type": "string", "maxLength": 100},
            "number": {"type": "string"}, "tel": {"type": "string"},
            "group": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]},
            "hours": {"type": ["object", "null"], "description":
                      'Weekly schedule in the site\'s timezone: {"mon": [["07:30", "11:30"]]}'},
            "open_now": {"type": ["boolean", "null"]}, "clicks": {"type": "integer"},
        },
    },
    "Hotlines": {"type": "object", "required": ["title", "hotlines"], "properties": {
        "title": {"type": "string"},
        "hotlines": {"type": "array", "items": {"$ref": "#/components/schemas/Hotline"}}}},
    "Poll": {
        "type": "object",
        "required": ["id", "question", "options", "multiple", "status", "results_visible",
                     "total_votes"],
        "properties": {
            "id": {"type": "string"}, "question": {"type": "string"},
            "options": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "label": {"type": "string"},
                "votes": {"type": ["integer", "null"]}}}},
            "multiple": {"type": "boolean"}, "max_choices": {"type": "integer"},
            "status": {"enum": ["scheduled", "open", "closed"]},
            "results_visible": {"type": "boolean"},
            "total_votes": {"type": ["integer", "null"]},
            "ticket": {"type": "string"}, "opens_at": {"type": ["string", "null"]},
            "closes_at": {"type": ["string", "null"]},
            "results": {"enum": ["always", "after_vote", "after_close"]},
        },
    },
    "VoteBody": {"type": "object", "required": ["options", "ticket"], "properties": {
        "options": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "ticket": {"type": "string"}, "token": {"type": "string"}}},
    "Site": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "timezone": {"type": "string"},
        "origins": {"type": "array", "items": {"type": "string"}},
        "online_window_seconds": {"type": "integer", "minimum": 30, "maximum": 3600},
        "session_timeout_seconds": {"type": "integer", "minimum": 60, "maximum": 86400},
        "pageview_dedupe_seconds": {"type": "integer", "minimum": 0, "maximum": 86400},
        "max_pages": {"type": "integer", "minimum": 1},
        "locale": {"enum": ["vi", "en"]}}},
    "Counters": {"type": "object", "properties": {
        "imported": {"type": "object"}, "measured": {"type": "object"}}},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERR = _json(_ref("Error"), "Error")
_SITE = {"name": "site_id", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}}
_POLL = {"name": "poll_id", "in": "path", "required": True, "schema": {"type": "string"}}
_HOTLINE = {"name": "hotline_id", "in": "path", "required": True, "schema": {"type": "string"}}
_BODY_TYPES = ("application/json", "text/plain")


def _body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {t: {"schema": schema} for t in _BODY_TYPES}}


def _op(summary: str, responses: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, admin: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": params or [],
                          "responses": {**responses, "4XX": _ERR}}
    if body is not None:
        op["requestBody"] = body
    if admin:
        op["security"] = [{"bearer": []}]
    return op


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def spec() -> dict[str, Any]:
    """The whole document."""
    s, p, h = [_SITE], [_SITE, _POLL], [_SITE, _HOTLINE]
    ok204 = {"204": {"description": "Done"}}
    paths: dict[str, Any] = {
        "/healthz": {"get": _op("Liveness", {"200": _json({"type": "object"})})},
        "/readyz": {"get": _op("Readiness (Redis PING; warning when it may evict)",
                               {"200": _json({"type": "object"}), "503": _ERR})},
        "/metrics": {"get": _op("Prometheus metrics", {"200": {
            "description": "Prometheus text", "content": {"text/plain": {}}}})},
        "/privacy": {"get": _op("What is stored and for how long", {"200": _html("Notice")})},
        "/": {"get": _op("Redirect to the demo portal", {"302": {"description": "To /demo"}})},
        "/demo": {"get": _op("Demo portal page", {"200": _html("Demo")})},
        "/admin/": {"get": _op("Admin page", {"200": _html("Admin UI")})},
        "/api/v1/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"})})},
        "/api/v1/sites/{site_id}/hits": {"post": _op(
            "Record a page load; returns the stats", {"200": _json(_ref("Hit"))}, params=s,
            body=_body(_ref("HitBody")))},
        "/api/v1/sites/{site_id}/heartbeat": {"post": _op(
            "Keep a reading visitor online", ok204, params=s, body=_body(_ref("HitBody")))},
        "/api/v1/sites/{site_id}/stats": {"get": _op("The stats object",
                                                     {"200": _json(_ref("Stats"))}, params=s)},
        "/api/v1/sites/{site_id}/pages": {"get": _op(
            "Views of up to 100 paths", {"200": _json({"type": "object"})},
            params=[_SITE, {"name": "path", "in": "query", "required": True, "explode": True,
                            "schema": {"type": "array", "items": {"type": "string"},
                                       "maxItems": 100}}])},
        "/api/v1/sites/{site_id}/pages/top": {"get": _op(
            "Most viewed pages", {"200": _json({"type": "object"})},
            params=[_SITE, {"name": "period", "in": "query", "schema": {
                "enum": ["today", "week", "month", "year"]}},
                {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": 50}}])},
        "/api/v1/sites/{site_id}/hotlines": {"get": _op(
            "The hotline box", {"200": _json(_ref("Hotlines")), "304": {
                "description": "Not modified"}}, params=s)},
        "/api/v1/sites/{site_id}/hotlines/{hotline_id}/clicks": {"post": _op(
            "A visitor tapped a number", ok204, params=h)},
        "/api/v1/sites/{site_id}/polls/{poll_id}": {"get": _op(
            "A poll (`current` follows the site's pointer) with a fresh ticket",
            {"200": _json(_ref("Poll"))}, params=p)},
        "/api/v1/sites/{site_id}/polls/{poll_id}/votes": {"post": _op(
            "Vote", {"201": _json(_ref("Poll"))}, params=p, body=_body(_ref("VoteBody"), True))},
        "/widgets/embed.js": {"get": _op("The embed script", {"200": {"description": "JS"}})},
        "/widgets/embed.{digest}.js": {"get": _op(
            "The embed script at its content-hashed, immutable URL", {"200": {
                "description": "JS"}}, params=[{"name": "digest", "in": "path",
                                                "required": True, "schema": {"type": "string"}}])},
        "/widgets/manifest.json": {"get": _op(
            "Hashed URL and SRI integrity of the script. `url` is absolute only when "
            "PW_PUBLIC_URL is set (else relative to the service); never from the Host header",
            {"200": _json({"type": "object", "required": ["url", "integrity"], "properties": {
                "url": {"type": "string"}, "integrity": {"type": "string"}}})})},
        "/widgets/{site_id}/counter.html": {"get": _op("Counter without JS",
                                                       {"200": _html("Widget")}, params=s)},
        "/widgets/{site_id}/hotlines.html": {"get": _op(
            "Hotlines without JS, with schema.org ContactPoint JSON-LD",
            {"200": _html("Widget")}, params=s)},
        "/widgets/{site_id}/poll.html": {
            "get": _op("Poll form without JS", {"200": _html("Widget")}, params=s),
            "post": _op("Form vote; redirects to the results", {"303": {
                "description": "To the results"}}, params=s, body={"content": {
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}),
        },
    }
    a = "/api/v1/admin/sites/{site_id}"
    paths.update({
        "/api/v1/admin/sites": {"get": _op("Sites this token may see", {
            "200": _json({"type": "object"})}, admin=True)},
        a: {"get": _op("Site settings", {"200": _json(_ref("Site"))}, params=s, admin=True),
            "put": _op("Create or update", {"200": _json(_ref("Site")), "201": _json(
                _ref("Site"))}, params=s, body=_body(_ref("Site")), admin=True),
            "delete": _op("Delete (purge=true erases data)", ok204, params=[
                _SITE, {"name": "purge", "in": "query", "schema": {"type": "boolean"}}],
                admin=True)},
        f"{a}/counters": {
            "get": _op("Imported and measured", {"200": _json(_ref("Counters"))}, params=s,
                       admin=True),
            "put": _op("Set baselines", {"200": _json(_ref("Counters"))}, params=s,
                       body=_body({"type": "object"}, True), admin=True)},
        f"{a}/history": {"get": _op("Daily figures (CSV with Accept: text/csv)", {
            "200": {"description": "Days", "content": {"application/json": {}, "text/csv": {}}}},
            params=[_SITE, {"name": "from", "in": "query", "schema": {"type": "string",
                                                                     "format": "date"}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}],
            admin=True)},
        f"{a}/hotlines": {
            "get": _op("Hotlines with clicks", {"200": _json(_ref("Hotlines"))}, params=s,
                       admin=True),
            "put": _op("Replace the ordered list", {"200": _json(_ref("Hotlines"))}, params=s,
                       body=_body(_ref("Hotlines"), True), admin=True),
            "post": _op("Add one", {"201": _json(_ref("Hotline"))}, params=s,
                        body=_body(_ref("Hotline"), True), admin=True)},
        f"{a}/hotlines/{{hotline_id}}": {
            "patch": _op("Change some fields", {"200": _json(_ref("Hotline"))}, params=h,
                         body=_body({"type": "object"}, True), admin=True),
            "delete": _op("Delete one", ok204, params=h, admin=True)},
        f"{a}/polls": {
            "get": _op("Polls with results", {"200": _json({"type": "object"})}, params=s,
                       admin=True),
            "post": _op("Create", {"201": _json(_ref("Poll"))}, params=s,
                        body=_body({"type": "object"}, True), admin=True)},
        f"{a}/polls/current": {"put": _op("Which poll `current` means", {
            "200": _json(_ref("Poll"))}, params=s, body=_body({"type": "object"}, True),
            admin=True)},
        f"{a}/polls/{{poll_id}}": {
            "get": _op("One poll", {"200": _json(_ref("Poll"))}, params=p, admin=True),
            "patch": _op("Edit, close (status=closed) or reopen", {"200": _json(_ref("Poll"))},
                         params=p, body=_body({"type": "object"}, True), admin=True),
            "delete": _op("Delete", ok204, params=p, admin=True)},
        f"{a}/polls/{{poll_id}}/reset": {"post": _op("Zero the votes", {
            "200": _json(_ref("Poll"))}, params=p, admin=True)},
    })
    return {
        "openapi": "3.1.0",
        "info": {"title": "portal-widgets", "version": "1",
                 "description": "Visit counters, view counts, hotlines and polls for portals."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    """The spec."""
    response = jsonify(spec())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
