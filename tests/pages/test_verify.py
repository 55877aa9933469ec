"""What public lists show comes from the portal: paths and titles are checked against the
portal's own page (a real HTTP server on loopback that the test starts), never taken from
anonymous clients. Each attack of issue #26 is a test here."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from service import allowances, sites, tokens
from service.counting import visits
from service.counting.periods import ms, periods_of
from service.errors import TooMany
from service.pages import check as pagecheck
from service.pages import rules as pages
from service.pages import verifier
from service.polls import rules as polls
from service.polls import votes
from service.runtime import demo
from service.sites import Site
from service.store import Store
from service.store import checks as checks_db
from tests.conftest import BROWSER, SECRET, loopback_only, metric, post_hit
from tests.portal_server import ARTICLE, TITLE_ONLY, Page, Portal, portal

REAL = "Hội nghị tổng kết năm 2026"
ROOT = Path(__file__).parent.resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pool() -> Iterator[urllib3.PoolManager]:
    with urllib3.PoolManager(retries=False) as made:
        yield made


@pytest.fixture
def other() -> Iterator[Portal]:
    """A second server that must never be contacted."""
    with portal({"/x": Page()}) as server:
        yield server


@pytest.fixture
def thanhxuan(other: Portal) -> Iterator[Portal]:
    with portal({
        "/tin-tuc/hoi-nghi": Page(),
        "/thong-bao/lich": Page(body=TITLE_ONLY),
        "/gone": Page(410, "gone"),
        "/error": Page(500, "oops"),
        "/json": Page(body="{}", content_type="application/json"),
        "/redirect-out": Page(302, "", headers={"Location": f"{other.origin}/x"}),
        "/redirect-in": Page(301, "", headers={"Location": "/tin-tuc/hoi-nghi"}),
    }) as server:
        yield server


@pytest.fixture
def site(store: Store, thanhxuan: Portal) -> Site:
    created, _ = sites.put_site(store, "thanhxuan", {"origins": [thanhxuan.origin]})
    assert created.verifies
    return created


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def admin(store: Store) -> dict[str, str]:
    secret = tokens.create(store, "root", [], now=_now())
    return {"Authorization": f"Bearer {secret}"}


def _drain(checker: verifier.Verifier, now: datetime, seconds: int = 3) -> None:
    """Sweep second after second (2 fetches a second per site)."""
    for second in range(seconds):
        checker.sweep(now + timedelta(seconds=second))


def _top(store: Store) -> list[dict[str, Any]]:
    """The public top list as `/pages/top` answers it (read afresh, not from the cache)."""
    site = sites.get_site(store, "thanhxuan", cached=False)
    return pages.top(store, site, period="today", limit=10, now=_now())


def _views(store: Store, site: Site, path: str) -> dict[str, Any]:
    found: dict[str, Any] = pages.views(store, site, [path])[path]
    return found


def _state(store: Store, path: str) -> str:
    raw = store.redis.hget("pw:{thanhxuan}:pstate", checks_db.page_id(path)) or ""
    return str(raw)[:1]


def test_a_new_path_is_listed_only_once_the_portal_confirms_it(
        client: FlaskClient, store: Store, site: Site, thanhxuan: Portal) -> None:
    answer = post_hit(client, path="/tin-tuc/hoi-nghi", title="Defaced")
    assert answer.status_code == 200 and answer.get_json()["page"]["views"] == 1  # counted
    public = client.get("/api/v1/sites/thanhxuan/pages/top?period=today&limit=10")
    assert public.get_json()["pages"] == [] and _top(store) == []  # in no public list
    assert _views(store, site, "/tin-tuc/hoi-nghi") == {"views": 1, "title": None}
    assert thanhxuan.requests == []  # never fetched inside the hit's request
    before = metric(client, "pw_page_checks_total", site="thanhxuan", result="verified")

    assert verifier.Verifier(store).sweep() > 0
    assert _top(store) == [{"path": "/tin-tuc/hoi-nghi", "title": REAL, "views": 1}]
    assert _views(store, site, "/tin-tuc/hoi-nghi") == {"views": 1, "title": REAL}
    month = periods_of(_now(), site.tz).month  # kept 13 months for reports, as a hit's
    assert store.redis.pttl(f"pw:{{thanhxuan}}:rank:{month}") > 390 * 86_400_000
    assert metric(client, "pw_page_checks_total", site="thanhxuan",
                  result="verified") == before + 1
    [request] = thanhxuan.requests
    assert request["path"] == "/tin-tuc/hoi-nghi"
    assert request["headers"]["User-Agent"] == pagecheck.USER_AGENT
    assert pagecheck.USER_AGENT.startswith("portal-widgets-verifier/")
    assert "Cookie" not in request["headers"]


def test_og_title_else_the_title_element(pool: urllib3.PoolManager, thanhxuan: Portal) -> None:
    assert pagecheck.fetch([thanhxuan.origin], "/tin-tuc/hoi-nghi", pool=pool).title == REAL
    found = pagecheck.fetch([thanhxuan.origin], "/thong-bao/lich", pool=pool)
    assert found == pagecheck.Fetched("verified", "Thông báo lịch tiếp công dân")


@pytest.mark.parametrize(("path", "result"), [
    ("/nothing-here", "rejected"), ("/gone", "rejected"), ("/error", "failed"),
    ("/json", "failed"), ("/redirect-in", "verified")])
def test_what_each_answer_means(pool: urllib3.PoolManager, thanhxuan: Portal, path: str,
                                result: str) -> None:
    assert pagecheck.fetch([thanhxuan.origin], path, pool=pool).result == result


def test_a_redirect_to_another_host_is_never_followed(
        client: FlaskClient, store: Store, site: Site, thanhxuan: Portal, other: Portal) -> None:
    post_hit(client, path="/redirect-out", title="Bài thật")
    verifier.Verifier(store).sweep()
    assert other.requests == []
    assert _state(store, "/redirect-out") == "u"  # failed: retried later, still unlisted
    assert _top(store) == []


def test_a_redirect_to_another_of_the_sites_origins_is_followed(
        store: Store, pool: urllib3.PoolManager, thanhxuan: Portal, other: Portal) -> None:
    found = pagecheck.fetch([thanhxuan.origin, other.origin], "/redirect-out", pool=pool)
    assert found.result == "verified" and len(other.requests) == 1


def test_a_path_cannot_name_another_host(pool: urllib3.PoolManager, thanhxuan: Portal,
                                         other: Portal) -> None:
    host = other.origin.removeprefix("http://")
    for path in (f"//{host}/x", f"/@{host}/x", f"/\\\\{host}/x"):
        pagecheck.fetch([thanhxuan.origin], path, pool=pool)
    assert other.requests == []
    assert all(r["path"].startswith("/") for r in thanhxuan.requests)


def test_a_slow_or_huge_page_is_cut_off(pool: urllib3.PoolManager) -> None:
    with portal({"/slow": Page(delay_s=0.4, repeat=10),
                 "/huge": Page(repeat=4000)}) as server:  # about 1 MB
        started = time.monotonic()
        slow = pagecheck.fetch([server.origin], "/slow", pool=pool, timeout_s=1.0)
        assert slow.result == "failed" and time.monotonic() - started < 1.5
        huge = pagecheck.fetch([server.origin], "/huge", pool=pool)
        assert huge.result == "verified" and huge.title == REAL  # read up to 512 KB
    assert len(ARTICLE.encode()) * 4000 > 2 * pagecheck.MAX_BYTES


def test_junk_that_404s_is_rejected_and_not_fetched_again_for_a_day(
        client: FlaskClient, store: Store, site: Site, thanhxuan: Portal) -> None:
    post_hit(client, path="/JUNK2", title="JUNK2")
    checker = verifier.Verifier(store)
    checker.sweep()
    assert _state(store, "/JUNK2") == "r" and len(thanhxuan.requests) == 1
    for i in range(20):
        post_hit(client, path="/JUNK2", ip=f"198.51.{i}.1", token=f"junk-{i:05d}")
    checker.sweep()
    assert len(thanhxuan.requests) == 1  # rejected: not asked again today
    assert _top(store) == []
    listed = pages.admin_list(store, site, period="today", limit=10, now=_now(),
                              state="rejected")
    assert [(p["path"], p["views"]) for p in listed] == [("/JUNK2", 21)]  # still counted
    tomorrow = _now() + timedelta(days=1, minutes=1)
    visits.record_hit(store, site, visitor="v-tomorrow", path="/JUNK2", title="", now=tomorrow)
    checker.sweep(tomorrow)
    assert len(thanhxuan.requests) == 2  # a day later, a hit asks again


def test_a_failed_fetch_is_retried_with_backoff(client: FlaskClient, store: Store, site: Site,
                                                thanhxuan: Portal) -> None:
    post_hit(client, path="/error")
    now = _now()
    checker = verifier.Verifier(store)
    checker.sweep(now)
    pid = checks_db.page_id("/error")
    due = store.redis.zscore("pw:{thanhxuan}:checkq", pid)
    assert due == pytest.approx(ms(now) + verifier.retry_delay_ms(1), abs=5)
    checker.sweep(now + timedelta(seconds=10))
    assert len(thanhxuan.requests) == 1  # not before its time
    later = now + timedelta(seconds=31)
    checker.sweep(later)
    assert len(thanhxuan.requests) == 2
    assert store.redis.hget("pw:{thanhxuan}:checktries", pid) == "2"
    assert store.redis.zscore("pw:{thanhxuan}:checkq", pid) == pytest.approx(
        ms(later) + verifier.retry_delay_ms(2), abs=5)
    assert verifier.retry_delay_ms(2) > verifier.retry_delay_ms(1)


def test_fetches_are_deduplicated_and_at_most_two_a_second_per_site(
        client: FlaskClient, store: Store, site: Site, thanhxuan: Portal) -> None:
    for i in range(5):
        post_hit(client, path=f"/tin-tuc/bai-{i}")
    now = (_now() + timedelta(seconds=1)).replace(microsecond=0)  # every check is due
    at = ms(now)
    first = checks_db.claim(store, "thanhxuan", now_ms=at, lease_ms=30_000, per_second=2)
    second = checks_db.claim(store, "thanhxuan", now_ms=at, lease_ms=30_000, per_second=2)
    third = checks_db.claim(store, "thanhxuan", now_ms=at, lease_ms=30_000, per_second=2)
    assert isinstance(first, checks_db.Claimed) and isinstance(second, checks_db.Claimed)
    assert first.page_id != second.page_id  # a claimed check is no one else's
    assert third == checks_db.Idle(1000, limited=True)
    verifier.Verifier(store).sweep(now + timedelta(seconds=1))
    assert len(thanhxuan.requests) == 2  # the next second: two more, the rest wait
    assert _state(store, "/tin-tuc/bai-0") in ("u", "r")


def test_one_ipv6_home_line_or_ipv4_network_cannot_retitle_an_article(
        client: FlaskClient, store: Store, site: Site) -> None:
    post_hit(client, path="/tin-tuc/hoi-nghi", title=REAL)
    verifier.Verifier(store).sweep()
    for i in range(3):  # three /64s of one /56: a home line
        post_hit(client, path="/tin-tuc/hoi-nghi", title="Defaced v6",
                 ip=f"2001:db8:abcd:{i}::1", token=f"v6-{i:06d}")
        post_hit(client, path="/tin-tuc/hoi-nghi", title="Defaced v4",
                 ip=f"198.51.{100 + i}.7", token=f"v4-{i:06d}")
    assert _views(store, site, "/tin-tuc/hoi-nghi")["title"] == REAL
    assert _top(store)[0]["title"] == REAL


def test_without_origins_the_title_quorum_counts_networks(client: FlaskClient,
                                                          store: Store) -> None:
    quan, _ = sites.put_site(store, "quan", {})
    post_hit(client, "quan", path="/a", title="Bài thật")
    for i in range(3):  # one /48, and one IPv4 /24 (a phone reconnecting to CGNAT)
        post_hit(client, "quan", path="/a", title="Defaced v6", ip=f"2001:db8:abcd:{i}::1",
                 token=f"v6-{i:06d}")
        post_hit(client, "quan", path="/a", title="Defaced v4", ip=f"100.64.7.{i + 1}",
                 token=f"v4-{i:06d}")
    assert pages.views(store, quan, ["/a"])["/a"]["title"] == "Bài thật"
    for i, ip in enumerate(("2001:db8:1::1", "2001:db8:2::1", "192.0.2.1")):
        post_hit(client, "quan", path="/a", title="Bài đã sửa", ip=ip, token=f"ed-{i:06d}")
    assert pages.views(store, quan, ["/a"])["/a"]["title"] == "Bài đã sửa"


def test_junk_never_displaces_a_verified_article(client: FlaskClient, store: Store,
                                                 thanhxuan: Portal) -> None:
    site, _ = sites.put_site(store, "thanhxuan", {"origins": [thanhxuan.origin],
                                                  "max_pages": 20})
    for i in range(5):
        post_hit(client, path="/tin-tuc/hoi-nghi", ip=f"203.0.113.{i}", token=f"r-{i:06d}")
    verifier.Verifier(store).sweep()
    for i in range(150):
        post_hit(client, path=f"/junk-{i}", title="JUNK", ip=f"2001:db8:{i}::1",
                 token=f"j-{i:06d}")
    assert _views(store, site, "/tin-tuc/hoi-nghi") == {"views": 5, "title": REAL}
    assert _top(store) == [{"path": "/tin-tuc/hoi-nghi", "title": REAL, "views": 5}]
    assert store.redis.zcard("pw:{thanhxuan}:pv") == 20


def test_a_table_full_of_verified_pages_still_takes_new_articles(
        client: FlaskClient, store: Store, thanhxuan: Portal) -> None:
    thanhxuan.pages.update({f"/tin-tuc/bai-{i}": Page() for i in range(3)})
    site, _ = sites.put_site(store, "thanhxuan", {"origins": [thanhxuan.origin],
                                                  "max_pages": 2})
    now = _now()
    checker = verifier.Verifier(store)
    for i, views in ((0, 3), (1, 1)):
        for n in range(views):
            visits.record_hit(store, site, visitor=f"v{i}-{n}", path=f"/tin-tuc/bai-{i}",
                              title="", now=now)
    checker.sweep(now)
    # full of verified pages: junk waits outside, is rejected, and takes nothing
    visits.record_hit(store, site, visitor="junk", path="/junk", title="", now=now)
    checker.sweep(now + timedelta(seconds=1))
    assert store.redis.zcard("pw:{thanhxuan}:pv") == 2
    assert store.redis.hlen("pw:{thanhxuan}:pcand") == 0
    asked = len(thanhxuan.requests)
    visits.record_hit(store, site, visitor="junk-2", path="/junk", title="", now=now)
    checker.sweep(now + timedelta(seconds=2))
    assert len(thanhxuan.requests) == asked  # rejected: not asked again for a day
    # a real new article takes the least viewed verified page's place once verified
    visits.record_hit(store, site, visitor="new", path="/tin-tuc/bai-2", title="", now=now)
    assert pages.views(store, site, ["/tin-tuc/bai-2"])["/tin-tuc/bai-2"]["views"] == 0
    checker.sweep(now + timedelta(seconds=3))
    tracked = set(store.redis.hvals("pw:{thanhxuan}:paths"))
    assert tracked == {"/tin-tuc/bai-0", "/tin-tuc/bai-2"}


def test_one_ipv6_48_gets_four_times_one_addresss_hits(store: Store, site: Site) -> None:
    sites.put_site(store, "quan", {})
    quan = sites.get_site(store, "quan", cached=False)
    now = _now().replace(second=0, microsecond=0)
    counted = limited = 0
    for i in range(2500):  # 2,500 /64s of one /48, in one minute, one junk path
        facts = visits.HitFacts(ip=f"2001:db8:abcd:{i:x}::1", user_agent=BROWSER, purpose="",
                                token=f"t-{i:08d}", path="/JUNK2", title="JUNK2")
        try:
            visits.hit(store, "secret", quan, facts, now=now)
            counted += 1
        except TooMany:
            limited += 1
    assert counted == 4 * allowances.HITS.count and limited == 2500 - counted
    other = visits.HitFacts(ip="2001:db8:beef::1", user_agent=BROWSER, purpose="",
                            token="someone-else", path="/a", title="")
    assert visits.hit(store, "secret", quan, other, now=now).counted  # another /48


def test_one_ipv6_48_gets_four_times_one_addresss_ballots(store: Store) -> None:
    quan, _ = sites.put_site(store, "quan", {})
    polls.create(store, quan, {"id": "p1", "question": "Đáp ứng?", "options": ["Có", "Không"]},
                 now=_now())
    start = _now()
    accepted = refused = 0
    for i in range(1000):  # 1,000 ballots from 100 /64s of one /48, spread over minutes
        now = start + timedelta(seconds=2 * i)
        ticket = votes.issue_ticket("secret", quan, "p1")
        try:
            votes.vote(store, quan, "p1", options=["o1"], ticket=ticket, token=f"b-{i:08d}",
                       ip=f"2001:db8:abcd:{i % 100:x}::1", secret="secret", max_per_ip=20,
                       now=now)
            accepted += 1
        except votes.VoteRefused as exc:
            assert exc.result == "limited"
            refused += 1
    assert accepted == 4 * 20 and refused == 1000 - accepted
    assert store.redis.hget("pw:{quan}:poll:p1:tally", "_total") == "80"


def test_admin_lists_pages_with_their_state_and_asks_for_a_check(
        client: FlaskClient, store: Store, site: Site, thanhxuan: Portal,
        admin: dict[str, str]) -> None:
    post_hit(client, path="/tin-tuc/hoi-nghi")
    post_hit(client, path="/gone")
    post_hit(client, path="/moi")
    checker = verifier.Verifier(store)
    _drain(checker, _now())
    post_hit(client, path="/chua-kiem")  # queued, not fetched yet
    url = "/api/v1/admin/sites/thanhxuan/pages"
    listed = client.get(url + "?period=today", headers=admin).get_json()["pages"]
    assert {p["path"]: p["state"] for p in listed} == {
        "/tin-tuc/hoi-nghi": "verified", "/gone": "rejected", "/moi": "rejected",
        "/chua-kiem": "unverified"}
    for state, paths in (("verified", ["/tin-tuc/hoi-nghi"]), ("unverified", ["/chua-kiem"])):
        found = client.get(f"{url}?period=today&state={state}", headers=admin).get_json()
        assert [p["path"] for p in found["pages"]] == paths
    assert client.get(url + "?state=odd", headers=admin).status_code == 400

    thanhxuan.pages["/moi"] = Page(body=TITLE_ONLY)  # the article is published now
    check = client.post(url + "/check", json={"path": "/moi"}, headers=admin)
    assert check.status_code == 202 and check.get_json() == {"path": "/moi", "queued": True}
    _drain(checker, _now() + timedelta(seconds=5), 1)
    assert _state(store, "/moi") == "v"
    assert client.post(url + "/check", json={"path": "/nowhere"}, headers=admin
                       ).status_code == 404
    for bad in ({}, {"path": 3}, {"path": "/moi", "x": 1}):
        assert client.post(url + "/check", json=bad, headers=admin).status_code == 400
    sites.put_site(store, "quan", {})
    assert client.post("/api/v1/admin/sites/quan/pages/check", json={"path": "/a"},
                       headers=admin).status_code == 409


def test_a_verified_title_is_fetched_again_only_for_a_different_client_title_and_daily(
        store: Store, site: Site, thanhxuan: Portal) -> None:
    now = _now()
    checker = verifier.Verifier(store)
    visits.record_hit(store, site, visitor="a", path="/tin-tuc/hoi-nghi", title="Bài", now=now)
    checker.sweep(now)
    visits.record_hit(store, site, visitor="b", path="/tin-tuc/hoi-nghi", title="Khác", now=now)
    checker.sweep(now)
    assert len(thanhxuan.requests) == 1  # within a day: never
    later = now + timedelta(days=1, seconds=1)
    visits.record_hit(store, site, visitor="c", path="/tin-tuc/hoi-nghi", title="Bài",
                      now=later)
    checker.sweep(later)
    assert len(thanhxuan.requests) == 1  # the title clients always reported: no need
    thanhxuan.pages["/tin-tuc/hoi-nghi"] = Page(body=TITLE_ONLY)
    visits.record_hit(store, site, visitor="d", path="/tin-tuc/hoi-nghi", title="Mới",
                      now=later)
    checker.sweep(later)
    assert len(thanhxuan.requests) == 2
    assert pages.views(store, site, ["/tin-tuc/hoi-nghi"])["/tin-tuc/hoi-nghi"]["title"] == \
        "Thông báo lịch tiếp công dân"


def test_paths_tracked_before_verification_are_checked_most_viewed_first(
        client: FlaskClient, store: Store, thanhxuan: Portal) -> None:
    sites.put_site(store, "thanhxuan", {})
    for path, views in (("/tin-tuc/hoi-nghi", 3), ("/junk", 1)):
        for i in range(views):
            post_hit(client, path=path, title="Cũ", ip=f"203.0.113.{i}", token=f"o-{i:06d}")
    assert len(_top(store)) == 2
    now = _now()
    # the site starts verifying (an upgrade does the same with checks.queue_unchecked)
    site, _ = sites.put_site(store, "thanhxuan", {"origins": [thanhxuan.origin]})
    assert _top(store) == []
    assert store.redis.zrange("pw:{thanhxuan}:checkq", 0, -1) == [
        checks_db.page_id("/tin-tuc/hoi-nghi"), checks_db.page_id("/junk")]
    assert checks_db.queue_unchecked(store, "thanhxuan", now_ms=ms(now)) == 0  # once only
    _drain(verifier.Verifier(store), now)
    assert _top(store) == [{"path": "/tin-tuc/hoi-nghi", "title": REAL, "views": 3}]
    assert _state(store, "/junk") == "r"


def test_a_site_with_real_origins_in_a_test_must_not_verify(store: Store,
                                                            pool: urllib3.PoolManager) -> None:
    with pytest.raises(AssertionError, match="verify_pages: false"):
        sites.put_site(store, "that", {"origins": ["https://thanhxuan.hanoi.gov.vn"]})
    with pytest.raises(AssertionError, match="loopback"):
        pagecheck.fetch(["https://thanhxuan.hanoi.gov.vn"], "/", pool=pool)
    loopback_only("127.0.0.1")


def test_the_no_js_poll_form_votes_on_a_site_with_origins(client: FlaskClient, store: Store,
                                                          site: Site) -> None:
    polls.create(store, site, {"id": "p1", "question": "Đáp ứng?", "options": ["Tốt", "Kém"],
                               "results": "after_vote"}, now=_now())
    html = client.get("/widgets/thanhxuan/poll.html?poll=p1").get_data(as_text=True)
    ticket = re.search(r'name="ticket" value="([^"]+)"', html)
    assert ticket is not None
    form = {"poll": "p1", "ticket": ticket.group(1), "option": "o1"}
    refused = client.post("/widgets/thanhxuan/poll.html", data=form,
                          headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    voted = client.post("/widgets/thanhxuan/poll.html", data=form,
                        headers={"Origin": "http://localhost"})  # the service's own origin
    assert voted.status_code == 200 and "Tốt: 100.0% (1)" in voted.get_data(as_text=True)
    assert store.redis.hget("pw:{thanhxuan}:poll:p1:tally", "_total") == "1"


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The service itself on loopback (a real HTTP server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_the_demo_site_verifies_against_the_demo_page_the_service_serves(
        app: Flask, store: Store, live: str) -> None:
    port = int(live.rsplit(":", 1)[1])
    demo.install(store, demo.origins_for(None, port))
    site = sites.get_site(store, "demo", cached=False)
    assert site.verifies and site.origins[0] == live
    with urllib3.PoolManager() as http:
        hit = http.request("POST", f"{live}/api/v1/sites/demo/hits",
                           body=b'{"path": "/demo", "title": "x"}',
                           headers={"Content-Type": "text/plain", "User-Agent": BROWSER,
                                    "Origin": f"http://localhost:{port}"})
        assert hit.status == 200
    runner = verifier.start(app)  # the worker's thread, woken by the hit's queued check
    try:
        verifier.poke(app)
        deadline = _now() + timedelta(seconds=10)
        while _now() < deadline and not pages.top(store, site, period="today", limit=5,
                                                  now=_now()):
            threading.Event().wait(0.05)
    finally:
        runner.stop()
    [listed] = pages.top(store, site, period="today", limit=5, now=_now())
    assert listed["path"] == "/demo"
    assert listed["title"].startswith("Cổng TTĐT Quận Thanh Xuân")


def test_gunicorn_workers_verify_in_the_background_once(
        redis_server: Any, store: Store, site: Site, thanhxuan: Portal) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PW_", "PROMETHEUS"))}
    env.update(PW_REDIS_URL=redis_server.url, PW_SECRET_KEY=SECRET)
    proc = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "service:create_app()"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with urllib3.PoolManager(retries=urllib3.Retry(connect=100, backoff_factor=0.1)) as http:
            for n in range(2):  # a hit each worker may take: one check, one fetch
                answer = http.request(
                    "POST", f"http://127.0.0.1:{port}/api/v1/sites/thanhxuan/hits",
                    body=b'{"path": "/tin-tuc/hoi-nghi"}',
                    headers={"Content-Type": "text/plain", "User-Agent": f"{BROWSER} {n}"})
                assert answer.status == 200
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _state(store, "/tin-tuc/hoi-nghi") != "v":
            threading.Event().wait(0.05)
        assert _state(store, "/tin-tuc/hoi-nghi") == "v"
        assert _top(store) == [{"path": "/tin-tuc/hoi-nghi", "title": REAL, "views": 2}]
        assert len(thanhxuan.requests) == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_page_that_stalls_after_its_headers_is_cut_off_at_the_deadline(
        pool: urllib3.PoolManager) -> None:
    with portal({"/stall": Page(delay_s=3.0)}) as server:  # headers, then 3 s of nothing
        started = time.monotonic()
        found = pagecheck.fetch([server.origin], "/stall", pool=pool, timeout_s=1.0)
        assert found.result == "failed"
        assert time.monotonic() - started < 2.0


def test_an_exported_site_is_imported_with_its_pages_states_and_queue(
        store: Store, site: Site, thanhxuan: Portal, tmp_path: Path) -> None:
    """A moved portal keeps what its pages were checked to be: the verified page stays listed
    with the portal's title, the rejected one unlisted, and the unchecked one queued."""
    from service.provinces import moving
    from tests.conftest import make_app
    from tests.redis_proc import RedisProcess

    now = _now()
    for path, title in (("/tin-tuc/hoi-nghi", "Defaced"), ("/gone", "Gone"),
                        ("/thong-bao/lich", "Lịch")):
        assert visits.record_hit(store, site, visitor=f"v-{path}", path=path, title=title,
                                 now=now) is not None
    verifier.Verifier(store).sweep(now)  # two fetches a second: one path waits in the queue
    paths = ("/tin-tuc/hoi-nghi", "/gone", "/thong-bao/lich")
    states = {path: _state(store, path) for path in paths}
    checked = {"/tin-tuc/hoi-nghi": "v", "/gone": "r", "/thong-bao/lich": "v"}
    assert all(states[p] in (checked[p], "u") for p in paths)
    waiting = [p for p in paths if states[p] == "u"]
    assert len(waiting) == 1
    assert store.redis.zcard("pw:{thanhxuan}:checkq") == 1
    data = b"".join(moving.export(store, "thanhxuan", now=now))

    server = RedisProcess(tmp_path / "dest").start()
    dest_app = make_app(server.url)
    try:
        dest = dest_app.extensions["pw_store"]
        moving.import_stream(dest, [data], now=now)
        moved = sites.get_site(dest, "thanhxuan", cached=False)
        assert pages.top(dest, moved, period="today", limit=10, now=now) == pages.top(
            store, site, period="today", limit=10, now=now)
        assert pages.top(dest, moved, period="today", limit=10, now=now)[0]["title"] == REAL
        assert {path: _state(dest, path) for path in paths} == states
        assert pages.views(dest, moved, list(paths)) == pages.views(store, site, list(paths))
        # the imported queue goes on: the waiting path is checked at the new deployment
        _drain(verifier.Verifier(dest), now + timedelta(seconds=2))
        assert _state(dest, waiting[0]) in ("v", "r")
    finally:
        dest_app.extensions["pw_store"].redis.close()
        server.stop()
