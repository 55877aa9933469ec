"""The portal-widgets command on the test Redis (PW_REDIS_URL)."""

from __future__ import annotations

import json

import pytest

from service import tokens
from service.cli import main
from service.store import Store
from tests.redis_proc import RedisProcess


@pytest.fixture
def cli(redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> object:
    monkeypatch.setenv("PW_REDIS_URL", redis_server.url)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_site_lifecycle(cli: object, redis_server: RedisProcess) -> None:
    run = cli  # type: ignore[assignment]
    code, out, _ = run("site", "create", "thanhxuan", "--name", "Quận Thanh Xuân",
                       "--origin", "https://thanhxuan.hanoi.gov.vn", "--no-verify-pages")
    assert code == 0
    assert json.loads(out)["origins"] == ["https://thanhxuan.hanoi.gov.vn"]
    code, _, err = run("site", "create", "thanhxuan")
    assert code == 1 and "exists" in err
    code, out, _ = run("site", "update", "thanhxuan", "--locale", "en")
    assert json.loads(out)["name"] == "Quận Thanh Xuân"
    code, _, err = run("site", "update", "thanhxuan", "--timezone", "Mars/Base")
    assert code == 1 and "timezone" in err
    code, out, _ = run("site", "set-counters", "thanhxuan", "--json",
                       '{"visits": {"total": 12380046}}')
    assert json.loads(out)["imported"]["visits"]["total"] == 12380046
    code, out, _ = run("site", "delete", "thanhxuan", "--purge")
    assert code == 0
    with redis_server.client() as r:
        assert list(r.scan_iter(match="pw:{thanhxuan}:*")) == []


def test_token_is_printed_once_on_the_last_line(cli: object, store: Store) -> None:
    run = cli  # type: ignore[assignment]
    code, out, _ = run("token", "create", "--name", "editor", "--site", "thanhxuan")
    assert code == 0
    secret = out.strip().splitlines()[-1]
    token = tokens.authenticate(store, secret)
    assert token is not None and token.sites == ("thanhxuan",)
    code, out, _ = run("token", "list")
    assert secret not in out and json.loads(out)[0]["name"] == "editor"
    assert run("token", "revoke", "editor")[0] == 0
    assert tokens.authenticate(store, secret) is None
    assert run("token", "revoke", "editor")[0] == 1


def test_hotline_and_poll_commands(cli: object) -> None:
    run = cli  # type: ignore[assignment]
    run("site", "create", "thanhxuan")
    code, out, _ = run("hotline", "add", "thanhxuan", "--label", "Tiếp công dân",
                       "--number", "024.62933647", "--group", "UBND Quận")
    assert json.loads(out)["tel"] == "+842462933647"
    code, _, err = run("hotline", "add", "thanhxuan", "--label", "X", "--number", "abc")
    assert code == 1 and "number" in err
    code, out, _ = run("poll", "create", "thanhxuan", "--id", "dap-ung", "--question",
                       "Khả năng đáp ứng?", "--option", "Tốt", "--option", "Kém")
    assert json.loads(out)["status"] == "open"
    assert run("poll", "current", "thanhxuan", "dap-ung")[0] == 0
    code, out, _ = run("poll", "close", "thanhxuan", "dap-ung")
    assert json.loads(out)["status"] == "closed"
    assert json.loads(run("poll", "list", "thanhxuan")[1])[0]["id"] == "dap-ung"
    assert run("poll", "delete", "thanhxuan", "dap-ung")[0] == 0


def test_demo_creates_the_seed_sites_content(cli: object, store: Store) -> None:
    run = cli  # type: ignore[assignment]
    assert run("demo")[0] == 0
    assert run("demo")[0] == 0  # idempotent
    from service import sites
    from service.hotlines import rules as hotlines
    from service.polls import rules as polls

    site = sites.get_site(store, "demo", cached=False)
    box = hotlines.get(store, site)
    assert [h["number"] for h in box["hotlines"]] == ["024.62933647", "024.38585652",
                                                      "0868216873"]
    assert {h["group"] for h in box["hotlines"]} == {"UBND Quận"}
    definition, _ = polls.load(store, site, "current")
    assert definition["question"] == "Khả năng đáp ứng thông tin của Cổng TTĐT ?"


def test_demo_makes_a_group_whose_counter_reads_like_the_seed_page(
        cli: object, store: Store) -> None:
    run = cli  # type: ignore[assignment]
    code, out, _ = run("demo")
    assert code == 0
    for address in ("/demo", "/admin/", "/stats/demo", "/stats/groups/demo",
                    "token create --name"):
        assert address in out
    from datetime import UTC, datetime

    from service import sites
    from service.counting import visits
    from service.provinces import groups

    site = sites.get_site(store, "demo", cached=False)
    stats = visits.read_stats(store, site, now=datetime.now(UTC))
    assert stats["visits"]["week"] >= 47_519
    assert stats["visits"]["month"] >= 106_288
    assert stats["visits"]["year"] >= 1_754_427
    assert stats["visits"]["total"] >= 12_380_046
    group = groups.get_group(store, "demo")
    assert list(group.sites) == ["demo", "demo-2"]
    assert "(demo)" not in site.name


def test_a_sites_first_poll_becomes_current_and_the_next_does_not(cli: object) -> None:
    run = cli  # type: ignore[assignment]
    assert run("site", "create", "thanhxuan")[0] == 0
    assert run("poll", "create", "thanhxuan", "--question", "Một?", "--option", "A",
               "--option", "B", "--id", "mot")[0] == 0
    assert run("poll", "create", "thanhxuan", "--question", "Hai?", "--option", "A",
               "--option", "B", "--id", "hai")[0] == 0
    code, out, _ = run("poll", "show", "thanhxuan", "current")
    assert code == 0 and json.loads(out)["id"] == "mot"


def test_poll_times_are_written_in_the_sites_offset(cli: object) -> None:
    run = cli  # type: ignore[assignment]
    assert run("site", "create", "thanhxuan")[0] == 0
    code, out, _ = run("poll", "create", "thanhxuan", "--question", "Một?", "--option", "A",
                       "--option", "B", "--closes-at", "2030-01-01T00:00:00+00:00")
    assert code == 0
    poll = json.loads(out)
    assert poll["created"].endswith("+07:00")
    assert poll["closes_at"] == "2030-01-01T07:00:00+07:00"


def test_every_option_of_every_command_has_help() -> None:
    import argparse

    from service.cli import build_parser

    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {action.dest}")

    walk(build_parser(), "portal-widgets")
    assert missing == []
