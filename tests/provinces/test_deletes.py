"""Deleting is explicit: without purge the data is kept and the id stays taken; with purge
every key of the site goes, merge markers included, also for a site deleted earlier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from service import sites, tokens
from service.counting import visits
from service.errors import Conflict, NotFound
from service.provinces import merges
from service.store import Store
from tests.conftest import at, post_hit, raw_keys
from tests.redis_proc import RedisProcess

T0 = at("2026-11-26T10:00:00+07:00")


@pytest.fixture
def root(store: Store) -> str:
    return tokens.create(store, "root", [], now=datetime.now(UTC))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def counted(store: Store, site_id: str, visitors: int) -> None:
    site = sites.get_site(store, site_id, cached=False)
    for i in range(visitors):
        assert visits.record_hit(store, site, visitor=f"v{i}", path="/tin-tuc/a", title="Tin",
                                 now=T0) is not None


def test_a_site_created_again_after_a_delete_does_not_get_the_old_counts(
        client: FlaskClient, root: str, store: Store) -> None:
    base = "/api/v1/admin/sites/thanhxuan"
    assert client.put(base, json={"name": "Quận Thanh Xuân"}, headers=auth(root)).status_code \
        == 201
    for i in range(3):
        post_hit(client, path="/tin-tuc/a", ip=f"198.51.100.{i}", token=f"visitor-{i:04d}")
    assert client.delete(base, headers=auth(root)).status_code == 204
    again = client.put(base, json={"name": "Quận Thanh Xuân"}, headers=auth(root))
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert "--purge" in error and "restore" in error
    assert not sites.exists(store, "thanhxuan")
    # the kept data is still there, untouched
    assert store.redis.hget(store.keys.total("thanhxuan"), "p") == "3"
    assert client.get("/api/v1/sites/thanhxuan/stats").status_code == 404


def test_the_command_line_refuses_a_deleted_id_and_names_the_ways_out(
        store: Store) -> None:
    sites.put_site(store, "thanhxuan", {})
    counted(store, "thanhxuan", 2)
    sites.delete_site(store, "thanhxuan")
    with pytest.raises(Conflict) as refused:
        sites.put_site(store, "thanhxuan", {})
    assert "site delete thanhxuan --purge" in refused.value.reason
    assert "site restore thanhxuan" in refused.value.reason


def test_restore_brings_the_site_back_with_its_data(store: Store) -> None:
    sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân", "max_pages": 900})
    counted(store, "thanhxuan", 4)
    sites.delete_site(store, "thanhxuan")
    with pytest.raises(NotFound):
        sites.get_site(store, "thanhxuan", cached=False)
    back = sites.restore_site(store, "thanhxuan")
    assert (back.name, back.max_pages) == ("Quận Thanh Xuân", 900)
    stats = visits.read_stats(store, back, now=T0)
    assert stats["pageviews"]["total"] == 4
    assert [s.id for s in sites.list_sites(store)] == ["thanhxuan"]
    assert store.redis.exists(store.keys.deleted("thanhxuan")) == 0
    with pytest.raises(NotFound):
        sites.restore_site(store, "thanhxuan")


def test_purge_erases_a_site_deleted_earlier_without_it(
        client: FlaskClient, root: str, store: Store, redis_server: RedisProcess) -> None:
    sites.put_site(store, "thanhxuan", {})
    sites.put_site(store, "caugiay", {})
    counted(store, "thanhxuan", 3)
    counted(store, "caugiay", 1)
    before_other = sorted(k for k in raw_keys(redis_server) if "{caugiay}" in k)
    assert client.delete("/api/v1/admin/sites/thanhxuan", headers=auth(root)).status_code == 204
    assert client.delete("/api/v1/admin/sites/thanhxuan", headers=auth(root)).status_code == 404
    assert client.delete("/api/v1/admin/sites/thanhxuan?purge=1",
                         headers=auth(root)).status_code == 204
    assert [k for k in raw_keys(redis_server) if "{thanhxuan}" in k] == []
    assert sorted(k for k in raw_keys(redis_server) if "{caugiay}" in k) == before_other
    # the id is free again, and starts from nothing
    assert client.put("/api/v1/admin/sites/thanhxuan", json={},
                      headers=auth(root)).status_code == 201
    assert client.get("/api/v1/sites/thanhxuan/stats").get_json()["pageviews"]["total"] == 0
    # nothing left to purge: 404
    assert client.delete("/api/v1/admin/sites/nosuch?purge=1",
                         headers=auth(root)).status_code == 404


def test_purging_a_merged_alias_removes_the_merge_marker_in_the_target(
        store: Store, redis_server: RedisProcess) -> None:
    sites.put_site(store, "phuong-a", {})
    sites.put_site(store, "phuong-b", {})
    counted(store, "phuong-a", 2)
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    marker = store.keys.merge_progress("phuong-b", "phuong-a")
    assert store.redis.exists(marker) == 1
    # without purge the marker stays with the kept data; the purge later takes both
    sites.delete_site(store, "phuong-a")
    assert store.redis.exists(marker) == 1
    assert store.redis.smembers(store.keys.aliases("phuong-b")) == set()
    sites.delete_site(store, "phuong-a", purge=True)
    assert store.redis.exists(marker) == 0
    assert [k for k in raw_keys(redis_server) if "{phuong-a}" in k] == []
    # the target keeps what was merged into it
    target = sites.get_site(store, "phuong-b", cached=False)
    assert visits.read_stats(store, target, now=T0)["pageviews"]["total"] == 2
    # the id may be created and merged again: its new visits count once more, no step skipped
    sites.put_site(store, "phuong-a", {})
    counted(store, "phuong-a", 1)
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    assert visits.read_stats(store, target, now=T0)["pageviews"]["total"] == 3


def test_the_target_of_a_merge_cannot_be_deleted(store: Store) -> None:
    sites.put_site(store, "phuong-a", {})
    sites.put_site(store, "phuong-b", {})
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    for purge in (False, True):
        with pytest.raises(Conflict):
            sites.delete_site(store, "phuong-b", purge=purge)
    assert sites.exists(store, "phuong-b")


def test_a_restored_alias_counts_into_its_target_again(store: Store) -> None:
    sites.put_site(store, "phuong-a", {})
    sites.put_site(store, "phuong-b", {})
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    sites.delete_site(store, "phuong-a")
    assert store.redis.smembers(store.keys.aliases("phuong-b")) == set()
    back = sites.restore_site(store, "phuong-a")
    assert back.merged_into == "phuong-b"
    assert store.redis.smembers(store.keys.aliases("phuong-b")) == {"phuong-a"}
    assert sites.resolve_public(store, "phuong-a").id == "phuong-b"


def test_the_command_line_deletes_keeps_restores_and_purges(
        redis_server: RedisProcess, store: Store, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    monkeypatch.setenv("PW_REDIS_URL", redis_server.url)
    assert main(["site", "create", "thanhxuan"]) == 0
    counted(store, "thanhxuan", 2)
    assert main(["site", "delete", "thanhxuan"]) == 0
    assert "its data is kept" in capsys.readouterr().out
    assert main(["site", "create", "thanhxuan"]) == 1
    err = capsys.readouterr().err
    assert "--purge" in err and "site restore thanhxuan" in err
    assert main(["site", "restore", "thanhxuan"]) == 0
    capsys.readouterr()
    site = sites.get_site(store, "thanhxuan", cached=False)
    assert visits.read_stats(store, site, now=T0)["pageviews"]["total"] == 2
    assert main(["site", "delete", "thanhxuan", "--purge"]) == 0
    assert [k for k in raw_keys(redis_server) if "{thanhxuan}" in k] == []
    assert main(["site", "restore", "thanhxuan"]) == 1
