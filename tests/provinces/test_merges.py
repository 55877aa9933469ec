"""Merging a portal into another: everything moves exactly once, the source becomes an alias."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import sites, tokens
from service.counting import figures, visits
from service.pages import rules as pages
from service.provinces import merges
from service.sites import Site
from service.store import Store
from service.store import merges as db
from tests.conftest import BROWSER, at, make_app, post_hit, raw_keys

T0 = at("2026-11-26T10:00:00+07:00")
PERIODS = ("today", "week", "month", "year", "total")


class Stop(Exception):
    """The injected failure: the merge process dies here."""


def hit(store: Store, site: Site, visitor: str, path: str = "/", title: str = "",
        now: datetime = T0) -> None:
    assert visits.record_hit(store, site, visitor=visitor, path=path, title=title,
                             now=now) is not None


def populate(store: Store, source_id: str, target_id: str,
             t0: datetime = T0) -> tuple[Site, Site]:
    """Two wards with visits today, on earlier days and last year, pages and baselines."""
    source, _ = sites.put_site(store, source_id, {"name": "Phường cũ"})
    target, _ = sites.put_site(store, target_id, {"name": "Phường mới"})
    for i in range(5):
        hit(store, source, f"s{i}", "/tin-tuc/chung", "Tin cũ", t0)
    hit(store, source, "s0", "/tin-tuc/rieng", "Bài riêng", t0 + timedelta(minutes=1))
    hit(store, source, "s9", "/", "", t0 - timedelta(days=2))
    hit(store, source, "s8", "/", "", t0 - timedelta(days=331))
    for i in range(3):
        hit(store, target, f"t{i}", "/tin-tuc/chung", "Tin mới", t0)
    hit(store, target, "t7", "/", "", t0 - timedelta(days=2))
    figures.set_baselines(store, source, {"visits": {"total": 1000, "month": 40},
                                          "pageviews": {"total": 3000}}, now=t0)
    figures.set_baselines(store, target, {"visits": {"total": 500, "month": 7}}, now=t0)
    return source, target


def now_for_the_cli() -> datetime:
    """The real clock (the command line merges at its own `now`), clear of a local midnight
    so that populating and merging fall in the same day, week, month and year."""
    local = datetime.now(UTC).astimezone(T0.tzinfo)
    to_midnight = (local.replace(hour=0, minute=0, second=0, microsecond=0)
                   + timedelta(days=1) - local).total_seconds()
    if to_midnight < 120:
        time.sleep(to_midnight + 1)
    return datetime.now(UTC) - timedelta(minutes=1)


def public(store: Store, site: Site, t0: datetime = T0) -> dict[str, Any]:
    return visits.read_stats(store, site, now=t0)


def history(store: Store, site: Site, t0: datetime = T0) -> list[dict[str, Any]]:
    return figures.history(store, site, (t0 - timedelta(days=340)).date(), t0.date())


def expected_after(store: Store, source: Site, target: Site,
                   t0: datetime = T0) -> dict[str, Any]:
    s, t = public(store, source, t0), public(store, target, t0)
    hs, ht = history(store, source, t0), history(store, target, t0)
    return {
        "visits": {p: s["visits"][p] + t["visits"][p] for p in PERIODS},
        "pageviews": {p: s["pageviews"][p] + t["pageviews"][p] for p in PERIODS},
        "uniques": {p: s["uniques"][p] + t["uniques"][p]
                    for p in ("today", "week", "month", "year")},
        "history": [{"date": a["date"], "visits": a["visits"] + b["visits"],
                     "pageviews": a["pageviews"] + b["pageviews"],
                     "uniques": a["uniques"] + b["uniques"]} for a, b in zip(hs, ht, strict=True)],
        "pages": {"/tin-tuc/chung": {"views": 8, "title": "Tin mới"},
                  "/tin-tuc/rieng": {"views": 1, "title": "Bài riêng"}},
    }


def observed(store: Store, target: Site, t0: datetime = T0) -> dict[str, Any]:
    s = public(store, target, t0)
    days = history(store, target, t0)
    return {"visits": s["visits"], "pageviews": s["pageviews"], "uniques": s["uniques"],
            "history": days,
            "pages": pages.views(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng"])}


def test_a_merge_adds_every_figure_of_the_source_to_the_target(store: Store) -> None:
    source, target = populate(store, "phuong-a", "phuong-b")
    want = expected_after(store, source, target)
    result = merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    assert result["merged_into"] == "phuong-b"
    assert result["moved"]["visits"]["total"] == 1000 + 7
    assert result["pages"] == {"added": 1, "evicted": 0, "dropped": 0}
    assert observed(store, target) == want
    # the imported part stays apart from the measured part
    counters = figures.counters(store, target, now=T0)
    assert counters["imported"]["visits"]["total"] == 1500
    assert counters["imported"]["visits"]["month"] == 47
    assert counters["imported"]["pageviews"]["total"] == 3000
    assert counters["measured"]["visits"]["total"] == 7 + 4
    top = pages.top(store, target, period="month", limit=5, now=T0)
    assert top[0] == {"path": "/tin-tuc/chung", "title": "Tin mới", "views": 8}
    # the source is an alias; its hotlines and polls were not touched
    alias = sites.get_site(store, "phuong-a", cached=False)
    assert alias.merged_into == "phuong-b"
    assert alias.to_json()["merged_into"] == "phuong-b"
    assert "merged_into" not in sites.get_site(store, "phuong-b", cached=False).to_json()


def test_the_source_keeps_nothing_in_the_target_slot_but_the_progress(store: Store) -> None:
    populate(store, "phuong-a", "phuong-b")
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    assert store.redis.exists(store.keys.merge_scratch("phuong-b", "phuong-a")) == 0
    assert "done" in db.progress(store, "phuong-a", "phuong-b")
    assert store.redis.smembers(store.keys.aliases("phuong-b")) == {"phuong-a"}
    # time-bucketed keys the merge created in the target still expire
    for key in (store.keys.counter("phuong-b", "2026-W48"), store.keys.uniques("phuong-b",
                                                                               "2026-11")):
        assert store.redis.pttl(key) > 0


def test_a_merge_stopped_after_any_step_and_run_again_adds_everything_once(
        store: Store) -> None:
    """Stop after step k (for every k), run again: totals are exactly source + target."""
    k = 0
    while True:
        source, target = populate(store, f"nguon-{k}", f"dich-{k}")
        want = expected_after(store, source, target)
        seen: list[str] = []

        def stop_at(step: str, k: int = k, seen: list[str] = seen) -> None:
            seen.append(step)
            if len(seen) == k + 1:
                raise Stop(step)

        try:
            merges.merge(store, source.id, target.id, now=T0, settle_seconds=0,
                         after_step=stop_at)
            stopped = False
        except Stop:
            stopped = True
        if stopped:
            assert sites.get_site(store, source.id, cached=False).merged_into == target.id
            again = merges.merge(store, source.id, target.id, now=T0, settle_seconds=0)
            assert again["resumed"] is True
        assert observed(store, target) == want, f"stopped after {seen[-1]}"
        with pytest.raises(merges.Conflict, match="already merged"):
            merges.merge(store, source.id, target.id, now=T0, settle_seconds=0)
        if not stopped:
            break
        k += 1
    assert k >= 14  # total, 3 counters, online, 2 history years, 5 HLLs, baselines, pages...


def test_a_merge_stopped_between_its_two_claims_completes(store: Store) -> None:
    source, target = populate(store, "phuong-a", "phuong-b")
    want = expected_after(store, source, target)
    assert db.claim_source(store, "phuong-a", "phuong-b") == 1  # then the process died
    assert merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)["resumed"]
    assert observed(store, target) == want


def test_two_runs_at_once_still_add_everything_once(store: Store) -> None:
    source, target = populate(store, "phuong-a", "phuong-b")
    want = expected_after(store, source, target)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
        except merges.Conflict:
            pass  # the other one had finished
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert observed(store, target) == want


def test_after_the_merge_hits_for_the_source_count_into_the_target(store: Store) -> None:
    populate(store, "phuong-a", "phuong-b")
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    target = sites.get_site(store, "phuong-b", cached=False)
    before = public(store, target)["visits"]["total"]
    resolved = sites.resolve_public(store, "phuong-a")
    assert resolved.id == "phuong-b"
    hit(store, resolved, "new-reader", "/tin-tuc/chung", now=T0 + timedelta(minutes=5))
    assert public(store, target)["visits"]["total"] == before + 1


def test_the_merge_waits_for_every_process_to_see_the_alias(store: Store) -> None:
    populate(store, "phuong-a", "phuong-b")
    now = datetime.now(UTC)
    started = datetime.now(UTC)
    merges.merge(store, "phuong-a", "phuong-b", now=now, settle_seconds=0.5)
    assert (datetime.now(UTC) - started).total_seconds() >= 0.45


# --- the HTTP route -----------------------------------------------------------------------

@pytest.fixture
def api(redis_server: Any) -> Flask:
    return make_app(redis_server.url, MERGE_SETTLE_SECONDS=0)


@pytest.fixture
def http(api: Flask) -> FlaskClient:
    return api.test_client()


@pytest.fixture
def root(api: Flask) -> str:
    with api.app_context():
        from service.store import get_store
        return tokens.create(get_store(), "root", [], now=T0)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def put_site(http: FlaskClient, root: str, site_id: str, **settings: Any) -> None:
    assert http.put(f"/api/v1/admin/sites/{site_id}", json=settings or {"name": site_id},
                    headers=auth(root)).status_code in (200, 201)


def merge(http: FlaskClient, token: str, source: str, body: Any) -> Any:
    return http.post(f"/api/v1/admin/sites/{source}/merge", data=json.dumps(body),
                     content_type="application/json", headers=auth(token))


def test_the_route_merges_and_a_repeat_is_409(http: FlaskClient, root: str) -> None:
    put_site(http, root, "phuong-a")
    put_site(http, root, "phuong-b")
    for i in range(3):
        post_hit(http, "phuong-a", ip=f"198.51.100.{i}", path="/a")
    post_hit(http, "phuong-b", path="/b")
    response = merge(http, root, "phuong-a", {"into": "phuong-b"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["site"] == "phuong-a" and body["merged_into"] == "phuong-b"
    assert body["moved"]["visits"]["total"] == 3
    stats = http.get("/api/v1/sites/phuong-b/stats").get_json()
    assert stats["visits"]["total"] == 4
    again = merge(http, root, "phuong-a", {"into": "phuong-b"})
    assert again.status_code == 409
    assert again.get_json() == {"error": "already merged"}
    assert http.get("/api/v1/sites/phuong-b/stats").get_json()["visits"]["total"] == 4
    settings = http.get("/api/v1/admin/sites/phuong-a", headers=auth(root)).get_json()
    assert settings["merged_into"] == "phuong-b"


@pytest.mark.parametrize(
    ("source", "body", "status", "error"),
    [
        ("phuong-a", {"into": "phuong-a"}, 400, "cannot merge a site into itself"),
        ("phuong-a", {}, 400, "into must be a site id"),
        ("phuong-a", {"into": 5}, 400, "into must be a site id"),
        ("phuong-a", {"into": "Bad Id"}, 400, "into must be a site id"),
        ("phuong-a", {"into": "nosuch"}, 400, "unknown site: nosuch"),
        ("nosuch", {"into": "phuong-b"}, 404, "unknown site"),
        ("phuong-a", ["phuong-b"], 400, "body must be a json object"),
    ],
)
def test_bad_merges_are_refused_and_change_nothing(http: FlaskClient, root: str,
                                                   redis_server: Any, source: str, body: Any,
                                                   status: int, error: str) -> None:
    put_site(http, root, "phuong-a")
    put_site(http, root, "phuong-b")
    post_hit(http, "phuong-a", path="/a")
    before = raw_keys(redis_server)
    response = merge(http, root, source, body)
    assert response.status_code == status
    assert response.get_json() == {"error": error}
    assert raw_keys(redis_server) == before
    settings = http.get("/api/v1/admin/sites/phuong-a", headers=auth(root)).get_json()
    assert "merged_into" not in settings


def test_chains_are_refused(http: FlaskClient, root: str) -> None:
    for site_id in ("xa-a", "xa-b", "xa-c"):
        put_site(http, root, site_id)
    assert merge(http, root, "xa-a", {"into": "xa-b"}).status_code == 200
    # into an alias
    into_alias = merge(http, root, "xa-c", {"into": "xa-a"})
    assert (into_alias.status_code, into_alias.get_json()) == (409, {"error":
                                                                    "target is an alias"})
    # a site that others were merged into
    merged_into = merge(http, root, "xa-b", {"into": "xa-c"})
    assert merged_into.status_code == 409
    assert merged_into.get_json() == {"error": "other sites were merged into this site"}
    # an alias merged elsewhere
    assert merge(http, root, "xa-a", {"into": "xa-c"}).get_json() == {"error": "already merged"}
    # and the target of an alias cannot be deleted from under it
    assert http.delete("/api/v1/admin/sites/xa-b", headers=auth(root)).status_code == 409
    assert http.delete("/api/v1/admin/sites/xa-a", headers=auth(root)).status_code == 204
    assert merge(http, root, "xa-b", {"into": "xa-c"}).status_code == 200


def test_a_site_scoped_token_may_not_merge(http: FlaskClient, api: Flask, root: str) -> None:
    put_site(http, root, "phuong-a")
    put_site(http, root, "phuong-b")
    with api.app_context():
        from service.store import get_store
        scoped = tokens.create(get_store(), "ward", ["phuong-a", "phuong-b"], now=T0)
    response = merge(http, scoped, "phuong-a", {"into": "phuong-b"})
    assert response.status_code == 403
    assert "merged_into" not in http.get("/api/v1/admin/sites/phuong-a",
                                         headers=auth(root)).get_json()


def test_every_public_route_of_an_alias_acts_on_the_target(http: FlaskClient,
                                                           root: str) -> None:
    put_site(http, root, "phuong-a", origins=["https://a.gov.vn"], verify_pages=False)
    put_site(http, root, "phuong-b", origins=["https://b.gov.vn"], verify_pages=False)
    post_hit(http, "phuong-a", path="/tin/1", title="Một")
    assert merge(http, root, "phuong-a", {"into": "phuong-b"}).status_code == 200
    # an old snippet on the old ward's pages keeps counting, into the target
    old_page = {"Origin": "https://a.gov.vn"}
    counted = post_hit(http, "phuong-a", ip="198.51.100.9", path="/tin/1", headers=old_page)
    assert counted.status_code == 200
    body = counted.get_json()
    assert body["site"] == "phuong-b" and body["counted"] is True
    assert body["page"] == {"path": "/tin/1", "views": 2}
    assert counted.headers["Access-Control-Allow-Origin"] == "https://a.gov.vn"
    assert post_hit(http, "phuong-a", headers={"Origin": "https://evil.vn"}).status_code == 403
    beat = http.post("/api/v1/sites/phuong-a/heartbeat", data="{}", content_type="text/plain",
                     headers={"User-Agent": BROWSER, **old_page})
    assert beat.status_code == 204
    stats = http.get("/api/v1/sites/phuong-a/stats").get_json()
    assert stats["site"] == "phuong-b" and stats["visits"]["total"] == 2
    pages = http.get("/api/v1/sites/phuong-a/pages?path=/tin/1").get_json()
    assert pages["pages"]["/tin/1"]["views"] == 2
    top = http.get("/api/v1/sites/phuong-a/pages/top?period=today").get_json()
    assert top["pages"][0]["path"] == "/tin/1"
    page = http.get("/widgets/phuong-a/counter.html")
    assert page.status_code == 200
    assert "https://a.gov.vn" in page.headers["Content-Security-Policy"]
    assert http.get("/api/v1/sites/phuong-b/stats").get_json()["visits"]["total"] == 2


def test_the_command_line_merges(redis_server: Any, store: Store,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    monkeypatch.setenv("PW_REDIS_URL", redis_server.url)
    monkeypatch.setattr(merges, "SETTLE_SECONDS", 0)
    t0 = now_for_the_cli()
    source, target = populate(store, "phuong-a", "phuong-b", t0)
    want = expected_after(store, source, target, t0)
    assert main(["site", "merge", "phuong-a", "--into", "phuong-b"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["merged_into"] == "phuong-b"
    assert observed(store, target, t0) == want
    assert main(["site", "merge", "phuong-a", "--into", "phuong-b"]) == 1
    assert "already merged" in capsys.readouterr().err


def test_a_reader_of_the_source_goes_on_reading_without_a_new_visit(http: FlaskClient,
                                                                   root: str) -> None:
    put_site(http, root, "phuong-a")
    put_site(http, root, "phuong-b")
    reader = {"ip": "198.51.100.20", "token": "reader-token-1"}
    assert post_hit(http, "phuong-a", path="/tin/1", **reader).get_json()["counted"]
    post_hit(http, "phuong-b", ip="198.51.100.30", path="/")
    assert merge(http, root, "phuong-a", {"into": "phuong-b"}).status_code == 200
    # the same reader, minutes later, through the old snippet
    reload = post_hit(http, "phuong-a", path="/tin/1", **reader).get_json()
    assert reload["counted"] is False  # a reload inside the dedupe window, as before
    onward = post_hit(http, "phuong-a", path="/tin/2", **reader).get_json()
    assert onward["counted"] is True
    assert onward["visits"]["total"] == 2  # their visit goes on: no third visit
    assert onward["pageviews"]["total"] == 3
    assert onward["online"] == 2  # the reader and phuong-b's own, each once


def test_a_merge_killed_while_it_waits_finishes_when_run_again(
        redis_server: Any, store: Store, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A real process, killed with SIGKILL after it made the alias, before it copied."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from service.cli import main

    t0 = now_for_the_cli()
    source, target = populate(store, "phuong-a", "phuong-b", t0)
    want = expected_after(store, source, target, t0)
    env = {**os.environ, "PW_REDIS_URL": redis_server.url}
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "site", "merge", "phuong-a",
                             "--into", "phuong-b"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while "claimed" not in db.progress(store, "phuong-a", "phuong-b"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert sites.get_site(store, "phuong-a", cached=False).merged_into == "phuong-b"
    assert merges.pending(store, sites.get_site(store, "phuong-a", cached=False))
    assert public(store, target, t0)["visits"]["total"] == 500 + 4  # nothing copied yet
    monkeypatch.setenv("PW_REDIS_URL", redis_server.url)
    monkeypatch.setattr(merges, "SETTLE_SECONDS", 0)
    assert main(["site", "merge", "phuong-a", "--into", "phuong-b"]) == 0
    assert json.loads(capsys.readouterr().out)["resumed"] is True
    assert observed(store, target, t0) == want


def test_sources_referring_hosts_and_past_months_ranks_move_too(store: Store) -> None:
    from service.counting import sources
    from service.store.pages import page_id

    source, _ = sites.put_site(store, "phuong-a", {})
    target, _ = sites.put_site(store, "phuong-b", {})
    last_month = at("2026-10-20T09:00:00+07:00")
    google, zalo = sources.Source("search", "google.com"), sources.Source("social", "zalo.me")
    for i in range(3):
        assert visits.record_hit(store, source, visitor=f"s{i}", path="/tin/cu", title="Cũ",
                                 now=last_month, source=google) is not None
    assert visits.record_hit(store, source, visitor="s9", path="/tin/moi", title="Mới",
                             now=T0, source=zalo) is not None
    assert visits.record_hit(store, target, visitor="t0", path="/", title="",
                             now=T0, source=google) is not None
    before = store.redis.pttl(store.keys.rank("phuong-b", "2026-11"))
    merges.merge(store, "phuong-a", "phuong-b", now=T0, settle_seconds=0)
    year = sources.sources(store, target, period="year", now=T0)
    assert year["sources"]["search"] == 4 and year["sources"]["social"] == 1
    month = sources.sources(store, target, period="month", now=T0)
    assert {h["host"]: h["visits"] for h in month["hosts"]} == {"google.com": 1, "zalo.me": 1}
    october = store.redis.zrange(store.keys.rank("phuong-b", "2026-10"), 0, -1,
                                 withscores=True)
    assert october == [(page_id("/tin/cu"), 3.0)]
    # a month's list outlives the month (reports read it): the merge never shortens that
    assert store.redis.pttl(store.keys.rank("phuong-b", "2026-11")) >= before - 60_000
    assert store.redis.pttl(store.keys.rank("phuong-b", "2026-10")) > 300 * 86_400_000
