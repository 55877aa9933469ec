"""The rating widget ("Thông tin này có hữu ích với bạn không?") in real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from service import sites
from service.store import Store, get_store
from service.store import ratings as db
from tests.browser import HostPages, live_service, portal
from tests.conftest import BROWSER

REASONS = ("thieu", "kho-hieu", "sai", "cu", "khac")
RATING = '<a href="#top">đầu trang</a><div data-pw-widget="rating"></div>'


@pytest.fixture
def world(app: Flask) -> Iterator[tuple[str, HostPages, Store]]:
    with app.app_context():
        store = get_store()
        sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        host = HostPages()
        with live_service(app) as service:
            yield service, host, store
        host.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", user_agent=BROWSER)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # console errors too (a failed request logs one); the host page has no favicon
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error"
          and "favicon" not in m.location.get("url", "") else None)
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def counts(store: Store, path: str) -> db.Counts:
    return db.page_counts(store, "thanhxuan", path, REASONS)


def widget_text(page: Page) -> str:
    return str(page.evaluate(
        "(document.querySelector('[data-pw-widget=rating]').shadowRoot || {}).textContent")
        or "")


def wait_for(page: Page, needle: str) -> None:
    page.wait_for_function(
        "t => ((document.querySelector('[data-pw-widget=rating]').shadowRoot || {})"
        ".textContent || '').includes(t)", arg=needle)


def test_yes_is_one_click_and_the_thanks_stays_after_a_reload(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/tin-tuc/a", portal(service, widgets=RATING)))
    widget = page.locator("[data-pw-widget=rating]")
    widget.get_by_role("button", name="Có").wait_for()
    widget.get_by_role("button", name="Có").click()
    wait_for(page, "Cảm ơn bạn đã đánh giá.")
    assert page.locator("[data-pw-widget=rating] [role=status]").get_attribute("aria-live") \
        == "polite"
    found = counts(store, "/tin-tuc/a")
    assert (found.useful, found.not_useful) == (1, 0)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/ratings" in r.url else None)
    page.reload()
    wait_for(page, "Cảm ơn bạn đã đánh giá.")
    assert widget.get_by_role("button").count() == 0  # the thanks, not the buttons
    assert requests == []  # remembered in this browser: nothing asked
    assert page.errors == []  # type: ignore[attr-defined]


def test_no_asks_the_reasons_then_sends_them(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/tin-tuc/b", portal(service, widgets=RATING)))
    widget = page.locator("[data-pw-widget=rating]")
    widget.get_by_role("button", name="Không").click()
    for label in ("Thiếu thông tin", "Khó hiểu", "Không chính xác", "Đã lỗi thời", "Khác"):
        assert widget.get_by_role("checkbox", name=label).is_visible()
    widget.get_by_role("checkbox", name="Thiếu thông tin").check()
    widget.get_by_role("checkbox", name="Đã lỗi thời").check()
    widget.get_by_role("button", name="Gửi").click()
    wait_for(page, "Cảm ơn bạn đã đánh giá.")
    found = counts(store, "/tin-tuc/b")
    assert (found.useful, found.not_useful) == (0, 1)
    assert found.reasons == {"thieu": 1, "kho-hieu": 0, "sai": 0, "cu": 1, "khac": 0}
    assert page.errors == []  # type: ignore[attr-defined]


def test_keyboard_only_rating(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/tin-tuc/c", portal(service, widgets=RATING)))
    page.locator("[data-pw-widget=rating] button").first.wait_for()
    page.locator("a").first.focus()
    page.keyboard.press("Tab")  # "Có"
    page.keyboard.press("Tab")  # "Không"
    page.keyboard.press("Enter")  # the reasons; focus moves to the first checkbox
    page.keyboard.press("Space")  # Thiếu thông tin
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # Khó hiểu
    for _ in range(4):
        page.keyboard.press("Tab")  # past Không chính xác, Đã lỗi thời, Khác to "Gửi"
    page.keyboard.press("Enter")
    wait_for(page, "Cảm ơn bạn đã đánh giá.")
    found = counts(store, "/tin-tuc/c")
    assert found.reasons["thieu"] == 1 and found.reasons["kho-hieu"] == 1
    assert found.not_useful == 1


def test_english_labels(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/en/a", portal(service, widgets=RATING, attrs='data-lang="en"')))
    wait_for(page, "Was this information useful?")
    widget = page.locator("[data-pw-widget=rating]")
    widget.get_by_role("button", name="No").click()
    for label in ("Missing information", "Hard to understand", "Inaccurate", "Out of date",
                  "Other"):
        assert widget.get_by_role("checkbox", name=label).count() == 1
    widget.get_by_role("checkbox", name="Inaccurate").check()
    widget.get_by_role("button", name="Send").click()
    wait_for(page, "Thank you for your feedback.")
    assert counts(store, "/en/a").reasons["sai"] == 1


def test_a_browser_that_rated_elsewhere_gets_the_thanks_not_an_error(
        world: Any, page: Page) -> None:
    service, host, store = world
    url = host.add("/tin-tuc/d", portal(service, widgets=RATING))
    page.goto(url)
    page.locator("[data-pw-widget=rating] button").first.wait_for()
    other = page.context.new_page()  # same browser token (localStorage), second tab
    other.goto(url)
    other.locator("[data-pw-widget=rating]").get_by_role("button", name="Có").click()
    wait_for(other, "Cảm ơn bạn đã đánh giá.")
    page.locator("[data-pw-widget=rating]").get_by_role("button", name="Có").click()
    wait_for(page, "Cảm ơn bạn đã đánh giá.")  # 409 already rated: the thanks
    assert counts(store, "/tin-tuc/d").useful == 1
    assert "Chưa gửi được" not in widget_text(page)


def test_a_failed_send_says_so_and_can_be_retried(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/tin-tuc/e", portal(service, widgets=RATING)))
    page.locator("[data-pw-widget=rating] button").first.wait_for()
    page.route("**/api/v1/sites/thanhxuan/ratings", lambda route: route.abort()
               if route.request.method == "POST" else route.continue_())
    page.locator("[data-pw-widget=rating]").get_by_role("button", name="Có").click()
    wait_for(page, "Chưa gửi được, vui lòng thử lại.")
    assert counts(store, "/tin-tuc/e").useful == 0
    page.unroute("**/api/v1/sites/thanhxuan/ratings")
    page.locator("[data-pw-widget=rating]").get_by_role("button", name="Có").click()
    wait_for(page, "Cảm ơn bạn đã đánh giá.")
    assert counts(store, "/tin-tuc/e").useful == 1
