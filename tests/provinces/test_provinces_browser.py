"""Provinces in real headless Chromium: the counter's data-group, the admin group view and
the merge with its confirmation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from service import sites, tokens
from service.counting import figures, visits
from service.provinces import groups
from service.store import get_store
from tests.browser import HostPages, live_service, portal
from tests.conftest import BROWSER, make_app


@pytest.fixture
def province(redis_server: Any) -> Iterator[tuple[str, Any]]:
    app: Flask = make_app(redis_server.url, MERGE_SETTLE_SECONDS=0)
    with app.app_context():
        store = get_store()
        now = datetime.now(UTC)
        sites.put_site(store, "thanhxuan", {"name": "Phường Thanh Xuân"})
        sites.put_site(store, "caugiay", {"name": "Phường Cầu Giấy"})
        sites.put_site(store, "khuongmai", {"name": "Phường Khương Mai"})
        for i in range(3):
            visits.record_hit(store, sites.get_site(store, "caugiay"), visitor=f"c{i}",
                              path="/", title="", now=now)
        visits.record_hit(store, sites.get_site(store, "khuongmai"), visitor="k", path="/a",
                          title="", now=now)
        figures.set_baselines(store, sites.get_site(store, "caugiay"),
                              {"visits": {"total": 1000000}}, now=now)
        groups.put_group(store, "hanoi", {"name": "Hà Nội",
                                          "sites": ["thanhxuan", "caugiay", "khuongmai"]})
        with live_service(app) as base:
            yield base, store


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", user_agent=BROWSER)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    assert errors == []
    context.close()


def test_a_group_counter_shows_the_group_and_the_hit_counts_for_the_site(
        province: tuple[str, Any], page: Page) -> None:
    base, store = province
    host = HostPages()
    try:
        widgets = ('<div id="own" data-pw-widget="counter"></div>'
                   '<div id="grp" data-pw-widget="counter" data-group="hanoi"></div>')
        page.goto(host.add("/tin/1", portal(base, widgets=widgets)))
        own = page.locator("#own ul")
        own.wait_for()
        # 1,000,004 or 1,000,005: the roll-up may be read before or after this page's hit
        expect(page.locator("#grp ul")).to_contain_text(
            re.compile(r"Tổng số truy cập:\s1\.000\.00[45]"))  # \s: the no-break space
        assert "Tổng số truy cập:\xa01" in own.inner_text()  # thanhxuan's own first visit
        # the page's own hit counted for data-site (the group roll-up may be 5 s old)
        site = sites.get_site(store, "thanhxuan", cached=False)
        assert visits.read_stats(store, site, now=datetime.now(UTC))["visits"]["total"] == 1
    finally:
        host.close()


def test_the_admin_group_view_and_a_confirmed_merge(province: tuple[str, Any],
                                                    page: Page) -> None:
    base, store = province
    secret = tokens.create(store, "root", [], now=datetime.now(UTC))
    page.goto(f"{base}/admin/")
    page.fill("#token", secret)
    page.click("text=Đăng nhập")
    page.locator("#app").wait_for()
    page.click("#nav >> text=Nhóm và gộp cổng")
    section = page.locator("#provinces")
    expect(section).to_be_visible()
    rows = page.locator("#group-sites tbody tr")
    expect(rows).to_have_count(3)
    assert "Phường Cầu Giấy" in rows.nth(0).inner_text()  # most visits this month first
    assert "1.000.003" in rows.nth(0).inner_text()
    expect(page.locator("#group-totals")).to_contain_text("1.000.004")
    # a link opens the site in the main view
    rows.nth(1).locator("a").click()
    expect(page.locator("#site")).to_have_value("khuongmai")
    expect(page.locator("#overview")).to_be_visible()
    page.click("#nav >> text=Nhóm và gộp cổng")
    # nothing is preselected: the operator picks both sites
    expect(page.locator("#merge-source")).to_have_value("")
    expect(page.locator("#merge-target")).to_have_value("")

    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.select_option("#merge-source", "khuongmai")
    page.select_option("#merge-target", "caugiay")
    page.click("#merge-form button[type=submit]")
    expect(page.locator("#merge-msg")).to_contain_text("Đã gộp")
    assert len(dialogs) == 1
    assert "1 lượt truy cập" in dialogs[0] and "Phường Cầu Giấy" in dialogs[0]
    expect(page.locator("#aliases")).to_contain_text("khuongmai")
    target = sites.get_site(store, "caugiay", cached=False)
    assert visits.read_stats(store, target, now=datetime.now(UTC))["visits"]["total"] == 1000004


def test_a_site_scoped_admin_sees_no_province_section(province: tuple[str, Any],
                                                      page: Page) -> None:
    base, store = province
    secret = tokens.create(store, "ward", ["thanhxuan"], now=datetime.now(UTC))
    page.goto(f"{base}/admin/")
    page.fill("#token", secret)
    page.click("text=Đăng nhập")
    page.locator("#app").wait_for()
    page.wait_for_timeout(300)
    expect(page.locator("#provinces")).to_be_hidden()
    expect(page.locator("#nav-provinces")).to_be_hidden()
