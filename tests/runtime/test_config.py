"""Config: every bad variable stops the start with its name."""

from __future__ import annotations

import pytest

from service.runtime.config import ConfigError, Settings, StorageSettings, available_memory

GOOD = {"PW_SECRET_KEY": "x" * 32, "PW_REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_it_reads_defaults() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.key_prefix == "pw"
    assert settings.trusted_proxies == 0
    assert settings.poll_max_votes_per_ip == 20
    assert settings.ratings_per_ip == 20
    assert Settings.from_env({**GOOD, "PW_RATINGS_PER_IP": "5"}).ratings_per_ip == 5
    assert settings.metrics_token is None
    assert settings.embedded is False


def test_it_uses_the_embedded_socket_without_a_url(tmp_path: object) -> None:
    settings = Settings.from_env({"PW_SECRET_KEY": "x" * 32, "PW_DATA_DIR": "/srv/pw"})
    assert settings.embedded is True
    assert settings.redis_url == "unix:///srv/pw/redis.sock"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PW_SECRET_KEY": ""}, "PW_SECRET_KEY"),
        ({"PW_SECRET_KEY": "short"}, "PW_SECRET_KEY"),
        ({"PW_REDIS_URL": "http://localhost"}, "PW_REDIS_URL"),
        ({"PW_REDIS_URL": "localhost:6379"}, "PW_REDIS_URL"),
        ({"PW_TRUSTED_PROXIES": "one"}, "PW_TRUSTED_PROXIES"),
        ({"PW_TRUSTED_PROXIES": "-1"}, "PW_TRUSTED_PROXIES"),
        ({"PW_TRUSTED_PROXIES": "99"}, "PW_TRUSTED_PROXIES"),
        ({"PW_POLL_MAX_VOTES_PER_IP": "0"}, "PW_POLL_MAX_VOTES_PER_IP"),
        ({"PW_POLL_MAX_VOTES_PER_IP": "2.5"}, "PW_POLL_MAX_VOTES_PER_IP"),
        ({"PW_RATINGS_PER_IP": "0"}, "PW_RATINGS_PER_IP"),
        ({"PW_RATINGS_PER_IP": "many"}, "PW_RATINGS_PER_IP"),
        ({"PW_KEY_PREFIX": "pw:x"}, "PW_KEY_PREFIX"),
        ({"PW_KEY_PREFIX": "{pw}"}, "PW_KEY_PREFIX"),
        ({"PW_METRICS_TOKEN": "short"}, "PW_METRICS_TOKEN"),
        ({"PW_REDIS_MAXMEMORY": "lots"}, "PW_REDIS_MAXMEMORY"),
        ({"PW_REDIS_MAXMEMORY": "4tb"}, "PW_REDIS_MAXMEMORY"),
        ({"PW_REDIS_MAXMEMORY": "-1gb"}, "PW_REDIS_MAXMEMORY"),
        ({"PW_REDIS_MAXMEMORY": "1mb"}, "PW_REDIS_MAXMEMORY"),
    ],
)
def test_it_names_the_bad_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({**GOOD, **env})


def test_missing_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="PW_SECRET_KEY"):
        Settings.from_env({"PW_REDIS_URL": "redis://localhost"})


def test_a_retried_hit_script_comes_long_before_its_marker_expires() -> None:
    """The hit script's retry marker (ONCE_SECONDS) must outlive the slowest retry: every
    call times out within the client's bounds, one retry, and finding a Sentinel master
    asks each sentinel once (redis-py's default would retry each for seconds)."""
    from service.store import client as redis_client
    from service.store.counters import ONCE_SECONDS

    master = redis_client.make_client("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,"
                                      "10.0.0.3:26379/mymaster")
    sentinels = master.connection_pool.sentinel_manager.sentinels  # type: ignore[union-attr]
    assert len(sentinels) == 3
    for sentinel in sentinels:
        kwargs = sentinel.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] <= redis_client.SOCKET_TIMEOUT
        assert kwargs["socket_connect_timeout"] <= redis_client.CONNECT_TIMEOUT
        assert kwargs["retry"].get_retries() == 0
    retry = master.get_retry()
    assert retry is not None and retry.get_retries() == 1
    call = redis_client.SOCKET_TIMEOUT + redis_client.CONNECT_TIMEOUT
    discovery = len(sentinels) * call
    slowest = 2 * (call + discovery) + 0.1  # two attempts, each maybe finding the master anew
    assert slowest * 3 < ONCE_SECONDS


@pytest.mark.parametrize(("raw", "expected"), [
    ("4gb", 4 * 1024**3), ("512MB", 512 * 1024**2), ("100m", 100 * 1000**2),
    ("20000000", 20_000_000), ("1g", 1000**3),
])
def test_redis_maxmemory_takes_redis_units(raw: str, expected: int) -> None:
    assert StorageSettings.from_env({"PW_REDIS_MAXMEMORY": raw}).redis_maxmemory == expected


def test_redis_maxmemory_defaults_to_half_of_the_memory() -> None:
    assert StorageSettings.from_env({}).redis_maxmemory == available_memory() // 2
