"""Admin lockout: failures are limited per address, a valid token is never refused for them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from service import tokens
from service.clock import Clock
from service.store import Store
from tests.redis_proc import RedisProcess

ATTACKER = "198.51.100.23"
ROUTES = ["/api/v1/admin/sites", "/api/v1/admin/sites/thanhxuan",
          "/api/v1/admin/sites/thanhxuan/hotlines", "/api/v1/admin/sites/thanhxuan/polls",
          "/api/v1/admin/sites/thanhxuan/counters"]


@pytest.fixture(autouse=True)
def _fresh_window(clock: Clock) -> None:
    """Every test starts a fresh minute of the app's clock (the allowance is per minute)."""


@pytest.fixture
def root(store: Store) -> str:
    return tokens.create(store, "root", [], now=datetime.now(UTC))


def get(client: FlaskClient, url: str, token: str | None, ip: str = ATTACKER) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = client.get(url, headers=headers, environ_base={"REMOTE_ADDR": ip})
    return response.status_code


def test_a_valid_token_works_from_an_address_locked_out_by_failures(
        client: FlaskClient, root: str) -> None:
    codes = [get(client, "/api/v1/admin/sites", "pw_guess") for _ in range(25)]
    assert codes[:20] == [401] * 20
    assert codes[20:] == [429] * 5
    for url in ROUTES:  # the same route and every other one
        assert get(client, url, root) in (200, 404), url
    assert get(client, "/api/v1/admin/sites", root) == 200
    assert get(client, "/api/v1/admin/sites", "pw_guess") == 429  # still locked for guesses


def test_failures_share_one_allowance_per_address_across_routes(
        client: FlaskClient, redis_server: RedisProcess) -> None:
    codes = [get(client, ROUTES[i % 4], f"pw_guess{i}") for i in range(20)]
    assert codes == [401] * 20
    refused = client.get(ROUTES[4], headers={"Authorization": "Bearer pw_guess"},
                         environ_base={"REMOTE_ADDR": ATTACKER})
    assert refused.status_code == 429
    assert refused.get_json() == {"error": "rate limited"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "WWW-Authenticate" not in refused.headers
    with redis_server.client() as r:
        counters = [k for k in r.scan_iter(match="*admin-failures*")]
        assert len(counters) == 1 and counters[0].startswith("pw:LIMITER/")
        assert r.get(counters[0]) == "21"  # counted in Redis, not in one worker's memory
        assert ATTACKER not in counters[0]  # a keyed hash, never the address


def test_other_addresses_keep_their_own_allowance(client: FlaskClient) -> None:
    for _ in range(21):
        get(client, "/api/v1/admin/sites", "pw_guess")
    assert get(client, "/api/v1/admin/sites", "pw_guess") == 429
    assert get(client, "/api/v1/admin/sites", "pw_guess", ip="198.51.100.24") == 401


def test_valid_and_missing_tokens_do_not_use_the_allowance(client: FlaskClient, root: str) -> None:
    for _ in range(30):
        assert get(client, "/api/v1/admin/sites", root) == 200
        assert get(client, "/api/v1/admin/sites", None) == 401  # no guess, nothing counted
    codes = [get(client, "/api/v1/admin/sites", "pw_guess") for _ in range(21)]
    assert codes == [401] * 20 + [429]


def test_a_token_for_another_site_is_403_not_a_failure(client: FlaskClient, store: Store) -> None:
    scoped = tokens.create(store, "editor", ["caugiay"], now=datetime.now(UTC))
    codes = [get(client, "/api/v1/admin/sites/thanhxuan", scoped) for _ in range(25)]
    assert codes == [403] * 25
    assert get(client, "/api/v1/admin/sites", "pw_guess") == 401
