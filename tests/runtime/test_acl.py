"""The whole service runs as a Redis ACL user limited to `<prefix>:*`, rate limiter included.

The documented ACL: `ACL SETUSER pw on >PASSWORD ~pw:* +@all -@dangerous +client|setinfo
+config|get` (CLIENT SETINFO is what redis-py sends on connect; CONFIG GET is /readyz's
eviction-policy check). `ACL LOG` must stay empty through every kind of request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import sites, tokens
from service.counting.visitor import address_key
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.store import get_store
from tests.conftest import BROWSER, SECRET, fresh_window, make_app
from tests.redis_proc import RedisProcess

# +info: pw_redis_used_memory_bytes and the memory-budget warning of /readyz (docs/serve.md)
ACL = ("+@all", "-@dangerous", "+client|setinfo", "+config|get", "+info")


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("acl-redis")).start()
    yield server
    server.stop()


@pytest.fixture(params=["pw", "district"])
def acl_app(request: pytest.FixtureRequest, acl_redis: RedisProcess) -> Iterator[Flask]:
    prefix = request.param
    with acl_redis.client() as admin:
        admin.flushall()
        admin.execute_command("ACL", "LOG", "RESET")
        admin.execute_command("ACL", "SETUSER", "svc", "reset", "on", ">acl-pass-0123456789",
                              f"~{prefix}:*", *ACL)
    url = f"unix://svc:acl-pass-0123456789@{acl_redis.socket}"
    yield make_app(url, PW_KEY_PREFIX=prefix)
    with acl_redis.client() as admin:
        admin.execute_command("ACL", "DELUSER", "svc")
        admin.flushall()


def call(client: FlaskClient, method: str, url: str, expected: int, *, ip: str = "203.0.113.5",
         token: str | None = None, body: Any = None) -> Any:
    headers = {"User-Agent": BROWSER}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = client.open(url, method=method, headers=headers,
                           data=None if body is None else json.dumps(body),
                           content_type="text/plain" if token is None else "application/json",
                           environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == expected, (method, url, response.get_data(as_text=True))
    data = response.get_json(silent=True)
    response.close()
    return data


def acl_log(server: RedisProcess) -> list[Any]:
    with server.client() as admin:
        return list(admin.execute_command("ACL", "LOG"))


def test_every_kind_of_request_runs_inside_the_prefix(acl_app: Flask,
                                                      acl_redis: RedisProcess) -> None:
    prefix = acl_app.config["PW_SETTINGS"].key_prefix
    client = acl_app.test_client()
    with acl_app.app_context():  # the management functions, as the CLI runs them
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        hotlines.replace(store, site, {"hotlines": [{"label": "Tiếp dân", "number": "1022"}]})
        polls.create(store, site, {"id": "p1", "question": "?", "options": ["A", "B"],
                                   "results": "always"}, now=datetime.now(UTC))
        polls.set_current(store, site, {"poll": "p1"})
        root = tokens.create(store, "root", [], now=datetime.now(UTC))
    api = "/api/v1/sites/thanhxuan"
    for i in range(3):
        hit = call(client, "POST", f"{api}/hits", 200, ip=f"203.0.113.{i}",
                   body={"path": "/tin-tuc/a", "title": "A", "token": f"browser-token-{i}"})
        assert hit["counted"] is True
    call(client, "POST", f"{api}/heartbeat", 204, body={"path": "/tin-tuc/a"})
    assert call(client, "GET", f"{api}/stats", 200)["visits"]["total"] == 3
    call(client, "GET", f"{api}/pages?path=/tin-tuc/a", 200)
    call(client, "GET", f"{api}/pages/top?period=month", 200)
    box = call(client, "GET", f"{api}/hotlines", 200)
    call(client, "POST", f"{api}/hotlines/{box['hotlines'][0]['id']}/clicks", 204)
    poll = call(client, "GET", f"{api}/polls/current", 200)
    call(client, "POST", f"{api}/polls/p1/votes", 201,
         body={"options": ["o1"], "ticket": poll["ticket"], "token": "browser-token-0"})
    for page in ("counter.html", "hotlines.html", "poll.html?poll=current"):
        call(client, "GET", f"/widgets/thanhxuan/{page}", 200)
    for url in ("/healthz", "/readyz", "/widgets/embed.js", "/demo"):
        call(client, "GET", url, 200)
    call(client, "GET", "/metrics", 200, ip="10.0.0.5")  # a scraper on the private network
    admin = "/api/v1/admin/sites"
    call(client, "GET", admin, 200, token=root)
    call(client, "PUT", f"{admin}/caugiay", 201, token=root, body={"name": "Cầu Giấy"})
    call(client, "PUT", f"{admin}/thanhxuan/counters", 200, token=root,
         body={"visits": {"total": 1000}})
    call(client, "GET", f"{admin}/thanhxuan/counters", 200, token=root)
    call(client, "GET", f"{admin}/thanhxuan/history", 200, token=root)
    call(client, "POST", f"{admin}/thanhxuan/hotlines", 201, token=root,
         body={"label": "Y tế", "number": "115"})
    call(client, "GET", f"{admin}/thanhxuan/polls", 200, token=root)
    call(client, "PATCH", f"{admin}/thanhxuan/polls/p1", 200, token=root,
         body={"status": "closed"})
    call(client, "POST", f"{admin}/thanhxuan/polls/p1/reset", 200, token=root)
    call(client, "DELETE", f"{admin}/caugiay", 204, token=root)
    call(client, "GET", admin, 401, token="pw_wrong")  # a failure, counted by the limiter

    assert acl_log(acl_redis) == []
    with acl_redis.client() as r:
        keys = sorted(r.scan_iter(match="*"))
    assert keys and all(k.startswith(f"{prefix}:") for k in keys), keys
    assert any(k.startswith(f"{prefix}:LIMITER/") for k in keys)  # the limiter is in Redis
    assert any("admin-failures" in k for k in keys)


def test_the_rate_limit_still_applies_from_redis(acl_app: Flask, acl_redis: RedisProcess) -> None:
    prefix = acl_app.config["PW_SETTINGS"].key_prefix
    client = acl_app.test_client()
    with acl_app.app_context():
        sites.put_site(get_store(), "thanhxuan", {})
    fresh_window(acl_app)  # the allowances are per minute of the app's clock: start one
    codes = [client.post("/api/v1/sites/thanhxuan/hits", data="{}", content_type="text/plain",
                         headers={"User-Agent": BROWSER},
                         environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code
             for _ in range(601)]
    assert codes[:600] == [200] * 600
    assert codes[600] == 429
    # clicks are limited through flask-limiter, its counter in Redis too
    clicks = [client.post("/api/v1/sites/thanhxuan/hotlines/none/clicks",
                          environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code
              for _ in range(121)]
    assert set(clicks[:120]) == {404} and clicks[120] == 429
    assert acl_log(acl_redis) == []
    with acl_redis.client() as r:
        # counted in Redis (shared by every worker), not in process memory
        hits = [k for k in r.scan_iter(match=f"{prefix}:{{thanhxuan}}:rl:hit:*")]
        assert len(hits) == 1 and int(r.get(hits[0]) or 0) == 601
        assert [k for k in r.scan_iter(match=f"{prefix}:LIMITER/*") if "click" in k]


def test_a_user_without_the_prefix_is_refused_and_the_log_says_so(
        acl_redis: RedisProcess, tmp_path: Path) -> None:
    """The test can fail: keys outside the ACL pattern do show up in ACL LOG."""
    with acl_redis.client() as admin:
        admin.execute_command("ACL", "LOG", "RESET")
        admin.execute_command("ACL", "SETUSER", "narrow", "reset", "on", ">narrow-pass-0123456",
                              "~other:*", *ACL)
    app = make_app(f"unix://narrow:narrow-pass-0123456@{acl_redis.socket}")
    client = app.test_client()
    assert client.get("/api/v1/sites/thanhxuan/stats").status_code >= 400
    log = acl_log(acl_redis)
    assert log and any(entry["reason"] == "key" for entry in log)
    with acl_redis.client() as admin:
        admin.execute_command("ACL", "DELUSER", "narrow")
        admin.execute_command("ACL", "LOG", "RESET")


def test_the_limiters_key_strings_are_pinned(redis_server: RedisProcess) -> None:
    app = make_app(redis_server.url, PW_KEY_PREFIX="district")
    client = app.test_client()
    with app.app_context():
        sites.put_site(get_store(), "thanhxuan", {})
    app.extensions["pw_clock"].set(1_800_000_000.0)  # window 30,000,000 of a minute
    ip = {"REMOTE_ADDR": "203.0.113.77"}
    client.get("/api/v1/sites/thanhxuan/stats", environ_base=ip)  # reads: process memory
    client.post("/api/v1/sites/thanhxuan/hotlines/none/clicks", environ_base=ip)
    client.get("/api/v1/admin/sites", headers={"Authorization": "Bearer pw_guess"},
               environ_base=ip)
    hashed = address_key(SECRET, "203.0.113.77")[:16]
    with redis_server.client() as r:
        limiter_keys = set(r.scan_iter(match="*LIMITER*"))
    assert limiter_keys == {
        # flask-limiter's fixed window: <client>/<scope: allowance/window>/<count>/<per>/second
        f"district:LIMITER/{hashed}/admin-failures/30000000/20/60/second",
        f"district:LIMITER/{hashed}/clicks/30000000/120/60/second",
    }
    app.extensions["pw_store"].redis.close()  # not left to the garbage collector
