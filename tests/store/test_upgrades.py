"""Upgrades from the released layouts, on data written by the released code itself.

Each release (tests/releases.py) is installed from the repository's history, served against
the test's Redis and driven over HTTP and its command line as its users drove it. What it
showed then (its own API's answers) is what this release must show after `migrate`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from service.store import migrations, schema
from service.store.keys import Keys
from tests.conftest import make_app
from tests.releases import Release, Server, installed

ROOT = Path(__file__).parent.resolve().parent.parent
PAGES = [("/tin-tuc/le-khai-giang", "Lễ khai giảng năm học mới 2026–2027"),
         ("/thu-tuc-hanh-chinh", "Thủ tục hành chính"),
         ("/lien-he", "Liên hệ"),
         ("/gioi-thieu/lich-su", "Lịch sử hình thành và phát triển"),
         ("/", "Trang chủ – Cổng thông tin điện tử")]
REFERRERS = ["https://www.google.com/search?q=thanh+xuan", "https://www.facebook.com/",
             "https://dichvucong.gov.vn/", ""]
# answers that change by themselves from one second to the next
VOLATILE = {"online", "ticket", "open_now", "generated_at", "as_of"}

Call = Callable[..., tuple[int, Any]]


# ------------------------------------------------------------------ raw Redis state helpers

def raw_client(server: Any) -> Any:
    """A client that returns bytes (DUMP), on one Redis or the cluster."""
    if hasattr(server, "nodes"):
        return RedisCluster(host="127.0.0.1", port=server.nodes[0].port, socket_timeout=5)
    return redis.Redis(unix_socket_path=str(server.socket), socket_timeout=5)


def value_of(client: Any, key: bytes) -> Any:
    """A key's content by its type (DUMP's bytes may differ for equal sets and hashes)."""
    kind = client.type(key)
    if kind == b"string":
        return client.get(key)
    if kind == b"hash":
        return client.hgetall(key)
    if kind == b"set":
        return client.smembers(key)
    if kind == b"zset":
        return client.zrange(key, 0, -1, withscores=True)
    if kind == b"list":
        return client.lrange(key, 0, -1)
    return client.dump(key)


def state(server: Any) -> dict[bytes, Any]:
    """Every key and its content."""
    with raw_client(server) as client:
        return {key: value_of(client, key) for key in client.scan_iter(match="*", count=1000)}


def snapshot(server: Any) -> list[tuple[bytes, bytes, int]]:
    """Every key, value and remaining lifetime (ms, 0 = none), to put back later."""
    with raw_client(server) as client:
        out = []
        for key in client.scan_iter(match="*", count=1000):
            ttl = client.pttl(key)
            out.append((key, client.dump(key), max(int(ttl), 0)))
        return out


def put_back(server: Any, saved: list[tuple[bytes, bytes, int]]) -> None:
    """Empty the database and restore a snapshot."""
    server.flush()
    with raw_client(server) as client:
        for key, value, ttl in saved:
            client.restore(key, ttl, value)


# ------------------------------------------------------------------ the current code

def current_cli(url: str, *args: str, env: dict[str, str] | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
    """This release's `portal-widgets` in a process of its own (so it may be killed)."""
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=300,
        env={**os.environ, "PW_REDIS_URL": url, "PW_SECRET_KEY": "x" * 32, **(env or {})})
    if check:
        assert done.returncode == 0, done.stderr
    return done


@contextlib.contextmanager
def this_release(url: str) -> Iterator[Call]:
    """This release's app (after the migration), called like a Server."""
    app = make_app(url)
    client = app.test_client()

    def call(method: str, path: str, body: Any = None, *, token: str | None = None,
             **_: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(path, method=method, json=body, headers=headers)
        return response.status_code, response.get_json(silent=True)

    try:
        yield call
    finally:
        app.extensions["pw_store"].redis.close()


# ------------------------------------------------------------------ what a portal does

def hits(server: Server, site: str, visitors: int, *, salt: str = "") -> None:
    """Visitor i reads the first (i % 5) + 1 pages, arriving from one of the referrers."""
    for i in range(visitors):
        for n, (path, title) in enumerate(PAGES[: i % len(PAGES) + 1]):
            body = {"path": path, "title": title, "token": f"visitor-{salt}{i:04d}",
                    "referrer": REFERRERS[i % len(REFERRERS)] if n == 0 else ""}
            status, answer = server.call("POST", f"/api/v1/sites/{site}/hits", body,
                                         ip=f"198.51.100.{10 + i}", text_plain=True)
            assert status == 200, answer


def votes(server: Server, site: str, poll: str, choices: list[int]) -> None:
    """One ballot per choice (the option's position), each from its own browser."""
    for i, choice in enumerate(choices):
        ip = f"203.0.113.{20 + i}"
        status, shown = server.call("GET", f"/api/v1/sites/{site}/polls/{poll}", ip=ip)
        assert status == 200, shown
        status, answer = server.call(
            "POST", f"/api/v1/sites/{site}/polls/{poll}/votes",
            {"options": [shown["options"][choice]["id"]], "ticket": shown["ticket"],
             "token": f"ballot-{i:04d}"},
            ip=ip, text_plain=True)
        assert status == 201, answer


def clicks(server: Server, site: str, hotline: str, times: int) -> None:
    for i in range(times):
        status, _ = server.call("POST", f"/api/v1/sites/{site}/hotlines/{hotline}/clicks",
                                ip=f"203.0.113.{60 + i}")
        assert status == 204


def content(release: Release, env: dict[str, str], site: str) -> None:
    """Baselines, hotlines and a poll, made with the release's command line."""
    release.cli(env, "site", "set-counters", site, "--json",
                '{"visits": {"total": 12380046, "year": 200000}, '
                '"pageviews": {"total": 45000000}}')
    release.cli(env, "hotline", "add", site, "--label", "Tiếp công dân",
                "--number", "024.62933647", "--group", "UBND Quận",
                "--hours", '{"mon": [["07:30", "11:30"], ["13:30", "17:00"]]}')
    release.cli(env, "hotline", "add", site, "--label", "Công an phường", "--number", "113")
    release.cli(env, "hotline", "title", site, "ĐƯỜNG DÂY NÓNG")
    release.cli(env, "poll", "create", site, "--id", "dap-ung",
                "--question", "Bạn có hài lòng với dịch vụ công trực tuyến?",
                "--option", "Hài lòng", "--option", "Chưa hài lòng", "--option", "Ý kiến khác")


def reads(call: Call, token: str, site: str, *, sources: bool) -> dict[str, Any]:
    """Every figure, page, title, top list, hotline and poll of a site, as its API shows
    them (public and admin)."""
    paths = "&".join(f"path={p}" for p, _ in PAGES)
    urls = [f"/api/v1/sites/{site}/stats", f"/api/v1/sites/{site}/pages?{paths}",
            f"/api/v1/sites/{site}/hotlines", f"/api/v1/sites/{site}/polls/dap-ung",
            f"/api/v1/admin/sites/{site}", f"/api/v1/admin/sites/{site}/counters",
            f"/api/v1/admin/sites/{site}/history", f"/api/v1/admin/sites/{site}/hotlines",
            f"/api/v1/admin/sites/{site}/polls", f"/api/v1/admin/sites/{site}/polls/dap-ung"]
    urls += [f"/api/v1/sites/{site}/pages/top?period={p}&limit=50"
             for p in ("today", "week", "month", "year")]
    if sources:
        urls += [f"/api/v1/admin/sites/{site}/sources?period={p}"
                 for p in ("today", "week", "month", "year")]
    out = {}
    for url in urls:
        status, body = call("GET", url, token=token if "/admin/" in url else None)
        assert status == 200, (url, body)
        out[url] = body
    # v0.1.0 shows today's uniques in the history as last stored by a stats read; later
    # releases count today's live. The stored field itself is compared byte for byte
    # (test_migrate_keeps_everything_the_release_showed).
    out[f"/api/v1/admin/sites/{site}/history"]["days"][-1].pop("uniques")
    return out


def assert_kept(before: Any, after: Any, where: str = "") -> None:
    """Everything the release showed is shown again (new fields may be added)."""
    if isinstance(before, dict):
        assert isinstance(after, dict), where
        for key, value in before.items():
            if key in VOLATILE:
                continue
            assert key in after, f"{where}.{key} is gone"
            assert_kept(value, after[key], f"{where}.{key}")
    elif isinstance(before, list):
        assert isinstance(after, list) and len(after) == len(before), (where, before, after)
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_kept(b, a, f"{where}[{i}]")
    else:
        assert before == after, (where, before, after)


def nonzero(found: dict[str, Any], site: str) -> None:
    """The scenario wrote what the comparison is about (no comparison of empty lists)."""
    top = found[f"/api/v1/sites/{site}/pages/top?period=month&limit=50"]["pages"]
    assert len(top) == len(PAGES) and all(p["title"] for p in top)
    assert found[f"/api/v1/sites/{site}/stats"]["pageviews"]["total"] > 45_000_000
    tally = found[f"/api/v1/admin/sites/{site}/polls/dap-ung"]
    assert sum(o["votes"] for o in tally["options"]) > 0


# ------------------------------------------------------------------ data of the releases

class Written:
    """A release's data: the Redis snapshot, its admin token and what its API showed."""

    def __init__(self, saved: list[tuple[bytes, bytes, int]], token: str,
                 shown: dict[str, dict[str, Any]], release: Release) -> None:
        self.saved, self.token, self.shown, self.release = saved, token, shown, release


def _v01(release: Release, env: dict[str, str]) -> tuple[str, dict[str, dict[str, Any]]]:
    release.cli(env, "site", "create", "thanhxuan", "--name", "Quận Thanh Xuân")
    release.cli(env, "site", "create", "caugiay", "--name", "Quận Cầu Giấy")
    release.cli(env, "site", "create", "phuong-cu", "--name", "Phường cũ")
    token = release.cli(env, "token", "create", "--name", "root").strip().splitlines()[-1]
    for site in ("thanhxuan", "caugiay"):
        content(release, env, site)
    with release.serve(env) as server:
        hits(server, "thanhxuan", 14)
        hits(server, "caugiay", 5, salt="cg")
        hits(server, "phuong-cu", 3, salt="pc")
        votes(server, "thanhxuan", "dap-ung", [0, 0, 1])
        votes(server, "caugiay", "dap-ung", [2])
        clicks(server, "thanhxuan", "tiep-cong-dan", 3)
        clicks(server, "caugiay", "cong-an-phuong", 1)
        shown = {site: reads(server.call, token, site, sources=False)
                 for site in ("thanhxuan", "caugiay")}
    # deleted without purge: its data stays (and must stay deleted)
    release.cli(env, "site", "delete", "phuong-cu")
    return token, shown


def _v02(release: Release, env: dict[str, str]) -> tuple[str, dict[str, dict[str, Any]]]:
    for site, name in (("thanhxuan", "Quận Thanh Xuân"), ("caugiay", "Quận Cầu Giấy"),
                       ("phuong-cu", "Phường cũ"), ("phuong-a", "Phường A"),
                       ("phuong-x", "Phường X")):
        release.cli(env, "site", "create", site, "--name", name)
    # a portal with origins (a loopback one: nothing here may fetch a real host), whose
    # pages layout 4 queues for their first check against the portal
    release.cli(env, "site", "create", "phuong-o", "--name", "Phường O",
                "--origin", "http://127.0.0.1:9")
    token = release.cli(env, "token", "create", "--name", "root").strip().splitlines()[-1]
    for site in ("thanhxuan", "caugiay"):
        content(release, env, site)
    with release.serve(env) as server:
        hits(server, "thanhxuan", 14)
        hits(server, "caugiay", 5, salt="cg")
        hits(server, "phuong-cu", 3, salt="pc")
        hits(server, "phuong-o", 5, salt="po")
        hits(server, "phuong-a", 3, salt="pa")
        hits(server, "phuong-x", 2, salt="px")
        votes(server, "thanhxuan", "dap-ung", [0, 0, 1])
        votes(server, "caugiay", "dap-ung", [2])
        clicks(server, "thanhxuan", "tiep-cong-dan", 3)
        clicks(server, "caugiay", "cong-an-phuong", 1)
        status, body = server.call("PUT", "/api/v1/admin/groups/hanoi",
                                   {"name": "Hà Nội", "sites": ["thanhxuan", "caugiay"]},
                                   token=token)
        assert status in (200, 201), body
        # phuong-a merges into caugiay, phuong-x into thanhxuan (the release waits for its
        # caches: about 6 s each)
        for source, target in (("phuong-a", "caugiay"), ("phuong-x", "thanhxuan")):
            status, body = server.call("POST", f"/api/v1/admin/sites/{source}/merge",
                                       {"into": target}, token=token)
            assert status == 200, body
        shown = {site: reads(server.call, token, site, sources=True)
                 for site in ("thanhxuan", "caugiay")}
        status, shown["group"] = server.call("GET", "/api/v1/groups/hanoi/stats")
        assert status == 200
    release.cli(env, "site", "delete", "phuong-cu")
    # an alias purged by v0.2.0 leaves its merge progress in the target's data
    release.cli(env, "site", "delete", "phuong-x", "--purge")
    return token, shown


def _write(tag: str, redis_server: Any, work: Path,
           scenario: Callable[[Release, dict[str, str]], tuple[str, dict[str, Any]]]
           ) -> Written:
    release = installed(tag)
    redis_server.flush()
    env = release.env(redis_server.url, work)
    token, shown = scenario(release, env)
    saved = snapshot(redis_server)
    redis_server.flush()
    return Written(saved, token, shown, release)


@pytest.fixture(scope="module")
def v01(redis_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write("v0.1.0", redis_server, tmp_path_factory.mktemp("v010"), _v01)


@pytest.fixture(scope="module")
def v02(redis_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write("v0.2.0", redis_server, tmp_path_factory.mktemp("v020"), _v02)


@pytest.fixture(scope="module")
def v03(redis_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Written:
    # the previous release (data layout 4), running v0.2.0's scenario: what layout 5's
    # migration (m0005, open visits into the online set) meets after an upgrade
    return _write("v0.3.0", redis_server, tmp_path_factory.mktemp("v030"), _v02)


FIXTURES = {"v0.1.0": "v01", "v0.2.0": "v02", "v0.3.0": "v03"}


def check_all(written: Written, call: Call, *, sources: bool) -> None:
    for site in ("thanhxuan", "caugiay"):
        nonzero(written.shown[site], site)
        assert_kept(written.shown[site], reads(call, written.token, site, sources=sources),
                    site)
    # the site deleted without purge stays deleted, its id taken, its data purgeable
    status, body = call("PUT", "/api/v1/admin/sites/phuong-cu", {}, token=written.token)
    assert status == 409 and "--purge" in body["error"]


# ------------------------------------------------------------------ the tests

@pytest.mark.parametrize("tag", ["v0.1.0", "v0.2.0", "v0.3.0"])
def test_migrate_keeps_everything_the_release_showed(
        tag: str, request: pytest.FixtureRequest, redis_server: Any) -> None:
    written: Written = request.getfixturevalue(FIXTURES[tag])
    put_back(redis_server, written.saved)
    done = current_cli(redis_server.url, "migrate")
    assert f"data layout {migrations.CURRENT}: up to date" in done.stdout
    # every key but layout 1's per-page keys (moved) and the merge progress of a purged
    # source (removed) is as the release left it, value for value
    after = state(redis_server)
    put_back(redis_server, written.saved)
    before = state(redis_server)
    keys = Keys()
    orphan = b"pw:{thanhxuan}:merge:phuong-x"
    assert (orphan in before) == (tag == "v0.2.0")
    folded = 0
    assert after.pop(b"pw:schema") == str(migrations.CURRENT).encode()
    before.pop(b"pw:schema", None)  # written from layout 4 on (v0.3.0)
    for key, value in before.items():
        parsed = keys.site_of(key.decode())
        if key == orphan or (parsed is not None and schema.is_v1_key(parsed[1])):
            assert key not in after, key
        elif parsed is not None and parsed[1].startswith("session:"):
            # layout 5: an open visit is its visitor's entry in the online set (m0005)
            assert key not in after, key
            online = dict(after[keys.online(parsed[0]).encode()])
            assert online[parsed[1].removeprefix("session:").encode()] >= float(value), key
            folded += 1
        elif parsed is not None and parsed[1] == "online":
            assert set(value) <= set(after[key]), key  # members kept, open visits added
        else:
            assert after.get(key) == value, key
    assert folded > 0  # the releases' hits left open visits
    current_cli(redis_server.url, "migrate")
    # a second run finds nothing to do
    again = current_cli(redis_server.url, "migrate")
    assert "nothing to do" in again.stdout
    with this_release(redis_server.url) as call:
        check_all(written, call, sources=tag != "v0.1.0")
        if tag != "v0.1.0":
            assert_kept(written.shown["group"], call("GET", "/api/v1/groups/hanoi/stats")[1])
            status, merged = call("GET", "/api/v1/admin/sites/phuong-a", token=written.token)
            assert status == 200 and merged["merged_into"] == "caugiay"
        if tag == "v0.3.0":
            # deleted by a release that keeps deleted sites: restored with its own settings
            restored = current_cli(redis_server.url, "site", "restore", "phuong-cu")
            assert '"id": "phuong-cu"' in restored.stdout
            status, got = call("GET", "/api/v1/admin/sites/phuong-cu", token=written.token)
            assert status == 200 and got["name"] == "Phường cũ"
            status, stats = call("GET", "/api/v1/sites/phuong-cu/stats")
            assert status == 200 and stats["pageviews"]["total"] == 1 + 2 + 3
        if tag == "v0.2.0":
            # the portal with origins: each of its pages is queued for its first check, and
            # like any unverified page it is counted but listed only once its portal answers
            with raw_client(redis_server) as client:
                states = client.hgetall(b"pw:{phuong-o}:pstate")
                queued = client.zcard(b"pw:{phuong-o}:checkq")
            assert len(states) == len(PAGES) and set(states.values()) == {b"l|0|"}
            assert queued == len(PAGES)
            status, top = call("GET", "/api/v1/sites/phuong-o/pages/top?period=month&limit=50")
            assert status == 200 and top["pages"] == []
            # a site the release deleted comes back with its data (default settings: the
            # release erased them)
            restored = current_cli(redis_server.url, "site", "restore", "phuong-cu")
            assert '"id": "phuong-cu"' in restored.stdout
            status, stats = call("GET", "/api/v1/sites/phuong-cu/stats")
            assert status == 200 and stats["pageviews"]["total"] == 1 + 2 + 3
        # purge of the site deleted by the release takes every key it had
        assert call("DELETE", "/api/v1/admin/sites/phuong-cu?purge=1",
                    token=written.token)[0] == 204
        assert not [k for k in state(redis_server) if b"{phuong-cu}" in k]


@pytest.mark.parametrize("tag", ["v0.1.0", "v0.2.0"])
def test_check_changes_nothing_and_says_what_would_be_done(
        tag: str, request: pytest.FixtureRequest, redis_server: Any) -> None:
    written: Written = request.getfixturevalue(FIXTURES[tag])
    put_back(redis_server, written.saved)
    before = state(redis_server)
    done = current_cli(redis_server.url, "migrate", "--check")
    assert state(redis_server) == before
    layout = 1 if tag == "v0.1.0" else 2
    assert f"data layout {layout} (found by the keys present)" in done.stdout
    if layout == 1:
        # 5 pages of thanhxuan and caugiay, 3 of the deleted phuong-cu; 4 periods each
        assert "3 site(s): 13 page(s) with their views and titles, and 12 top list(s)" \
            in done.stdout
    assert "1 site(s) deleted without purge" in done.stdout and "phuong-cu" in done.stdout
    if layout == 2:
        assert f"{len(PAGES)} page(s) of 1 site(s) with origins are queued" in done.stdout
        assert b"pw:{thanhxuan}:merge:phuong-x" in before
        assert "1 merge marker(s) of sources purged earlier are removed" in done.stdout


def test_serve_refuses_older_and_newer_data_and_migrates_when_told(
        v01: Written, redis_server: Any, tmp_path: Path) -> None:
    put_back(redis_server, v01.saved)
    env = {"PW_DATA_DIR": str(tmp_path / "var"),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    before = state(redis_server)
    old = current_cli(redis_server.url, "serve", "--port", "0", env=env, check=False)
    assert old.returncode == 1
    assert "layout is version 1" in old.stderr and f"(version {migrations.CURRENT})" \
        in old.stderr and "portal-widgets migrate" in old.stderr
    assert state(redis_server) == before
    # management commands refuse it too, and change nothing
    listed = current_cli(redis_server.url, "site", "list", check=False)
    assert listed.returncode == 1 and "portal-widgets migrate" in listed.stderr
    assert state(redis_server) == before
    # data newer than this release: refused by serve, commands and migrate alike
    with raw_client(redis_server) as client:
        client.set("pw:schema", "99")
    for args in (("serve", "--port", "0"), ("site", "list"), ("migrate",)):
        newer = current_cli(redis_server.url, *args, env=env, check=False)
        assert newer.returncode == 1, args
        assert "version 99" in newer.stderr and f"version {migrations.CURRENT}" \
            in newer.stderr, (args, newer.stderr)
    with raw_client(redis_server) as client:
        client.delete("pw:schema")


def test_serve_migrate_migrates_then_serves(v01: Written, redis_server: Any,
                                            tmp_path: Path) -> None:
    from tests.releases import free_port

    put_back(redis_server, v01.saved)
    port = free_port()
    env = {**os.environ, "PW_REDIS_URL": redis_server.url, "PW_SECRET_KEY": "x" * 32,
           "PW_DATA_DIR": str(tmp_path / "var"), "PW_WORKERS": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "XDG_RUNTIME_DIR": str(tmp_path)}
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--migrate",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}")
    try:
        import time

        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if server.call("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        url = "/api/v1/sites/thanhxuan/pages/top?period=month&limit=50"
        assert_kept(v01.shown["thanhxuan"][url], server.call("GET", url)[1])
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert "layout 3 written" in (tmp_path / "serve.log").read_text()


@pytest.mark.parametrize("tag", ["v0.1.0", "v0.2.0", "v0.3.0"])
def test_a_migration_killed_anywhere_completes_exactly_once(
        tag: str, request: pytest.FixtureRequest, redis_server: Any) -> None:
    written: Written = request.getfixturevalue(FIXTURES[tag])
    put_back(redis_server, written.saved)
    before = state(redis_server)
    counted = current_cli(redis_server.url, "migrate", env={"PW_TEST_MIGRATE_KILL_AFTER": "0"},
                          check=False)
    assert counted.returncode == -9  # killed before its first unit: only the layout found
    after = state(redis_server)
    assert after.pop(b"pw:schema") == {"v0.1.0": b"1", "v0.2.0": b"2", "v0.3.0": b"4"}[tag]
    before.pop(b"pw:schema", None)  # written from layout 4 on (v0.3.0)
    assert after == before
    units = 0
    # how many units a whole run has: kill after 1, 2, ... until a run finishes
    for kill_after in range(1, 100):
        put_back(redis_server, written.saved)
        first = current_cli(redis_server.url, "migrate",
                            env={"PW_TEST_MIGRATE_KILL_AFTER": str(kill_after)}, check=False)
        if first.returncode == 0:
            units = kill_after - 1
            break
        assert first.returncode == -9, first.stderr
        if kill_after % 2:  # killed twice in a row at the next points too
            second = current_cli(redis_server.url, "migrate",
                                 env={"PW_TEST_MIGRATE_KILL_AFTER": "1"}, check=False)
            assert second.returncode in (0, -9)
        current_cli(redis_server.url, "migrate")
        with this_release(redis_server.url) as call:
            check_all(written, call, sources=tag != "v0.1.0")
    assert units >= (10 if tag == "v0.1.0" else 1)
