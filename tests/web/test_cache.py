"""The one cache class: bounded by bytes, stale entries dropped on insert, oldest first."""

from __future__ import annotations

import gc
import time
import tracemalloc
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from service import sites, tokens
from service.cache import Cache, approx_size
from service.store import Store
from service.web.reads import ReadCache
from tests.conftest import make_app
from tests.redis_proc import RedisProcess


def test_it_keeps_values_until_they_expire() -> None:
    cache = Cache("t", 10_000)
    cache.put("a", "x", until=10.0, now=0.0)
    assert cache.get("a", now=9.9) == "x"
    assert cache.get("a", now=10.0) is None
    assert cache.entry("b", now=0.0) is None


def test_stale_entries_are_dropped_on_insert() -> None:
    cache = Cache("t", 1_000_000)
    for i in range(50):
        cache.put(i, "x" * 100, until=1.0, now=0.0)
    cache.put("new", "y", until=5.0, now=2.0)  # the 50 before it are stale by now
    assert list(cache.keys()) == ["new"]
    assert cache.bytes == approx_size("new") + approx_size("y") + 160


def test_the_budget_holds_and_the_oldest_go_first() -> None:
    cache = Cache("t", 20_000)
    for i in range(100):
        cache.put(i, "v" * 1_000, until=100.0, now=0.0)
        assert cache.bytes <= 20_000
    kept = list(cache.keys())
    assert kept == list(range(100 - len(kept), 100)) and 10 < len(kept) < 20


def test_a_value_larger_than_the_budget_is_not_kept() -> None:
    cache = Cache("t", 5_000)
    cache.put("small", "s", until=100.0, now=0.0)
    cache.put("huge", "h" * 10_000, until=100.0, now=0.0)
    assert cache.get("huge", now=1.0) is None and cache.get("small", now=1.0) == "s"


def test_replacing_and_dropping_keep_the_count_right() -> None:
    cache = Cache("t", 100_000)
    cache.put(("stats", "a"), "1" * 500, until=100.0, now=0.0)
    cache.put(("stats", "a"), "2", until=100.0, now=0.0)
    cache.put(("stats", "b"), "3", until=100.0, now=0.0)
    cache.drop(lambda key, _value: isinstance(key, tuple) and key[1] == "a")
    cache.pop(("nothing",))
    assert list(cache.keys()) == [("stats", "b")]
    assert cache.bytes == approx_size(("stats", "b")) + approx_size("3") + 160


def test_sizes_count_what_a_value_holds() -> None:
    assert approx_size("x" * 10_000) > 10_000
    assert approx_size({"pages": {f"/p/{i}": {"views": i, "title": "t" * 100}
                                  for i in range(100)}}) > 100 * 100
    assert approx_size(sites.Site(id="a", name="n" * 5_000)) > 5_000


def test_reads_of_100_path_urls_cannot_grow_a_worker_past_the_budget(
        app: Flask, client: FlaskClient, site: sites.Site) -> None:
    """The attack of the issue: every URL new, each naming 100 long paths (about 8 KB
    of URL). Unbounded, the 150 answers would keep about 5 MB here; the service's
    own allocations (the test client's are left out) stay within the budget."""
    budget = 1024 * 1024
    cache: ReadCache = app.extensions["pw_reads"]
    cache.answers.max_bytes = budget
    cache.seconds = 3600.0  # nothing goes stale meanwhile: only the budget bounds it
    service_only = [tracemalloc.Filter(True, "*/service/*")]  # allocated by its code
    gc.collect()
    tracemalloc.start(1)
    try:
        before = tracemalloc.take_snapshot().filter_traces(service_only)
        for i in range(150):
            query = "&".join(f"path={quote(f'/tin-tuc/{i:04d}/bai-viet-{j:03d}-' + 'x' * 40)}"
                             for j in range(100))
            assert len(query) < 8000
            response = client.get(f"/api/v1/sites/thanhxuan/pages?{query}",
                                  environ_base={"REMOTE_ADDR": f"198.51.{i // 200}.{i % 200}"})
            assert response.status_code == 200
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(service_only)
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert cache.answers.bytes <= budget
    assert 10 < len(cache.answers) < 150
    assert grown < budget, grown


def test_a_site_made_on_another_worker_is_found_by_admin_reads_at_once(
        app: Flask, client: FlaskClient, store: Store, site: sites.Site,
        redis_server: RedisProcess) -> None:
    """Two workers on one Redis: a miss remembered by one never hides from its admin
    routes a site the other just created; its public reads find it within a second."""
    other = make_app(redis_server.url)
    try:
        token = tokens.create(store, "root", [], now=datetime.now(UTC))
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/sites/moi/stats").status_code == 404  # a miss, remembered
        assert client.get("/api/v1/admin/sites/moi", headers=auth).status_code == 404
        assert store.site_cache.entry("moi") is not None  # this worker remembers the miss
        made = other.test_client().put("/api/v1/admin/sites/moi", headers=auth,
                                       json={"name": "Phường Mới"})
        created = time.monotonic()
        assert made.status_code == 201, made.get_json()
        grouped = other.test_client().put("/api/v1/admin/groups/hanoi", headers=auth,
                                          json={"name": "Hà Nội", "sites": ["thanhxuan", "moi"]})
        assert grouped.status_code == 201, grouped.get_json()
        # admin reads here: current at once, whatever this worker remembered
        store.site_cache.put("moi", None, time.monotonic() + 60)  # even a long-lived miss
        found = client.get("/api/v1/admin/sites/moi", headers=auth)
        assert found.status_code == 200 and found.get_json()["name"] == "Phường Mới"
        store.site_cache.put("moi", None, time.monotonic() + 60)
        ratings = client.get("/api/v1/admin/groups/hanoi/ratings", headers=auth)
        assert ratings.status_code == 200, ratings.get_json()
        assert sorted(row["site"] for row in ratings.get_json()["sites"]) == ["moi", "thanhxuan"]
        # public reads: the miss is remembered a second at most
        store.site_cache.pop("moi")
        assert client.get("/api/v1/sites/nua/stats").status_code == 404
        missed = time.monotonic()
        until = store.site_cache.entry("nua")
        assert until is not None and until[0] <= missed + sites.CACHE_SECONDS
        other.test_client().put("/api/v1/admin/sites/nua", headers=auth, json={})
        codes = []
        while time.monotonic() < created + 5:
            codes.append(client.get("/api/v1/sites/nua/stats").status_code)
            if codes[-1] == 200:
                break
            time.sleep(0.05)
        assert codes[-1] == 200 and time.monotonic() <= missed + sites.CACHE_SECONDS + 0.5
    finally:
        other.extensions["pw_store"].redis.close()
