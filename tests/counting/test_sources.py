"""Sources of visits: classification, counting inside the hit, bounded hosts, the admin route.

Runs on one Redis and on the cluster (`make test` runs it again with --redis-cluster)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from service import sites, tokens
from service.counting import sources, visits
from service.counting.sources import Source, classify
from service.sites import Site
from service.store import Store
from tests.conftest import at, post_hit

PAGE = ["thanhxuan.hanoi.gov.vn"]


@pytest.mark.parametrize(("referrer", "expected"), [
    ("", Source("direct")),
    ("   ", Source("direct")),
    ("https://www.google.com/", Source("search", "google.com")),
    ("https://www.google.com.vn/search?q=th%C3%B4ng+b%C3%A1o", Source("search", "google.com.vn")),
    ("https://coccoc.com/search?query=ubnd+thanh+xuan", Source("search", "coccoc.com")),
    ("https://www.bing.com/search?q=x", Source("search", "bing.com")),
    ("https://duckduckgo.com/", Source("search", "duckduckgo.com")),
    ("https://yandex.ru/search/?text=x", Source("search", "yandex.ru")),
    ("https://m.facebook.com/story.php?id=1", Source("social", "facebook.com")),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fx", Source("social", "facebook.com")),
    ("https://zalo.me/g/abcdef", Source("social", "zalo.me")),
    ("https://chat.zalo.me/", Source("social", "zalo.me")),
    ("https://www.youtube.com/watch?v=1", Source("social", "youtube.com")),
    ("https://t.co/xyz", Source("social", "t.co")),
    ("android-app://com.zing.zalo/", Source("social", "zalo.me")),
    ("android-app://com.google.android.googlequicksearchbox/", Source("search", "google.com")),
    ("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html", Source("gov", "dichvucong.gov.vn")),
    ("https://hanoi.gov.vn/tin-tuc", Source("gov", "hanoi.gov.vn")),
    ("https://www.chinhphu.gov.vn/", Source("gov", "chinhphu.gov.vn")),
    ("https://thanhxuan.hanoi.gov.vn/tin-tuc/a", Source("internal")),
    ("https://www.thanhxuan.hanoi.gov.vn/", Source("internal")),
    ("https://THANHXUAN.hanoi.gov.vn:443/x", Source("internal")),
    ("https://vnexpress.net/bai-viet?id=1#c", Source("other", "vnexpress.net")),
    ("https://notgov.vn.example.com/", Source("other", "notgov.vn.example.com")),
    ("https://fakegoogle.com/", Source("other", "fakegoogle.com")),
    ("javascript:alert(1)", Source("other")),
    ("https://user:pw@/", Source("other")),
    ("not a url", Source("other")),
])
def test_referrers_are_classified(referrer: str, expected: Source) -> None:
    assert classify(referrer, PAGE) == expected


def test_a_site_with_several_origins_is_internal_from_each() -> None:
    site = Site(id="x", origins=("https://a.gov.vn", "https://b.gov.vn"))
    assert classify("https://b.gov.vn/x", sources.page_hosts(site, None)) == Source("internal")
    assert classify("https://c.gov.vn/x", sources.page_hosts(site, None)) == \
        Source("gov", "c.gov.vn")


def _sources(client: FlaskClient, token: str, period: str) -> dict[str, object]:
    response = client.get(f"/api/v1/admin/sites/thanhxuan/sources?period={period}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    found: dict[str, object] = response.get_json()
    return found


@pytest.fixture
def token(store: Store) -> str:
    return tokens.create(store, "editor", ["thanhxuan"], now=datetime.now(UTC))


def test_each_new_visit_counts_once_for_its_source(client: FlaskClient, site: Site,
                                                   token: str, redis_server: object) -> None:
    page = {"Origin": "https://thanhxuan.hanoi.gov.vn"}
    post_hit(client, ip="198.51.100.1", headers=page, path="/a",
             referrer="https://www.google.com.vn/search?q=bi-mat-ca-nhan")
    # the same visitor reading on: internal referrer, same visit, counts nothing more
    post_hit(client, ip="198.51.100.1", headers=page, path="/b",
             referrer="https://thanhxuan.hanoi.gov.vn/a")
    post_hit(client, ip="198.51.100.2", headers=page, path="/a",
             referrer="https://zalo.me/g/nhom-kin?token=abc")
    post_hit(client, ip="198.51.100.3", headers=page, path="/a")
    post_hit(client, ip="198.51.100.4", headers=page, path="/a",
             referrer="https://dichvucong.gov.vn/p/home/dvc-chi-tiet.html?ma=123")
    # a new visit that starts from a link on the site itself is not a source
    post_hit(client, ip="198.51.100.5", headers=page, path="/a",
             referrer="https://thanhxuan.hanoi.gov.vn/")
    for period in ("today", "week", "month", "year"):
        found = _sources(client, token, period)
        assert found["sources"] == {"direct": 1, "search": 1, "social": 1, "gov": 1,
                                    "other": 0}, period
    assert _sources(client, token, "today")["hosts"] == []
    assert _sources(client, token, "month")["hosts"] == [
        {"host": "dichvucong.gov.vn", "visits": 1}, {"host": "google.com.vn", "visits": 1},
        {"host": "zalo.me", "visits": 1}]
    dump = redis_server.dump()  # type: ignore[attr-defined]
    for secret in (b"bi-mat-ca-nhan", b"nhom-kin", b"dvc-chi-tiet", b"ma=123", b"search?q"):
        assert secret not in dump


def test_a_bot_or_a_reload_counts_no_source(client: FlaskClient, site: Site,
                                            token: str) -> None:
    post_hit(client, ua="Googlebot/2.1 (+http://www.google.com/bot.html)",
             referrer="https://www.google.com/")
    post_hit(client, path="/x", referrer="https://www.facebook.com/")
    post_hit(client, path="/x", referrer="https://www.facebook.com/")  # reload: same visit
    assert _sources(client, token, "today")["sources"] == {
        "direct": 0, "search": 0, "social": 1, "gov": 0, "other": 0}


def test_periods_follow_the_sites_calendar(store: Store, site: Site) -> None:
    # Tuesday 2026-12-01 00:00 in Hanoi; a visit one millisecond earlier is November's
    late = at("2026-11-30T23:59:59.999+07:00")
    early = at("2026-12-01T00:00:00+07:00")
    visits.record_hit(store, site, visitor="a", path="/", title="", now=late,
                      source=Source("social", "zalo.me"))
    visits.record_hit(store, site, visitor="b", path="/", title="", now=early,
                      source=Source("search", "coccoc.com"))
    at_dec = sources.sources(store, site, period="month", now=early)
    assert at_dec["sources"]["social"] == 0 and at_dec["sources"]["search"] == 1
    assert at_dec["hosts"] == [{"host": "coccoc.com", "visits": 1}]
    week = sources.sources(store, site, period="week", now=early)  # Monday 2026-11-30 on
    assert week["sources"]["social"] == 1 and week["sources"]["search"] == 1
    assert sources.sources(store, site, period="today", now=early)["sources"]["social"] == 0
    year = sources.sources(store, site, period="year", now=early)
    assert year["hosts"] == [{"host": "coccoc.com", "visits": 1},
                             {"host": "zalo.me", "visits": 1}]


def test_hosts_are_bounded_and_the_least_counted_make_room(store: Store, site: Site) -> None:
    now = at("2026-11-20T10:00:00+07:00")
    for i in range(3):
        visits.record_hit(store, site, visitor=f"big-{i}", path="/", title="", now=now,
                          source=Source("other", "big.example"))
    for i in range(205):
        visits.record_hit(store, site, visitor=f"v{i}", path="/", title="", now=now,
                          source=Source("other", f"h{i:03d}.example"))
    found = sources.sources(store, site, period="month", now=now)
    assert found["sources"]["other"] == 208  # every visit counts; only the host list is bounded
    hosts = found["hosts"]
    assert len(hosts) == 200
    assert hosts[0] == {"host": "big.example", "visits": 3}
    assert {"host": "h204.example", "visits": 1} in hosts  # the newest always gets in
    with store.guard("test"):
        assert store.redis.zcard(store.keys.source_hosts("thanhxuan", "2026-11")) == 200
        assert store.redis.ttl(store.keys.source_hosts("thanhxuan", "2026-11")) > 0
        assert store.redis.ttl(store.keys.sources("thanhxuan", "2026")) > 0


@pytest.mark.parametrize("period", ["total", "", "day", "month;"])
def test_a_bad_period_is_400(client: FlaskClient, site: Site, token: str, period: str) -> None:
    response = client.get(f"/api/v1/admin/sites/thanhxuan/sources?period={period}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "period" in response.get_json()["error"]


def test_another_sites_token_is_403(client: FlaskClient, store: Store, site: Site) -> None:
    sites.put_site(store, "caugiay", {})
    other = tokens.create(store, "cg", ["caugiay"], now=datetime.now(UTC))
    response = client.get("/api/v1/admin/sites/thanhxuan/sources",
                          headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 403


def test_a_long_or_odd_referrer_is_accepted_and_stores_nothing_of_it(
        client: FlaskClient, site: Site, token: str, redis_server: object) -> None:
    weird = "https://example.org/" + "x" * 3000
    assert post_hit(client, referrer=weird).status_code == 200
    assert post_hit(client, ip="192.0.2.9", referrer=12).status_code == 400
    found = _sources(client, token, "month")
    assert found["sources"]["other"] == 1
    assert found["hosts"] == [{"host": "example.org", "visits": 1}]
    assert b"xxxxxxxx" not in redis_server.dump()  # type: ignore[attr-defined]
