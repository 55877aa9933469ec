"""PW_PUBLIC_URL: the only source of absolute URLs; the Host header is never reflected."""

from __future__ import annotations

import pytest

from service.runtime.config import ConfigError, Settings
from service.web.widgets import script
from tests.conftest import make_app
from tests.redis_proc import RedisProcess

GOOD = {"PW_SECRET_KEY": "x" * 32, "PW_REDIS_URL": "redis://127.0.0.1:6379/0"}
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.mark.parametrize(("raw", "parsed"), [
    ("https://stats.example.vn", "https://stats.example.vn"),
    ("https://Stats.Example.VN/", "https://stats.example.vn"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://[::1]:8080/", "http://[::1]:8080"),
    ("", None),
])
def test_it_parses_the_public_url(raw: str, parsed: str | None) -> None:
    assert Settings.from_env({**GOOD, "PW_PUBLIC_URL": raw}).public_url == parsed


@pytest.mark.parametrize("raw", [
    "stats.example.vn", "//stats.example.vn", "ftp://stats.example.vn", "https://",
    "https://stats.example.vn/widgets", "https://stats.example.vn/?x=1", "https://stats.example.vn#x",
    "https://user:pw@stats.example.vn", "https://stats.example.vn:99999", "https://stats.example.vn:0",
    "https://stats example.vn", "https://stats.example.vn;script-src", "https://stạts.vn",
    "javascript:alert(1)",
])
def test_it_names_pw_public_url_when_it_is_bad(raw: str) -> None:
    with pytest.raises(ConfigError, match="PW_PUBLIC_URL"):
        Settings.from_env({**GOOD, "PW_PUBLIC_URL": raw})


def test_without_it_urls_are_relative_and_never_take_the_host(redis_server: RedisProcess) -> None:
    client = make_app(redis_server.url).test_client()
    manifest = client.get("/widgets/manifest.json", headers=EVIL)
    assert manifest.get_json()["url"] == f"/widgets/embed.{script().digest}.js"
    demo = client.get("/demo", headers=EVIL)
    assert 'src="/widgets/embed.js" data-site="demo"' in demo.get_data(as_text=True)
    redirect = client.get("/", headers=EVIL)
    assert redirect.headers["Location"] == "/demo"
    for response in (manifest, demo, redirect):
        assert b"evil.example" not in response.data
        assert "evil.example" not in str(response.headers)


def test_with_it_every_absolute_url_uses_it(redis_server: RedisProcess) -> None:
    app = make_app(redis_server.url, PW_PUBLIC_URL="https://stats.example.vn/")
    client = app.test_client()
    manifest = client.get("/widgets/manifest.json", headers=EVIL)
    assert manifest.get_json()["url"] == \
        f"https://stats.example.vn/widgets/embed.{script().digest}.js"
    assert "public" in manifest.headers["Cache-Control"]
    demo = client.get("/demo", headers=EVIL)
    html = demo.get_data(as_text=True)
    assert 'src="https://stats.example.vn/widgets/embed.js" data-site="demo"' in html
    csp = demo.headers["Content-Security-Policy"]
    assert "script-src 'self' https://stats.example.vn;" in csp
    assert "connect-src 'self' https://stats.example.vn;" in csp
    for response in (manifest, demo):
        assert b"evil.example" not in response.data
        assert "evil.example" not in str(response.headers)


def test_a_bad_public_url_stops_the_app(redis_server: RedisProcess) -> None:
    with pytest.raises(ConfigError, match="PW_PUBLIC_URL"):
        make_app(redis_server.url, PW_PUBLIC_URL="https://stats.example.vn/pw")
