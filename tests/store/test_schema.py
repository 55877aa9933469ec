"""The data layout's version: written on a fresh deployment, read back, refused when foreign."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from service import sites
from service.counting import visits
from service.store import Store, migrations, schema
from tests.conftest import at, raw_keys


@pytest.fixture
def bare(redis_server: Any) -> Any:
    """A Store on the empty test Redis, with no app started (an app writes the layout)."""
    made = Store.from_url(redis_server.url)
    yield made
    made.redis.close()


def test_the_steps_are_numbered_one_layout_apart() -> None:
    assert [s.version for s in migrations.STEPS] == list(
        range(migrations.OLDEST + 1, migrations.CURRENT + 1))
    assert migrations.OLDEST == 1


def test_check_on_an_empty_deployment_writes_nothing(
        redis_server: Any, bare: Store, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    monkeypatch.setenv("PW_REDIS_URL", redis_server.url)
    assert main(["migrate", "--check"]) == 0
    assert "empty deployment" in capsys.readouterr().out
    assert raw_keys(redis_server) == []
    assert schema.current_layout(bare) == (None, False)


def test_the_first_command_writes_the_current_layout(
        redis_server: Any, bare: Store, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    monkeypatch.setenv("PW_REDIS_URL", redis_server.url)
    assert main(["site", "create", "thanhxuan"]) == 0
    assert schema.current_layout(bare) == (migrations.CURRENT, True)
    assert main(["migrate"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_newer_data_is_refused_naming_both_versions(bare: Store) -> None:
    schema.write(bare, migrations.CURRENT + 1)
    with pytest.raises(migrations.DataTooNew) as refused:
        migrations.check_layout(bare)
    assert f"version {migrations.CURRENT + 1}" in str(refused.value)
    assert f"version {migrations.CURRENT})" in str(refused.value)
    with pytest.raises(migrations.DataTooNew):
        migrations.migrate(bare)
    assert schema.stored(bare) == migrations.CURRENT + 1


def test_data_without_a_version_is_read_by_its_keys(bare: Store) -> None:
    bare.redis.set(bare.keys.settings("thanhxuan"), "{}")
    assert schema.current_layout(bare) == (2, False)
    bare.redis.hset(bare.keys.v1_pages("thanhxuan"), "/", 3)
    assert schema.current_layout(bare) == (1, False)
    with pytest.raises(migrations.DataTooOld) as refused:
        migrations.check_layout(bare)
    assert "portal-widgets migrate" in str(refused.value)
    assert schema.stored(bare) is None  # refusing writes nothing


def test_export_files_carry_the_layout_that_the_migrations_make() -> None:
    from service.store import migrations
    from service.store.layout import LAYOUT_VERSION

    assert migrations.CURRENT == LAYOUT_VERSION
    assert [step.version for step in migrations.STEPS] == list(range(2, LAYOUT_VERSION + 1))


def test_open_visits_of_layout_4_move_into_the_online_set(bare: Store) -> None:
    """m0005: a visit open across the upgrade goes on (no second visit counted), and a
    heartbeat keeps it; the session keys are gone."""
    t0 = at("2026-11-26T10:00:00+07:00")
    t0_ms = int(t0.timestamp() * 1000)
    schema.write(bare, 4)
    site, _ = sites.put_site(bare, "thanhxuan", {})
    k = bare.keys
    # as layout 4 left them: the online set trimmed to the window, the visit in its own key
    bare.redis.set(k.session("thanhxuan", "reader"), t0_ms, px=1_800_000)
    bare.redis.set(k.session("thanhxuan", "other"), t0_ms - 60_000, px=1_740_000)
    bare.redis.zadd(k.online("thanhxuan"), {"other": t0_ms - 60_000})
    bare.redis.pexpire(k.online("thanhxuan"), 240_000)
    assert migrations.plan(bare).steps[-1][1] == [
        "2 open visit(s) of 1 site(s) move into the online set (one entry per visitor)"]
    migrations.migrate(bare)
    assert schema.current_layout(bare) == (migrations.CURRENT, True)
    assert list(bare.redis.scan_iter(match=k.sessions_pattern())) == []
    assert bare.redis.zscore(k.online("thanhxuan"), "reader") == t0_ms
    assert bare.redis.pttl(k.online("thanhxuan")) > 1_700_000
    later = t0 + timedelta(minutes=20)  # out of the online window, inside the visit
    visits.heartbeat(bare, site, visitor="other", now=later)
    reply = visits.record_hit(bare, site, visitor="reader", path="/a", title="", now=later)
    assert reply.counted and reply.stats["pageviews"]["total"] == 1
    assert reply.stats["visits"]["total"] == 0  # the visit began before the upgrade
    assert reply.stats["online"] == 2
    assert migrations.plan(bare).steps == []
