"""Admin API: tokens, scope, sites, counters, history, hotlines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import tokens
from service.clock import Clock
from service.store import Store
from tests.conftest import make_app, post_hit
from tests.redis_proc import RedisProcess


@pytest.fixture
def root(store: Store) -> str:
    return tokens.create(store, "root", [], now=datetime.now(UTC))


@pytest.fixture
def scoped(store: Store) -> str:
    return tokens.create(store, "thanhxuan-editor", ["thanhxuan"], now=datetime.now(UTC))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_admin_route_needs_a_token(app: Flask, client: FlaskClient) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/admin"):
            continue
        url = rule.rule.replace("<site_id>", "thanhxuan").replace("<hotline_id>", "x")
        url = url.replace("<poll_id>", "p")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, json={})
            assert response.status_code == 401, (method, url)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert "Access-Control-Allow-Origin" not in response.headers
            checked += 1
    assert checked >= 19


def test_tokens_are_stored_only_as_hashes(store: Store, root: str,
                                          redis_server: RedisProcess) -> None:
    assert root.startswith("pw_") and len(root) > 40
    assert root.encode() not in redis_server.dump()
    assert [t.name for t in tokens.list_tokens(store)] == ["root"]


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer ", "bearer"])
def test_bad_credentials_are_401(client: FlaskClient, root: str, header: str) -> None:
    response = client.get("/api/v1/admin/sites", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] in ("invalid token", "missing bearer token")


def test_a_revoked_token_stops_working(client: FlaskClient, store: Store, root: str) -> None:
    assert client.get("/api/v1/admin/sites", headers=auth(root)).status_code == 200
    tokens.revoke(store, "root")
    assert client.get("/api/v1/admin/sites", headers=auth(root)).status_code == 401


def test_a_scoped_token_sees_and_manages_only_its_sites(client: FlaskClient, root: str,
                                                        scoped: str) -> None:
    for site_id in ("thanhxuan", "caugiay"):
        assert client.put(f"/api/v1/admin/sites/{site_id}", json={},
                          headers=auth(root)).status_code == 201
    listed = client.get("/api/v1/admin/sites", headers=auth(scoped)).get_json()
    assert [s["id"] for s in listed["sites"]] == ["thanhxuan"]
    other = client.get("/api/v1/admin/sites/caugiay", headers=auth(scoped))
    assert other.status_code == 403
    assert other.get_json() == {"error": "token not allowed for this site"}
    assert client.delete("/api/v1/admin/sites/caugiay", headers=auth(scoped)).status_code == 403
    assert client.get("/api/v1/admin/sites/thanhxuan", headers=auth(scoped)).status_code == 200


def test_failed_attempts_are_rate_limited(client: FlaskClient, root: str, clock: Clock) -> None:
    codes = [client.get("/api/v1/admin/sites", headers={"Authorization": "Bearer guess"},
                        environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code
             for _ in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
    # a good token from another address still works
    assert client.get("/api/v1/admin/sites", headers=auth(root),
                      environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 200


def test_put_site_creates_then_updates_only_named_settings(client: FlaskClient, root: str) -> None:
    created = client.put("/api/v1/admin/sites/thanhxuan",
                         json={"name": "Quận Thanh Xuân", "origins": ["https://thanhxuan.hanoi.gov.vn/"],
                               "verify_pages": False},
                         headers=auth(root))
    assert created.status_code == 201
    assert created.get_json() == {
        "id": "thanhxuan", "name": "Quận Thanh Xuân", "timezone": "Asia/Ho_Chi_Minh",
        "origins": ["https://thanhxuan.hanoi.gov.vn"], "online_window_seconds": 300,
        "session_timeout_seconds": 1800, "pageview_dedupe_seconds": 600, "max_pages": 50000,
        "locale": "vi", "page_prefixes": [], "public_stats": False, "verify_pages": False,
    }
    updated = client.put("/api/v1/admin/sites/thanhxuan", json={"locale": "en"},
                         headers=auth(root))
    assert updated.status_code == 200
    assert updated.get_json()["name"] == "Quận Thanh Xuân"
    assert updated.get_json()["locale"] == "en"


@pytest.mark.parametrize(
    "body",
    [{"timezone": "Mars/Olympus"}, {"timezone": "../../etc/passwd"}, {"locale": "fr"},
     {"online_window_seconds": 5}, {"max_pages": "many"}, {"origins": "https://a.vn"},
     {"origins": ["ftp://a.vn"]}, {"origins": ["https://a.vn/path"]}, {"colour": "red"},
     {"name": ""}, {"pageview_dedupe_seconds": True}, {"max_pages": 200_001},
     {"max_pages": 1_000_000}],
)
def test_bad_settings_are_400_and_change_nothing(client: FlaskClient, root: str,
                                                 body: dict[str, object]) -> None:
    client.put("/api/v1/admin/sites/thanhxuan", json={"name": "A"}, headers=auth(root))
    response = client.put("/api/v1/admin/sites/thanhxuan", json=body, headers=auth(root))
    assert response.status_code == 400
    assert client.get("/api/v1/admin/sites/thanhxuan", headers=auth(root)).get_json()["name"] == "A"


def test_bad_site_ids_are_refused(client: FlaskClient, root: str) -> None:
    assert client.put("/api/v1/admin/sites/Bad_Id", json={}, headers=auth(root)).status_code == 400
    assert client.get("/api/v1/admin/sites/nosuch", headers=auth(root)).status_code == 404


def test_counters_baselines_and_public_sum(client: FlaskClient, root: str) -> None:
    client.put("/api/v1/admin/sites/thanhxuan", json={}, headers=auth(root))
    post_hit(client)
    response = client.put("/api/v1/admin/sites/thanhxuan/counters",
                          json={"visits": {"total": 12380046}, "pageviews": {"total": 31002001}},
                          headers=auth(root))
    assert response.status_code == 200
    body = response.get_json()
    assert body["imported"]["visits"]["total"] == 12380046
    assert body["measured"]["visits"]["total"] == 1
    stats = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["visits"]["total"] == 12380047
    assert stats["pageviews"]["total"] == 31002002
    bad = client.put("/api/v1/admin/sites/thanhxuan/counters", json={"visits": {"total": -5}},
                     headers=auth(root))
    assert bad.status_code == 400


def test_history_as_json_and_csv(client: FlaskClient, root: str) -> None:
    client.put("/api/v1/admin/sites/thanhxuan", json={}, headers=auth(root))
    post_hit(client)
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    day = today.date().isoformat()
    body = client.get(f"/api/v1/admin/sites/thanhxuan/history?from={day}&to={day}",
                      headers=auth(root)).get_json()
    assert body == {"days": [{"date": day, "visits": 1, "pageviews": 1, "uniques": 1}]}
    csv_response = client.get(f"/api/v1/admin/sites/thanhxuan/history?from={day}&to={day}",
                              headers={**auth(root), "Accept": "text/csv"})
    assert csv_response.mimetype == "text/csv"
    assert csv_response.get_data(as_text=True).splitlines() == [
        "date,visits,pageviews,uniques", f"{day},1,1,1"]
    assert client.get("/api/v1/admin/sites/thanhxuan/history?from=2020-01-01&to=2026-01-01",
                      headers=auth(root)).status_code == 400
    assert client.get("/api/v1/admin/sites/thanhxuan/history?from=yesterday",
                      headers=auth(root)).status_code == 400


def test_hotline_admin_routes(client: FlaskClient, root: str, redis_server: RedisProcess) -> None:
    client.put("/api/v1/admin/sites/thanhxuan", json={}, headers=auth(root))
    base = "/api/v1/admin/sites/thanhxuan/hotlines"
    put = client.put(base, json={"title": "ĐƯỜNG DÂY NÓNG", "hotlines": [
        {"label": "Tiếp công dân", "number": "024.62933647", "group": "UBND Quận"}]},
        headers=auth(root))
    assert put.status_code == 200
    assert put.get_json()["hotlines"][0]["tel"] == "+842462933647"
    added = client.post(base, json={"label": "Công an", "number": "113"}, headers=auth(root))
    assert added.status_code == 201
    assert added.get_json()["id"] == "cong-an"
    patched = client.patch(f"{base}/cong-an", json={"note": "24/7"}, headers=auth(root))
    assert patched.get_json()["note"] == "24/7"
    bad = client.patch(f"{base}/cong-an", json={"number": "xyz"}, headers=auth(root))
    assert bad.status_code == 400
    assert "number" in bad.get_json()["error"]
    assert client.delete(f"{base}/cong-an", headers=auth(root)).status_code == 204
    assert client.delete(f"{base}/cong-an", headers=auth(root)).status_code == 404
    listed = client.get(base, headers=auth(root)).get_json()
    assert [h["id"] for h in listed["hotlines"]] == ["tiep-cong-dan"]


def test_delete_with_purge_erases_the_site(client: FlaskClient, root: str,
                                           redis_server: RedisProcess) -> None:
    client.put("/api/v1/admin/sites/thanhxuan", json={}, headers=auth(root))
    post_hit(client)
    assert client.delete("/api/v1/admin/sites/thanhxuan?purge=true",
                         headers=auth(root)).status_code == 204
    with redis_server.client() as r:
        assert list(r.scan_iter(match="pw:{thanhxuan}:*")) == []
    assert client.get("/api/v1/sites/thanhxuan/stats").status_code == 404


def test_admin_app_sends_no_cors(redis_server: RedisProcess) -> None:
    client = make_app(redis_server.url).test_client()
    response = client.options("/api/v1/admin/sites", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_history_counts_todays_uniques_afresh(client: FlaskClient, root: str,
                                             store: Store) -> None:
    from service import sites

    sites.put_site(store, "thanhxuan", {})
    for i in range(3):  # three visitors within the uniques cache's few seconds
        post_hit(client, path="/", ip=f"198.51.100.{i}", token=f"visitor-{i:04d}")
    days = client.get("/api/v1/admin/sites/thanhxuan/history", headers=auth(root)
                      ).get_json()["days"]
    assert days[-1]["uniques"] == 3 and days[-1]["visits"] == 3


def test_max_pages_stored_before_its_bound_is_held_to_200000(store: Store) -> None:
    from service import sites
    from service.store.sites import load, save

    sites.put_site(store, "cu", {})
    save(store, "cu", {**(load(store, "cu") or {}), "max_pages": 1_000_000})
    assert sites.get_site(store, "cu", cached=False).max_pages == 200_000
