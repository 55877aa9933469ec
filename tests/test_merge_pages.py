"""The per-page step of a merge (service.store.merges.merge_pages), on today's page layout."""

from __future__ import annotations

import pytest

from service import sites, visits
from service.periods import ms, periods_of
from service.sites import Site
from service.store import Store
from service.store import merges as db
from tests.conftest import at

T0 = at("2026-11-26T10:00:00+07:00")


def view(store: Store, site: Site, path: str, title: str, times: int, prefix: str = "v") -> None:
    for i in range(times):
        assert visits.record_hit(store, site, visitor=f"{prefix}{path}{i}", path=path,
                                 title=title, now=T0) is not None


@pytest.fixture
def pair(store: Store) -> tuple[Site, Site]:
    source, _ = sites.put_site(store, "phuong-cu", {})
    target, _ = sites.put_site(store, "phuong-moi", {"max_pages": 3})
    view(store, source, "/tin-tuc/chung", "Tiêu đề cũ", 2)
    view(store, source, "/tin-tuc/rieng", "Bài riêng", 4)
    view(store, source, "/it-xem", "Ít xem", 1)
    view(store, target, "/tin-tuc/chung", "Tiêu đề mới", 3)
    view(store, target, "/", "Trang chủ", 1)
    return source, target


def run(store: Store, source: Site, target: Site, done: list[str] | None = None
        ) -> db.PagesMoved:
    steps = done if done is not None else []
    return db.merge_pages(store, source.id, target.id, periods_of(T0, target.tz),
                          max_pages=target.max_pages, now_ms=ms(T0), done=steps.append)


def test_views_are_added_the_target_keeps_its_titles_and_max_pages_holds(
        store: Store, pair: tuple[Site, Site]) -> None:
    source, target = pair
    moved = run(store, source, target)
    # the target had 2 paths and room for 3: the most viewed new path gets the place
    assert moved == db.PagesMoved(added=1, dropped=1)
    found = visits.pages(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng", "/it-xem", "/"])
    assert found == {
        "/tin-tuc/chung": {"views": 5, "title": "Tiêu đề mới"},
        "/tin-tuc/rieng": {"views": 4, "title": "Bài riêng"},
        "/it-xem": {"views": 0, "title": None},
        "/": {"views": 1, "title": "Trang chủ"},
    }
    top = visits.top_pages(store, target, period="today", limit=10, now=T0)
    assert [(p["path"], p["views"]) for p in top] == [
        ("/tin-tuc/chung", 5), ("/tin-tuc/rieng", 4), ("/", 1)]
    assert store.redis.get(store.keys.dropped(target.id)) == "1"
    ttl = store.redis.pttl(store.keys.top(target.id, "2026-11-26"))
    assert ttl > 0  # the day's top list still expires


def test_a_second_run_adds_nothing(store: Store, pair: tuple[Site, Site]) -> None:
    source, target = pair
    first: list[str] = []
    run(store, source, target, first)
    assert first[0] == "pages:0" and "top:2026-11:0" in first
    before = visits.pages(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng"])
    assert run(store, source, target) == db.PagesMoved(added=0, dropped=0)
    assert visits.pages(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng"]) == before
    top = visits.top_pages(store, target, period="year", limit=10, now=T0)
    assert top[0] == {"path": "/tin-tuc/chung", "title": "Tiêu đề mới", "views": 5}


def test_many_paths_go_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PAGES_CHUNK", 7)
    source, _ = sites.put_site(store, "nguon", {})
    target, _ = sites.put_site(store, "dich", {})
    for i in range(20):
        view(store, source, f"/bai/{i:02d}", f"Bài {i}", 1 + i % 3)
    steps: list[str] = []
    moved = run(store, source, target, steps)
    assert moved == db.PagesMoved(added=20, dropped=0)
    assert [s for s in steps if s.startswith("pages:")] == ["pages:0", "pages:1", "pages:2"]
    found = visits.pages(store, target, [f"/bai/{i:02d}" for i in range(20)])
    assert sum(p["views"] for p in found.values()) == sum(1 + i % 3 for i in range(20))
