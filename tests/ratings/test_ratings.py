"""Ratings of information: the public API's rules, bad input, allowances, retries, metrics."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from service import sites
from service.clock import Clock
from service.sites import Site
from service.store import Store
from service.store.pages import page_id
from tests.conftest import SECRET, metric, post_hit

BASE = "/api/v1/sites/thanhxuan/ratings"
PAGE = "/tin-tuc/le-hoi"
PID = page_id(PAGE)
REASONS = ("thieu", "kho-hieu", "sai", "cu", "khac")


@pytest.fixture
def page(client: FlaskClient, site: Site) -> str:
    """A tracked page: a rating needs a page the site counts."""
    assert post_hit(client, path=PAGE, title="Lễ hội").status_code == 200
    return PAGE


def ticket(client: FlaskClient, path: str = PAGE) -> str:
    response = client.get(BASE, query_string={"path": path})
    assert response.status_code == 200
    value: str = response.get_json()["ticket"]
    return value


def rate(client: FlaskClient, useful: Any = True, *, reasons: Any = None,
         token: str | None = "browser-0001", ticket_value: str | None = None,
         ip: str = "203.0.113.5", path: str = PAGE, headers: dict[str, str] | None = None,
         **extra: Any) -> Any:
    body: dict[str, Any] = {"path": path, "useful": useful, **extra}
    if reasons is not None:
        body["reasons"] = reasons
    if token is not None:
        body["token"] = token
    body["ticket"] = ticket_value if ticket_value is not None else ticket(client, path)
    return client.post(BASE, data=json.dumps(body), content_type="text/plain;charset=UTF-8",
                       headers=headers or {}, environ_base={"REMOTE_ADDR": ip})


def counts(store: Store, bucket: str = "all") -> dict[str, str]:
    found: dict[str, str] = store.redis.hgetall(f"pw:{{thanhxuan}}:rt:{bucket}")
    return found


def test_read_has_the_contract_fields_and_a_fresh_ticket(client: FlaskClient, page: str) -> None:
    first = client.get(BASE, query_string={"path": PAGE})
    second = client.get(BASE, query_string={"path": PAGE + "?utm=x#top"})
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    body = first.get_json()
    assert list(body) == ["path", "question", "useful", "not_useful", "reasons", "ticket"]
    assert body["path"] == PAGE
    assert body["question"] == "Thông tin này có hữu ích với bạn không?"
    assert (body["useful"], body["not_useful"]) == (0, 0)
    assert body["reasons"] == dict.fromkeys(REASONS, 0)
    assert second.get_json()["path"] == PAGE
    assert second.get_json()["ticket"] != body["ticket"]
    english = client.get(BASE, query_string={"path": PAGE, "lang": "en"}).get_json()
    assert english["question"] == "Was this information useful?"


def test_a_rating_is_counted_per_page_month_year_and_all_time(client: FlaskClient,
                                                                store: Store,
                                                                page: str) -> None:
    yes = rate(client, True, token="browser-aaaa")
    no = rate(client, False, reasons=["sai", "thieu"], token="browser-bbbb")
    assert yes.status_code == 201
    assert no.status_code == 201
    assert no.headers["Cache-Control"] == "no-store"
    assert no.get_json() == {
        "path": PAGE, "question": "Thông tin này có hữu ích với bạn không?",
        "useful": 1, "not_useful": 1,
        "reasons": {"thieu": 1, "kho-hieu": 0, "sai": 1, "cu": 0, "khac": 0}}
    expected = {"u": "1", "n": "1", "r:thieu": "1", "r:sai": "1", f"{PID}:u": "1",
                f"{PID}:n": "1", f"{PID}:r:thieu": "1", f"{PID}:r:sai": "1"}
    assert counts(store) == expected
    month = time.strftime("%Y-%m", time.gmtime(time.time() + 7 * 3600))
    assert counts(store, month) == expected
    assert counts(store, month[:4]) == expected
    assert store.redis.zscore(f"pw:{{thanhxuan}}:rt-pages:{month}", PID) == 2
    assert 0 < store.redis.ttl(f"pw:{{thanhxuan}}:rt:{month}") <= 2 * 397 * 86400
    assert store.redis.ttl("pw:{thanhxuan}:rt:all") == -1
    read = client.get(BASE, query_string={"path": PAGE}).get_json()
    assert (read["useful"], read["not_useful"], read["reasons"]["sai"]) == (1, 1, 1)


def test_one_rating_per_browser_per_page(client: FlaskClient, store: Store, page: str) -> None:
    assert rate(client, True).status_code == 201
    again = rate(client, False, reasons=["cu"])
    assert again.status_code == 409
    assert again.get_json() == {"error": "already rated"}
    assert counts(store)["u"] == "1"
    assert "n" not in counts(store)


def test_the_guard_is_a_keyed_hash_kept_90_days(client: FlaskClient, store: Store,
                                                page: str, redis_server: Any) -> None:
    before = int(time.time() * 1000)  # whole ms, as the service's `now` (within the same ms)
    assert rate(client, True, token="browser-secret-1").status_code == 201
    raters = store.redis.zrange("pw:{thanhxuan}:rt-raters", 0, -1, withscores=True)
    assert len(raters) == 1
    member, until = raters[0]
    assert "browser-secret-1" not in member and len(member) == 32
    assert before + 90 * 86_400_000 <= until <= time.time() * 1000 + 90 * 86_400_000
    with redis_server.client() as raw:
        dump = " ".join(str(raw.dump(key)) for key in raw.scan_iter(match="*"))
    assert "browser-secret-1" not in dump and "203.0.113.5" not in dump


def test_a_retried_identical_rating_is_409_and_counted_once(client: FlaskClient,
                                                             store: Store, page: str) -> None:
    value = ticket(client)
    first = rate(client, False, reasons=["cu"], ticket_value=value)
    retry = rate(client, False, reasons=["cu"], ticket_value=value)
    assert first.status_code == 201
    assert retry.status_code == 409
    assert retry.get_json() == {"error": "already rated"}
    assert counts(store)["n"] == "1"
    assert counts(store)["r:cu"] == "1"


def test_a_ticket_is_single_use_without_a_token(client: FlaskClient, store: Store,
                                                page: str) -> None:
    value = ticket(client)
    assert rate(client, True, token=None, ticket_value=value).status_code == 201
    reused = rate(client, True, token=None, ticket_value=value)
    assert reused.status_code == 409
    assert counts(store)["u"] == "1"


def _signed(payload: dict[str, str], *, secret: str = SECRET, age: int = 0) -> str:
    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    return str(URLSafeTimedSerializer(secret, salt="pw-rating-ticket", signer=Old)
               .dumps(payload))


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"path": PAGE, "useful": True}, 400, "ticket is required"),
        ({"path": PAGE, "useful": True, "ticket": "forged.ticket.value"}, 400,
         "invalid ticket"),
        ({"path": PAGE, "useful": True,
          "ticket": _signed({"s": "thanhxuan", "p": PID, "n": "x"}, age=3700)}, 400,
         "ticket expired"),
        ({"path": PAGE, "useful": True, "ticket": _signed(
            {"s": "thanhxuan", "p": PID, "n": "x"}, secret="another-secret-0123456789")},
         400, "invalid ticket"),
        ({"path": PAGE, "useful": True,
          "ticket": _signed({"s": "thanhxuan", "p": page_id("/other"), "n": "x"})}, 400,
         "invalid ticket"),
        ({"path": PAGE, "useful": True,
          "ticket": _signed({"s": "caugiay", "p": PID, "n": "x"})}, 400, "invalid ticket"),
        ({"path": PAGE, "useful": "yes", "ticket": "T"}, 400, "useful must be true or false"),
        ({"path": PAGE, "ticket": "T"}, 400, "useful must be true or false"),
        ({"path": PAGE, "useful": 1, "ticket": "T"}, 400, "useful must be true or false"),
        ({"path": PAGE, "useful": False, "reasons": ["nope"], "ticket": "T"}, 400,
         "unknown reason"),
        ({"path": PAGE, "useful": False, "reasons": "sai", "ticket": "T"}, 400,
         "reasons must be a list of reason ids"),
        ({"path": PAGE, "useful": False, "reasons": [1], "ticket": "T"}, 400,
         "reasons must be a list of reason ids"),
        ({"path": PAGE, "useful": False, "reasons": ["sai", "sai"], "ticket": "T"}, 400,
         "reasons must not repeat"),
        ({"path": PAGE, "useful": False, "reasons": ["khac"] * 6, "ticket": "T"}, 400,
         "reasons must be a list of reason ids"),
        ({"path": PAGE, "useful": True, "reasons": ["sai"], "ticket": "T"}, 400,
         "reasons only with useful false"),
        ({"path": PAGE, "useful": True, "ticket": "T", "token": "<b>"}, 400,
         "token must be 8-64 characters of letters, digits, - or _"),
        ({"useful": True, "ticket": "T"}, 400, "path is required"),
        ({"path": "tin-tuc", "useful": True, "ticket": "T"}, 400, "path must start with /"),
        ({"path": 7, "useful": True, "ticket": "T"}, 400,
         "path must be a string of at most 2048 characters"),
        ({"path": "/a\x01", "useful": True, "ticket": "T"}, 400,
         "path must not contain control characters"),
        ({"path": PAGE, "useful": True, "ticket": "\ud800"}, 400,
         "ticket is not valid unicode"),
        ({"path": "/chua-co", "useful": True, "ticket": "T"}, 404, "unknown page"),
    ],
)
def test_bad_ratings_are_refused_and_change_nothing(client: FlaskClient, store: Store,
                                                    page: str, redis_server: Any,
                                                    body: dict[str, Any], status: int,
                                                    reason: str) -> None:
    if body.get("ticket") == "T":
        path = body["path"] if isinstance(body.get("path"), str) and \
            body["path"].startswith("/") and "\x01" not in body["path"] else PAGE
        body = {**body, "ticket": ticket(client, path)}
    with redis_server.client() as raw:
        before = sorted(k for k in raw.scan_iter(match="*") if ":rl:" not in k)
    response = client.post(BASE, data=json.dumps(body), content_type="application/json",
                           environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == status
    assert response.get_json() == {"error": reason}
    with redis_server.client() as raw:
        after = sorted(k for k in raw.scan_iter(match="*") if ":rl:" not in k)
    assert after == before
    assert counts(store) == {}


@pytest.mark.parametrize("query", [{}, {"path": ""}, {"path": "no-slash"}])
def test_read_needs_a_path(client: FlaskClient, site: Site, query: dict[str, str]) -> None:
    response = client.get(BASE, query_string=query)
    assert response.status_code == 400


def test_unknown_site_is_404(client: FlaskClient, site: Site) -> None:
    assert client.get("/api/v1/sites/nope/ratings?path=/a").status_code == 404
    assert client.post("/api/v1/sites/nope/ratings", json={"path": "/a"}).status_code == 404


def test_the_per_address_allowance_is_per_page(app: Flask, client: FlaskClient, store: Store,
                                               page: str) -> None:
    app.config["PW_SETTINGS"] = _with(app, ratings_per_ip=3)
    for n in range(3):
        assert rate(client, True, token=f"browser-{n:04d}").status_code == 201
    refused = rate(client, True, token="browser-9999")
    assert refused.status_code == 429
    assert refused.get_json() == {"error": "too many ratings from this address"}
    assert counts(store)["u"] == "3"
    # the same address on another page has its own allowance
    assert post_hit(client, path="/khac").status_code == 200
    assert rate(client, True, token="browser-9999", path="/khac").status_code == 201
    # another address on this page too
    assert rate(client, True, token="browser-8888", ip="203.0.113.6").status_code == 201


def test_an_ipv6_client_is_one_address_per_64_and_a_48_gets_four_times(
        app: Flask, client: FlaskClient, store: Store, page: str) -> None:
    app.config["PW_SETTINGS"] = _with(app, ratings_per_ip=2)
    n = 0

    def from_ip(ip: str) -> int:
        nonlocal n
        n += 1
        return int(rate(client, True, token=f"browser-{n:04d}", ip=ip).status_code)

    # one /64: any address in it shares the allowance
    assert [from_ip(f"2001:db8:1:1::{i}") for i in range(1, 4)] == [201, 201, 429]
    # other /64s of the same /48: four times one address's allowance together
    codes = [from_ip(f"2001:db8:1:{net}::1") for net in range(2, 6) for _ in range(2)]
    assert codes == [201] * 6 + [429] * 2
    assert counts(store)["u"] == "8"
    # another /48 is not affected
    assert from_ip("2001:db8:2:1::1") == 201


def test_origins_are_enforced_and_the_services_own_origin_allowed(
        client: FlaskClient, store: Store) -> None:
    sites.put_site(store, "thanhxuan", {"origins": ["https://thanhxuan.example"],
                                       "verify_pages": False})
    assert post_hit(client, path=PAGE,
                    headers={"Origin": "https://thanhxuan.example"}).status_code == 200
    for origin in ("https://evil.example", "null"):
        refused = rate(client, True, headers={"Origin": origin})
        assert refused.status_code == 403
        assert refused.get_json() == {"error": "origin not allowed"}
    assert rate(client, True, headers={"Referer": "https://evil.example/x"}).status_code == 403
    assert counts(store) == {}
    assert rate(client, True, token="browser-0001",
                headers={"Origin": "https://thanhxuan.example"}).status_code == 201
    # the no-JS form posts from the service itself
    assert rate(client, True, token="browser-0002",
                headers={"Origin": "http://localhost"}).status_code == 201
    assert counts(store)["u"] == "2"


def test_cors_on_the_public_routes(client: FlaskClient, page: str) -> None:
    read = client.get(BASE, query_string={"path": PAGE},
                      headers={"Origin": "https://a.example"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(BASE, headers={"Origin": "https://a.example",
                                              "Access-Control-Request-Method": "POST"})
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_the_rating_route_is_rate_limited(client: FlaskClient, page: str, clock: Clock) -> None:
    codes = [rate(client, True, token=f"browser-{n:04d}", ticket_value="x").status_code
             for n in range(31)]
    assert codes[:30] == [400] * 30
    assert codes[30] == 429


def test_rating_metrics_by_result(client: FlaskClient, store: Store, page: str) -> None:
    def value(result: str) -> float:
        return metric(client, "pw_ratings_total", site="thanhxuan", result=result)

    before = {r: value(r) for r in ("accepted", "duplicate", "invalid", "refused")}
    rate(client, True)
    rate(client, True)
    rate(client, True, ticket_value="forged")
    sites.put_site(store, "thanhxuan", {"origins": ["https://a.example"], "verify_pages": False})
    rate(client, True, headers={"Origin": "https://b.example"})
    assert value("accepted") == before["accepted"] + 1
    assert value("duplicate") == before["duplicate"] + 1
    assert value("invalid") == before["invalid"] + 1
    assert value("refused") == before["refused"] + 1


def test_concurrent_ratings_are_exact(app: Flask, store: Store, page: str) -> None:
    app.config["PW_SETTINGS"] = _with(app, ratings_per_ip=1000)
    results: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = app.test_client()
        codes = []
        for i in range(10):
            value = ticket(client)
            useful = (n + i) % 3 != 0
            body = {"path": PAGE, "useful": useful, "token": f"browser-{n:02d}-{i:04d}",
                    "ticket": value, "reasons": [] if useful else ["sai"]}
            for _ in range(2):  # every rating is sent twice: a retry
                codes.append(client.post(BASE, json=body, environ_base={
                    "REMOTE_ADDR": f"198.51.100.{n}"}).status_code)
        with lock:
            results.extend(codes)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(201) == 80
    assert results.count(409) == 80
    useful = sum(1 for n in range(8) for i in range(10) if (n + i) % 3 != 0)
    found = counts(store)
    assert int(found["u"]) == useful
    assert int(found["n"]) == 80 - useful == int(found["r:sai"])
    assert int(found[f"{PID}:u"]) == useful


def _with(app: Flask, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(app.config["PW_SETTINGS"], **changes)
