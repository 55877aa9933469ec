"""Attacks from outside, as an attacker would try them: filling Redis, defacing "Tin xem
nhiều", closing the page table, bypassing `origins`, and one IPv6 network acting as many."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from service import sites, tokens
from service.clock import Clock
from service.pages import rules as pages
from service.polls import rules as polls
from service.polls import votes
from service.sites import Site
from service.store import Store
from tests.conftest import BROWSER, SECRET, make_app, post_hit
from tests.redis_proc import RedisProcess

# The worst a client may send: a 512-character path and a 200-character title, each made
# of 4-byte UTF-8 characters (every one survives cleaning and is stored in full).
WIDE = "𝔸"


def worst_path(i: int) -> str:
    head = f"/tin-tuc/{i}/"
    return head + WIDE * (512 - len(head))


def worst_title(i: int) -> str:
    head = f"{i} "
    return head + WIDE * (200 - len(head))


def _key_sizes(server: RedisProcess) -> dict[str, tuple[int, int]]:
    """Every key's MEMORY USAGE and TTL (-1: none)."""
    with server.client() as r:
        return {k: (int(r.memory_usage(k, samples=0) or 0), int(r.ttl(k)))
                for k in r.scan_iter(match="*", count=1000)}


def _per_page_bytes(server: RedisProcess, site_id: str) -> int:
    with server.client() as r:
        keys = [k for k in r.scan_iter(match=f"pw:{{{site_id}}}:*")
                if k.split(":")[2] in ("pv", "paths", "ptitle", "ptitle-next", "rank")]
        return sum(int(r.memory_usage(k, samples=0) or 0) for k in keys)


def test_junk_paths_cannot_fill_redis(client: FlaskClient, store: Store, clock: Clock,
                                      redis_server: RedisProcess) -> None:
    sites.put_site(store, "junk", {"max_pages": 200})

    def flood(start: int, count: int) -> None:
        for i in range(start, start + count):
            body = json.dumps({"path": worst_path(i), "title": worst_title(i)},
                              ensure_ascii=False).encode()
            assert len(body) < 4096  # within the body limit: what a client may really send
            response = client.post("/api/v1/sites/junk/hits", data=body,
                                   content_type="text/plain;charset=UTF-8",
                                   headers={"User-Agent": BROWSER},
                                   environ_base={"REMOTE_ADDR": f"198.51.{i // 250}.{i % 250}"})
            assert response.status_code == 200

    flood(0, 200)
    with redis_server.client() as r:
        assert r.zcard("pw:{junk}:pv") == 200
    per_page = _per_page_bytes(redis_server, "junk") / 200
    assert per_page <= 4096, per_page  # the bound docs/design.md states, with the worst input

    before = _key_sizes(redis_server)
    flood(200, 400)  # twice the table again: each new path takes a least-viewed one's place
    with redis_server.client() as r:
        assert r.zcard("pw:{junk}:pv") == 200
        assert r.hlen("pw:{junk}:paths") == 200
        assert r.hlen("pw:{junk}:ptitle") == 200
    assert _per_page_bytes(redis_server, "junk") / 200 <= 4096
    after = _key_sizes(redis_server)
    # Counted key by key (MEMORY USAGE), not from INFO's used_memory, whose allocator and
    # client-buffer noise on a busy machine is as large as the bound itself.
    # Keys that live on do not grow with junk: the page table stays at its bound above, and
    # the site's counters and histories have fixed fields.
    lasting = {k: size for k, (size, ttl) in after.items() if ttl < 0}
    grown = sum(size - before.get(k, (0, 0))[0] for k, size in lasting.items())
    assert grown / 400 < 64, (grown, sorted(set(lasting) - set(before)))
    # What still grows is short-lived: reload guards (10 min), visits (30 min) and request
    # markers, about 400 bytes a hit, every one with an expiry of at most 30 minutes.
    fresh = {k: v for k, v in after.items() if k not in before}
    assert all(0 < ttl <= 1800 for _, ttl in fresh.values() if ttl >= 0)
    growth = sum(size for size, ttl in fresh.values() if ttl >= 0) / 400
    assert growth < 512, growth
    assert sites.get_site(store, "junk").max_pages == 200


def test_one_client_cannot_retitle_an_article(client: FlaskClient, site: Site,
                                              store: Store) -> None:
    real = "Hội nghị triển khai nhiệm vụ năm 2027"
    assert post_hit(client, path="/tin-tuc/hoi-nghi", title=real, ip="203.0.113.1",
                    token="reader-0001").status_code == 200
    defaced = "Cổng đã bị chiếm quyền"
    for i in range(20):  # one address, rotating browser tokens and User-Agents
        assert post_hit(client, path="/tin-tuc/hoi-nghi", title=defaced, ip="198.51.100.9",
                        token=f"attacker-{i:04d}", ua=f"{BROWSER} v{i}").status_code == 200
    # addresses of one IPv6 /64 are one client too
    for i in range(5):
        post_hit(client, path="/tin-tuc/hoi-nghi", title=defaced, ip=f"2001:db8:7:7::{i + 1}",
                 token=f"six-{i:04d}")
    assert pages.views(store, site, ["/tin-tuc/hoi-nghi"])["/tin-tuc/hoi-nghi"]["title"] == real
    assert pages.top(store, site, period="today", limit=5, now=_now())[0]["title"] == real


def test_three_distinct_networks_agreeing_retitle_an_article(client: FlaskClient, site: Site,
                                                              store: Store) -> None:
    post_hit(client, path="/a", title="Bản nháp", ip="203.0.113.1", token="first-0001")
    for n, ip in enumerate(("198.51.100.1", "192.0.2.2")):  # two IPv4 /24s
        post_hit(client, path="/a", title="Bài đã sửa", ip=ip, token=f"editor-{n:04d}")
        assert _title(store, site, "/a") == "Bản nháp"
    post_hit(client, path="/a", title="Bài đã sửa", ip="2001:db8:1:2::9", token="editor-0009")
    assert _title(store, site, "/a") == "Bài đã sửa"


def test_invisible_and_bidi_characters_are_stripped_from_titles(client: FlaskClient,
                                                                site: Site,
                                                                store: Store) -> None:
    sneaky = "Tin\u200b tức\u202e nóng\u2066 hôm\u200f nay\ufeff"
    assert post_hit(client, path="/b", title=sneaky).status_code == 200
    assert _title(store, site, "/b") == "Tin tức nóng hôm nay"


def _title(store: Store, site: Site, path: str) -> str | None:
    found: str | None = pages.views(store, site, [path])[path]["title"]
    return found


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


WRITES = [
    ("post", "/api/v1/sites/quan/hits", {"data": "{}", "content_type": "text/plain"}),
    ("post", "/api/v1/sites/quan/heartbeat", {"data": "{}", "content_type": "text/plain"}),
    ("post", "/api/v1/sites/quan/polls/p1/votes",
     {"data": json.dumps({"options": ["o1"], "ticket": "x"}), "content_type": "text/plain"}),
    ("post", "/api/v1/sites/quan/hotlines/h1/clicks", {}),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
@pytest.mark.parametrize("origin", [
    {"Origin": "null"},  # a sandboxed iframe or a data: page
    {"Origin": "https://evil.example"},
    {"Referer": "https://evil.example/page"},
])
def test_writes_from_another_or_an_opaque_origin_are_refused(
        client: FlaskClient, store: Store, redis_server: RedisProcess, method: str, url: str,
        body: dict[str, Any], origin: dict[str, str]) -> None:
    sites.put_site(store, "quan", {"origins": ["https://thanhxuan.hanoi.gov.vn"],
                                   "verify_pages": False})
    with redis_server.client() as r:
        before = sorted(r.scan_iter(match="pw:{quan}:*"))
    response = getattr(client, method)(url, headers={"User-Agent": BROWSER, **origin}, **body)
    assert response.status_code == 403
    assert response.get_json() == {"error": "origin not allowed"}
    with redis_server.client() as r:
        assert sorted(r.scan_iter(match="pw:{quan}:*")) == before


def test_the_allowed_origin_still_counts(client: FlaskClient, store: Store) -> None:
    sites.put_site(store, "quan", {"origins": ["https://thanhxuan.hanoi.gov.vn"],
                                   "verify_pages": False})
    ok = post_hit(client, "quan", headers={"Origin": "https://thanhxuan.hanoi.gov.vn"})
    assert ok.status_code == 200 and ok.get_json()["counted"] is True
    assert ok.headers["Access-Control-Allow-Origin"] == "https://thanhxuan.hanoi.gov.vn"


@pytest.mark.parametrize("url", ["/api/v1/sites/quan/hits", "/api/v1/sites/quan/stats",
                                 "/api/v1/sites/quan/polls/p1/votes"])
def test_a_preflight_answers_only_an_allowed_origin_never_star(client: FlaskClient,
                                                               store: Store, url: str) -> None:
    sites.put_site(store, "quan", {"origins": ["https://thanhxuan.hanoi.gov.vn"],
                                   "verify_pages": False})
    request = {"Access-Control-Request-Method": "POST"}
    allowed = client.options(url, headers={**request, "Origin": "https://thanhxuan.hanoi.gov.vn"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://thanhxuan.hanoi.gov.vn"
    assert "Origin" in allowed.headers["Vary"]
    for origin in ("https://evil.example", "null"):
        other = client.options(url, headers={**request, "Origin": origin})
        assert "Access-Control-Allow-Origin" not in other.headers, origin
    open_site = client.options("/api/v1/sites/nowhere/hits",
                               headers={**request, "Origin": "https://a.example"})
    assert open_site.headers.get("Access-Control-Allow-Origin") in (None, "*")


def test_an_ipv6_network_is_one_client_for_the_hit_allowance(client: FlaskClient,
                                                             site: Site, clock: Clock) -> None:
    codes = [post_hit(client, ip=f"2001:db8:aa:bb::{i:x}", token=f"tok-{i:06d}").status_code
             for i in range(1, 602)]
    assert codes[:600] == [200] * 600
    assert codes[600] == 429  # another address of the same /64
    limited = post_hit(client, ip="2001:db8:aa:bb:ffff::1")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert post_hit(client, ip="2001:db8:aa:cc::1").status_code == 200  # another /64


def test_an_ipv6_network_is_one_client_for_the_vote_allowance(redis_server: RedisProcess
                                                              ) -> None:
    app = make_app(redis_server.url, PW_POLL_MAX_VOTES_PER_IP="2")
    client = app.test_client()
    with app.app_context():
        from service.store import get_store

        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {})
        polls.create(store, site, {"id": "p1", "question": "Q?", "options": ["A", "B"]},
                     now=_now())
        ticket = [votes.issue_ticket(SECRET, site, "p1") for _ in range(3)]
    codes = [client.post("/api/v1/sites/thanhxuan/polls/p1/votes",
                         json={"options": ["o1"], "ticket": ticket[i], "token": f"br-{i:06d}"},
                         environ_base={"REMOTE_ADDR": f"2001:db8:5:6::{i + 1}"}).status_code
             for i in range(3)]
    assert codes == [201, 201, 429]


def test_page_prefixes_keep_other_paths_out_of_top_lists(client: FlaskClient, store: Store
                                                         ) -> None:
    site, _ = sites.put_site(store, "thanhxuan", {"page_prefixes": ["/tin-tuc/"]})
    for i in range(3):
        post_hit(client, path="/junk", ip=f"198.51.100.{i}", token=f"junk-{i:04d}")
    post_hit(client, path="/tin-tuc/a", title="Bài A")
    assert pages.top(store, site, period="today", limit=5, now=_now()) == [
        {"path": "/tin-tuc/a", "title": "Bài A", "views": 1}]
    assert pages.views(store, site, ["/junk"])["/junk"]["views"] == 3  # still counted


@pytest.mark.parametrize("value", [["tin-tuc"], "/tin-tuc/", [1], ["/" + "x" * 300]])
def test_bad_page_prefixes_are_refused(store: Store, value: Any) -> None:
    from service.errors import Invalid

    with pytest.raises(Invalid):
        sites.put_site(store, "thanhxuan", {"page_prefixes": value})


@pytest.fixture
def admin(client: FlaskClient, store: Store, site: Site) -> dict[str, str]:
    secret = tokens.create(store, "root", [], now=_now())
    return {"Authorization": f"Bearer {secret}"}


def test_admin_hides_renames_and_forgets_pages(client: FlaskClient, store: Store, site: Site,
                                               admin: dict[str, str]) -> None:
    for i in range(3):
        post_hit(client, path="/junk", title="Rác", ip=f"198.51.100.{i}", token=f"j-{i:06d}")
    post_hit(client, path="/tin-tuc/a", title="Bài A")
    url = "/api/v1/admin/sites/thanhxuan/pages"

    listed = client.get(url + "?period=today", headers=admin).get_json()["pages"]
    assert listed == [
        {"path": "/junk", "title": "Rác", "views": 3, "hidden": False, "title_locked": False,
         "state": "unchecked"},
        {"path": "/tin-tuc/a", "title": "Bài A", "views": 1, "hidden": False,
         "title_locked": False, "state": "unchecked"}]

    assert client.put(url, json={"path": "/junk", "hidden": True}, headers=admin
                      ).status_code == 204
    public = client.get("/api/v1/sites/thanhxuan/pages/top?period=today").get_json()["pages"]
    assert [p["path"] for p in public] == ["/tin-tuc/a"]
    assert client.get(url + "?period=today", headers=admin).get_json()["pages"][0]["hidden"]

    assert client.put(url, json={"path": "/tin-tuc/a", "title": "Bài A (đã duyệt)"},
                      headers=admin).status_code == 204
    for i in range(3):  # three addresses agreeing cannot change a locked title
        post_hit(client, path="/tin-tuc/a", title="Khác", ip=f"203.0.113.{i}",
                 token=f"k-{i:06d}")
    assert _title(store, site, "/tin-tuc/a") == "Bài A (đã duyệt)"
    client.put(url, json={"path": "/tin-tuc/a", "title": None}, headers=admin)
    found = client.get(url + "?period=today", headers=admin).get_json()["pages"]
    assert {p["path"]: p["title_locked"] for p in found}["/tin-tuc/a"] is False

    assert client.delete(url + "?path=/junk", headers=admin).status_code == 204
    assert pages.views(store, site, ["/junk"])["/junk"] == {"views": 0, "title": None}
    assert [p["path"] for p in client.get(url + "?period=today", headers=admin)
            .get_json()["pages"]] == ["/tin-tuc/a"]
    stats = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["pageviews"]["today"] == 7  # site totals keep every counted view


@pytest.mark.parametrize(("method", "body", "query", "status"), [
    ("put", {"path": "/nope", "hidden": True}, "", 404),
    ("put", {"path": "/tin-tuc/a"}, "", 400),
    ("put", {"path": "/tin-tuc/a", "hidden": "yes"}, "", 400),
    ("put", {"path": "/tin-tuc/a", "title": ""}, "", 400),
    ("put", {"path": "/tin-tuc/a", "title": "x" * 201}, "", 400),
    ("put", {"path": "/tin-tuc/a", "color": "red"}, "", 400),
    ("put", ["/tin-tuc/a"], "", 400),
    ("delete", None, "", 400),
    ("delete", None, "?path=/nope", 404),
    ("get", None, "?period=decade", 400),
])
def test_bad_moderation_is_refused_and_changes_nothing(
        client: FlaskClient, store: Store, site: Site, admin: dict[str, str],
        redis_server: RedisProcess, method: str, body: Any, query: str, status: int) -> None:
    post_hit(client, path="/tin-tuc/a", title="Bài A")
    with redis_server.client() as r:
        before = {k: r.dump(k) for k in r.scan_iter(match="pw:{thanhxuan}:p*")}
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)("/api/v1/admin/sites/thanhxuan/pages" + query,
                                        headers=admin, **kwargs)
    assert response.status_code == status
    assert "error" in response.get_json()
    with redis_server.client() as r:
        assert {k: r.dump(k) for k in r.scan_iter(match="pw:{thanhxuan}:p*")} == before


def test_a_token_for_another_site_cannot_moderate(client: FlaskClient, store: Store,
                                                  site: Site) -> None:
    secret = tokens.create(store, "other", ["caugiay"], now=_now())
    response = client.put("/api/v1/admin/sites/thanhxuan/pages",
                          json={"path": "/a", "hidden": True},
                          headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
