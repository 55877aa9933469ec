"""GET stats answered from a kept response in front of Flask (service.web.kept)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from service import sites, tokens
from service.clock import Clock
from service.hotlines import rules as hotlines
from service.provinces import groups
from service.store import Store
from service.web import kept as kept_reads
from service.web.reads import ReadCache
from tests.conftest import metric, post_hit

STATS = "/api/v1/sites/thanhxuan/stats"


def _kept(app: Flask) -> dict[object, object]:
    cache: ReadCache = app.extensions["pw_reads"]
    return {key: cache.responses.get(key) for key in cache.responses.keys()}


def _answer(client: FlaskClient, path: str = STATS,
            **headers: str) -> tuple[int, dict[str, str], bytes]:
    response = client.get(path, headers=headers)
    return response.status_code, dict(response.headers), response.get_data()


def test_a_kept_answer_is_the_views_answer_byte_for_byte(
        app: Flask, client: FlaskClient, site: sites.Site) -> None:
    post_hit(client, path="/a")
    first = _answer(client)
    assert first[0] == 200 and _kept(app)
    entered: list[int] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: entered.append(1))
    second = _answer(client)  # from the kept response: Flask is not entered
    assert second == first and entered == []
    assert _answer(client, STATS + "?x=1")[0] == 200 and entered == [1]
    assert first[1]["Access-Control-Allow-Origin"] == "*"
    assert first[1]["X-Content-Type-Options"] == "nosniff"
    assert first[1]["Cache-Control"] == "public, max-age=5"
    assert json.loads(first[2])["pageviews"]["total"] == 1


def test_a_kept_answer_lasts_only_while_its_data_is_fresh(
        client: FlaskClient, site: sites.Site) -> None:
    before = json.loads(_answer(client)[2])
    post_hit(client, path="/a")
    assert json.loads(_answer(client)[2]) == before
    time.sleep(1.05)
    assert json.loads(_answer(client)[2])["pageviews"]["total"] == 1


def test_each_origin_gets_its_own_cors_answer(
        app: Flask, client: FlaskClient, store: Store) -> None:
    sites.put_site(store, "thanhxuan", {"origins": ["https://thanhxuan.hanoi.gov.vn"],
                                        "verify_pages": False})
    cache: ReadCache = app.extensions["pw_reads"]
    asks: list[dict[str, str]] = [{"Origin": "https://thanhxuan.hanoi.gov.vn"},
                                  {"Origin": "https://evil.example"}, {}]
    from_flask = []
    for headers in asks:
        cache.responses.clear()  # each answered by Flask, as if first
        from_flask.append(_answer(client, **headers))
    entered: list[int] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: entered.append(1))
    from_kept = [_answer(client, **headers) for headers in asks]
    assert from_kept == from_flask and entered == []  # the same CORS code made both
    ok, refused, none = (answer[1] for answer in from_kept)
    assert ok["Access-Control-Allow-Origin"] == "https://thanhxuan.hanoi.gov.vn"
    assert ok["Vary"] == refused["Vary"] == none["Vary"] == "Origin"
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Origin" not in none
    # one kept answer for the path; the CORS headers are made per request
    assert list(_kept(app)) == [STATS]


def test_an_admin_change_drops_the_kept_answer_at_once(
        app: Flask, client: FlaskClient, store: Store, site: sites.Site) -> None:
    assert _answer(client)[1]["Access-Control-Allow-Origin"] == "*"
    token = tokens.create(store, "root", [], now=datetime.now(UTC))
    changed = client.put("/api/v1/admin/sites/thanhxuan",
                         json={"origins": ["https://thanhxuan.hanoi.gov.vn"],
                               "verify_pages": False},
                         headers={"Authorization": f"Bearer {token}"})
    assert changed.status_code == 200, changed.get_json()
    assert not _kept(app)
    assert "Access-Control-Allow-Origin" not in _answer(client)[1]


def test_kept_answers_are_counted_in_metrics_and_logged(
        client: FlaskClient, site: sites.Site, capsys: pytest.CaptureFixture[str]) -> None:
    route = "/api/v1/sites/<site_id>/stats"
    before = metric(client, "pw_http_requests_total", route=route, method="GET", status="200")
    capsys.readouterr()
    for _ in range(3):
        _answer(client)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["route"], x["status"], x["site"]) for x in lines] == [(route, 200, "thanhxuan")] * 3
    after = metric(client, "pw_http_requests_total", route=route, method="GET", status="200")
    assert after - before == 3


def test_what_the_view_refuses_or_questions_with_a_query_are_never_kept(
        app: Flask, client: FlaskClient, site: sites.Site) -> None:
    assert client.get("/api/v1/sites/nowhere/stats").status_code == 404
    assert client.get(STATS + "?x=1").status_code == 200
    assert client.get(STATS, headers={"Origin": "https://" + "a" * 300}).status_code == 200
    assert kept_reads.kept_routes(app) == {"/api/v1/sites/<site_id>/stats",
                                           "/api/v1/sites/<site_id>/hotlines",
                                           "/api/v1/groups/<group_id>/stats"}
    assert client.get(STATS + "/").status_code == 404  # Flask's routes: no such rule
    assert client.get("/api/v1/groups/hanoi/hotlines").status_code == 404
    assert client.get("/api/v1/sites/thanhxuan/pages/top").status_code == 200  # not marked
    assert not _kept(app)


def test_a_groups_stats_are_kept_too_and_logged_as_the_group_route(
        app: Flask, client: FlaskClient, store: Store, site: sites.Site,
        capsys: pytest.CaptureFixture[str]) -> None:
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["thanhxuan"]})
    path = "/api/v1/groups/hanoi/stats"
    first = _answer(client, path)
    assert first[0] == 200 and json.loads(first[2])["sites"][0]["site"] == "thanhxuan"
    entered: list[int] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: entered.append(1))
    capsys.readouterr()
    assert _answer(client, path) == first and entered == []
    logged = json.loads(capsys.readouterr().out)
    assert (logged["route"], logged["site"]) == ("/api/v1/groups/<group_id>/stats", None)


def test_the_hotline_box_is_kept_and_its_etag_still_answers_304(
        app: Flask, client: FlaskClient, store: Store, site: sites.Site) -> None:
    hotlines.replace(store, site, {"hotlines": [
        {"label": "Tiếp công dân", "number": "024.62933647"}]})
    path = "/api/v1/sites/thanhxuan/hotlines"
    first = _answer(client, path)
    assert first[0] == 200 and json.loads(first[2])["hotlines"][0]["tel"] == "+842462933647"
    entered: list[int] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: entered.append(1))
    assert _answer(client, path) == first and entered == []
    again = client.get(path, headers={"If-None-Match": first[1]["ETag"]})
    assert again.status_code == 304 and entered == [1]  # conditional: Flask answers
    token = tokens.create(store, "root", [], now=datetime.now(UTC))
    changed = client.put(path.replace("/sites/", "/admin/sites/"), json={"hotlines": [
        {"label": "Đường dây nóng", "number": "0868216873"}]},
        headers={"Authorization": f"Bearer {token}"})
    assert changed.status_code == 200, changed.get_json()
    assert json.loads(_answer(client, path)[2])["hotlines"][0]["label"] == "Đường dây nóng"


def test_a_response_that_varies_on_more_than_origin_is_never_kept(
        app: Flask, client: FlaskClient, site: sites.Site) -> None:
    def vary(response: Response) -> Response:
        response.vary.add("Accept-Encoding")
        return response

    app.after_request_funcs.setdefault(None, []).append(vary)
    assert _answer(client)[0] == 200
    assert not _kept(app)
    plain = [("Content-Type", "x"), ("Access-Control-Allow-Origin", "*")]
    assert kept_reads.keepable(plain) == [("Content-Type", "x")]
    assert kept_reads.keepable([("Vary", "Origin"), ("Access-Control-Allow-Origin", "https://b"),
                                ("Access-Control-Expose-Headers", "Retry-After")]) == []
    assert kept_reads.keepable([("Vary", "Origin, Cookie")]) is None
    assert kept_reads.keepable([("Set-Cookie", "a=b")]) is None


def test_invented_origins_share_one_kept_answer(
        app: Flask, client: FlaskClient, site: sites.Site) -> None:
    answers = {_answer(client, Origin=f"https://x{i}.example")[2] for i in range(50)}
    assert len(answers) == 1
    assert list(_kept(app)) == [STATS]


def test_a_read_with_a_body_goes_to_flask(
        app: Flask, client: FlaskClient, site: sites.Site) -> None:
    _answer(client)
    entered: list[int] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: entered.append(1))
    assert client.get(STATS, data=b"{}").status_code == 200 and entered == [1]
    assert client.get(STATS, data=b"x" * 70_000).status_code == 413  # read_body's answer


def test_forgetting_a_site_drops_what_its_aliases_kept() -> None:
    cache = ReadCache()

    def kept(path: str, *ids: str) -> kept_reads.Kept:
        mark = kept_reads.Mark("/api/v1/sites/<site_id>/stats", ids[0], frozenset(ids), ())
        return kept_reads.Kept("200 OK", [("Content-Type", "application/json")], b"{}", mark)

    cache.keep_response("/api/v1/sites/cu/stats", time.monotonic() + 1, kept("x", "cu", "moi"))
    cache.keep_response("/api/v1/sites/khac/stats", time.monotonic() + 1, kept("y", "khac"))
    cache.forget("moi")  # the alias `cu` answers for `moi`
    assert list(cache.responses.keys()) == ["/api/v1/sites/khac/stats"]


def test_unknown_ids_count_in_the_read_allowance(
        client: FlaskClient, site: sites.Site, clock: Clock) -> None:
    codes = [client.get(f"/api/v1/sites/khong-co-{i}/hotlines",
                        environ_base={"REMOTE_ADDR": "192.0.2.70"}).status_code
             for i in range(1201)]
    assert codes[:1200] == [404] * 1200 and codes[1200] == 429


def test_a_kept_read_over_the_allowance_is_counted_once(
        app: Flask, client: FlaskClient, site: sites.Site, clock: Clock) -> None:
    from service.allowances import READS

    def read() -> int:
        return client.get("/api/v1/sites/thanhxuan/stats",
                          environ_base={"REMOTE_ADDR": "192.0.2.71"}).status_code

    codes = [read() for _ in range(READS.count + 2)]
    assert codes[:READS.count] == [200] * READS.count and codes[READS.count:] == [429, 429]
    limits = app.extensions["pw_limits"]
    counts = limits.local(READS)._counts
    # the kept path refused the last two and Flask answered their 429 without counting again
    assert counts[limits.client("192.0.2.71")] == READS.count + 2


def test_cached_site_lookups_stay_bounded(store: Store, site: sites.Site) -> None:
    store.site_cache.max_bytes = 20_000
    for i in range(120):
        with pytest.raises(Exception, match="unknown site"):
            sites.get_site(store, f"khong-co-{i}")
    assert store.site_cache.bytes <= 20_000
    assert 10 < len(store.site_cache) < 120  # the oldest went first
    assert sites.get_site(store, "thanhxuan").id == "thanhxuan"
