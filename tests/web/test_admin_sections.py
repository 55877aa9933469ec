"""The admin page's sections that stand on the ratings and page-state routes: page ratings
("Đánh giá", from real ratings and from a documented answer given by Playwright) and page
states ("Trang xem nhiều": states given by Playwright over the real list, the state filter
and "Kiểm tra ngay"; none for a site that does not verify its pages)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route, expect

from service import sites, tokens
from service.counting import visits
from service.store import get_store
from tests.browser import live_service
from tests.conftest import BROWSER

RATINGS = {
    "pages": [
        {"path": "/tin-tuc/lich-tiep-dan", "title": "Lịch tiếp công dân", "useful": 2,
         "not_useful": 8, "share_useful": 0.2,
         "reasons": {"thieu": 5, "kho-hieu": 1, "sai": 0, "cu": 2, "khac": 0}},
        {"path": "/tin-tuc/tuyen-dung", "title": "", "useful": 9, "not_useful": 1,
         "share_useful": 0.9, "reasons": {"thieu": 1, "kho-hieu": 0, "sai": 0, "cu": 0,
                                          "khac": 0}},
    ],
    "totals": {"useful": 11, "not_useful": 9, "share_useful": 0.55},
}


@pytest.fixture
def admin(app: Flask, browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        now = datetime.now(UTC)
        for i, path in enumerate(("/tin-tuc/a", "/tin-tuc/b", "/tin-tuc/b")):
            visits.record_hit(store, site, visitor=f"v{i}", path=path, title="", now=now)
        secret = tokens.create(store, "editor", ["thanhxuan"], now=now)
        with live_service(app) as base:
            context = browser.new_context()
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/admin/")
            page.fill("#token", secret)
            page.click("#token-form button[type=submit]")
            page.locator("#app").wait_for()
            yield page, errors
            assert errors == []
            context.close()


def test_ratings_from_the_real_route_fill_the_panel(app: Flask,
                                                    admin: tuple[Page, list[str]]) -> None:
    page, _ = admin
    client = app.test_client()
    for i in range(5):  # five readers rate /tin-tuc/a: one finds it useful, four do not
        ip = f"203.0.113.{10 + i}"
        shown = client.get("/api/v1/sites/thanhxuan/ratings?path=/tin-tuc/a",
                           environ_base={"REMOTE_ADDR": ip}).get_json()
        body = {"path": "/tin-tuc/a", "useful": i == 0, "ticket": shown["ticket"],
                "token": f"reader-{i:04d}", "reasons": [] if i == 0 else ["cu"]}
        sent = client.post("/api/v1/sites/thanhxuan/ratings", data=json.dumps(body),
                           content_type="text/plain", environ_base={"REMOTE_ADDR": ip},
                           headers={"User-Agent": BROWSER})
        assert sent.status_code == 201, sent.get_json()
    page.evaluate("document.getElementById('site').dispatchEvent(new Event('change'))")
    page.click("#nav >> text=Đánh giá")
    row = page.locator("#ratings tbody tr").first
    expect(row).to_contain_text("/tin-tuc/a")
    expect(row.locator("td").nth(1)).to_have_text("1")
    expect(row.locator("td").nth(2)).to_have_text("4")
    expect(row.locator("td").nth(3)).to_have_text("20%")
    expect(row.locator("td").nth(7)).to_have_text("4")  # Đã lỗi thời


def test_ratings_fill_the_table_least_useful_first(admin: tuple[Page, list[str]]) -> None:
    page, _ = admin
    asked: list[str] = []

    def answer(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(RATINGS))

    page.route("**/api/v1/admin/sites/thanhxuan/ratings?*", answer)
    page.select_option("#site", "thanhxuan")  # the site again: the panel asks the route
    page.evaluate("document.getElementById('site').dispatchEvent(new Event('change'))")
    page.click("#nav >> text=Đánh giá")
    rows = page.locator("#ratings tbody tr")
    expect(rows).to_have_count(2)
    first = rows.first.locator("td")
    expect(first.nth(0)).to_contain_text("Lịch tiếp công dân")
    expect(first.nth(0)).to_contain_text("/tin-tuc/lich-tiep-dan")
    assert [first.nth(i).inner_text() for i in range(1, 9)] == [
        "2", "8", "20%", "5", "1", "0", "2", "0"]
    assert first.nth(1).evaluate("td => getComputedStyle(td).textAlign") == "right"
    assert first.nth(0).evaluate("td => getComputedStyle(td).textAlign") == "left"
    expect(rows.nth(1).locator("td").first).to_have_text("/tin-tuc/tuyen-dung")
    expect(page.locator("#ratings-totals")).to_contain_text("55%")
    assert "period=month" in asked[-1] and "sort=least_useful" in asked[-1]
    assert "limit=100" in asked[-1]
    with page.expect_request(lambda r: "sort=most_rated" in r.url):
        page.select_option("#ratings-sort", "most_rated")
    expect(rows).to_have_count(2)
    assert "sort=most_rated" in asked[-1]
    page.unroute_all(behavior="ignoreErrors")


def test_page_states_filter_and_check_now(admin: tuple[Page, list[str]]) -> None:
    page, _ = admin
    checked: list[Any] = []

    def pages(route: Route) -> None:
        if route.request.method != "GET":
            route.fallback()
            return
        # the site's pages as if its portal had confirmed /tin-tuc/b only (the real route
        # asked without the state filter, which this answer applies as the service does)
        query = parse_qs(urlsplit(route.request.url).query)
        wanted = query.pop("state", [None])[0]
        real = route.fetch(url=route.request.url.split("?")[0] + "?" + urlencode(query, True))
        body = real.json()
        for item in body["pages"]:
            item["state"] = "verified" if item["path"] == "/tin-tuc/b" else "unverified"
        body["pages"] = [p for p in body["pages"] if wanted in (None, p["state"])]
        route.fulfill(response=real, body=json.dumps(body))

    def check(route: Route) -> None:
        checked.append(route.request.post_data_json)
        route.fulfill(status=202, content_type="application/json", body="{}")

    page.route("**/api/v1/admin/sites/thanhxuan/pages?*", pages)
    page.route("**/api/v1/admin/sites/thanhxuan/pages/check", check)
    page.click("#nav >> text=Trang xem nhiều")
    page.select_option("#pages-period", "today")
    rows = page.locator("#pages tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Đã xác minh")
    expect(rows.nth(1)).to_contain_text("Chưa xác minh")
    page.select_option("#pages-state", "unverified")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/tin-tuc/a")
    rows.first.get_by_role("button", name="Kiểm tra ngay").click()
    expect(page.locator("#pages-msg")).to_contain_text("Đã yêu cầu kiểm tra /tin-tuc/a")
    assert checked == [{"path": "/tin-tuc/a"}]
    expect(rows).to_have_count(1)  # the list reloaded after the check
    page.unroute_all(behavior="ignoreErrors")


def test_without_page_states_there_is_no_check_button(admin: tuple[Page, list[str]]) -> None:
    page, _ = admin
    page.click("#nav >> text=Trang xem nhiều")
    rows = page.locator("#pages tbody tr")
    expect(rows).to_have_count(2)
    assert rows.get_by_role("button", name="Kiểm tra ngay").count() == 0
