"""Every page a person sees, in Chromium at 1280 and 360 px: axe finds no violation of any
impact, and nothing scrolls sideways on a phone. The demo's content fills them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from service import sites, tokens
from service.counting import visits
from service.runtime import demo
from service.store import get_store
from tests.browser import live_service

WIDTHS = (1280, 360)
PAGES = (
    "/demo",
    "/stats/demo",
    "/stats/demo?lang=en",
    "/stats/groups/demo",
    "/privacy",
    "/widgets/demo/counter.html",
    "/widgets/demo/hotlines.html",
    "/widgets/demo/poll.html?poll=current",
    "/widgets/demo/rating.html?path=/demo",
    "/widgets/groups/demo/counter.html",
    "/admin/",
)
ADMIN_SECTIONS = ("Tổng quan", "Trang xem nhiều", "Nguồn truy cập", "Đường dây nóng",
                  "Bình chọn", "Đánh giá", "Báo cáo", "Nhóm và gộp cổng", "Cài đặt")


@pytest.fixture
def service(app: Flask) -> Iterator[tuple[str, Any]]:
    with app.app_context():
        store = get_store()
        demo.install(store)
        site = sites.get_site(store, "demo", cached=False)
        now = datetime.now(UTC)
        for i in range(3):
            visits.record_hit(store, site, visitor=f"v{i}", path=f"/tin-tuc/bai-{i}",
                              title=f"Tin tức số {i}", now=now)
        with live_service(app) as base:
            yield base, store


def _violations(page: Page) -> list[tuple[str, str, list[str]]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"][0] for n in v["nodes"]][:3])
            for v in results.response["violations"]]


# The elements that stick out on the right, for the failure message.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
    && !e.closest('.scroll')).slice(0, 5)
  .map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
    + Math.round(e.getBoundingClientRect().right))"""


def _fits(page: Page, width: int) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_axe_clean_and_fits(service: tuple[str, Any], browser: Browser,
                                          path: str, width: int) -> None:
    base, _ = service
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        response = page.goto(base + path)
        assert response is not None and response.status == 200
        if path == "/demo":  # the widgets have rendered
            page.locator("[data-pw-widget=counter] ul").wait_for()
            page.locator("[data-pw-widget=poll] legend").wait_for()
        found = _violations(page)
        assert found == [], str(found)
        assert _fits(page, width)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_admin_section_is_axe_clean_and_fits(service: tuple[str, Any],
                                                   browser: Browser, width: int) -> None:
    base, store = service
    secret = tokens.create(store, "root", [], now=datetime.now(UTC))
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and "404" not in m.text else None)
    try:
        page.goto(f"{base}/admin/")
        page.fill("#token", secret)
        page.click("#token-form button[type=submit]")
        page.locator("#app").wait_for()
        page.locator("#nav-provinces").wait_for()
        page.locator("#stats tbody tr").first.wait_for()
        for name in ADMIN_SECTIONS:
            page.click(f"#nav >> text={name}")
            expect(page.locator(".panel:visible h2").first).to_have_text(name)
            expect(page.locator('#nav a[aria-current="page"]')).to_have_text(name)
            page.wait_for_load_state("networkidle")
            assert (name, _violations(page)) == (name, [])
            assert _fits(page, width), (name, page.evaluate(WIDEST))
        # the browser checks `pattern` with the v flag: it must compile under it
        assert page.evaluate("""() => {
          for (const input of document.querySelectorAll('input[pattern]'))
            new RegExp('^(?:' + input.pattern + ')$', 'v');
          return document.querySelectorAll('input[pattern]').length; }""") >= 1
        assert errors == []
    finally:
        context.close()
