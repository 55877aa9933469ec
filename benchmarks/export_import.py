"""Export and import speed, and the memory they take, for a large site.

A site with PW_BENCH_PAGES pages (default 50,000) and a year of history (daily visits,
pageviews, uniques and sources; week, month and year counters and HyperLogLogs; the top lists
a year keeps: today's and yesterday's, this week's, 13 months' top 1,000 and this year's
with every page) is written straight into an embedded Redis, exported to a file and imported
under another key prefix (another deployment) with the service's own client. Prints MB/s,
pages/s and the growth of this process's resident memory (sampled every 5 ms) during each.

Alone: `python -m benchmarks.export_import` (PW_BENCH_PAGES=2000 for a quick check).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from service import sites
from service.provinces import moving
from service.store import Store
from service.store.embedded import EmbeddedRedis
from service.store.pages import page_id

PAGES = int(os.environ.get("PW_BENCH_PAGES", "50000"))
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _peak_growth(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak RSS growth in bytes) of running `work`."""
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = base
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
    peak = max(peak, proc.memory_info().rss)
    return result, seconds, float(peak - base)


def _month(back: int) -> str:
    """The month `back` months before November 2026 (2026-11, 2026-10, ...)."""
    year, month = 2026, 11 - back
    while month < 1:
        month += 12
        year -= 1
    return f"{year}-{month:02d}"


def populate(store: Store, site_id: str, pages: int) -> None:
    """The site's data, written directly (as a year of hits would leave it)."""
    site, _ = sites.put_site(store, site_id, {"name": "Cổng thông tin điện tử tỉnh",
                                              "max_pages": max(pages, 1)})
    k = store.keys
    r = store.redis
    today = NOW.date()
    pipe = r.pipeline(transaction=False)
    for start in range(0, pages, 1000):
        views: dict[str, int] = {}
        paths: dict[str, str] = {}
        titles: dict[str, str] = {}
        for i in range(start, min(start + 1000, pages)):
            path = f"/tin-tuc/chuyen-muc-{i % 40}/bai-viet-so-{i:06d}-ve-cong-tac-cai-cach.html"
            pid = page_id(path)
            views[pid] = (pages - i) * 3 + 1
            paths[pid] = path
            titles[pid] = f"Tin tức số {i}: Ủy ban nhân dân tỉnh triển khai kế hoạch năm 2026"
        pipe.zadd(k.page_views(site_id), views)
        pipe.hset(k.page_paths(site_id), mapping=paths)
        pipe.hset(k.page_titles(site_id), mapping=titles)
        pipe.zadd(k.rank(site_id, "2026"), views)
        pipe.execute()
    ids = r.zrevrange(k.page_views(site_id), 0, 999)
    for back in range(13):
        pipe.zadd(k.rank(site_id, _month(back)), {pid: 1000 - n for n, pid in
                                                      enumerate(ids)})
    for period in (f"{today}", f"{today - timedelta(days=1)}", "2026-W48"):
        pipe.zadd(k.rank(site_id, period), {pid: 50 - n % 50 for n, pid in enumerate(ids)})
    for day_back in range(365):
        day = today - timedelta(days=day_back)
        year = f"{day.year}"
        mmdd = f"{day:%m-%d}"
        pipe.hset(k.history(site_id, year), mapping={
            f"{mmdd}:v": 5000 + day_back, f"{mmdd}:p": 15000 + day_back, f"{mmdd}:u": 4000})
        pipe.hset(k.sources(site_id, year), mapping={
            f"{mmdd}:direct": 2500, f"{mmdd}:search": 1800, f"{mmdd}:social": 500,
            f"{mmdd}:gov": 150, f"{mmdd}:other": 50})
    for back in range(12):
        pipe.zadd(k.source_hosts(site_id, _month(back)),
                  {f"host-{n}.example.vn": 200 - n for n in range(200)})
    pipe.hset(k.total(site_id), mapping={"v": 1_825_000, "p": 5_475_000})
    for period in ("2026-W48", "2026-11", "2026"):
        pipe.hset(k.counter(site_id, period), mapping={"v": 150_000, "p": 450_000})
    pipe.execute()
    for period, visitors in ((f"{today}", 4000), ("2026-W48", 25_000), ("2026-11", 100_000),
                             ("2026", 400_000)):
        for start in range(0, visitors, 5000):
            r.pfadd(k.uniques(site_id, period), *(f"visitor-{n}" for n in
                                                  range(start, min(start + 5000, visitors))))
    del site


def run(pages: int = PAGES) -> dict[str, float]:
    """Export and import figures for a site of `pages` pages."""
    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-move-"))
    embedded = EmbeddedRedis(tmp / "redis")
    embedded.start()
    try:
        source = Store.from_url(embedded.url, "pw")
        target = Store.from_url(embedded.url, "moved")
        populate(source, "tinh", pages)
        path = tmp / "tinh.jsonl"

        def export() -> None:
            with path.open("wb") as handle:
                for chunk in moving.export(source, "tinh", now=NOW):
                    handle.write(chunk)

        _, export_s, export_rss = _peak_growth(export)
        size = path.stat().st_size

        def import_() -> dict[str, Any]:
            checked = moving.check(moving.read_chunks(path))
            try:
                return moving.import_file(target, checked, now=NOW)
            finally:
                checked.close()

        result, import_s, import_rss = _peak_growth(import_)
        assert result["site"] == "tinh"
        moved = target.redis.zcard(target.keys.page_views("tinh"))
        assert moved == pages, (moved, pages)
        return {"pages": pages, "bytes": size, "export_s": export_s, "import_s": import_s,
                "export_rss": export_rss, "import_rss": import_rss}
    finally:
        embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def lines(found: dict[str, float]) -> list[str]:
    """The figures as the bench prints them."""
    mb = found["bytes"] / 1e6
    return [
        f"export/import of a site with {found['pages']:,.0f} pages and a year of history "
        f"(file {mb:.1f} MB):",
        f"  export  {found['export_s']:6.2f} s  {mb / found['export_s']:6.1f} MB/s  "
        f"{found['pages'] / found['export_s']:9,.0f} pages/s  "
        f"peak RSS growth {found['export_rss'] / 1e6:5.1f} MB",
        f"  import  {found['import_s']:6.2f} s  {mb / found['import_s']:6.1f} MB/s  "
        f"{found['pages'] / found['import_s']:9,.0f} pages/s  "
        f"peak RSS growth {found['import_rss'] / 1e6:5.1f} MB (check, then apply)",
    ]


if __name__ == "__main__":
    print("\n".join(lines(run())))
    sys.exit(0)
