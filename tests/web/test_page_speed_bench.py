"""The page-speed bench's arithmetic: which trace tasks are the widgets', what it prints."""

from __future__ import annotations

from typing import Any

from benchmarks.page_speed import longest_task, portal, report, widget_tasks

EMBED = "http://127.0.0.1:8000/widgets/embed.js"


def trace(*events: dict[str, Any]) -> dict[str, Any]:
    meta = [{"name": "thread_name", "ph": "M", "pid": 1, "tid": 7,
             "args": {"name": "CrRendererMain"}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 9,
             "args": {"name": "Compositor"}}]
    return {"traceEvents": meta + list(events)}


def task(ts: int, dur: int, tid: int = 7) -> dict[str, Any]:
    return {"name": "RunTask", "ph": "X", "pid": 1, "tid": tid, "ts": ts, "dur": dur}


def call(ts: int, url: str, name: str = "FunctionCall", tid: int = 7) -> dict[str, Any]:
    return {"name": name, "ph": "X", "pid": 1, "tid": tid, "ts": ts, "dur": 10,
            "args": {"data": {"url": url}}}


def test_only_main_thread_tasks_that_ran_embed_js_count() -> None:
    found = trace(
        task(0, 80_000), call(100, "http://localhost/host.js"),  # the host's own task
        task(100_000, 12_000), call(100_500, EMBED, "EvaluateScript"),  # the parse
        task(200_000, 30_000), call(201_000, EMBED), call(202_000, EMBED),  # one task, twice
        task(300_000, 90_000, tid=9), call(300_100, EMBED, tid=9),  # another thread
    )
    assert widget_tasks(found) == [30.0, 12.0]
    assert longest_task(found) == 80.0


def test_the_report_checks_the_budget() -> None:
    def load(cls: float, lcp: float, task_ms: float = 0.0) -> dict[str, Any]:
        return {"cls": cls, "lcp": lcp, "moved": [], "widget_task": task_ms, "widget_tasks": 3,
                "longest": 60.0}

    good = report({"without": [load(0, 500), load(0, 520), load(0, 510)],
                   "with": [load(0.005, 530, 20), load(0.0, 540, 31), load(0, 545, 12)]})
    assert "  PASS  layout shift added by the widgets <= 0.01" in good
    assert "  PASS  no widget task over 50 ms (CPU slowed 4x)" in good
    assert "  PASS  LCP at most 50 ms later with the widgets" in good  # medians 510, 540
    bad = report({"without": [load(0, 500)], "with": [load(0.02, 600, 51)]})
    assert [line for line in bad if "FAIL" in line][:3] == [
        "  FAIL  layout shift added by the widgets <= 0.01",
        "  FAIL  no widget task over 50 ms (CPU slowed 4x)",
        "  FAIL  LCP at most 50 ms later with the widgets"]


def test_the_page_with_widgets_is_the_page_without_plus_the_snippet() -> None:
    bare, full = portal(None), portal("http://svc")
    assert "data-pw-widget" not in bare and "embed" not in bare
    assert '<link rel="stylesheet" href="http://svc/widgets/embed.css">' in full
    assert '<script async src="http://svc/widgets/embed.js" data-site="demo"></script>' in full
    for widget in ("counter", "views", "hotlines", "poll", "top-pages", "rating"):
        assert f'data-pw-widget="{widget}"' in full
