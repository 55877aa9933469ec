"""What one counted hit costs Redis: commands run inside hit.lua (INFO commandstats).

Measured on a redis-server of the test's own (CONFIG RESETSTAT before the hit), so the figure
does not depend on the suite's topology. The hit is the bench's kind: a new visitor (a new
visit, its source counted), a page the site has not seen yet, an address in a new rate window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from service import sites
from service.counting import visits
from service.store import Store
from service.store.keys import Keys
from tests.conftest import at
from tests.redis_proc import RedisProcess

T0 = at("2026-11-26T10:00:00+07:00")
# Before (layout 4, positional hit.lua, a session key beside the online set, GET+SET guards,
# the site's existence checked, the whole stats object read): 52 commands for a hit that
# opens a visit on a new page, 35 for the next page of a visit (the bench printed about 49.8
# a hit). After (layout 5): 38 and 26.
NEW_VISIT_MAX = 38
GOING_ON_MAX = 26


@pytest.fixture
def own(tmp_path: Path) -> Iterator[Store]:
    server = RedisProcess(tmp_path / "redis").start()
    try:
        with server.client() as client:
            yield Store(client, Keys("pw"))
    finally:
        server.stop()


def _commands(store: Store) -> dict[str, int]:
    found = store.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in found.items()
            if name not in ("cmdstat_info", "cmdstat_config", "cmdstat_evalsha",
                            "cmdstat_eval", "cmdstat_script")}


def _one_hit(store: Store, site: sites.Site, visitor: str, path: str, now_s: int
             ) -> tuple[int, dict[str, int]]:
    store.redis.config_resetstat()
    outcome = visits.record_hit(store, site, visitor=visitor, path=path, title="",
                                now=T0 + timedelta(seconds=now_s), address=f"addr-{visitor}")
    assert outcome is not None and outcome.counted
    counts = _commands(store)
    return sum(counts.values()), counts


def test_a_counted_hit_runs_a_bounded_number_of_commands(own: Store) -> None:
    site, _ = sites.put_site(own, "thanhxuan", {})
    _one_hit(own, site, "warm", "/warm", 0)  # loads the script, creates the period keys
    _one_hit(own, site, "warm-2", "/warm-2", 1)  # the uniques cache is fresh now
    n, counts = _one_hit(own, site, "new", "/tin-tuc/moi", 2)
    assert n <= NEW_VISIT_MAX, counts
    _one_hit(own, site, "reader", "/tin-tuc/a", 3)
    # the same reader's next page, one the site tracks already: no new visit
    n, counts = _one_hit(own, site, "reader", "/warm", 4)
    assert n <= GOING_ON_MAX, counts


def test_later_pages_of_a_day_skip_the_period_uniques_and_lose_none(own: Store) -> None:
    """A visitor's later pages of the day add nothing to the week's, month's and year's
    HyperLogLogs (the day's did not change); those still count each (visitor, day) once."""
    site, _ = sites.put_site(own, "thanhxuan", {})
    for i, path in enumerate(("/a", "/b", "/c")):
        _one_hit(own, site, "an-day1", path, 60 * i)
    _one_hit(own, site, "binh-day1", "/a", 200)
    day1 = visits.read_stats(own, site, now=T0 + timedelta(seconds=300))
    assert day1["uniques"] == {"today": 2, "week": 2, "month": 2, "year": 2}
    _, counts = _one_hit(own, site, "an-day1", "/d", 400)
    assert counts["pfadd"] == 1
    next_day = 86400  # the same reader has another id on another day (daily salt)
    for i, path in enumerate(("/a", "/e")):
        _one_hit(own, site, "an-day2", path, next_day + 60 * i)
    day2 = visits.read_stats(own, site, now=T0 + timedelta(seconds=next_day + 300))
    assert day2["uniques"] == {"today": 1, "week": 3, "month": 3, "year": 3}
