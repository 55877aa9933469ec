"""How the widgets sit on a portal page, in real Chromium: no layout shift with the snippet's
stylesheet, narrow sidebars, empty states, English plurals, the accent colour (issue 28)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from service import sites
from service.counting import visits
from service.runtime import demo
from service.store import Store, get_store
from tests.browser import HostPages, live_service
from tests.conftest import BROWSER

WIDGETS = ("counter", "views", "hotlines", "poll", "top-pages", "rating")
TITLE = "Kế hoạch thực hiện Chương trình hành động số 30-CTr/TU ngày 08/3/2024"
FILLED = "[...document.querySelectorAll('[data-pw-widget]')].every(e => e.shadowRoot)"
# the sum of the page's layout shifts so far (those right after an input do not count)
CLS = """() => new Promise(done => {
  let sum = 0;
  new PerformanceObserver(list => list.getEntries().forEach(e => {
    if (!e.hadRecentInput) sum += e.value; })).observe({type: 'layout-shift', buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(sum), 50)));
})"""


@pytest.fixture
def world(app: Flask) -> Iterator[tuple[str, HostPages, Store]]:
    with app.app_context():
        store = get_store()
        demo.install(store)  # the seed page's hotlines (with office hours) and poll
        host = HostPages()
        with live_service(app) as service:
            yield service, host, store
        host.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", user_agent=BROWSER,
                                  viewport={"width": 900, "height": 1600})
    pg = context.new_page()
    yield pg
    context.close()


def column(service: str, width: int, *, site: str = "demo", stylesheet: bool = True,
           attrs: str = "", widgets: tuple[str, ...] = WIDGETS) -> str:
    """A sidebar of the given width: each widget followed by a line of the host's text."""
    link = f'<link rel="stylesheet" href="{service}/widgets/embed.css">' if stylesheet else ""
    body = "".join(f'<div data-pw-widget="{w}" data-limit="5"></div><p>Nội dung sau {w}</p>'
                   for w in widgets)
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8">{link}'
            f'<title>Tin tức</title></head><body style="margin:0;font:16px Arial,sans-serif">'
            f'<aside style="width:{width}px">{body}</aside>'
            f'<script async src="{service}/widgets/embed.js" data-site="{site}" {attrs}>'
            "</script></body></html>")


def with_pages(store: Store, site_id: str = "demo", views: tuple[int, ...] = (3, 2, 2, 1, 1)
               ) -> None:
    site = sites.get_site(store, site_id, cached=False)
    for i, n in enumerate(views):
        for v in range(n):
            visits.record_hit(store, site, visitor=f"reader-{i}-{v}", path=f"/tin-tuc/{i}",
                              title=f"{TITLE} ({i})", now=datetime.now(UTC))


def shadow(page: Page, widget: str) -> str:
    return str(page.evaluate(
        "w => document.querySelector(`[data-pw-widget=${w}]`).shadowRoot.textContent",
        widget)).replace("\xa0", " ")


def test_the_snippets_stylesheet_reserves_the_space_so_filling_shifts_nothing(
        world: Any, page: Page) -> None:
    service, host, store = world
    with_pages(store)
    page.goto(host.add("/reserved", column(service, 300)))
    page.wait_for_function(FILLED)
    page.wait_for_function("document.querySelector('[data-pw-widget=top-pages]')"
                           ".shadowRoot?.querySelectorAll('li').length === 5")
    assert page.evaluate(CLS) <= 0.01
    # the same page without the stylesheet shifts: the measure can fail
    page.goto(host.add("/bare", column(service, 300, stylesheet=False)))
    page.wait_for_function(FILLED)
    page.wait_for_function("document.querySelector('[data-pw-widget=top-pages]')"
                           ".shadowRoot?.querySelectorAll('li').length === 5")
    assert page.evaluate(CLS) > 0.01


def test_a_200_px_sidebar_keeps_figures_beside_labels_and_notes_beside_numbers(
        world: Any, page: Page) -> None:
    service, host, store = world
    site = sites.get_site(store, "demo", cached=False)
    from service.counting import figures

    figures.set_baselines(store, site, {"visits": {"total": 12380046, "year": 1754427,
                                                   "month": 106288, "week": 47519}},
                          now=datetime.now(UTC))
    page.goto(host.add("/narrow", column(service, 200, widgets=("counter", "hotlines"))))
    page.wait_for_function(FILLED)
    page.wait_for_function("document.querySelector('[data-pw-widget=hotlines]').shadowRoot"
                           ".querySelector('a')")
    rows = page.evaluate("""() => [...document.querySelector('[data-pw-widget=counter]')
      .shadowRoot.querySelectorAll('li')].map(li => {
        const label = [...li.firstChild.getClientRects()].pop();
        const n = li.lastChild.getClientRects()[0];
        return [li.textContent, label.top, n.top, n.right];
      })""")
    assert len(rows) == 5
    for text, label_top, number_top, right in rows:
        assert abs(label_top - number_top) < 2, text  # the figure on its label's last line
        assert right <= 200.5, text  # nothing sticks out of the sidebar
    notes = page.evaluate("""() => [...document.querySelector('[data-pw-widget=hotlines]')
      .shadowRoot.querySelectorAll('li')].filter(li => li.querySelector('a + .m')).map(li => {
        const a = li.querySelector('a').getClientRects()[0];
        const note = li.querySelector('a + .m').getClientRects()[0];
        return [li.textContent, a.top, note.top];
      })""")
    assert len(notes) == 2  # the two numbers with office hours
    for text, number_top, note_top in notes:
        assert abs(number_top - note_top) < 4, text  # "· Ngoài giờ làm việc" starts beside it


@pytest.mark.parametrize(("lang", "pages", "poll", "hotlines"), [
    ("vi", "Chưa có bài viết nào.", "Hiện chưa có cuộc bình chọn nào.",
     "Chưa có số điện thoại nào."),
    ("en", "No pages yet.", "There is no poll at the moment.", "No numbers yet."),
])
def test_empty_widgets_say_so(world: Any, page: Page, lang: str, pages: str, poll: str,
                              hotlines: str) -> None:
    service, host, store = world
    sites.put_site(store, "empty", {})
    page.goto(host.add(f"/empty-{lang}", column(
        service, 300, site="empty", attrs=f'data-lang="{lang}" data-track="false"',
        widgets=("top-pages", "poll", "hotlines"))))
    page.wait_for_function(FILLED)
    page.wait_for_function("[...document.querySelectorAll('[data-pw-widget]')]"
                           ".every(e => e.shadowRoot.textContent)")
    assert shadow(page, "top-pages") == pages
    assert shadow(page, "poll") == poll
    assert shadow(page, "hotlines") == hotlines
    assert page.locator('script[type="application/ld+json"]').count() == 0


def test_english_counts_are_plural_correct(world: Any, page: Page) -> None:
    service, host, store = world
    with_pages(store, views=(2, 1))
    page.goto(host.add("/en", column(service, 300, attrs='data-lang="en" data-track="false"',
                                     widgets=("top-pages", "poll"))))
    page.wait_for_function("document.querySelector('[data-pw-widget=top-pages]')"
                           ".shadowRoot?.querySelectorAll('li').length === 2")
    assert shadow(page, "top-pages") == f"{TITLE} (0) (2 views){TITLE} (1) (1 view)"
    poll = page.locator("[data-pw-widget=poll]")
    poll.get_by_label("Cơ bản đáp ứng").check()
    poll.get_by_role("button", name="Vote").click()
    page.wait_for_function("document.querySelector('[data-pw-widget=poll]').shadowRoot"
                           ".textContent.includes('Thank you')")
    shown = shadow(page, "poll")
    assert "Cơ bản đáp ứng: 100% (1 vote)" in shown
    assert "Đầy đủ, kịp thời: 0% (0 votes)" in shown


def test_poll_bars_take_the_portals_accent(world: Any, page: Page) -> None:
    service, host, store = world
    page.goto(host.add("/accent", column(service, 300, widgets=("poll",)).replace(
        "<aside ", '<aside class="blue" ').replace(
        "</head>", "<style>.blue{--pw-accent: rgb(0, 70, 140)}</style></head>")))
    poll = page.locator("[data-pw-widget=poll]")
    poll.get_by_label("Đầy đủ, kịp thời").check()
    button = poll.get_by_role("button", name="Bình chọn")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 70, 140)"
    button.click()
    page.wait_for_function("document.querySelector('[data-pw-widget=poll]').shadowRoot"
                           ".querySelector('.bar span')")
    colour = page.evaluate("getComputedStyle(document.querySelector('[data-pw-widget=poll]')"
                           ".shadowRoot.querySelector('.bar span')).backgroundColor")
    assert colour == "rgb(0, 70, 140)"
