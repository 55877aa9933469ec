"""The per-page step of a merge (service.store.page_merge.merge_pages), on the page layout of
pages.lua: views by page id, one copy of each path, titles, moderation, ranks."""

from __future__ import annotations

import pytest

from service import sites
from service.counting import visits
from service.counting.periods import ms, periods_of
from service.pages import rules as pages
from service.sites import Site
from service.store import Store
from service.store import page_merge as db
from service.store.pages import page_id
from tests.conftest import at

T0 = at("2026-11-26T10:00:00+07:00")


def view(store: Store, site: Site, path: str, title: str, times: int) -> None:
    for i in range(times):
        assert visits.record_hit(store, site, visitor=f"v{path}{i}", path=path, title=title,
                                 now=T0) is not None


@pytest.fixture
def pair(store: Store) -> tuple[Site, Site]:
    source, _ = sites.put_site(store, "phuong-cu", {})
    target, _ = sites.put_site(store, "phuong-moi", {"max_pages": 3})
    view(store, source, "/tin-tuc/chung", "Tiêu đề cũ", 2)
    view(store, source, "/tin-tuc/rieng", "Bài riêng", 4)
    view(store, source, "/thong-bao/a", "Thông báo", 2)
    view(store, source, "/it-xem", "Ít xem", 1)
    view(store, target, "/tin-tuc/chung", "Tiêu đề mới", 3)
    view(store, target, "/", "Trang chủ", 1)
    return source, target


def run(store: Store, source: Site, target: Site, done: list[str] | None = None
        ) -> db.PagesMoved:
    steps = done if done is not None else []
    return db.merge_pages(store, source.id, target.id, periods_of(T0, target.tz),
                          max_pages=target.max_pages, listable=target.listable,
                          now_ms=ms(T0), done=steps.append)


def test_views_are_added_the_target_keeps_its_titles_and_max_pages_holds(
        store: Store, pair: tuple[Site, Site]) -> None:
    source, target = pair
    moved = run(store, source, target)
    # room for 3: /tin-tuc/rieng (4) takes the free place, /thong-bao/a (2) the place of
    # the target's least viewed page (/, 1 view), /it-xem (1) is not kept
    assert moved == db.PagesMoved(added=2, evicted=1, dropped=1)
    found = pages.views(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng", "/thong-bao/a",
                                        "/it-xem", "/"])
    assert found == {
        "/tin-tuc/chung": {"views": 5, "title": "Tiêu đề mới"},
        "/tin-tuc/rieng": {"views": 4, "title": "Bài riêng"},
        "/thong-bao/a": {"views": 2, "title": "Thông báo"},
        "/it-xem": {"views": 0, "title": None},
        "/": {"views": 0, "title": None},
    }
    top = pages.top(store, target, period="today", limit=10, now=T0)
    assert [(p["path"], p["views"]) for p in top] == [
        ("/tin-tuc/chung", 5), ("/tin-tuc/rieng", 4), ("/thong-bao/a", 2)]
    k = store.keys
    assert store.redis.zcard(k.page_views(target.id)) == 3
    assert store.redis.hlen(k.page_paths(target.id)) == 3  # the evicted page's path went too
    assert store.redis.pttl(k.rank(target.id, "2026-11-26")) > 0  # the day's rank expires


def test_moderation_follows_the_pages(store: Store, pair: tuple[Site, Site]) -> None:
    source, target = pair
    pages.moderate(store, source, {"path": "/tin-tuc/rieng", "hidden": True})
    pages.moderate(store, source, {"path": "/thong-bao/a", "title": "Thông báo chính thức"})
    pages.moderate(store, source, {"path": "/tin-tuc/chung", "title": "Khoá ở nguồn"})
    run(store, source, target)
    listed = {p["path"]: p for p in pages.admin_list(store, target, period="today", limit=10,
                                                     now=T0)}
    assert listed["/tin-tuc/rieng"]["hidden"] is True
    assert listed["/thong-bao/a"]["title"] == "Thông báo chính thức"
    assert listed["/thong-bao/a"]["title_locked"] is True
    # the target keeps its own title, unlocked as it was
    assert listed["/tin-tuc/chung"]["title"] == "Tiêu đề mới"
    assert listed["/tin-tuc/chung"]["title_locked"] is False
    public = [p["path"] for p in pages.top(store, target, period="today", limit=10, now=T0)]
    assert "/tin-tuc/rieng" not in public


def test_a_second_run_adds_nothing(store: Store, pair: tuple[Site, Site]) -> None:
    source, target = pair
    first: list[str] = []
    run(store, source, target, first)
    assert first[0] == "pages:0" and "rank:2026-11:0" in first
    before = pages.views(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng"])
    assert run(store, source, target) == db.PagesMoved(added=0, evicted=0, dropped=0)
    assert pages.views(store, target, ["/tin-tuc/chung", "/tin-tuc/rieng"]) == before
    top = pages.top(store, target, period="year", limit=10, now=T0)
    assert top[0] == {"path": "/tin-tuc/chung", "title": "Tiêu đề mới", "views": 5}


def test_ranks_follow_the_targets_page_prefixes(store: Store) -> None:
    source, _ = sites.put_site(store, "nguon", {})
    target, _ = sites.put_site(store, "dich", {"page_prefixes": ["/tin-tuc/"]})
    view(store, source, "/tin-tuc/a", "A", 2)
    view(store, source, "/lien-he", "Liên hệ", 3)
    run(store, source, target)
    assert store.redis.zrange(store.keys.rank(target.id, "2026-11"), 0, -1) == [
        page_id("/tin-tuc/a")]
    assert pages.views(store, target, ["/lien-he"])["/lien-he"]["views"] == 3


def test_many_pages_go_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PAGES_CHUNK", 7)
    source, _ = sites.put_site(store, "nguon", {})
    target, _ = sites.put_site(store, "dich", {})
    for i in range(20):
        view(store, source, f"/bai/{i:02d}", f"Bài {i}", 1 + i % 3)
    steps: list[str] = []
    moved = run(store, source, target, steps)
    assert moved == db.PagesMoved(added=20, evicted=0, dropped=0)
    assert [s for s in steps if s.startswith("pages:")] == ["pages:0", "pages:1", "pages:2"]
    found = pages.views(store, target, [f"/bai/{i:02d}" for i in range(20)])
    assert sum(p["views"] for p in found.values()) == sum(1 + i % 3 for i in range(20))
