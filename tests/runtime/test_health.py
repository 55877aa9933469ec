"""Liveness and readiness, including a Redis that stops answering."""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import make_app
from tests.redis_proc import RedisProcess


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_ok_with_noeviction(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert "warning" not in body


def test_readyz_warns_when_redis_evicts(client: FlaskClient, redis_server: RedisProcess) -> None:
    with redis_server.client() as r:
        r.config_set("maxmemory-policy", "allkeys-lru")
        try:
            body = client.get("/readyz").get_json()
        finally:
            r.config_set("maxmemory-policy", "noeviction")
    assert "allkeys-lru" in body["warning"]


def test_readyz_is_a_fast_503_when_redis_hangs(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "r").start()
    try:
        app = make_app(server.url)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        server.pause()
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert response.get_json() == {"error": "storage unavailable"}
        assert response.headers["Retry-After"] == "5"
        assert elapsed < 2.0
        assert client.get("/healthz").status_code == 200
        server.resume()
        assert client.get("/readyz").status_code == 200  # recovers without a restart
    finally:
        server.stop()


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.get_json() == {"error": "method not allowed"}
