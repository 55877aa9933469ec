"""The embed script in real headless Chromium, on a portal page of another origin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from service import sites
from service.counting import figures, visits
from service.hotlines import rules as hotlines
from service.pages import rules as pages
from service.polls import rules as polls
from service.store import Store, get_store
from tests.browser import HostPages, live_service, portal
from tests.conftest import BROWSER

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture
def world(app: Flask) -> Iterator[tuple[str, HostPages, Store]]:
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        hotlines.replace(store, site, {"hotlines": [
            {"label": "Tiếp công dân", "number": "024.62933647", "group": "UBND Quận"},
            {"label": "An toàn thực phẩm", "number": "0868216873", "group": "UBND Quận"},
        ]})
        polls.create(store, site, {"id": "dap-ung", "question": "Khả năng đáp ứng thông tin?",
                                   "options": ["Tốt", "Khá", "Kém"]}, now=datetime.now(UTC))
        polls.set_current(store, site, {"poll": "dap-ung"})
        host = HostPages()
        with live_service(app) as service:
            yield service, host, store
        host.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # HeadlessChrome is (rightly) a bot to crawlerdetect: browse as the Chrome people use.
    context = browser.new_context(locale="vi-VN", user_agent=BROWSER)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def text(page: Page, selector: str) -> str:
    """The rendered text; the no-break spaces that keep figures beside labels read as spaces."""
    return page.locator(selector).first.inner_text().replace("\xa0", " ")


def test_counter_shows_the_seed_labels_and_vietnamese_numbers(world: Any, page: Page) -> None:
    service, host, store = world
    site = sites.get_site(store, "thanhxuan", cached=False)
    figures.set_baselines(store, site, {"visits": {"total": 12380046, "year": 1754427}},
                         now=datetime.now(UTC))
    hits: list[str] = []
    page.on("request", lambda r: hits.append(r.url) if "/hits" in r.url else None)
    page.goto(host.add("/tin-tuc/a", portal(service)))
    counter = page.locator("[data-pw-widget=counter] ul")
    counter.wait_for()
    shown = text(page, "[data-pw-widget=counter] ul")
    for label in ("Đang online: 1", "Lượt truy cập trong tuần: 1", "Lượt truy cập trong tháng: 1",
                  "Lượt truy cập trong năm: 1.754.428", "Tổng số truy cập: 12.380.047"):
        assert label in shown
    assert page.locator("[data-pw-widget=counter] li").first.get_attribute("title") == \
        "Số người truy cập trong 5 phút qua"
    page.locator("[data-pw-widget=views] .n").wait_for()
    assert text(page, "[data-pw-widget=views] .pw") == "Lượt xem: 1"
    page.wait_for_timeout(200)
    assert len(hits) == 1  # one request fills counter and views
    assert page.errors == []  # type: ignore[attr-defined]


def test_views_widget_shows_this_pages_count(world: Any, page: Page) -> None:
    service, host, store = world
    site = sites.get_site(store, "thanhxuan", cached=False)
    now = datetime.now(UTC)
    for i in range(79):
        visits.record_hit(store, site, visitor=f"earlier-{i}", path="/bai-viet", title="",
                          now=now)
    page.goto(host.add("/bai-viet", portal(service)))
    page.locator("[data-pw-widget=views] .n").wait_for()
    assert text(page, "[data-pw-widget=views] .pw") == "Lượt xem: 80"


def test_hotlines_are_tel_links_with_json_ld(world: Any, page: Page) -> None:
    service, host, _ = world
    page.goto(host.add("/", portal(service)))
    link = page.locator('[data-pw-widget=hotlines] a[href="tel:+842462933647"]')
    link.wait_for()
    assert link.inner_text() == "024.62933647"
    assert text(page, "[data-pw-widget=hotlines] h3") == "UBND Quận"
    ld = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "{}")
    assert ld["contactPoint"][1]["telephone"] == "+84868216873"
    assert ld["name"] == "Quận Thanh Xuân"  # the site's name, not the article's title


def test_markup_in_data_renders_as_text_and_runs_nothing(world: Any, page: Page) -> None:
    service, host, store = world
    site = sites.get_site(store, "thanhxuan", cached=False)
    hotlines.add(store, site, {"label": XSS, "number": "113"})
    polls.create(store, site, {"id": "xss", "question": XSS, "options": [XSS, "ok"]},
                 now=datetime.now(UTC))
    polls.set_current(store, site, {"poll": "xss"})
    # the top-pages list is fetched beside the hit, so the title is there beforehand
    visits.record_hit(store, site, visitor="earlier", path="/xss", title=XSS,
                      now=datetime.now(UTC))
    page.goto(host.add("/xss", portal(service, title=XSS.replace("<script>", "&lt;script&gt;"))))
    page.locator("[data-pw-widget=top-pages] a").wait_for()
    page.locator("[data-pw-widget=poll] legend").wait_for()
    page.locator("[data-pw-widget=hotlines] li").nth(2).wait_for()
    assert page.evaluate("window.__pwned") is None
    assert XSS in text(page, "[data-pw-widget=poll] legend")
    assert XSS in text(page, "[data-pw-widget=hotlines] li >> nth=2")
    assert "<img" in text(page, "[data-pw-widget=top-pages] a")
    assert page.locator("img").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]


def test_voting_by_clicking_shows_percentages(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/", portal(service)))
    page.get_by_label("Khá").check()
    page.get_by_role("button", name="Bình chọn").click()
    status = page.locator("[data-pw-widget=poll] [aria-live=polite]")
    status.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-pw-widget=poll]').shadowRoot.textContent"
        ".includes('100%')")
    shown = text(page, "[data-pw-widget=poll] .pw")
    assert "Khá: 100% (1 phiếu)" in shown
    assert "Tốt: 0% (0 phiếu)" in shown
    assert "Tổng số phiếu: 1" in shown
    assert status.inner_text() == "Cảm ơn bạn đã bình chọn."
    assert store.redis.hgetall("pw:{thanhxuan}:poll:dap-ung:tally") == {"o2": "1",
                                                                         "_total": "1"}
    page.reload()  # remembered locally: no form again
    page.wait_for_function(
        "() => (document.querySelector('[data-pw-widget=poll]').shadowRoot || {}).textContent"
        "?.includes('Bạn đã bình chọn')")


def test_keyboard_only_voting(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/", portal(service, widgets=(
        '<a href="#x">start</a><div data-pw-widget="poll" data-poll="current"></div>'))))
    page.locator("[data-pw-widget=poll] input").first.wait_for()
    page.locator("a").first.focus()
    page.keyboard.press("Tab")  # into the first radio
    page.keyboard.press("ArrowDown")  # radios move and select with arrows
    page.keyboard.press("Tab")  # to the button
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-pw-widget=poll]').shadowRoot.textContent"
        ".includes('100%')")
    assert store.redis.hget("pw:{thanhxuan}:poll:dap-ung:tally", "o2") == "1"


def test_english_labels(world: Any, page: Page) -> None:
    service, host, store = world
    site = sites.get_site(store, "thanhxuan", cached=False)
    figures.set_baselines(store, site, {"visits": {"total": 12380046}}, now=datetime.now(UTC))
    page.goto(host.add("/en", portal(service, attrs='data-lang="en"')))
    page.locator("[data-pw-widget=counter] ul").wait_for()
    shown = text(page, "[data-pw-widget=counter] ul")
    for label in ("Online now", "Visits this week", "Visits this month", "Visits this year",
                  "Total visits: 12,380,047"):
        assert label in shown
    page.locator("[data-pw-widget=views] .n").wait_for()
    assert text(page, "[data-pw-widget=views] .pw") == "Views: 1"


def test_track_false_records_nothing(world: Any, page: Page) -> None:
    service, host, store = world
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(host.add("/quiet", portal(service, attrs='data-track="false"')))
    page.locator("[data-pw-widget=counter] ul").wait_for()
    assert "Tổng số truy cập: 0" in text(page, "[data-pw-widget=counter] ul")
    assert posts == []


def test_heartbeat_every_minute_while_visible(world: Any, page: Page) -> None:
    service, host, _ = world
    beats: list[str] = []
    page.on("request", lambda r: beats.append(r.url) if "/heartbeat" in r.url else None)
    page.clock.install()
    page.goto(host.add("/long-read", portal(service)))
    page.locator("[data-pw-widget=counter] ul").wait_for()
    page.clock.run_for(61_000)
    page.wait_for_timeout(300)
    assert len(beats) == 1
    page.clock.run_for(60_000 * 40)
    page.wait_for_timeout(300)
    assert len(beats) == 30  # at most 30 minutes


@pytest.mark.parametrize("failure", ["abort", "503", "429"])
def test_service_failure_never_breaks_the_page_and_shows_cached_numbers(
        world: Any, page: Page, failure: str) -> None:
    service, host, _ = world
    url = host.add("/cached", portal(service))
    page.goto(url)
    page.locator("[data-pw-widget=counter] ul").wait_for()

    def fail(route: Any) -> None:
        if failure == "abort":
            route.abort()
        else:
            route.fulfill(status=int(failure), body='{"error": "x"}',
                          headers={"Access-Control-Allow-Origin": "*", "Retry-After": "5"})

    page.route("**/api/v1/**", fail)
    page.reload()
    page.locator("[data-pw-widget=counter] .m").wait_for()
    assert "Số liệu lúc" in text(page, "[data-pw-widget=counter] .m")
    assert "Tổng số truy cập: 1" in text(page, "[data-pw-widget=counter] ul")
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "Trang thử"


def test_unreachable_service_leaves_widgets_empty_without_errors(world: Any, page: Page) -> None:
    service, host, _ = world
    page.route("**/api/v1/**", lambda route: route.abort())
    page.goto(host.add("/down", portal(service)))
    page.wait_for_timeout(500)
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.evaluate(
        "document.querySelector('[data-pw-widget=counter]').shadowRoot") is None


def test_strict_host_csp_still_styles_the_widgets(world: Any, page: Page) -> None:
    service, host, _ = world
    csp = (f"default-src 'self'; script-src {service}; connect-src {service}; "
           "style-src 'self'; img-src 'none'")
    page.goto(host.add("/csp", portal(service), {"Content-Security-Policy": csp}))
    button = page.get_by_role("button", name="Bình chọn")
    button.wait_for()
    colour = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(74, 85, 104)"  # the neutral default of --pw-accent
    assert page.errors == []  # type: ignore[attr-defined]


def test_widgets_pass_axe_without_serious_violations(world: Any, page: Page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    service, host, store = world
    site = sites.get_site(store, "thanhxuan", cached=False)
    visits.record_hit(store, site, visitor="earlier", path="/a11y", title="Tin tức",
                      now=datetime.now(UTC))
    page.goto(host.add("/a11y", portal(service)))
    for kind in ("counter", "hotlines", "poll", "top-pages"):
        page.locator(f"[data-pw-widget={kind}] .pw").first.wait_for(state="attached")
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_the_demo_page_counts_and_shows_the_seed_widgets(app: Flask, page: Page) -> None:
    from service.runtime import demo

    with app.app_context():
        demo.install(get_store())
    with live_service(app) as service:
        page.goto(f"{service}/demo")
        counter = page.locator("[data-pw-widget=counter] ul")
        counter.wait_for()
        # the seed portal's old counter, imported, plus this first view
        assert "Tổng số truy cập: 12.380.047" in text(page, "[data-pw-widget=counter] ul")
        page.locator('[data-pw-widget=hotlines] a[href="tel:+842462933647"]').wait_for()
        page.locator("[data-pw-widget=poll] legend").wait_for()
        assert "Khả năng đáp ứng thông tin của Cổng TTĐT ?" in text(
            page, "[data-pw-widget=poll] legend")
        assert page.errors == []  # type: ignore[attr-defined]


def test_theme_variables_and_data_path(world: Any, page: Page) -> None:
    service, host, store = world
    widgets = ('<div data-pw-widget="poll" data-poll="current" '
               'style="--pw-accent: rgb(0, 0, 255)"></div><div data-pw-widget="views"></div>')
    page.goto(host.add("/some/url", portal(service, widgets=widgets,
                                           attrs='data-path="/tin-tuc/chuan"')))
    button = page.get_by_role("button", name="Bình chọn")
    button.wait_for()
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 0, 255)"
    page.locator("[data-pw-widget=views] .n").wait_for()
    site = sites.get_site(store, "thanhxuan", cached=False)
    assert pages.views(store, site, ["/tin-tuc/chuan", "/some/url"]) == {
        "/tin-tuc/chuan": {"views": 1, "title": "Tin tức"},
        "/some/url": {"views": 0, "title": None},
    }
