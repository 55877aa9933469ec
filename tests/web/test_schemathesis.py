"""Property-based requests against every public route of the OpenAPI spec: no 5xx, no
response that breaks the spec."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service import sites
from service.hotlines import rules as hotlines
from service.openapi import spec
from service.polls import rules as polls
from service.store import get_store
from tests.conftest import SECRET, make_app

schema = schemathesis.openapi.from_dict(spec())


@pytest.fixture
def live_app(redis_server: object) -> Flask:
    app = make_app(redis_server.url, RATELIMIT_ENABLED=False)  # type: ignore[attr-defined]
    with app.app_context():
        site, _ = sites.put_site(get_store(), "thanhxuan", {"public_stats": True})
        hotlines.replace(get_store(), site, {"hotlines": [{"id": "a", "label": "A",
                                                           "number": "113"}]})
        polls.create(get_store(), site, {"id": "p", "question": "Q", "options": ["A", "B"]},
                     now=datetime.now(UTC))
        polls.set_current(get_store(), site, {"poll": "p"})
    return app


PUBLIC = schema.include(path_regex=r"^/(api/v1/sites|widgets|healthz|readyz|privacy|demo|stats)")


@PUBLIC.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_public_routes_hold_to_the_spec(case: schemathesis.Case, live_app: Flask) -> None:
    assert SECRET
    # Random ids only ever meet 404s (the nasty-input table covers those): aim at real ones,
    # so the bodies, queries and headers hypothesis generates reach the handlers.
    known = {"site_id": "thanhxuan", "poll_id": "p", "hotline_id": "a"}
    for name, value in known.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = value
    response = case.call(app=live_app)
    assert response.status_code < 500, (case.method, case.path, response.text[:200])
    case.validate_response(response, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance,
    ])
