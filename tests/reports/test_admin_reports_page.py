"""The admin page's "Nguồn truy cập" panel and "Tải báo cáo" button in Chromium, and the demo
portal on a 360-pixel phone."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from service import sites, tokens
from service.counting import visits
from service.counting.sources import Source
from service.store import get_store
from tests.browser import live_service
from tests.conftest import BROWSER


@pytest.fixture
def admin(app: Flask, browser: Browser) -> Iterator[Page]:
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        now = datetime.now(UTC)
        for i, source in enumerate([Source("search", "coccoc.com"),
                                    Source("search", "coccoc.com"),
                                    Source("social", "zalo.me"), Source("direct")]):
            visits.record_hit(store, site, visitor=f"v{i}", path="/", title="", now=now,
                              source=source)
        secret = tokens.create(store, "editor", ["thanhxuan"], now=now)
        with live_service(app) as base:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/admin/")
            page.fill("#token", secret)
            page.click("text=Đăng nhập")
            page.locator("#app").wait_for()
            yield page
            assert errors == []
            context.close()


def test_the_sources_panel_shows_each_period(admin: Page) -> None:
    admin.click("#nav >> text=Nguồn truy cập")
    rows = admin.locator("#sources tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(1)).to_contain_text("Công cụ tìm kiếm")
    expect(rows.nth(1)).to_contain_text("2")
    expect(rows.nth(1)).to_contain_text("50%")
    expect(admin.locator("#source-hosts li").first).to_have_text("coccoc.com: 2 lượt")
    admin.select_option("#sources-period", "today")
    expect(admin.locator("#source-hosts li")).to_have_count(0)
    expect(admin.locator("#source-hosts-note")).to_contain_text("theo tháng và năm")
    expect(rows.nth(2)).to_contain_text("Mạng xã hội")
    expect(rows.nth(2)).to_contain_text("25%")


def test_the_report_button_downloads_the_workbook(admin: Page) -> None:
    month = datetime.now(sites.Site(id="x").tz).strftime("%Y-%m")
    admin.click("#nav >> text=Báo cáo")
    with admin.expect_download() as info:
        admin.click("text=Tải báo cáo")
    download = info.value
    assert download.suggested_filename == f"bao-cao-thanhxuan-{month}.xlsx"
    with open(download.path(), "rb") as f:
        book = load_workbook(io.BytesIO(f.read()))
    assert book["Tổng hợp"]["B2"].value == 4
    expect(admin.locator("#report-msg")).to_contain_text("Đã tải")


def test_the_admin_page_speaks_vietnamese(admin: Page) -> None:
    text = admin.locator("body").inner_text()
    for english in ("Admin token", "open", "closed", "scheduled", "Report", "Sources"):
        assert english not in text


def test_the_demo_portal_fits_a_360_pixel_phone(app: Flask, browser: Browser) -> None:
    from service.runtime import demo

    with app.app_context():
        demo.install(get_store())
    with live_service(app) as service:
        context = browser.new_context(viewport={"width": 360, "height": 740},
                                      user_agent=BROWSER, is_mobile=True)
        page: Any = context.new_page()
        page.goto(f"{service}/demo")
        page.locator("[data-pw-widget=counter] ul").wait_for()
        page.locator("[data-pw-widget=poll] legend").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        main = page.locator("main").bounding_box()
        aside = page.locator("aside").bounding_box()
        assert aside["y"] >= main["y"] + main["height"]  # the sidebar is under the article
        assert main["width"] >= 300
        context.close()
