"""`serve` while 8 year reports of a group of 300 sites are asked at once: public requests
are still answered within 2 s (each process builds one report at a time; the others wait
or get 429 with Retry-After)."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from service import sites, tokens
from service.counting import visits
from service.provinces import groups
from service.store import Store
from tests.runtime.test_serve import BIN, _env, _free_port, _wait_ready, serving

SITES = 300
REPORTS = 8


def _report(url: str, token: str, out: list[tuple[int, str | None, float]]) -> None:
    start = time.monotonic()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            r.read()
            out.append((r.status, None, time.monotonic() - start))
    except urllib.error.HTTPError as e:
        out.append((e.code, e.headers.get("Retry-After"), time.monotonic() - start))


def _probe(port: int, latencies: list[float], stop: threading.Event) -> None:
    while not stop.is_set():
        start = time.monotonic()
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/sites/demo/stats", timeout=10) as r:
                r.read()
                latencies.append(time.monotonic() - start if r.status == 200 else 99.0)
        except OSError:
            latencies.append(99.0)
        stop.wait(0.2)


def test_public_requests_are_answered_while_8_group_year_reports_run(tmp_path: Path) -> None:
    data = tmp_path / "var"
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)
    port = _free_port()
    with serving(data, port):
        _wait_ready(port)
        store = Store.from_url(f"unix://{data.resolve() / 'redis.sock'}")
        now = datetime.now(UTC)
        ids = [f"phuong-{i:03d}" for i in range(SITES)]
        for site_id in ids:
            site, _ = sites.put_site(store, site_id, {"name": f"Phường {site_id}"})
            visits.record_hit(store, site, visitor=site_id, path="/", title="", now=now)
        groups.put_group(store, "ha-noi", {"name": "Hà Nội", "sites": ids})
        token = tokens.create(store, "root", [], now=now)
        store.redis.close()

        url = f"http://127.0.0.1:{port}/api/v1/admin/groups/ha-noi/report?year={now.year}"
        answers: list[tuple[int, str | None, float]] = []
        latencies: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=_probe, args=(port, latencies, stop))
        builders = [threading.Thread(target=_report, args=(url, token, answers))
                    for _ in range(REPORTS)]
        probe.start()
        for b in builders:
            b.start()
        for b in builders:
            b.join(150)
        stop.set()
        probe.join(15)

    assert len(answers) == REPORTS
    assert {status for status, _, _ in answers} <= {200, 429}, answers
    assert any(status == 200 for status, _, _ in answers)
    assert all(retry == "30" for status, retry, _ in answers if status == 429)
    assert max(took for _, _, took in answers) < 60  # nobody waits past 30 s for the builder
    assert len(latencies) >= 5
    assert max(latencies) < 2.0, sorted(latencies)[-5:]
