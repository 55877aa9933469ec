"""The admin page in Chromium: token, site, stats, charts, baselines, hotlines, polls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from service import sites, tokens
from service.counting import visits
from service.store import get_store
from tests.browser import live_service


@pytest.fixture
def admin(app: Flask, browser: Browser) -> Iterator[tuple[Page, str, object]]:
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        sites.put_site(store, "caugiay", {})
        now = datetime.now(UTC)
        for day in range(3):
            for i in range(day + 1):
                visits.record_hit(store, site, visitor=f"d{day}-{i}", path="/", title="",
                                  now=now - timedelta(days=day))
        secret = tokens.create(store, "editor", ["thanhxuan"], now=now)
        with live_service(app) as base:
            context = browser.new_context()
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/admin/")
            page.fill("#token", secret)
            page.click("text=Đăng nhập")
            page.locator("#app").wait_for()
            yield page, base, store
            assert errors == []
            context.close()


def test_admin_sees_only_its_sites_and_the_figures(admin: tuple[Page, str, object]) -> None:
    page, _, _ = admin
    options = page.locator("#site option").all_inner_texts()
    assert options == ["Quận Thanh Xuân (thanhxuan)"]
    expect(page.locator("#stats tbody tr").first).to_contain_text("Lượt truy cập")
    first_row = page.locator("#stats tbody tr").first.inner_text()
    assert "Lượt truy cập" in first_row
    assert "6" in first_row  # total visits over three days: 1 + 2 + 3
    assert page.locator("#chart-days svg rect").count() == 60  # 30 days x 2 series
    assert page.locator("#chart-days svg text").count() >= 60  # values and day labels
    assert page.locator("#chart-months svg").count() == 1


def test_admin_edits_hotlines_polls_and_baselines(admin: tuple[Page, str, object]) -> None:
    page, _, store = admin
    page.click("#nav >> text=Đường dây nóng")
    page.fill("#hotline-form [name=label]", "Tiếp công dân")
    page.fill("#hotline-form [name=number]", "024.62933647")
    page.click("text=Thêm số")
    page.locator("#hotlines tbody tr").first.wait_for()
    assert "024.62933647" in page.locator("#hotlines tbody").inner_text()
    page.click("#hotlines >> text=Sửa")
    page.fill("#hotline-form [name=number]", "024.38585652")
    page.click("#hotline-submit")
    expect(page.locator("#hotlines tbody")).to_contain_text("024.38585652")
    assert page.locator("#hotlines tbody tr").count() == 1
    bad = page.locator("#msg")
    page.click("#hotlines >> text=Sửa")
    page.fill("#hotline-form [name=number]", "not a number")
    page.click("#hotline-submit")
    expect(bad).to_contain_text("number")
    page.fill("#hotline-form [name=number]", "024.38585652")
    page.click("#hotline-submit")

    page.click("#nav >> text=Bình chọn")
    page.fill("#poll-form [name=question]", "Bạn thấy cổng thế nào?")
    page.fill("#poll-form [name=options]", "Tốt\nChưa tốt")
    page.click("text=Tạo bình chọn")
    page.locator(".poll").first.wait_for()
    # the site's first poll is its current one, and the page marks it
    expect(page.locator(".poll.current")).to_contain_text("Bình chọn hiện tại")
    page.click(".poll >> text=Đóng")
    expect(page.locator(".poll").first).to_contain_text("đã đóng")
    expect(page.locator("#msg")).to_have_text("Đã đóng bình chọn.")

    page.click("#nav >> text=Cài đặt")
    page.fill("#baseline-form [name=total]", "12380046")
    page.click("text=Lưu số liệu ban đầu")
    expect(page.locator("#msg")).to_have_text("Đã lưu số liệu ban đầu.")
    page.click("#nav >> text=Tổng quan")
    expect(page.locator("#stats tbody")).to_contain_text("12.380.052")
    expect(page.locator("#stats tbody")).to_contain_text("chuyển từ bộ đếm cũ")


def test_admin_page_cannot_be_framed(client: object) -> None:
    response = client.get("/admin/")  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_admin_moderates_top_pages(admin: tuple[Page, str, object]) -> None:
    page, _, store = admin
    page.click("#nav >> text=Trang xem nhiều")
    rows = page.locator("#pages tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/")
    expect(rows.first).to_contain_text("Hiển thị")
    rows.first.get_by_role("button", name="Ẩn").click()
    expect(rows.first).to_contain_text("Đang ẩn")
    page.once("dialog", lambda d: d.accept("Trang chủ"))
    rows.first.get_by_role("button", name="Đổi tiêu đề").click()
    expect(rows.first).to_contain_text("Trang chủ")
    expect(rows.first).to_contain_text("tiêu đề đã khoá")
    from service.pages import rules as pages

    site = sites.get_site(store, "thanhxuan", cached=False)  # type: ignore[arg-type]
    assert pages.top(store, site, period="month", limit=5,  # type: ignore[arg-type]
                     now=datetime.now(UTC)) == []  # hidden from the public list
    page.once("dialog", lambda d: d.accept())
    rows.first.get_by_role("button", name="Xoá").click()
    expect(page.locator("#pages-msg")).to_contain_text("Đã xoá số liệu của /")
    expect(page.locator("#pages tbody")).to_contain_text("Chưa có trang nào")
