"""`make bench`, page speed: what the widgets cost a portal page, in Chromium with the CPU
slowed 4 times (CDP `Emulation.setCPUThrottlingRate`).

A portal-like page (header, a banner, an article from the seed portal, a sidebar) is loaded
RUNS times (default 5, `PW_BENCH_PAGE_RUNS`) without the widgets and RUNS times with the
documented snippet (embed.css, the widget boxes, embed.js), interleaved, each in a fresh
browser context. It prints the cumulative layout shift, the longest main-thread task of
the widgets (from a Chrome trace: every task in which embed.js's code ran, its parse
included) and the median Largest Contentful Paint with and without, then the budget:
no added layout shift (<= 0.01), no widget task over 50 ms, LCP at most 50 ms later.
Figures, not assertions. The trace itself slows the page a little, in both halves alike.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.run import SECRET, free_port, fresh_store, gunicorn
from service import sites
from service.counting import visits
from service.runtime import demo
from service.store import Store
from service.store.embedded import EmbeddedRedis
from widgets import embed_js

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
RUNS = int(os.environ.get("PW_BENCH_PAGE_RUNS", "5"))
THROTTLE = 4
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel"]
# trace events that say embed.js's own code ran in the task around them
SCRIPT_EVENTS = {"EvaluateScript", "FunctionCall", "v8.compile", "v8.run", "TimerFire",
                 "FireIdleCallback", "EventDispatch"}
TITLE = "Kế hoạch thực hiện Chương trình hành động số 30-CTr/TU ngày 08/3/2024"
ARTICLE = [
    "Ngày 18/6/2024, Quận ủy Thanh Xuân vừa ban hành Kế hoạch số 202-KH/QU về thực hiện "
    "Chương trình hành động số 30-CTr/TU ngày 08/3/2024 của Ban Thường vụ Thành ủy Hà Nội về "
    "thực hiện Nghị quyết số 45-NQ/TW ngày 24/11/2023 của Ban Chấp hành Trung ương Đảng khóa "
    "XIII về “Tiếp tục xây dựng và phát huy vai trò của đội ngũ trí thức đáp ứng yêu cầu phát "
    "triển đất nước nhanh và bền vững trong giai đoạn mới”.",
    "Theo đó, mục đích của Kế hoạch nhằm triển khai đầy đủ, sâu sắc nội dung chương trình hành "
    "động của Trung ương và Thành ủy tới toàn thể cán bộ, công chức, viên chức, đảng viên và "
    "Nhân dân trên địa bàn quận.",
    "Cùng với đó, nâng cao nhận thức của các cấp ủy đảng, chính quyền trong việc triển khai, tổ "
    "chức có hiệu quả Chương trình hành động số 30-CTr/TU ngày 08/3/2024 của Thành ủy, nhằm xây "
    "dựng đội ngũ trí thức mạnh cả về số lượng, chất lượng và cơ cấu hợp lý.",
    "Mục tiêu đến năm 2030, xây dựng đội ngũ trí thức của quận có trình độ học vấn cao, tăng về "
    "số lượng, chuẩn bị nguồn lực phục vụ phát triển kinh tế - xã hội đáp ứng các yêu cầu xây "
    "dựng quận Thanh Xuân phát triển bền vững.",
] * 3
# html's scrollbar from the start, as most portals have it: without it a first paint of a
# partly parsed page (seen under load, with and without the widgets) recenters the page later
STYLE = """html{overflow-y:scroll}body{margin:0;font:16px/1.5 Arial,sans-serif;color:#222}
header{background:#a4161a;color:#fff;padding:12px 24px}header h2{margin:0;font-size:22px}
nav{background:#7a0f12;padding:8px 24px}nav a{color:#fff;margin-right:18px}
.wrap{display:flex;gap:24px;max-width:1200px;margin:0 auto;padding:16px 24px}
main{flex:1;min-width:0}aside{width:300px;flex:none}
aside section{border:1px solid #ddd;margin-bottom:16px;padding:8px}
aside h4{margin:0 0 6px;color:#a4161a;text-transform:uppercase;font-size:14px}
.banner{display:block;width:100%;height:auto}footer{background:#eee;padding:24px}"""


def banner_png(width: int = 880, height: int = 260) -> bytes:
    """A plain banner image (the page's Largest Contentful Paint candidate), made here."""
    row = b"\x00" + bytes((20, 60, 120)) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw)
            + chunk(b"IEND", b""))


def portal(service: str | None) -> str:
    """The portal page; with the documented snippet when `service` is given."""
    def box(title: str, widget: str) -> str:
        return f"<section><h4>{title}</h4>{widget if service else ''}</section>"

    head = f'<link rel="stylesheet" href="{service}/widgets/embed.css">' if service else ""
    script = (f'<script async src="{service}/widgets/embed.js" data-site="demo"></script>'
              if service else "")
    views = '<div data-pw-widget="views"></div>' if service else ""
    rating = '<div data-pw-widget="rating"></div>' if service else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE)
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><title>{TITLE}</title>
<style>{STYLE}</style>{head}</head><body>
<header><h2>CỔNG THÔNG TIN ĐIỆN TỬ QUẬN THANH XUÂN</h2></header>
<nav><a href="/">Trang chủ</a><a href="/gioi-thieu">Giới thiệu chung</a>
<a href="/tin-tuc">Tin tức - Sự kiện</a><a href="/cai-cach">Cải cách hành chính</a></nav>
<div class="wrap"><main><img class="banner" src="/banner.png" width="880" height="260" alt="">
<h1>{TITLE}</h1><p>Ngày đăng 19/06/2024 | 09:00</p>{views}{paragraphs}{rating}</main>
<aside>{box("Đường dây nóng", '<div data-pw-widget="hotlines"></div>')}
{box("Thống kê truy cập", '<div data-pw-widget="counter"></div>')}
{box("Bình chọn", '<div data-pw-widget="poll" data-poll="current"></div>')}
{box("Tin xem nhiều", '<div data-pw-widget="top-pages" data-limit="5"></div>')}
</aside></div><footer>Phòng Văn hóa và Thông tin quận</footer>{script}</body></html>"""


@contextmanager
def host_pages(pages: dict[str, tuple[bytes, str]]) -> Iterator[str]:
    """The portal's own server on loopback; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            found = pages.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            body, kind = found
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# CLS (shifts without recent input) and the last LCP entry, read after the page settled
MEASURE = """() => new Promise(done => {
  let cls = 0, lcp = 0;
  const moved = [];
  new PerformanceObserver(l => l.getEntries().forEach(e => {
    if (e.hadRecentInput) return;
    cls += e.value;
    e.sources.forEach(s => moved.push((s.node && s.node.nodeName || '?') + ' "' +
      (s.node && s.node.textContent || '').trim().slice(0, 20) + '" by ' +
      Math.round(s.currentRect.x - s.previousRect.x) + ',' +
      Math.round(s.currentRect.y - s.previousRect.y) + ' at ' + Math.round(e.startTime) + ' ms'));
  })).observe({type: 'layout-shift', buffered: true});
  new PerformanceObserver(l => l.getEntries().forEach(e => { lcp = e.renderTime || e.startTime; }))
    .observe({type: 'largest-contentful-paint', buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(
    () => done([cls, lcp, moved]), 100)));
})"""
FILLED = ("[...document.querySelectorAll('[data-pw-widget]')].every(e => e.shadowRoot"
          " && e.shadowRoot.childNodes.length)")


def widget_tasks(trace: dict[str, Any]) -> list[float]:
    """Durations (ms) of the renderer main-thread tasks in which embed.js's code ran."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    main = {(e["pid"], e["tid"]) for e in events
            if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"}
    tasks: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for e in events:
        if e.get("name") == "RunTask" and e.get("ph") == "X" and (e["pid"], e["tid"]) in main:
            tasks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e.get("dur", 0)))
    found: dict[tuple[int, int, float], float] = {}
    for e in events:
        if e.get("name") not in SCRIPT_EVENTS or (e.get("pid"), e.get("tid")) not in main:
            continue
        data = e.get("args", {}).get("data", {}) or {}
        url = str(data.get("url") or data.get("fileName") or e.get("args", {}).get("fileName", ""))
        if "/widgets/embed" not in url:
            continue
        for start, dur in tasks.get((e["pid"], e["tid"]), []):
            if start <= e["ts"] <= start + dur:
                found[(e["pid"], e["tid"], start)] = dur / 1000
                break
    return sorted(found.values(), reverse=True)


def longest_task(trace: dict[str, Any]) -> float:
    """The longest renderer main-thread task of the whole load (ms), whoever ran it."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    main = {(e["pid"], e["tid"]) for e in events
            if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"}
    return max((e.get("dur", 0) / 1000 for e in events if e.get("name") == "RunTask"
                and (e["pid"], e["tid"]) in main), default=0.0)


def load_once(browser: Any, url: str, with_widgets: bool) -> dict[str, Any]:
    """One cold load in a fresh context, CPU slowed THROTTLE times; its figures."""
    context = browser.new_context(user_agent=USER_AGENT, locale="vi-VN",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    browser.start_tracing(page=page, categories=CATEGORIES)
    try:
        page.goto(url, wait_until="load")
        if with_widgets:
            page.wait_for_function(FILLED, timeout=60_000)
        page.wait_for_timeout(1000)  # let late tasks and shifts land in the trace
        cls, lcp, moved = page.evaluate(MEASURE)
    finally:
        trace = json.loads(browser.stop_tracing())
        context.close()
    tasks = widget_tasks(trace)
    return {"cls": cls, "lcp": lcp, "moved": moved, "widget_task": tasks[0] if tasks else 0.0,
            "widget_tasks": len(tasks), "longest": longest_task(trace)}


def measure(service: str, runs: int) -> dict[str, list[dict[str, Any]]]:
    """RUNS loads without and RUNS with the widgets, interleaved."""
    from playwright.sync_api import sync_playwright

    pages = {"/without": (portal(None).encode(), "text/html; charset=utf-8"),
             "/with": (portal(service).encode(), "text/html; charset=utf-8"),
             "/banner.png": (banner_png(), "image/png")}
    results: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    with host_pages(pages) as host, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            load_once(browser, f"{host}/with", True)  # warm the service and the caches
            for _ in range(runs):
                results["without"].append(load_once(browser, f"{host}/without", False))
                results["with"].append(load_once(browser, f"{host}/with", True))
        finally:
            browser.close()
    return results


def seed(store: Store) -> None:
    """The demo site (the seed page's hotlines and poll) with five read pages."""
    demo.install(store)
    site = sites.get_site(store, "demo", cached=False)
    for i in range(5):
        for v in range(5 - i):
            visits.record_hit(store, site, visitor=f"bench-{i}-{v}", path=f"/tin-tuc/{i}",
                              title=f"{TITLE} ({i})", now=datetime.now(UTC))


def report(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The printed section: figures per half, then the budget lines."""
    without, with_ = results["without"], results["with"]
    lcp_without = statistics.median(r["lcp"] for r in without)
    lcp_with = statistics.median(r["lcp"] for r in with_)
    cls_without = max(r["cls"] for r in without)
    cls_with = max(r["cls"] for r in with_)
    task = max(r["widget_task"] for r in with_)
    embed_gz = len(gzip.compress(embed_js(), 9))
    lines = [
        f"page speed ({len(with_)} loads with and {len(without)} without the widgets, CPU "
        f"slowed {THROTTLE}x, Chromium, cold contexts):",
        f"  cumulative layout shift, worst load: without {cls_without:.4f}, with {cls_with:.4f}"
        + "".join(f"; {half} moved: {', '.join(r['moved'][:4])}"
                  for half, runs in (("without", without), ("with", with_))
                  for r in runs if r["moved"]),
        f"  longest main-thread task of the widgets: {task:.1f} ms (per load: "
        + ", ".join(f"{r['widget_task']:.1f}" for r in with_) + "; tasks per load: "
        + ", ".join(str(r["widget_tasks"]) for r in with_) + ")",
        f"  longest task of the whole load, median: without "
        f"{statistics.median(r['longest'] for r in without):.1f} ms, with "
        f"{statistics.median(r['longest'] for r in with_):.1f} ms",
        f"  Largest Contentful Paint, median: without {lcp_without:.0f} ms, with "
        f"{lcp_with:.0f} ms (+{lcp_with - lcp_without:.0f} ms)",
        f"  embed.js: {embed_gz} bytes gzipped",
        "targets:",
    ]
    checks = [("layout shift added by the widgets <= 0.01", cls_with - cls_without <= 0.01),
              ("no widget task over 50 ms (CPU slowed 4x)", task <= 50),
              ("LCP at most 50 ms later with the widgets", lcp_with - lcp_without <= 50),
              ("embed.js <= 6 KB gzipped", embed_gz <= 6 * 1024)]
    lines += [f"  {'PASS' if ok else 'FAIL'}  {name}" for name, ok in checks]
    return lines


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"the page-speed bench needs Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-page-"))
    embedded = EmbeddedRedis(tmp / "redis")
    embedded.start()
    try:
        seed(fresh_store(embedded.url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PW_")}
        env.update({"PW_REDIS_URL": embedded.url, "PW_SECRET_KEY": SECRET,
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom")})
        (tmp / "prom").mkdir()
        port = free_port()
        with gunicorn("service:create_app()", port, env):
            results = measure(f"http://127.0.0.1:{port}", RUNS)
    finally:
        embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nportal-widgets page-speed benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.machine()}, {os.cpu_count()} cores")
    print("\n".join(report(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
