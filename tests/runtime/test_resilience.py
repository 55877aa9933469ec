"""Resilience: outages, script flushes, restarts, durability, cluster slots, hostile input."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis.crc import key_slot

from service import sites
from service.counting import visits
from service.counting.periods import periods_of
from service.polls import rules as polls
from service.store import Store, counters, get_store
from service.store import polls as poll_store
from service.store.keys import Keys
from service.store.pages import PageWrite
from tests.conftest import BROWSER, fresh_window, make_app, metric, post_hit
from tests.redis_proc import RedisProcess

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def test_every_script_key_set_is_in_one_cluster_slot(store: Store) -> None:
    p = periods_of(NOW, sites.Site(id="x").tz)
    keys, _ = counters.hit_call(store, counters.HitWrite(
        site="thanhxuan", periods=p, now_ms=0, window_ms=300_000, visitor="v", request_id="r",
        page=PageWrite("/", "", "a", True, 10), session_s=1800, dedupe_s=600,
        rate=counters.Rate("hit", "a", 600, 60_000))).encoded()
    groups = {
        "hit": keys,
        "stats": counters._stat_keys(store, "thanhxuan", p),
        "vote": poll_store.poll_keys(store, "thanhxuan", "p1"),
        "heartbeat": [Keys().online("thanhxuan")],
        "poll delete": [*poll_store.poll_keys(store, "thanhxuan", "p1"),
                        Keys().polls("thanhxuan")],
    }
    for name, key_set in groups.items():
        assert len({key_slot(k.encode()) for k in key_set}) == 1, name
    assert key_slot(b"pw:{thanhxuan}:total") != key_slot(b"pw:{caugiay}:total")


@pytest.fixture
def private(tmp_path: Path) -> Any:
    server = RedisProcess(tmp_path / "r", "--appendonly", "yes", "--appendfsync", "always")
    server.start()
    app = make_app(server.url)
    with app.app_context():
        site, _ = sites.put_site(get_store(), "thanhxuan", {})
        polls.create(get_store(), site, {"id": "p", "question": "Q", "options": ["A", "B"]},
                     now=datetime.now(UTC))
    yield server, app
    server.stop()


def _vote(client: FlaskClient, token: str, ip: str) -> int:
    ticket = client.get("/api/v1/sites/thanhxuan/polls/p").get_json()["ticket"]
    return int(client.post("/api/v1/sites/thanhxuan/polls/p/votes",
                           json={"options": ["o1"], "ticket": ticket, "token": token},
                           environ_base={"REMOTE_ADDR": ip}).status_code)


def test_scripts_survive_script_flush(private: Any) -> None:
    server, app = private
    client = app.test_client()
    assert post_hit(client, path="/a").status_code == 200
    with server.client() as r:
        r.script_flush()
    assert post_hit(client, path="/b").get_json()["pageviews"]["total"] == 2
    assert _vote(client, "browser-0001", "10.0.0.1") == 201


def test_acknowledged_hits_and_votes_survive_kill_9_with_appendfsync_always(private: Any) -> None:
    server, app = private
    client = app.test_client()
    for i in range(20):
        assert post_hit(client, path=f"/p{i}", ip=f"10.0.1.{i}").status_code == 200
    for i in range(5):
        assert _vote(client, f"browser-{i:04d}", f"10.0.2.{i}") == 201
    server.kill()
    server.start()  # same dir: the append-only file is replayed
    stats = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["pageviews"]["total"] == 20
    assert stats["visits"]["total"] == 20
    with server.client() as r:
        assert r.hget("pw:{thanhxuan}:poll:p:tally", "_total") == "5"


def test_a_redis_outage_gives_fast_503s_and_the_service_recovers(private: Any) -> None:
    server, app = private
    client = app.test_client()
    assert post_hit(client, path="/before").status_code == 200
    server.stop()
    for method, url, kwargs in [
        ("post", "/api/v1/sites/thanhxuan/hits", {"data": "{}", "content_type": "text/plain"}),
        ("get", "/api/v1/sites/thanhxuan/stats", {}),
        ("get", "/api/v1/sites/thanhxuan/hotlines", {}),
        ("get", "/api/v1/sites/thanhxuan/polls/p", {}),
        ("get", "/readyz", {}),
    ]:
        started = time.monotonic()
        response = getattr(client, method)(url, headers={"User-Agent": BROWSER},
                                           environ_base={"REMOTE_ADDR": "10.0.3.1"}, **kwargs)
        assert time.monotonic() - started < 2.0, url
        assert response.status_code == 503, url
        assert response.get_json() == {"error": "storage unavailable"}
        assert response.headers["Retry-After"] == "5", (url, response.headers)
    assert client.get("/healthz").status_code == 200
    server.start()
    assert client.get("/readyz").status_code == 200
    assert post_hit(client, path="/after").get_json()["pageviews"]["total"] == 2


def test_the_rate_limiter_keeps_limiting_from_memory_during_an_outage(private: Any) -> None:
    server, app = private
    clock = fresh_window(app)
    client = app.test_client()
    server.stop()
    codes = [client.post("/api/v1/sites/thanhxuan/hotlines/h/clicks",
                         environ_base={"REMOTE_ADDR": "10.0.4.1"}).status_code
             for _ in range(121)]
    assert 500 not in codes
    assert codes[:120] == [503] * 120  # the route answers 503; the limiter counts in memory
    assert codes[120] == 429
    clock.advance(60)  # the next window, in memory too
    assert client.post("/api/v1/sites/thanhxuan/hotlines/h/clicks",
                       environ_base={"REMOTE_ADDR": "10.0.4.1"}).status_code == 503
    # votes and hits keep their limits in Redis, inside their own scripts: while Redis is
    # down there is nothing to protect, and every attempt is an honest 503
    votes = {client.post("/api/v1/sites/thanhxuan/polls/p/votes", json={},
                         environ_base={"REMOTE_ADDR": "10.0.4.2"}).status_code
             for _ in range(12)}
    assert votes == {503}


@pytest.mark.slow
def test_a_site_with_60000_paths_keeps_max_pages_and_stays_open_to_new_articles(
        client: FlaskClient, store: Store, site: sites.Site) -> None:
    p = periods_of(NOW, site.tz)
    ms = int(NOW.timestamp() * 1000)
    for start in range(0, 60_000, 5000):
        pipe = store.redis.pipeline(transaction=False)
        for i in range(start, start + 5000):
            keys, args = counters.hit_call(store, counters.HitWrite(
                site=site.id, periods=p, now_ms=ms, window_ms=300_000, visitor=f"v{i}",
                request_id=f"r{i}", page=PageWrite(f"/tin/{i}", "", f"a{i}", True,
                                                   site.max_pages),
                session_s=1800, dedupe_s=600,
                rate=counters.Rate("hit", f"a{i}", 600, 60_000))).encoded()
            store.scripts.hit(keys=keys, args=args, client=pipe)
        pipe.execute()
    assert store.redis.zcard("pw:{thanhxuan}:pv") == 50_000
    assert store.redis.hlen("pw:{thanhxuan}:paths") == 50_000

    def evicted_metric() -> float:
        return metric(client, "pw_pages_evicted_total", site="thanhxuan")

    before = evicted_metric()
    for i in range(5):  # new articles are tracked: each takes a least-viewed page's place
        assert post_hit(client, path=f"/moi/{i}", ip=f"10.5.0.{i}").get_json()["page"] == {
            "path": f"/moi/{i}", "views": 1}
    assert evicted_metric() == before + 5
    assert store.redis.zcard("pw:{thanhxuan}:pv") == 50_000
    assert store.redis.hlen("pw:{thanhxuan}:paths") == 50_000
    stats = visits.read_stats(store, site, now=NOW)
    assert stats["pageviews"]["total"] == 60_005


HITS = "/api/v1/sites/thanhxuan/hits"


def _body(data: str | bytes, ctype: str = "text/plain") -> dict[str, Any]:
    return {"data": data, "content_type": ctype}


NASTY: list[tuple[str, str, dict[str, Any], int]] = [
    ("post", HITS, _body(b"\x00\x01\x02"), 400),
    ("post", HITS, _body(b'{"path": "/\xc3\x28"}'), 400),  # invalid UTF-8
    ("post", HITS, _body('{"path": "/' + "a" * 10240 + '"}'), 413),  # a 10 KB path
    ("post", HITS, _body('{"a":' * 500 + "1" + "}" * 500), 400),  # deep JSON
    ("post", HITS, _body("{}", "application/xml"), 415),
    ("post", HITS, _body("{}", "multipart/form-data; boundary=x"), 415),
    ("post", HITS, _body("x" * (70 * 1024)), 413),
    ("get", HITS, {}, 405),
    ("put", "/api/v1/sites/thanhxuan/stats", {}, 405),
    ("delete", "/api/v1/sites/thanhxuan/polls/p", {}, 405),
    ("get", "/api/v1/sites/than%00xuan/stats", {}, 404),
    ("get", "/api/v1/sites/%E0%A4%A/stats", {}, 404),
    ("get", "/api/v1/sites/thanhxuan/pages?path=%FF%FE", {}, 400),
    ("get", "/api/v1/sites/thanhxuan/pages?path=/" + "a" * 10240, {}, 400),
    ("get", "/api/v1/sites/thanhxuan/pages/top?limit=99999999999999999999", {}, 400),
    ("get", "/api/v1/sites/thanhxuan/polls/%00", {}, 404),
    ("post", "/api/v1/sites/thanhxuan/polls/p/votes", _body("[]"), 400),
    ("post", "/api/v1/sites/thanhxuan/hotlines/..%2F..%2Fx/clicks", {}, 404),
    ("get", "/widgets/thanhxuan/poll.html?poll=%00", {}, 404),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "status"), NASTY)
def test_nasty_input_is_a_4xx_and_stores_nothing(client: FlaskClient, store: Store,
                                                 site: sites.Site, redis_server: Any,
                                                 method: str, url: str, kwargs: dict[str, Any],
                                                 status: int) -> None:
    polls.create(store, site, {"id": "p", "question": "Q", "options": ["A", "B"]},
                 now=datetime.now(UTC))
    before = sorted(k for k in redis_server.client().scan_iter(match="pw:*")
                    if not k.startswith("pw:LIMITER/"))  # the rate limiter's counters
    response = getattr(client, method)(url, headers={"User-Agent": BROWSER}, **kwargs)
    assert response.status_code == status
    assert response.is_json
    assert set(response.get_json()) == {"error"}
    after = sorted(k for k in redis_server.client().scan_iter(match="pw:*")
                   if not k.startswith("pw:LIMITER/"))  # the rate limiter's counters
    assert after == before
