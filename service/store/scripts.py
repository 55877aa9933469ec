"""Lua scripts, shipped as .lua files beside this module and registered once per client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Call:
    """One script call with named keys and arguments (named.lua decodes it once).

    The keys travel in KEYS, in the order given (a cluster routes the call by them); their
    names and every other argument travel as one msgpack table in ARGV[1].
    """

    keys: Mapping[str, str]
    args: Mapping[str, Any]

    def encoded(self) -> tuple[list[str], list[bytes]]:
        """KEYS and ARGV as sent (also pipelined by the benchmark and tests)."""
        table = {**self.args, "_keys": list(self.keys)}
        return list(self.keys.values()), [msgpack.packb(table)]


def run(script: Any, call: Call) -> Any:
    """Run a registered script with one call's keys and arguments."""
    keys, args = call.encoded()
    return script(keys=keys, args=args)


def _source(*names: str) -> str:
    return "\n".join((_HERE / name).read_text(encoding="utf-8") for name in names)


class Scripts:
    """Registered scripts; redis-py re-sends the source after NOSCRIPT (flush or restart)."""

    def __init__(self, client: Any) -> None:
        # named arguments (named.lua, Call): hit, stats and heartbeat. hit.lua calls
        # over_limit (limit.lua), expire_new (expiry.lua), the figures (stats.lua),
        # track_page (pages.lua, which evicts with drop_page.lua), count_source (sources.lua)
        # and keep_month_top (retention.lua)
        self.hit = client.register_script(
            _source("named.lua", "limit.lua", "expiry.lua", "stats.lua", "drop_page.lua",
                    "pages.lua", "sources.lua", "retention.lua", "hit.lua"))
        self.stats = client.register_script(
            _source("named.lua", "limit.lua", "stats.lua", "stats_only.lua"))
        self.heartbeat = client.register_script(
            _source("named.lua", "limit.lua", "heartbeat.lua"))
        self.vote = client.register_script(
            _source("named.lua", "limit.lua", "single_use.lua", "vote.lua"))
        self.rating = client.register_script(
            _source("named.lua", "limit.lua", "single_use.lua", "rating.lua"))
        self.top = client.register_script(_source("top.lua"))
        self.check_claim = client.register_script(_source("check_claim.lua"))
        self.check_done = client.register_script(_source("drop_page.lua", "check_done.lua"))
        self.check_legacy = client.register_script(_source("check_legacy.lua"))
        self.cas = client.register_script(_source("cas.lua"))
        self.merge_claim = client.register_script(_source("merge_claim.lua"))
        self.merge_step = client.register_script(_source("merge_step.lua"))
        self.merge_read_hll = client.register_script(_source("merge_read_hll.lua"))
        self.merge_pages = client.register_script(_source("drop_page.lua", "merge_pages.lua"))
        self.import_activate = client.register_script(_source("import_activate.lua"))
        self.migrate_v1_pages = client.register_script(_source("migrate_v1_pages.lua"))
