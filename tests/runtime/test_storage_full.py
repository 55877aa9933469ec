"""A full disk (Redis MISCONF) or a full memory budget (OOM) is an outage of writes only.

Writes answer 503 with Retry-After and the reason, reads keep working, /readyz stays 200
with a warning, and the service heals by itself once Redis accepts writes again. A real
redis-server of the test's own is driven into each state: a failed snapshot (its target
file name taken by a directory) for MISCONF, `CONFIG SET maxmemory` for OOM.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import sites, tokens
from service.polls import rules as polls
from service.store import get_store
from tests.conftest import make_app, post_hit
from tests.redis_proc import RedisProcess


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def full_app(own_redis: RedisProcess) -> Iterator[Flask]:
    app = make_app(own_redis.url)
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        polls.create(store, site, {"id": "dap-ung", "question": "Khả năng đáp ứng?",
                                   "options": ["Tốt", "Chưa tốt"]}, now=datetime.now(UTC))
        app.config["ROOT"] = tokens.create(store, "root", [], now=datetime.now(UTC))
    assert post_hit(app.test_client(), path="/truoc").status_code == 200
    yield app
    app.extensions["pw_store"].redis.close()


def _wait_for(check: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _fill_disk(server: RedisProcess) -> Path:
    """Make Redis's next snapshot fail, as on a full disk: it then refuses writes."""
    blocker = server.dir / "dump.rdb"
    blocker.mkdir()
    with server.client() as r:
        r.config_set("save", "3600 1")
        r.bgsave()
        _wait_for(lambda: r.info("persistence")["rdb_last_bgsave_status"] == "err",
                  "the snapshot did not fail")
    return blocker


def _free_disk(server: RedisProcess, blocker: Path) -> None:
    blocker.rmdir()
    with server.client() as r:
        r.bgsave()
        _wait_for(lambda: r.info("persistence")["rdb_last_bgsave_status"] == "ok",
                  "the snapshot did not succeed")


def _writes_and_reads(client: FlaskClient, root: str, reason: str) -> None:
    expected = {"error": f"storage refuses writes: {reason}"}
    hit = post_hit(client, path="/trong-luc")
    assert hit.status_code == 503 and hit.get_json() == expected
    assert int(hit.headers["Retry-After"]) > 0
    admin = client.put("/api/v1/admin/sites/thanhxuan", json={"name": "Tên mới"},
                       headers={"Authorization": f"Bearer {root}"})
    assert admin.status_code == 503 and admin.get_json() == expected
    assert "Retry-After" in admin.headers
    # reads go on
    stats = client.get("/api/v1/sites/thanhxuan/stats")
    assert stats.status_code == 200
    assert stats.get_json()["visits"]["total"] >= 1
    assert client.get("/api/v1/sites/thanhxuan/polls/dap-ung").status_code == 200
    for read in ("pages?path=/truoc", "pages/top?period=today", "hotlines"):
        answer = client.get(f"/api/v1/sites/thanhxuan/{read}",
                            environ_base={"REMOTE_ADDR": "198.51.100.4"})
        assert answer.status_code == 200, (read, answer.get_json())
    assert client.get("/api/v1/admin/sites/thanhxuan",
                      headers={"Authorization": f"Bearer {root}"}).get_json()["name"] == \
        "Quận Thanh Xuân"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert f"redis refuses writes: {reason}" in ready.get_json()["warning"]


def test_a_full_disk_refuses_writes_keeps_reads_and_heals(
        full_app: Flask, own_redis: RedisProcess) -> None:
    client = full_app.test_client()
    blocker = _fill_disk(own_redis)
    _writes_and_reads(client, full_app.config["ROOT"], "disk full")
    _free_disk(own_redis, blocker)
    hit = post_hit(client, path="/sau")
    assert hit.status_code == 200 and hit.get_json()["counted"] is True
    assert "warning" not in client.get("/readyz").get_json()


def test_a_full_memory_budget_refuses_writes_keeps_reads_and_heals(
        full_app: Flask, own_redis: RedisProcess) -> None:
    client = full_app.test_client()
    with own_redis.client() as r:
        r.config_set("maxmemory", str(int(r.info("memory")["used_memory"]) // 2))
    _writes_and_reads(client, full_app.config["ROOT"], "memory budget reached")
    text = client.get("/metrics").get_data(as_text=True)
    used = [line for line in text.splitlines() if line.startswith("pw_redis_used_memory_bytes ")]
    assert used and float(used[0].split()[1]) > 0
    with own_redis.client() as r:
        r.config_set("maxmemory", "0")
    hit = post_hit(client, path="/sau")
    assert hit.status_code == 200 and hit.get_json()["counted"] is True
    vote = client.get("/api/v1/sites/thanhxuan/polls/dap-ung")
    assert vote.status_code == 200


def test_votes_too_answer_503_with_the_reason(full_app: Flask, own_redis: RedisProcess) -> None:
    client = full_app.test_client()
    ticket = client.get("/api/v1/sites/thanhxuan/polls/dap-ung").get_json().get("ticket")
    with own_redis.client() as r:
        r.config_set("maxmemory", "1")
    response = client.post("/api/v1/sites/thanhxuan/polls/dap-ung/votes",
                           data=json.dumps({"options": ["Tốt"], "ticket": ticket}),
                           content_type="text/plain", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 503
    assert response.get_json() == {"error": "storage refuses writes: memory budget reached"}


@pytest.mark.parametrize(("message", "reason"), [
    ("MISCONF Redis is configured to save RDB snapshots, but ...", "disk full"),
    ("MISCONF Errors writing to the AOF file: No space left on device", "disk full"),
    ("Error running script (call to f_1): @user_script:1: @user_script: 1: -OOM command not "
     "allowed when used memory > 'maxmemory'.", "memory budget reached"),
    ("Command # 1 (SET a 1) of pipeline caused error: MISCONF Redis is configured to save",
     "disk full"),
    ("WRONGTYPE Operation against a key holding the wrong kind of value", None),
    ("ERR unknown command 'ROOMS'", None),
])
def test_refusals_are_recognised_however_redis_py_words_them(message: str,
                                                              reason: str | None) -> None:
    from service.store import refusal_reason

    assert refusal_reason(Exception(message)) == reason
