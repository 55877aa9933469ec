"""Counting rules against a real Redis, with time as a parameter."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from redis.cluster import RedisCluster

from service import sites
from service.counting import figures, visits
from service.counting.periods import periods_of
from service.pages import rules as pages
from service.sites import Site
from service.store import Store
from tests.conftest import at
from tests.redis_proc import RedisProcess

T0 = at("2026-11-26T10:00:00+07:00")


def hit(store: Store, site: Site, visitor: str = "v1", path: str = "/", *, now=T0,
        title: str = "") -> visits.HitResult:
    result = visits.record_hit(store, site, visitor=visitor, path=path, title=title, now=now)
    assert result is not None
    return result


def test_first_hit_counts_a_visit_a_pageview_and_a_unique(store: Store, site: Site) -> None:
    result = hit(store, site, path="/tin-tuc/a", title="Bài A")
    assert result.counted is True
    assert result.views == 1
    s = result.stats
    assert s["site"] == "thanhxuan"
    assert s["online"] == 1
    for kind in ("visits", "pageviews"):
        assert s[kind] == {"today": 1, "week": 1, "month": 1, "year": 1, "total": 1}
    assert s["uniques"] == {"today": 1, "week": 1, "month": 1, "year": 1}
    assert s["as_of"] == "2026-11-26T10:00:00+07:00"
    assert pages.views(store, site, ["/tin-tuc/a"]) == {
        "/tin-tuc/a": {"views": 1, "title": "Bài A"}
    }


def test_a_reload_within_the_dedupe_window_is_not_another_view(store: Store, site: Site) -> None:
    hit(store, site, path="/a")
    again = hit(store, site, path="/a", now=T0 + timedelta(seconds=599))
    assert again.counted is False
    assert again.stats["pageviews"]["total"] == 1
    later = hit(store, site, path="/a", now=T0 + timedelta(seconds=600))
    assert later.counted is True
    assert later.stats["pageviews"]["total"] == 2
    assert later.stats["visits"]["total"] == 1  # same visit


def test_dedupe_zero_counts_every_load(store: Store) -> None:
    site, _ = sites.put_site(store, "every", {"pageview_dedupe_seconds": 0})
    hit(store, site, path="/a")
    assert hit(store, site, path="/a").counted is True
    assert visits.read_stats(store, site, now=T0)["pageviews"]["total"] == 2


def test_idle_past_the_session_timeout_starts_a_new_visit(store: Store, site: Site) -> None:
    hit(store, site, path="/a")
    hit(store, site, path="/b", now=T0 + timedelta(seconds=1799))
    s = hit(store, site, path="/c", now=T0 + timedelta(seconds=1799 + 1800)).stats
    assert s["visits"]["total"] == 2
    assert s["pageviews"]["total"] == 3
    assert s["uniques"]["today"] == 1


def test_heartbeat_keeps_a_reader_online_and_in_the_same_visit(store: Store, site: Site) -> None:
    hit(store, site, path="/a")
    for minute in range(1, 40):
        visits.heartbeat(store, site, visitor="v1", now=T0 + timedelta(minutes=minute))
    now = T0 + timedelta(minutes=40)
    assert visits.online(store, site, now=now) == 1
    assert hit(store, site, path="/b", now=now).stats["visits"]["total"] == 1


def test_heartbeat_alone_never_adds_anyone_online(store: Store, site: Site) -> None:
    visits.heartbeat(store, site, visitor="ghost", now=T0)
    assert visits.online(store, site, now=T0) == 0


def test_online_counts_distinct_visitors_in_the_window(store: Store, site: Site) -> None:
    hit(store, site, "a")
    hit(store, site, "b", now=T0 + timedelta(seconds=100))
    hit(store, site, "a", path="/x", now=T0 + timedelta(seconds=200))
    assert visits.online(store, site, now=T0 + timedelta(seconds=299)) == 2
    assert visits.online(store, site, now=T0 + timedelta(seconds=401)) == 1  # b left at 400
    assert visits.online(store, site, now=T0 + timedelta(seconds=501)) == 0


def _counts(store: Store, site: Site, now) -> dict[str, int]:
    s = visits.read_stats(store, site, now=now)
    return {p: s["visits"][p] for p in ("today", "week", "month", "year", "total")}


@pytest.mark.parametrize(
    ("before", "after", "reset"),
    [
        ("2026-11-26T23:59:59.999+07:00", "2026-11-27T00:00:00+07:00", {"today"}),
        ("2026-11-29T23:59:59.999+07:00", "2026-11-30T00:00:00+07:00", {"today", "week"}),
        ("2026-11-30T23:59:59.999+07:00", "2026-12-01T00:00:00+07:00", {"today", "month"}),
        ("2026-12-31T23:59:59.999+07:00", "2027-01-01T00:00:00+07:00",
         {"today", "month", "year"}),  # the week goes on: 2026-W53
        ("2027-03-27T23:59:59.999+01:00", "2027-03-28T00:00:00+01:00", {"today"}),
    ],
)
def test_calendar_boundaries(store: Store, before: str, after: str, reset: set[str]) -> None:
    tz = "Europe/Berlin" if before.endswith("+01:00") else "Asia/Ho_Chi_Minh"
    site, _ = sites.put_site(store, "boundary", {"timezone": tz})
    hit(store, site, "a", now=at(before))
    assert _counts(store, site, at(before)) == dict.fromkeys(
        ("today", "week", "month", "year", "total"), 1)
    after_counts = _counts(store, site, at(after))
    for period, value in after_counts.items():
        assert value == (0 if period in reset else 1), period
    hit(store, site, "b", now=at(after))
    assert _counts(store, site, at(after))["total"] == 2


def test_week_53_collects_both_years(store: Store, site: Site) -> None:
    hit(store, site, "a", now=at("2026-12-28T09:00:00+07:00"))
    hit(store, site, "b", now=at("2027-01-03T23:00:00+07:00"))
    s = visits.read_stats(store, site, now=at("2027-01-03T23:30:00+07:00"))
    assert s["visits"]["week"] == 2
    assert s["visits"]["year"] == 1
    assert s["uniques"]["week"] == 2


def test_history_keeps_each_local_day(store: Store, site: Site) -> None:
    hit(store, site, "a", now=at("2026-12-31T23:59:59+07:00"))
    hit(store, site, "b", now=at("2027-01-01T00:00:01+07:00"))
    hit(store, site, "b", path="/x", now=at("2027-01-01T00:10:00+07:00"))
    from datetime import date

    days = figures.history(store, site, date(2026, 12, 30), date(2027, 1, 1))
    assert days == [
        {"date": "2026-12-30", "visits": 0, "pageviews": 0, "uniques": 0},
        {"date": "2026-12-31", "visits": 1, "pageviews": 1, "uniques": 1},
        {"date": "2027-01-01", "visits": 1, "pageviews": 2, "uniques": 1},
    ]


def test_baselines_are_kept_apart_and_added(store: Store, site: Site) -> None:
    figures.set_baselines(store, site, {"visits": {"total": 12380046, "year": 1754427,
                                                  "month": 106288, "week": 47519}}, now=T0)
    s = hit(store, site).stats
    assert s["visits"] == {"today": 1, "week": 47520, "month": 106289, "year": 1754428,
                           "total": 12380047}
    counters = figures.counters(store, site, now=T0)
    assert counters["imported"]["visits"]["total"] == 12380046
    assert counters["measured"]["visits"]["total"] == 1
    # next year the imported year figure no longer applies; the total does
    s = visits.read_stats(store, site, now=at("2027-01-02T08:00:00+07:00"))
    assert s["visits"]["year"] == 0
    assert s["visits"]["total"] == 12380047


@pytest.mark.parametrize(
    "values",
    [{}, {"visits": {"total": -1}}, {"visits": {"total": "12"}}, {"visits": {"forever": 1}},
     {"clicks": {"total": 1}}, {"visits": {"total": True}}, [1], {"visits": {"total": 10**16}}],
)
def test_bad_baselines_change_nothing(store: Store, site: Site, values: object) -> None:
    from service.errors import Invalid

    with pytest.raises(Invalid):
        figures.set_baselines(store, site, values, now=T0)
    assert figures.counters(store, site, now=T0)["imported"]["visits"]["total"] == 0


def test_max_pages_bounds_the_page_table_and_new_pages_replace_the_least_viewed(
        store: Store) -> None:
    site, _ = sites.put_site(store, "capped", {"max_pages": 2})
    hit(store, site, "a", path="/p0")
    hit(store, site, "b", path="/p0")
    assert hit(store, site, "a", path="/p1").evicted == 0
    newer = hit(store, site, "a", path="/p2")  # the table is full: /p1 (1 view) makes room
    assert newer.evicted == 1 and newer.views == 1
    assert newer.stats["pageviews"]["total"] == 4  # site totals are never affected
    assert pages.views(store, site, ["/p0", "/p1", "/p2"]) == {
        "/p0": {"views": 2, "title": None}, "/p1": {"views": 0, "title": None},
        "/p2": {"views": 1, "title": None},
    }
    assert store.redis.zcard("pw:{capped}:pv") == 2
    assert hit(store, site, "c", path="/p0").evicted == 0  # tracked pages keep counting


def test_top_pages_per_period(store: Store, site: Site) -> None:
    for i, visitor in enumerate("abc"):
        hit(store, site, visitor, path="/hot", title="Tin nóng", now=T0 + timedelta(seconds=i))
    hit(store, site, "a", path="/cold", now=T0 + timedelta(seconds=10))
    top = pages.top(store, site, period="today", limit=5, now=T0)
    assert top == [{"path": "/hot", "title": "Tin nóng", "views": 3},
                   {"path": "/cold", "title": None, "views": 1}]
    next_day = T0 + timedelta(days=1)
    assert pages.top(store, site, period="today", limit=5, now=next_day) == []
    assert len(pages.top(store, site, period="month", limit=5, now=next_day)) == 2


def test_a_retried_request_never_counts_twice(store: Store, site: Site) -> None:
    first = visits.record_hit(store, site, visitor="v", path="/a", title="", now=T0,
                              request_id="req-1")
    again = visits.record_hit(store, site, visitor="v", path="/a", title="", now=T0,
                              request_id="req-1")
    assert first is not None and again is not None
    assert again.counted is True  # the answer of the first run
    assert again.stats["pageviews"]["total"] == 1


def test_a_hit_racing_a_purge_leaves_nothing_in_a_site_created_again(
        store: Store, site: Site) -> None:
    """hit.lua does not check that the site exists (the view resolved it from a cache up to
    a second old): a hit that races a purge writes its counts, and creating the id again
    starts from zero all the same."""
    sites.delete_site(store, "thanhxuan", purge=True)
    hit(store, site, path="/a")  # another worker still had the site in its cache
    again, created = sites.put_site(store, "thanhxuan", {})
    assert created
    s = visits.read_stats(store, again, now=T0)
    assert s["online"] == 0
    assert s["visits"]["total"] == 0 and s["pageviews"]["today"] == 0
    assert s["uniques"]["today"] == 0
    assert pages.views(store, again, ["/a"])["/a"]["views"] == 0
    assert sorted(store.redis.scan_iter(match="pw:{thanhxuan}:*")) == ["pw:{thanhxuan}:settings"]


def test_time_bucketed_keys_get_an_expiry(store: Store, site: Site,
                                          redis_server: RedisProcess) -> None:
    hit(store, site, path="/a")
    with redis_server.client() as r:
        ttls = {key: r.ttl(key) for key in list(r.scan_iter(match="pw:{thanhxuan}:*"))}
    keep = {"pw:{thanhxuan}:settings", "pw:{thanhxuan}:total", "pw:{thanhxuan}:hist:2026",
            "pw:{thanhxuan}:pv", "pw:{thanhxuan}:paths", "pw:{thanhxuan}:ptitle"}
    for key, ttl in ttls.items():
        if key in keep:
            assert ttl == -1, key
        else:
            assert ttl > 0, key
    # each period's counter and uniques live to its own end (plus grace), not another's
    p = periods_of(T0, site.tz)
    for period, end in ((p.week, p.expire_week), (p.month, p.expire_month),
                        (p.year, p.expire_year), (p.day, p.expire_day)):
        expected = end - T0.timestamp()
        if period != p.day:
            assert abs(store.redis.ttl(store.keys.counter(site.id, period)) - expected) <= 2
        assert abs(store.redis.ttl(store.keys.uniques(site.id, period)) - expected) <= 2


def test_a_period_key_left_without_expiry_gets_it_back(store: Store, site: Site) -> None:
    """Lifetimes are set where a write creates a key (expiry.lua), and again every 64th
    count (a HyperLogLog: its period's 64th page view), so a key some other writer left
    without one does not live for ever."""
    hit(store, site, visitor="v0", path="/a")
    p = periods_of(T0, site.tz)
    week, day_hll = store.keys.counter(site.id, p.week), store.keys.uniques(site.id, p.day)
    rank = store.keys.rank(site.id, p.day)
    for key in (week, day_hll, rank):
        store.redis.persist(key)
    hit(store, site, visitor="v1", path="/b")  # a new page: its rank lifetime set again
    assert store.redis.ttl(rank) > 0
    # a HyperLogLog's lifetime follows its period's pageview count (PFADD answers 1 for
    # most new visitors, so it cannot tell a new key)
    assert store.redis.ttl(week) == -1 and store.redis.ttl(day_hll) == -1
    for i in range(2, 64):
        hit(store, site, visitor=f"v{i}", path="/a")
    assert store.redis.ttl(week) > 0  # its 64th page view
    assert store.redis.ttl(day_hll) > 0


def test_concurrent_hits_lose_no_increment(store: Store, site: Site) -> None:
    def worker(n: int) -> None:
        for i in range(50):
            visits.record_hit(store, site, visitor=f"w{n}-{i}", path=f"/p{i % 5}", title="",
                              now=T0)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = visits.read_stats(store, site, now=T0)
    assert s["visits"]["total"] == 800
    assert s["pageviews"]["today"] == 800
    assert sum(p["views"] for p in pages.views(store, site, [f"/p{i}" for i in range(5)])
               .values()) == 800


@pytest.mark.slow
def test_hyperloglog_uniques_within_two_percent_at_100k(store: Store, site: Site) -> None:
    from service.counting.periods import periods_of
    from service.store import counters
    from service.store.pages import PageWrite

    p = periods_of(T0, site.tz)
    ms = int(T0.timestamp() * 1000)
    n = 100_000

    def chunk(start: int) -> None:
        # pipelined where the client allows it (a cluster client refuses EVALSHA in pipelines)
        pipe = None if isinstance(store.redis, RedisCluster) else \
            store.redis.pipeline(transaction=False)
        for i in range(start, start + 2000):
            keys, args = counters.hit_call(store, counters.HitWrite(
                site=site.id, periods=p, now_ms=ms, window_ms=300_000, visitor=f"visitor-{i}",
                request_id=f"r{i}", page=PageWrite("/", "", f"a{i}", True, 10), session_s=1800,
                dedupe_s=600, rate=counters.Rate("hit", f"a{i}", 600, 60_000))).encoded()
            store.scripts.hit(keys=keys, args=args, client=pipe)
        if pipe is not None:
            pipe.execute()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(chunk, range(0, n, 2000)))
    s = visits.read_stats(store, site, now=T0)
    assert s["visits"]["total"] == n  # exact
    assert abs(s["uniques"]["today"] - n) / n <= 0.02
    # the first hit of the next day settles the day's figure in the history
    hit(store, site, "tomorrow", now=T0 + timedelta(days=1))
    history = figures.history(store, site, T0.date(), T0.date())
    assert history[0]["uniques"] == s["uniques"]["today"]
