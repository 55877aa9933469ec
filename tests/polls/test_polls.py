"""Polls: tickets, one vote per browser, per-IP allowance, schedules, visibility, admin."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from service import tokens
from service.clock import Clock
from service.polls import rules as polls
from service.polls import votes
from service.sites import Site
from service.store import Store
from tests.conftest import BROWSER, SECRET, make_app, metric
from tests.redis_proc import RedisProcess

POLL = {
    "id": "dap-ung",
    "question": "Khả năng đáp ứng thông tin của Cổng TTĐT ?",
    "options": [{"id": "tot", "label": "Tốt"}, {"id": "kha", "label": "Khá"},
                {"id": "kem", "label": "Kém"}],
}
BASE = "/api/v1/sites/thanhxuan/polls"


@pytest.fixture
def poll(store: Store, site: Site) -> dict[str, Any]:
    definition = polls.create(store, site, dict(POLL), now=datetime.now(UTC))
    polls.set_current(store, site, {"poll": "dap-ung"})
    return definition


def ticket(client: FlaskClient, poll_id: str = "current") -> str:
    response = client.get(f"{BASE}/{poll_id}")
    assert response.status_code == 200
    value: str = response.get_json()["ticket"]
    return value


def vote(client: FlaskClient, options: list[str], *, token: str | None = "browser-0001",
         ticket_value: str | None = None, ip: str = "203.0.113.5", poll_id: str = "dap-ung",
         **extra: Any) -> Any:
    body: dict[str, Any] = {"options": options, **extra}
    if token is not None:
        body["token"] = token
    body["ticket"] = ticket_value if ticket_value is not None else ticket(client, poll_id)
    return client.post(f"{BASE}/{poll_id}/votes", json=body, headers={"User-Agent": BROWSER},
                       environ_base={"REMOTE_ADDR": ip})


def tally(store: Store) -> dict[str, str]:
    result: dict[str, str] = store.redis.hgetall("pw:{thanhxuan}:poll:dap-ung:tally")
    return result


def test_current_poll_has_the_documented_fields(client: FlaskClient, poll: dict[str, Any]) -> None:
    response = client.get(f"{BASE}/current")
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert body["id"] == "dap-ung"
    assert body["question"] == POLL["question"]
    assert body["options"] == [{"id": "tot", "label": "Tốt", "votes": 0},
                               {"id": "kha", "label": "Khá", "votes": 0},
                               {"id": "kem", "label": "Kém", "votes": 0}]
    assert body["multiple"] is False
    assert body["status"] == "open"
    assert body["results_visible"] is True
    assert body["total_votes"] == 0
    assert isinstance(body["ticket"], str) and len(body["ticket"]) > 20
    assert client.get(f"{BASE}/current").get_json()["ticket"] != body["ticket"]


def test_a_vote_is_counted_once_per_browser(client: FlaskClient, store: Store,
                                            poll: dict[str, Any]) -> None:
    first = vote(client, ["tot"])
    assert first.status_code == 201
    body = first.get_json()
    assert body["options"][0]["votes"] == 1
    assert body["total_votes"] == 1
    again = vote(client, ["kem"])  # a fresh ticket, the same browser
    assert again.status_code == 409
    assert again.get_json() == {"error": "already voted"}
    assert tally(store) == {"tot": "1", "_total": "1"}


def test_a_retried_identical_vote_is_409_and_counted_once(client: FlaskClient, store: Store,
                                                         poll: dict[str, Any]) -> None:
    value = ticket(client)
    assert vote(client, ["kha"], ticket_value=value).status_code == 201
    retry = vote(client, ["kha"], ticket_value=value)
    assert retry.status_code == 409
    assert tally(store) == {"kha": "1", "_total": "1"}


def test_a_ticket_is_single_use(client: FlaskClient, store: Store, poll: dict[str, Any]) -> None:
    value = ticket(client)
    assert vote(client, ["kha"], ticket_value=value, token="browser-aaaa").status_code == 201
    reused = vote(client, ["kha"], ticket_value=value, token="browser-bbbb")
    assert reused.status_code == 409
    assert reused.get_json() == {"error": "ticket already used"}
    assert tally(store) == {"kha": "1", "_total": "1"}


def _expired_ticket() -> str:
    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3700

    serializer = URLSafeTimedSerializer(SECRET, salt="pw-poll-ticket", signer=Old)
    return str(serializer.dumps({"s": "thanhxuan", "p": "dap-ung", "n": "abc"}))


def _foreign_ticket() -> str:
    serializer = URLSafeTimedSerializer("another-secret-key-0123456789", salt="pw-poll-ticket")
    return str(serializer.dumps({"s": "thanhxuan", "p": "dap-ung", "n": "abc"}))


def _other_poll_ticket() -> str:
    serializer = URLSafeTimedSerializer(SECRET, salt="pw-poll-ticket")
    return str(serializer.dumps({"s": "thanhxuan", "p": "another", "n": "abc"}))


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"options": ["tot"]}, 400, "ticket is required"),
        ({"options": ["tot"], "ticket": "forged.ticket.value"}, 400, "invalid ticket"),
        ({"options": ["tot"], "ticket": _foreign_ticket()}, 400, "invalid ticket"),
        ({"options": ["tot"], "ticket": _expired_ticket()}, 400, "ticket expired"),
        ({"options": ["tot"], "ticket": _other_poll_ticket()}, 400, "invalid ticket"),
        ({"options": ["nope"], "ticket": "T"}, 400, "unknown option"),
        ({"options": ["tot", "kha"], "ticket": "T"}, 400, "too many options"),
        ({"options": ["tot", "tot"], "ticket": "T"}, 400, "unknown option"),
        ({"options": [], "ticket": "T"}, 400, "options must be a non-empty list of option ids"),
        ({"options": "tot", "ticket": "T"}, 400, "options must be a non-empty list of option ids"),
        ({"options": [1], "ticket": "T"}, 400, "options must be a non-empty list of option ids"),
        ({"options": ["tot"], "ticket": "T", "token": "<b>"}, 400,
         "token must be 8-64 characters of letters, digits, - or _"),
        ({"options": ["\ud800"], "ticket": "T"}, 400, "options is not valid unicode"),
        ({"options": ["tot"], "ticket": "\ud800"}, 400, "ticket is not valid unicode"),
    ],
)
def test_bad_votes_are_refused_and_change_nothing(client: FlaskClient, store: Store,
                                                  poll: dict[str, Any], body: dict[str, Any],
                                                  status: int, reason: str) -> None:
    if body.get("ticket") == "T":
        body = {**body, "ticket": ticket(client)}
    # sent as ASCII JSON, so that a lone surrogate arrives as `\ud800`, as an attacker sends it
    response = client.post(f"{BASE}/dap-ung/votes", data=json.dumps(body),
                           content_type="application/json",
                           environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == status
    assert response.get_json() == {"error": reason}
    assert tally(store) == {}
    assert store.redis.exists("pw:{thanhxuan}:poll:dap-ung:voters",
                              "pw:{thanhxuan}:poll:dap-ung:nonces") == 0


def test_a_vote_on_an_unknown_poll_is_404_whatever_its_ticket(client: FlaskClient,
                                                              poll: dict[str, Any]) -> None:
    for body in ({"options": ["tot"], "ticket": "forged"}, {"options": ["tot"]},
                 {"options": ["tot"], "ticket": ticket(client)}):
        response = client.post(f"{BASE}/nosuch/votes", json=body)
        assert response.status_code == 404
        assert response.get_json() == {"error": "unknown poll"}


def test_unknown_poll_is_404(client: FlaskClient, site: Site) -> None:
    assert client.get(f"{BASE}/current").status_code == 404
    assert client.get(f"{BASE}/nosuch").status_code == 404
    assert client.get(f"{BASE}/BAD ID").status_code == 404


def test_the_per_ip_allowance_is_shared_by_browsers_behind_one_address(
        redis_server: RedisProcess, store: Store, site: Site, poll: dict[str, Any]) -> None:
    client = make_app(redis_server.url, PW_POLL_MAX_VOTES_PER_IP="3").test_client()
    codes = [vote(client, ["tot"], token=f"browser-{i:04d}").status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]
    assert tally(store) == {"tot": "3", "_total": "3"}
    assert vote(client, ["tot"], token="browser-9999", ip="198.51.100.4").status_code == 201


def test_the_vote_route_is_rate_limited(client: FlaskClient, poll: dict[str, Any],
                                        clock: Clock) -> None:
    tickets = [ticket(client) for _ in range(11)]
    codes = [vote(client, ["tot"], token=f"rate-{i:04d}", ticket_value=t, ip="192.0.2.77")
             .status_code for i, t in enumerate(tickets)]
    assert codes[:10].count(201) == 10
    assert codes[10] == 429


def test_multiple_choice_counts_each_option_and_one_ballot(client: FlaskClient, store: Store,
                                                           site: Site) -> None:
    polls.create(store, site, {**POLL, "id": "multi", "multiple": True, "max_choices": 2},
                 now=datetime.now(UTC))
    response = vote(client, ["tot", "kem"], poll_id="multi")
    assert response.status_code == 201
    assert response.get_json()["total_votes"] == 1
    too_many = vote(client, ["tot", "kha", "kem"], poll_id="multi", token="browser-0002")
    assert too_many.get_json() == {"error": "too many options"}


def test_schedule_edges(store: Store, site: Site) -> None:
    # In the future of the real clock: a ticket issued now may not be used before it was issued.
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    closes = opens + timedelta(days=7)
    definition = polls.create(store, site, {**POLL, "opens_at": opens.isoformat(),
                                            "closes_at": closes.isoformat()},
                              now=datetime.now(UTC))
    assert polls.status(definition, opens - timedelta(milliseconds=1)) == "scheduled"
    assert polls.status(definition, opens) == "open"
    assert polls.status(definition, closes - timedelta(milliseconds=1)) == "open"
    assert polls.status(definition, closes) == "closed"

    def cast(now: datetime, token: str) -> str:
        value = votes.issue_ticket(SECRET, site, "dap-ung", now=now)
        try:
            votes.vote(store, site, "dap-ung", options=["tot"], ticket=value, token=token,
                       ip="1.2.3.4", secret=SECRET, max_per_ip=20, now=now)
        except votes.VoteRefused as refused:
            return refused.error.args[0]
        return "ok"

    assert cast(opens - timedelta(seconds=1), "browser-0001") == "poll not open yet"
    assert cast(opens, "browser-0001") == "ok"
    assert cast(closes - timedelta(seconds=1), "browser-0002") == "ok"
    assert cast(closes, "browser-0003") == "poll closed"


@pytest.mark.parametrize(
    ("mode", "visible_before", "visible_after_vote"),
    [("always", True, True), ("after_vote", False, True), ("after_close", False, False)],
)
def test_results_visibility(client: FlaskClient, store: Store, site: Site, mode: str,
                            visible_before: bool, visible_after_vote: bool) -> None:
    polls.create(store, site, {**POLL, "results": mode}, now=datetime.now(UTC))
    before = client.get(f"{BASE}/dap-ung").get_json()
    assert before["results_visible"] is visible_before
    assert (before["total_votes"] is None) is not visible_before
    assert (before["options"][0]["votes"] is None) is not visible_before
    after = vote(client, ["tot"]).get_json()
    assert after["results_visible"] is visible_after_vote
    polls.update(store, site, "dap-ung", {"status": "closed"}, now=datetime.now(UTC))
    closed = client.get(f"{BASE}/dap-ung").get_json()
    assert closed["status"] == "closed"
    assert closed["results_visible"] is True
    assert closed["total_votes"] == 1


def test_closed_poll_refuses_votes_and_reopens(client: FlaskClient, store: Store, site: Site,
                                               poll: dict[str, Any]) -> None:
    polls.update(store, site, "dap-ung", {"status": "closed"}, now=datetime.now(UTC))
    closed = vote(client, ["tot"])
    assert closed.status_code == 409
    assert closed.get_json() == {"error": "poll closed"}
    polls.update(store, site, "dap-ung", {"status": "open"}, now=datetime.now(UTC))
    assert vote(client, ["tot"]).status_code == 201


def test_concurrent_votes_from_many_clients_are_exact(app: Flask, store: Store,
                                                      poll: dict[str, Any]) -> None:
    def worker(n: int) -> None:
        local = app.test_client()
        for i in range(8):
            response = vote(local, [("tot", "kha", "kem")[i % 3]], token=f"c-{n:03d}-{i:03d}",
                            ip=f"10.2.{n}.{i}")
            assert response.status_code == 201, response.get_json()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = tally(store)
    assert counts["_total"] == "80"
    assert int(counts["tot"]) + int(counts["kha"]) + int(counts["kem"]) == 80


def test_no_raw_ip_or_token_is_stored(client: FlaskClient, poll: dict[str, Any],
                                      redis_server: RedisProcess) -> None:
    vote(client, ["tot"], token="very-private-token", ip="203.0.113.201")
    dump = redis_server.dump()
    assert b"dap-ung" in dump
    assert b"very-private-token" not in dump
    assert b"203.0.113.201" not in dump


def test_votes_survive_a_redis_crash_with_aof_always(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "r", "--appendonly", "yes", "--appendfsync", "always")
    server.start()
    try:
        app = make_app(server.url)
        client = app.test_client()
        with app.app_context():
            from service import sites
            from service.store import get_store

            site, _ = sites.put_site(get_store(), "thanhxuan", {})
            polls.create(get_store(), site, dict(POLL), now=datetime.now(UTC))
        for i in range(5):
            assert vote(client, ["kha"], token=f"crash-{i:04d}", ip=f"10.9.9.{i}"
                        ).status_code == 201
        server.kill()  # SIGKILL: no shutdown, no final fsync
        server.start()
        with server.client() as r:
            assert r.hgetall("pw:{thanhxuan}:poll:dap-ung:tally") == {"kha": "5", "_total": "5"}
        assert vote(client, ["kha"], token="crash-0000", ip="10.9.9.0").status_code == 409
    finally:
        server.stop()


@pytest.fixture
def admin(store: Store) -> dict[str, str]:
    return {"Authorization": "Bearer " + tokens.create(store, "root", [], now=datetime.now(UTC))}


def test_admin_poll_lifecycle(client: FlaskClient, store: Store, site: Site,
                              admin: dict[str, str]) -> None:
    base = "/api/v1/admin/sites/thanhxuan/polls"
    created = client.post(base, json={"question": "Bạn thấy cổng thế nào?",
                                      "options": ["Tốt", "Chưa tốt"], "results": "after_vote"},
                          headers=admin)
    assert created.status_code == 201
    poll_id = created.get_json()["id"]
    assert [o["id"] for o in created.get_json()["options"]] == ["o1", "o2"]
    assert client.put(f"{base}/current", json={"poll": poll_id}, headers=admin).status_code == 200
    assert client.get(f"{BASE}/current").get_json()["id"] == poll_id
    vote(client, ["o1"], poll_id=poll_id)
    listed = client.get(base, headers=admin).get_json()["polls"]
    assert listed[0]["options"][0]["votes"] == 1  # admins always see results
    edit = client.patch(f"{base}/{poll_id}", json={"options": ["A", "B", "C"]}, headers=admin)
    assert edit.status_code == 409
    fixed = client.patch(f"{base}/{poll_id}", json={"question": "Bạn thấy Cổng thế nào?"},
                         headers=admin)
    assert fixed.get_json()["question"] == "Bạn thấy Cổng thế nào?"
    reset = client.post(f"{base}/{poll_id}/reset", headers=admin)
    assert reset.get_json()["total_votes"] == 0
    assert vote(client, ["o2"], poll_id=poll_id).status_code == 201  # voters reset too
    closed = client.patch(f"{base}/{poll_id}", json={"status": "closed"}, headers=admin)
    assert closed.get_json()["status"] == "closed"
    assert client.delete(f"{base}/{poll_id}", headers=admin).status_code == 204
    assert client.get(f"{BASE}/current").status_code == 404
    assert list(store.redis.scan_iter(match=f"pw:{{thanhxuan}}:poll:{poll_id}*")) == []


@pytest.mark.parametrize(
    "body",
    [{"question": "", "options": ["A", "B"]}, {"question": "Q", "options": ["A"]},
     {"question": "Q", "options": ["A", "B"], "results": "never"},
     {"question": "Q", "options": ["A", "B"], "opens_at": "tomorrow"},
     {"question": "Q", "options": ["A", "B"], "opens_at": "2026-12-01T08:00:00"},
     {"question": "Q", "options": ["A", "B"], "opens_at": "2026-12-02T00:00:00+07:00",
      "closes_at": "2026-12-01T00:00:00+07:00"},
     {"question": "Q", "options": [{"id": "x", "label": "A"}, {"id": "x", "label": "B"}]},
     {"question": "Q", "options": ["A", "B"], "multiple": True, "max_choices": 3},
     {"question": "Q", "options": ["A", "B"], "id": "current"},
     {"question": "Q", "options": ["A", "B"], "colour": "red"}],
)
def test_bad_polls_are_refused(client: FlaskClient, store: Store, site: Site,
                               admin: dict[str, str], body: dict[str, Any]) -> None:
    response = client.post("/api/v1/admin/sites/thanhxuan/polls", json=body, headers=admin)
    assert response.status_code == 400
    assert store.redis.zcard("pw:{thanhxuan}:polls") == 0


def test_vote_metrics_by_result(client: FlaskClient, poll: dict[str, Any]) -> None:
    def value(result: str) -> float:
        return metric(client, "pw_votes_total", result=result, site="thanhxuan")

    before = {r: value(r) for r in ("accepted", "duplicate", "invalid")}
    vote(client, ["tot"])
    vote(client, ["tot"])
    vote(client, ["nope"], token="browser-0002")
    assert value("accepted") == before["accepted"] + 1
    assert value("duplicate") == before["duplicate"] + 1
    assert value("invalid") == before["invalid"] + 1
