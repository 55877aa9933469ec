"""Fixtures: one real redis-server per session (flushed per test), the app, a client."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app, sites
from service.clock import Clock
from service.pages import check as pagecheck
from service.store import Store, get_store
from tests.redis_proc import RedisProcess

SECRET = "test-secret-key-0123456789abcdef"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


# The page verifier may only ever reach servers a test starts on loopback: no machine here
# has a route out, and even a name lookup of a real host is traffic off the machine.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def loopback_only(host: str) -> None:
    """pagecheck's host guard in tests: anything but loopback fails the test."""
    if host.strip("[]") not in LOOPBACK_HOSTS:
        raise AssertionError(f"the page verifier tried to reach {host}: tests allow loopback "
                             "only (create sites with real origins with verify_pages: false)")


@pytest.fixture(autouse=True)
def _verifier_stays_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test: a site whose origins name real hosts must be created with verify_pages:
    false, and the verifier refuses any host but loopback."""
    monkeypatch.setattr(pagecheck, "GUARD", loopback_only)
    real_put = sites.put_site

    def put_site(store: Store, site_id: str, changes: Any) -> tuple[sites.Site, bool]:
        site, created = real_put(store, site_id, changes)
        real = [o for o in site.origins if urlsplit(o).hostname not in LOOPBACK_HOSTS]
        if site.verifies and real:
            raise AssertionError(f"site {site_id} verifies its pages against {real[0]}: a test "
                                 "site with real origins needs verify_pages: false")
        return site, created

    monkeypatch.setattr(sites, "put_site", put_site)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's) for every browser test of the session."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# Modules whose every test starts processes (serve, gunicorn, Redis topologies, old releases)
SLOW_MODULES = ("test_serve", "test_topologies", "test_schemathesis", "test_upgrade",
                "test_releases", "test_moving_embedded", "test_ops")
SLOW_FIXTURES = {"browser", "page", "release", "serve"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark as slow what `make test-fast` leaves out (see pyproject's markers)."""
    for item in items:
        module = item.path.stem
        fixtures = set(getattr(item, "fixturenames", ()))
        if module.startswith(SLOW_MODULES) or fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--redis-cluster", action="store_true",
                     help="run against a local 3-master Redis Cluster instead of one server")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory,
                 pytestconfig: pytest.Config) -> Iterator[Any]:
    directory = tmp_path_factory.mktemp("redis")
    if pytestconfig.getoption("--redis-cluster"):
        from tests.topologies import Cluster

        server: Any = Cluster(directory).start()
    else:
        server = RedisProcess(directory).start()
    with server.client() as client:
        if client.dbsize() != 0:  # never flush a database we did not create
            server.stop()
            pytest.exit("refusing to run: the test Redis database is not empty", 3)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _flush(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "redis_server" in request.fixturenames:
        server = request.getfixturevalue("redis_server")
        if server.alive():
            server.flush()


def make_app(url: str, **extra: Any) -> Flask:
    config: dict[str, Any] = {"PW_REDIS_URL": url, "PW_SECRET_KEY": SECRET, "TESTING": True}
    config.update(extra)
    return create_app(config)


@pytest.fixture
def app(redis_server: RedisProcess) -> Iterator[Flask]:
    made = make_app(redis_server.url)
    yield made
    made.extensions["pw_store"].redis.close()  # not left to the garbage collector


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def fresh_window(app: Flask) -> Clock:
    """The app's clock, set at the start of the current minute: a test starts inside a
    fresh window of every per-minute allowance and moves the clock (clock.advance(60)) to
    the next one, never waits."""
    clock: Clock = app.extensions["pw_clock"]
    clock.set(time.time() // 60 * 60)
    return clock


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The test app's clock, set (see fresh_window)."""
    return fresh_window(app)


@pytest.fixture
def store(app: Flask) -> Iterator[Store]:
    with app.app_context():
        yield get_store()


@pytest.fixture
def site(store: Store) -> sites.Site:
    created, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
    return created


def at(text: str) -> datetime:
    """An aware instant from ISO text (offset required)."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value.astimezone(UTC)


def raw_keys(server: RedisProcess) -> list[str]:
    with server.client() as client:
        return sorted(client.scan_iter(match="*"))


def post_hit(client: FlaskClient, site_id: str = "thanhxuan", *, ip: str = "203.0.113.7",
             ua: str = BROWSER, headers: dict[str, str] | None = None, **body: Any) -> Any:
    import json

    hdrs = {"User-Agent": ua, **(headers or {})}
    return client.post(f"/api/v1/sites/{site_id}/hits", data=json.dumps(body),
                       content_type="text/plain;charset=UTF-8", headers=hdrs,
                       environ_base={"REMOTE_ADDR": ip})


def metric_sample(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples in Prometheus text whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def metric(client: FlaskClient, name: str, **labels: str) -> float:
    """A metric's current value from the app's /metrics (counters are process-wide)."""
    return metric_sample(client.get("/metrics").get_data(as_text=True), name, **labels)


def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path
