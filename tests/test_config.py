"""Config: every bad variable stops the start with its name."""

from __future__ import annotations

import pytest

from service.config import ConfigError, Settings

GOOD = {"PW_SECRET_KEY": "x" * 32, "PW_REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_it_reads_defaults() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.key_prefix == "pw"
    assert settings.trusted_proxies == 0
    assert settings.poll_max_votes_per_ip == 20
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
        ({"PW_KEY_PREFIX": "pw:x"}, "PW_KEY_PREFIX"),
        ({"PW_KEY_PREFIX": "{pw}"}, "PW_KEY_PREFIX"),
        ({"PW_METRICS_TOKEN": "short"}, "PW_METRICS_TOKEN"),
    ],
)
def test_it_names_the_bad_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({**GOOD, **env})


def test_missing_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="PW_SECRET_KEY"):
        Settings.from_env({"PW_REDIS_URL": "redis://localhost"})
