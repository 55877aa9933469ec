"""Groups of sites: admin CRUD (tokens for all sites only), the public roll-up, its widget."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from service import sites, tokens
from service.counting import figures, visits
from service.provinces import groups, merges
from service.store import Store
from tests.conftest import at, raw_keys

T0 = at("2026-11-26T10:00:00+07:00")


@pytest.fixture
def root(store: Store) -> str:
    return tokens.create(store, "root", [], now=datetime.now(UTC))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_sites(store: Store, *ids: str) -> None:
    for site_id in ids:
        sites.put_site(store, site_id, {"name": f"Phường {site_id}"})


def put(client: FlaskClient, token: str, group_id: str, body: Any) -> Any:
    return client.put(f"/api/v1/admin/groups/{group_id}", data=json.dumps(body),
                      content_type="application/json", headers=auth(token))


def test_groups_are_created_read_listed_replaced_and_deleted(client: FlaskClient, store: Store,
                                                             root: str) -> None:
    make_sites(store, "thanhxuan", "caugiay", "badinh")
    created = put(client, root, "hanoi", {"name": "Hà Nội", "sites": ["thanhxuan", "caugiay",
                                                                      "thanhxuan"]})
    assert created.status_code == 201
    assert created.get_json() == {"id": "hanoi", "name": "Hà Nội",
                                  "sites": ["thanhxuan", "caugiay"]}
    assert created.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in created.headers
    replaced = put(client, root, "hanoi", {"name": "Hà Nội", "sites": ["badinh"]})
    assert replaced.status_code == 200
    assert client.get("/api/v1/admin/groups/hanoi", headers=auth(root)).get_json()["sites"] == [
        "badinh"]
    assert client.get("/api/v1/admin/groups", headers=auth(root)).get_json() == {
        "groups": [{"id": "hanoi", "name": "Hà Nội", "sites": ["badinh"]}]}
    assert client.delete("/api/v1/admin/groups/hanoi", headers=auth(root)).status_code == 204
    assert client.get("/api/v1/admin/groups/hanoi", headers=auth(root)).status_code == 404
    assert client.get("/api/v1/admin/groups", headers=auth(root)).get_json() == {"groups": []}
    assert sites.exists(store, "badinh")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "X", "sites": ["thanhxuan", "nosuch"]}, "unknown site: nosuch"),
        ({"name": "X", "sites": "thanhxuan"}, "sites must be a list of at most 500 site ids"),
        ({"name": "X"}, "sites must be a list of at most 500 site ids"),
        ({"name": "X", "sites": [5]}, "sites must be a list of site ids"),
        ({"name": "X", "sites": ["Bad Id"]}, "sites must be a list of site ids"),
        ({"name": "", "sites": []}, "name must be 1-200 characters"),
        ({"name": "X" * 201, "sites": []}, "name must be 1-200 characters"),
        ({"name": "X", "sites": [], "colour": "red"}, "unknown field: colour"),
        (["thanhxuan"], "body must be a json object"),
        ({"name": "X", "sites": ["thanhxuan"] * 501},
         "sites must be a list of at most 500 site ids"),
    ],
)
def test_bad_groups_are_400_and_store_nothing(client: FlaskClient, store: Store, root: str,
                                              redis_server: Any, body: Any,
                                              error: str) -> None:
    make_sites(store, "thanhxuan")
    before = raw_keys(redis_server)
    response = put(client, root, "hanoi", body)
    assert response.status_code == 400
    assert response.get_json() == {"error": error}
    assert raw_keys(redis_server) == before


def test_bad_group_ids(client: FlaskClient, store: Store, root: str) -> None:
    assert put(client, root, "-x", {"sites": []}).get_json() == {
        "error": "group id must match ^[a-z0-9][a-z0-9-]{0,62}$"}
    assert client.get("/api/v1/groups/nosuch/stats").status_code == 404
    assert client.get("/api/v1/groups/-x/stats").get_json() == {"error": "unknown group"}
    assert client.delete("/api/v1/admin/groups/nosuch", headers=auth(root)).status_code == 404


def test_group_routes_need_a_token_for_all_sites(client: FlaskClient, store: Store) -> None:
    make_sites(store, "thanhxuan")
    scoped = tokens.create(store, "ward", ["thanhxuan"], now=datetime.now(UTC))
    assert client.get("/api/v1/admin/groups").status_code == 401
    for method, body in (("get", None), ("put", {"name": "X", "sites": ["thanhxuan"]}),
                         ("delete", None)):
        response = getattr(client, method)("/api/v1/admin/groups/hanoi", json=body,
                                           headers=auth(scoped))
        assert response.status_code == 403, method
    assert client.get("/api/v1/admin/groups", headers=auth(scoped)).status_code == 403
    assert groups.list_groups(store) == []


def test_the_roll_up_sums_public_figures_and_ranks_sites_by_month(
        client: FlaskClient, store: Store, root: str) -> None:
    make_sites(store, "a", "b", "c")
    now = datetime.now(UTC)
    a, b = sites.get_site(store, "a"), sites.get_site(store, "b")
    for i in range(3):
        visits.record_hit(store, a, visitor=f"a{i}", path="/", title="", now=now)
    visits.record_hit(store, b, visitor="b0", path="/", title="", now=now)
    figures.set_baselines(store, b, {"visits": {"total": 100, "month": 10}}, now=now)
    put(client, root, "hanoi", {"name": "Hà Nội", "sites": ["a", "b", "c"]})
    response = client.get("/api/v1/groups/hanoi/stats")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["group"] == "hanoi" and body["name"] == "Hà Nội"
    assert body["online"] == 4
    assert body["visits"] == {"today": 4, "week": 4, "month": 14, "year": 4, "total": 104}
    assert body["pageviews"]["total"] == 4
    assert body["uniques"]["today"] == 4
    assert [s["site"] for s in body["sites"]] == ["b", "a", "c"]  # 11, 3, 0 this month
    assert body["sites"][0] == {
        "site": "b", "name": "Phường b", "online": 1,
        "visits": {"today": 1, "week": 1, "month": 11, "year": 1, "total": 101},
        "pageviews": {"today": 1, "week": 1, "month": 1, "year": 1, "total": 1}}
    assert body["as_of"].endswith("+07:00")


def test_the_roll_up_is_cached_up_to_5_seconds(store: Store, root: str) -> None:
    make_sites(store, "a")
    groups.put_group(store, "hanoi", {"name": "HN", "sites": ["a"]})
    now = datetime.now(UTC)
    assert groups.stats(store, "hanoi", now=now)["visits"]["total"] == 0
    visits.record_hit(store, sites.get_site(store, "a"), visitor="x", path="/", title="",
                      now=now)
    assert groups.stats(store, "hanoi", now=now)["visits"]["total"] == 0  # cached
    found = store.group_cache.entry("hanoi")
    assert found is not None
    expires, value = found
    assert expires - 5.0 <= time.monotonic()
    store.group_cache.put("hanoi", value, 0.0)  # 5 s later
    assert groups.stats(store, "hanoi", now=now)["visits"]["total"] == 1


def test_an_alias_and_its_target_in_one_group_count_once(store: Store) -> None:
    make_sites(store, "cu", "moi")
    now = datetime.now(UTC)
    visits.record_hit(store, sites.get_site(store, "cu"), visitor="x", path="/", title="",
                      now=now)
    visits.record_hit(store, sites.get_site(store, "moi"), visitor="y", path="/", title="",
                      now=now)
    groups.put_group(store, "tinh", {"name": "Tỉnh", "sites": ["cu", "moi"]})
    merges.merge(store, "cu", "moi", now=now, settle_seconds=0)
    store.group_cache.clear()
    store.site_cache.clear()
    body = groups.stats(store, "tinh", now=now)
    assert body["visits"]["total"] == 2
    assert [s["site"] for s in body["sites"]] == ["moi"]


def count_round_trips(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    sent = {"n": 0}
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        sent["n"] += 1
        original(self, command, check_health)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return sent


def test_fifty_sites_roll_up_in_a_few_round_trips(store: Store, redis_server: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [f"xa-{i:02d}" for i in range(50)]
    make_sites(store, *ids)
    now = datetime.now(UTC)
    for site_id in ids:
        visits.record_hit(store, sites.get_site(store, site_id), visitor="v", path="/",
                          title="", now=now)
    groups.put_group(store, "tinh", {"name": "Tỉnh", "sites": ids})
    store.site_cache.clear()
    store.group_cache.clear()
    sent = count_round_trips(monkeypatch)
    body = groups.stats(store, "tinh", now=now)
    assert body["visits"]["total"] == 50
    assert len(body["sites"]) == 50
    # group document, member settings (one pipeline), figures (one pipeline; a plain
    # pipeline checks its scripts first; a cluster's sends one batch per master)
    masters = 3 if "cluster" in redis_server.url else 1
    assert sent["n"] <= 2 + 2 * masters
    sent["n"] = 0
    groups.stats(store, "tinh", now=now + timedelta(seconds=1))
    assert sent["n"] == 0


def test_the_group_counter_page(client: FlaskClient, store: Store) -> None:
    sites.put_site(store, "a", {"origins": ["https://a.gov.vn"], "verify_pages": False})
    sites.put_site(store, "b", {"origins": ["https://b.gov.vn"], "verify_pages": False})
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["a", "b"]})
    now = datetime.now(UTC)
    visits.record_hit(store, sites.get_site(store, "a"), visitor="x", path="/", title="",
                      now=now)
    figures.set_baselines(store, sites.get_site(store, "b"), {"visits": {"total": 12380046}},
                          now=now)
    page = client.get("/widgets/groups/hanoi/counter.html")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tổng số truy cập: <span class=\"n\">12.380.047</span>" in html
    assert "Hà Nội" in html
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors https://a.gov.vn https://b.gov.vn" in csp
    english = client.get("/widgets/groups/hanoi/counter.html?lang=en").get_data(as_text=True)
    assert "Total visits: <span class=\"n\">12,380,047</span>" in english
    assert client.get("/widgets/groups/nosuch/counter.html").status_code == 404


def test_the_group_report(client: FlaskClient, store: Store, root: str) -> None:
    make_sites(store, "a", "b")
    now = datetime.now(UTC)
    for site_id, n in (("a", 2), ("b", 1)):
        for i in range(n):
            visits.record_hit(store, sites.get_site(store, site_id), visitor=f"{site_id}{i}",
                              path="/", title="", now=now)
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["a", "b"]})
    month = datetime.now(sites.get_site(store, "a").tz).strftime("%Y-%m")
    csv = client.get(f"/api/v1/admin/groups/hanoi/report?month={month}",
                     headers={**auth(root), "Accept": "text/csv"})
    assert csv.status_code == 200
    assert csv.headers["Content-Disposition"] == (
        f'attachment; filename="bao-cao-hanoi-{month}.csv"')
    rows = csv.get_data(as_text=True).splitlines()
    assert rows[0] == "\ufeffNgày,Lượt truy cập,Lượt xem trang,Khách (ước tính)"
    assert sum(int(r.split(",")[1]) for r in rows[1:]) == 3
    xlsx = client.get("/api/v1/admin/groups/hanoi/report", headers=auth(root))
    assert xlsx.status_code == 200
    assert xlsx.mimetype == ("application/vnd.openxmlformats-officedocument"
                             ".spreadsheetml.sheet")
    assert xlsx.data[:2] == b"PK"
    scoped = tokens.create(store, "ward", ["a"], now=now)
    assert client.get("/api/v1/admin/groups/hanoi/report",
                      headers=auth(scoped)).status_code == 403
    assert client.get("/api/v1/admin/groups/nosuch/report",
                      headers=auth(root)).status_code == 404


def test_the_public_group_page_needs_public_stats_on_every_member(client: FlaskClient,
                                                                  store: Store) -> None:
    sites.put_site(store, "a", {"name": "Phường A", "public_stats": True,
                                "origins": ["https://a.gov.vn"], "verify_pages": False})
    sites.put_site(store, "b", {"name": "Phường B"})
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["a", "b"]})
    now = datetime.now(UTC)
    for site_id, n in (("a", 2), ("b", 3)):
        for i in range(n):
            visits.record_hit(store, sites.get_site(store, site_id), visitor=f"{site_id}{i}",
                              path=f"/tin/{site_id}", title=f"Tin {site_id}", now=now)
    assert client.get("/stats/groups/hanoi").status_code == 404
    sites.put_site(store, "b", {"public_stats": True, "origins": ["https://b.gov.vn"],
                                "verify_pages": False})
    store.group_cache.clear()
    page = client.get("/stats/groups/hanoi")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hà Nội" in html
    assert "<dt>Tổng số truy cập</dt><dd>5</dd>" in html
    ranking = html[html.index('id="sites-h"'):]
    assert ranking.index("Phường B") < ranking.index("Phường A")  # 3 visits, then 2
    assert "Tin b" in html and "Tin a" in html
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors https://a.gov.vn https://b.gov.vn" in csp
    assert "Portals, ranked" in client.get("/stats/groups/hanoi?lang=en").get_data(
        as_text=True)
    assert client.get("/stats/groups/nosuch").status_code == 404
