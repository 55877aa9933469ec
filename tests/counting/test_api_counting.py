"""Public counting routes: hits, heartbeat, stats, pages, top pages."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service import sites
from service.sites import Site
from service.store import Store
from tests.conftest import BROWSER, make_app, post_hit, raw_keys
from tests.redis_proc import RedisProcess


def site_keys(server: RedisProcess, site_id: str = "thanhxuan") -> list[str]:
    return [k for k in raw_keys(server) if k.startswith(f"pw:{{{site_id}}}:")]


def test_a_hit_answers_the_stats_the_count_and_the_page(client: FlaskClient, site: Site) -> None:
    response = post_hit(client, path="/tin-tuc/a?utm=x#top", title="  Bài   A ",
                        token="tok-12345678")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["site", "online", "visits", "pageviews", "uniques", "as_of",
                          "online_window_seconds", "counted", "page"]
    assert body["counted"] is True
    assert body["page"] == {"path": "/tin-tuc/a", "views": 1}
    assert body["visits"]["total"] == 1
    assert body["as_of"].endswith("+07:00")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    pages = client.get("/api/v1/sites/thanhxuan/pages?path=/tin-tuc/a").get_json()
    assert pages == {"pages": {"/tin-tuc/a": {"views": 1, "title": "Bài A"}}}


def test_application_json_bodies_are_accepted_too(client: FlaskClient, site: Site) -> None:
    response = client.post("/api/v1/sites/thanhxuan/hits", json={"path": "/x"},
                           headers={"User-Agent": BROWSER})
    assert response.get_json()["page"]["path"] == "/x"


def test_an_empty_body_counts_the_home_page(client: FlaskClient, site: Site) -> None:
    response = client.post("/api/v1/sites/thanhxuan/hits", headers={"User-Agent": BROWSER})
    assert response.get_json()["page"] == {"path": "/", "views": 1}


@pytest.mark.parametrize("site_id", ["nosuch", "UPPER", "-bad", "a" * 64, "x_y"])
def test_it_rejects_unknown_or_malformed_sites(client: FlaskClient, site_id: str,
                                               redis_server: RedisProcess) -> None:
    response = post_hit(client, site_id)
    assert response.status_code == 404
    assert response.get_json() == {"error": "unknown site"}
    # nothing but the rate limiter's counter (pw:LIMITER/..., under the prefix too) and the
    # data layout's version, written when the app started on the empty database
    assert [k for k in raw_keys(redis_server)
            if not k.startswith("pw:LIMITER/") and k != "pw:schema"] == []


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
         "crawler"),
        ({"User-Agent": ""}, "no user agent"),
        ({"User-Agent": BROWSER, "Sec-Purpose": "prefetch;prerender"}, "prerender"),
        ({"User-Agent": BROWSER, "Purpose": "prefetch"}, "prefetch"),
        ({"User-Agent": "curl/8.5.0"}, "tool"),
    ],
)
def test_bots_and_prefetches_are_not_counted(client: FlaskClient, site: Site,
                                             redis_server: RedisProcess,
                                             headers: dict[str, str], why: str) -> None:
    post_hit(client, path="/a")  # one real view first
    before = [k for k in site_keys(redis_server) if ":rl:" not in k]
    response = client.post("/api/v1/sites/thanhxuan/hits", data='{"path": "/a"}',
                           content_type="text/plain", headers=headers,
                           environ_base={"REMOTE_ADDR": "198.51.100.1"})
    body = response.get_json()
    assert response.status_code == 200, why
    assert body["counted"] is False
    assert body["pageviews"]["total"] == 1
    assert body["page"] == {"path": "/a", "views": 1}
    # nothing counted or stored for it: only its rate-limit counter and the uniques cache
    assert [k for k in site_keys(redis_server) if ":rl:" not in k] == before


def test_another_origin_is_refused_when_origins_are_set(client: FlaskClient, store: Store,
                                                        redis_server: RedisProcess) -> None:
    sites.put_site(store, "quan", {"origins": ["https://thanhxuan.hanoi.gov.vn"],
                                   "verify_pages": False})
    before = site_keys(redis_server, "quan")
    evil = post_hit(client, "quan", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert evil.get_json() == {"error": "origin not allowed"}
    referer = post_hit(client, "quan", headers={"Referer": "https://evil.example/page"})
    assert referer.status_code == 403
    assert site_keys(redis_server, "quan") == before
    good = post_hit(client, "quan", headers={"Origin": "https://thanhxuan.hanoi.gov.vn"})
    assert good.status_code == 200
    assert good.headers["Access-Control-Allow-Origin"] == "https://thanhxuan.hanoi.gov.vn"
    assert "Origin" in good.headers["Vary"]


def test_preflight_is_answered_without_credentials(client: FlaskClient, site: Site) -> None:
    response = client.options("/api/v1/sites/thanhxuan/hits",
                              headers={"Origin": "https://a.gov.vn",
                                       "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


BAD_BODIES: list[tuple[str, str | bytes, int, str]] = [
    ("text/plain", "{not json", 400, "malformed json"),
    ("text/plain", "[1, 2]", 400, "body must be a json object"),
    ("text/plain", '"text"', 400, "body must be a json object"),
    ("text/plain", b"\xff\xfe{}", 400, "body is not utf-8"),
    ("text/plain", '{"path": NaN}', 400, "malformed json"),
    ("text/plain", "[" * 3000 + "]" * 3000, 413, "body too large"),
    ("text/plain", "[" * 2000 + "]" * 2000, 400, "malformed json"),
    ("application/x-www-form-urlencoded", "path=/a", 415,
     "body must be application/json or text/plain"),
    ("text/plain", json.dumps({"path": "/" + "a" * 5000}), 413, "body too large"),
    ("text/plain", '{"path": 5}', 400, "path must be a string of at most 2048 characters"),
    ("text/plain", '{"path": "tin-tuc"}', 400, "path must start with /"),
    ("text/plain", '{"path": "https://evil/x"}', 400, "path must start with /"),
    ("text/plain", '{"path": "/a\\u0000b"}', 400, "path must not contain control characters"),
    ("text/plain", '{"path": "/\\ud800"}', 400, "path is not valid unicode"),
    ("text/plain", '{"title": "\\udfff"}', 400, "title is not valid unicode"),
    ("text/plain", '{"title": ["x"]}', 400, "title must be a string"),
    ("text/plain", '{"token": "short"}', 400,
     "token must be 8-64 characters of letters, digits, - or _"),
    ("text/plain", '{"token": "<script>alert(1)</script>"}', 400,
     "token must be 8-64 characters of letters, digits, - or _"),
    ("text/plain", '{"referrer": 12}', 400, "referrer must be a string"),
]


@pytest.mark.parametrize(("ctype", "body", "status", "reason"), BAD_BODIES)
def test_bad_bodies_get_a_clear_4xx_and_change_nothing(
    client: FlaskClient, site: Site, redis_server: RedisProcess,
    ctype: str, body: str | bytes, status: int, reason: str,
) -> None:
    before = site_keys(redis_server)
    response = client.post("/api/v1/sites/thanhxuan/hits", data=body, content_type=ctype,
                           headers={"User-Agent": BROWSER})
    assert response.status_code == status
    assert response.get_json() == {"error": reason}
    assert site_keys(redis_server) == before


def test_leading_slashes_are_collapsed(client: FlaskClient, site: Site) -> None:
    assert post_hit(client, path="//evil.example/x").get_json()["page"]["path"] == "/evil.example/x"


def test_long_paths_and_titles_are_cut(client: FlaskClient, site: Site) -> None:
    body = post_hit(client, path="/" + "đ" * 600, title="T" * 300).get_json()
    assert len(body["page"]["path"]) == 512
    pages = client.get("/api/v1/sites/thanhxuan/pages", query_string={"path": body["page"]["path"]})
    assert len(pages.get_json()["pages"][body["page"]["path"]]["title"]) == 200


def test_forwarded_for_is_ignored_by_default(client: FlaskClient, site: Site) -> None:
    for forwarded in ("1.1.1.1", "2.2.2.2"):
        post_hit(client, path="/a", headers={"X-Forwarded-For": forwarded})
    stats = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["visits"]["total"] == 1


def test_forwarded_for_is_trusted_through_the_configured_hops(redis_server: RedisProcess,
                                                              store: Store) -> None:
    sites.put_site(store, "proxied", {})
    app = make_app(redis_server.url, PW_TRUSTED_PROXIES="1")
    client = app.test_client()
    for forwarded in ("1.1.1.1", "2.2.2.2", "2.2.2.2"):
        post_hit(client, "proxied", path="/a", headers={"X-Forwarded-For": forwarded})
    assert client.get("/api/v1/sites/proxied/stats").get_json()["visits"]["total"] == 2


def test_the_browser_token_separates_people_behind_one_address(client: FlaskClient,
                                                               site: Site) -> None:
    for token in ("browser-aaaa", "browser-bbbb", "browser-aaaa"):
        post_hit(client, path="/a", token=token)
    stats = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["visits"]["total"] == 2
    assert stats["uniques"]["today"] == 2


def test_no_raw_ip_user_agent_or_token_is_stored(client: FlaskClient, site: Site,
                                                 redis_server: RedisProcess) -> None:
    post_hit(client, path="/a", ip="203.0.113.99", token="secret-browser-token")
    text = redis_server.dump()
    assert b"/a" in text  # the scan sees stored values
    for secret in (b"203.0.113.99", b"secret-browser-token", b"Chrome/131"):
        assert secret not in text


def test_heartbeat_is_204_and_counts_nothing(client: FlaskClient, site: Site) -> None:
    post_hit(client, path="/a")
    response = client.post("/api/v1/sites/thanhxuan/heartbeat", data='{"path": "/a"}',
                           content_type="text/plain", headers={"User-Agent": BROWSER},
                           environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 204
    assert client.get("/api/v1/sites/thanhxuan/stats").get_json()["pageviews"]["total"] == 1


def test_stats_is_read_only(client: FlaskClient, site: Site, redis_server: RedisProcess) -> None:
    before = site_keys(redis_server)
    body = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert body["visits"] == {"today": 0, "week": 0, "month": 0, "year": 0, "total": 0}
    assert body["online"] == 0
    assert site_keys(redis_server) == before


def test_pages_takes_at_most_100_paths(client: FlaskClient, site: Site) -> None:
    ok = client.get("/api/v1/sites/thanhxuan/pages",
                    query_string={"path": [f"/{i}" for i in range(100)]})
    assert ok.status_code == 200
    assert len(ok.get_json()["pages"]) == 100
    too_many = client.get("/api/v1/sites/thanhxuan/pages",
                          query_string={"path": [f"/{i}" for i in range(101)]})
    assert too_many.status_code == 400
    assert client.get("/api/v1/sites/thanhxuan/pages").status_code == 400


@pytest.mark.parametrize(
    ("query", "status"),
    [("period=month&limit=5", 200), ("period=decade", 400), ("limit=0", 400),
     ("limit=51", 400), ("limit=abc", 400), ("", 200)],
)
def test_top_pages_validates_its_query(client: FlaskClient, site: Site, query: str,
                                       status: int) -> None:
    response = client.get(f"/api/v1/sites/thanhxuan/pages/top?{query}")
    assert response.status_code == status
    if status == 200:
        assert response.get_json() == {"pages": []}


def test_top_pages_lists_titles_and_views(client: FlaskClient, site: Site) -> None:
    post_hit(client, path="/a", title="A", ip="10.0.0.1")
    post_hit(client, path="/a", title="A", ip="10.0.0.2")
    post_hit(client, path="/b", title="B", ip="10.0.0.1")
    top = client.get("/api/v1/sites/thanhxuan/pages/top?period=today&limit=1").get_json()
    assert top == {"pages": [{"path": "/a", "title": "A", "views": 2}]}


def test_hits_are_rate_limited_per_ip_with_retry_after(client: FlaskClient, site: Site) -> None:
    statuses = []
    for _ in range(601):
        statuses.append(client.post("/api/v1/sites/thanhxuan/heartbeat",
                                    environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code)
    assert statuses[:600] == [204] * 600
    assert statuses[600] == 429
    limited = client.post("/api/v1/sites/thanhxuan/heartbeat",
                          environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert limited.get_json() == {"error": "rate limited"}
    assert int(limited.headers["Retry-After"]) > 0
    other = client.post("/api/v1/sites/thanhxuan/heartbeat",
                        environ_base={"REMOTE_ADDR": "192.0.2.51"})
    assert other.status_code == 204


def test_concurrent_requests_through_the_app_are_exact(app: Any, site: Site) -> None:
    def worker(n: int) -> None:
        local = app.test_client()
        for i in range(25):
            assert post_hit(local, path=f"/p{i % 3}", ip=f"10.1.{n}.{i}").status_code == 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = app.test_client().get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["visits"]["total"] == 200
    assert stats["pageviews"]["total"] == 200


def test_hits_answer_a_fast_503_when_redis_hangs(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "r").start()
    try:
        app = make_app(server.url)
        client = app.test_client()
        with app.app_context():
            from service.store import get_store

            sites.put_site(get_store(), "thanhxuan", {})
        assert post_hit(client).status_code == 200
        server.pause()
        started = time.monotonic()
        response = post_hit(client, path="/b")
        assert time.monotonic() - started < 2.0
        assert response.status_code == 503
        assert response.get_json() == {"error": "storage unavailable"}
        assert response.headers["Retry-After"]
        server.resume()
        body = post_hit(client, path="/c").get_json()
        # The timed-out request may still have reached Redis (it was queued while paused) and
        # the client retried it once: whatever happened, /b counts at most once.
        views_b = client.get("/api/v1/sites/thanhxuan/pages?path=/b").get_json()
        assert views_b["pages"]["/b"]["views"] in (0, 1)
        assert body["pageviews"]["total"] == 2 + views_b["pages"]["/b"]["views"]
    finally:
        server.stop()
