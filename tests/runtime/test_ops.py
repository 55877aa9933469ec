"""Operations: multiprocess metrics under gunicorn, deploy configs, logs without personal data."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient

from service import sites
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.runtime.serve import default_metrics_dir
from service.store import Store
from tests.conftest import BROWSER, metric_sample, post_hit
from tests.runtime.test_serve import BIN, _env, _free_port, _wait_ready

DEPLOY = Path(__file__).parent.parent.parent / "deploy"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return str(r.read().decode())


def test_metrics_sum_exactly_across_two_workers_and_stale_files_are_wiped(
        tmp_path: Path) -> None:
    data = tmp_path / "var"
    metrics_dir = default_metrics_dir(data)
    # by default, not on the data dir's filesystem: a full disk must not kill the workers
    assert not metrics_dir.resolve().is_relative_to(data.resolve())
    if Path("/dev/shm").is_dir():
        assert metrics_dir.parent == Path("/dev/shm")
    metrics_dir.mkdir(parents=True, exist_ok=True)
    stale = metrics_dir / "counter_99999.db"
    stale.write_bytes(b"left over from a crashed run")
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([str(BIN), "serve", "--dev", "--port", str(port), "--workers", "2"],
                            env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port)
        assert not stale.exists()
        # Concurrent requests until both workers have served some (the kernel may hand a
        # quiet worker every connection); bounded in count and time, and below one address's
        # read allowance of a worker (1200 a minute), which a busy machine could otherwise reach.
        def fetch(_: int) -> None:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/sites/demo/stats", timeout=5) as r:
                assert r.status == 200

        def writers() -> set[str]:
            return {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}

        n = 0
        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(8) as pool:
            while n < 1160 and time.monotonic() < deadline:
                list(pool.map(fetch, range(40)))
                n += 40
                if len(writers()) >= 2 and n >= 80:
                    break
        assert len(writers()) >= 2  # both workers wrote; the scrape must sum them
        text = _scrape(port)
        served = metric_sample(text, "pw_http_requests_total",
                         route="/api/v1/sites/<site_id>/stats", method="GET", status="200")
        assert served == n
        assert metric_sample(text, "pw_http_request_duration_seconds_count",
                       route="/api/v1/sites/<site_id>/stats") == n
        assert 'pw_online_visitors{site="demo"} 0.0' in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert not list(metrics_dir.glob("*.db"))  # a stopped instance leaves no files in memory


def _metric_names(client: FlaskClient, store: Store) -> set[str]:
    site, _ = sites.put_site(store, "thanhxuan", {"max_pages": 1})
    hotlines.replace(store, site, {"hotlines": [{"id": "a", "label": "A", "number": "113"}]})
    polls.create(store, site, {"id": "p", "question": "Q", "options": ["A", "B"]},
                 now=datetime.now(UTC))
    post_hit(client, path="/a")
    post_hit(client, path="/b")  # dropped: max_pages 1
    post_hit(client, ua="Googlebot/2.1")
    client.post("/api/v1/sites/thanhxuan/hotlines/a/clicks")
    ticket = client.get("/api/v1/sites/thanhxuan/polls/p").get_json()["ticket"]
    client.post("/api/v1/sites/thanhxuan/polls/p/votes",
                json={"options": ["o1"], "ticket": ticket, "token": "browser-1234"})
    ticket = client.get("/api/v1/sites/thanhxuan/ratings?path=/b").get_json()["ticket"]
    client.post("/api/v1/sites/thanhxuan/ratings",
                json={"path": "/b", "useful": True, "ticket": ticket, "token": "browser-1234"})
    text = client.get("/metrics").get_data(as_text=True)
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines()
            if line and not line.startswith("#")}


def test_dashboard_and_alert_metrics_exist(client: FlaskClient, store: Store) -> None:
    names = _metric_names(client, store)
    for required in ("pw_http_requests_total", "pw_http_request_duration_seconds_bucket",
                     "pw_hits_total", "pw_votes_total", "pw_online_visitors",
                     "pw_hotline_clicks_total", "pw_pages_evicted_total", "pw_ratings_total"):
        assert required in names
    dashboard = json.loads((DEPLOY / "grafana/dashboards/portal-widgets.json").read_text())
    alerts = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [r["expr"] for g in alerts["groups"] for r in g["rules"]]
    used = {m for e in exprs for m in re.findall(r"\bpw_[a-z_]+", e)}
    # Counters that have not moved yet have no samples; their names are declared all the same.
    declared = names | {"pw_redis_errors_total", "pw_rate_limited_total"}
    assert used - declared == set()
    assert {"pw_redis_errors_total", "pw_rate_limited_total"} <= used


def test_deploy_files_parse_and_redis_never_evicts() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"app", "nginx", "redis", "prometheus", "grafana"}
    redis_cmd = compose["services"]["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--maxmemory-policy") + 1] == "noeviction"
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]
    prom = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert prom["scrape_configs"][0]["static_configs"][0]["targets"] == ["app:8000"]
    for path in (DEPLOY / "grafana/provisioning").rglob("*.yml"):
        assert yaml.safe_load(path.read_text())["apiVersion"] == 1


def test_logs_and_redis_hold_no_ip_user_agent_or_token(
        client: FlaskClient, store: Store, redis_server: object,
        capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    site, _ = sites.put_site(store, "thanhxuan", {})
    polls.create(store, site, {"id": "p", "question": "Q", "options": ["A", "B"]},
                 now=datetime.now(UTC))
    for i in range(3):
        post_hit(client, path=f"/p{i}", ip="203.0.113.77", token="private-token-xyz")
    ticket = client.get("/api/v1/sites/thanhxuan/polls/p").get_json()["ticket"]
    client.post("/api/v1/sites/thanhxuan/polls/p/votes",
                json={"options": ["o1"], "ticket": ticket, "token": "private-token-xyz"},
                headers={"User-Agent": BROWSER, "Authorization": "Bearer secret-admin"},
                environ_base={"REMOTE_ADDR": "203.0.113.77"})
    logged = capsys.readouterr().out
    lines = [json.loads(line) for line in logged.splitlines()]
    assert len(lines) == 5
    assert {line["route"] for line in lines} >= {"/api/v1/sites/<site_id>/hits"}
    dump = redis_server.dump()  # type: ignore[attr-defined]
    for secret in ("203.0.113.77", "private-token-xyz", "Chrome/131", "secret-admin"):
        assert secret not in logged
        assert secret.encode() not in dump


def test_privacy_page_in_both_languages(client: FlaskClient) -> None:
    html = client.get("/privacy").get_data(as_text=True)
    assert "Nghị định 13/2023/NĐ-CP" in html
    assert "never store or log a raw IP address" in html
    assert "xoá toàn bộ dữ liệu của cổng" in html  # erasure, said without an operator command
    assert "erase all of that portal's data" in html


def test_metrics_token_protects_metrics(redis_server: object) -> None:
    from tests.conftest import make_app

    app = make_app(redis_server.url, PW_METRICS_TOKEN="m" * 24)  # type: ignore[attr-defined]
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 24}
                      ).status_code == 200


def test_rate_limited_requests_are_timed_and_counted(client: FlaskClient, store: Store) -> None:
    sites.put_site(store, "thanhxuan", {})

    def samples(text: str, name: str) -> float:
        return metric_sample(text, name, route="/api/v1/sites/<site_id>/polls/<poll_id>/votes")

    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(11):
        client.post("/api/v1/sites/thanhxuan/polls/p/votes", json={},
                    environ_base={"REMOTE_ADDR": "192.0.2.200"})
    after = client.get("/metrics").get_data(as_text=True)
    assert samples(after, "pw_rate_limited_total") - samples(before, "pw_rate_limited_total") == 1
    assert samples(after, "pw_http_request_duration_seconds_count") - \
        samples(before, "pw_http_request_duration_seconds_count") == 11


@pytest.mark.parametrize(("peer", "forwarded", "status"), [
    ("127.0.0.1", None, 200),
    ("10.1.2.3", None, 200),
    ("192.168.0.7", None, 200),
    ("172.20.0.2", "203.0.113.9", 200),   # a private peer, whatever it forwards
    ("::1", None, 200),
    ("fd00::5", None, 200),
    ("203.0.113.9", None, 403),
    ("203.0.113.9", "127.0.0.1", 403),    # X-Forwarded-For is never believed here
    ("100.64.0.1", None, 403),
    ("2001:db8::1", None, 403),
])
def test_metrics_without_a_token_answer_private_peers_only(
        redis_server: object, peer: str, forwarded: str | None, status: int) -> None:
    from tests.conftest import make_app

    app = make_app(redis_server.url, PW_TRUSTED_PROXIES="1")  # type: ignore[attr-defined]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = app.test_client().get("/metrics", headers=headers,
                                     environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == status
    if status == 403:
        assert "PW_METRICS_TOKEN" in response.get_json()["error"]


def test_metrics_with_a_token_answer_anyone_presenting_it(redis_server: object) -> None:
    from tests.conftest import make_app

    app = make_app(redis_server.url, PW_METRICS_TOKEN="m" * 24)  # type: ignore[attr-defined]
    client = app.test_client()
    public = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=public,
                      headers={"Authorization": "Bearer " + "m" * 24}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401
