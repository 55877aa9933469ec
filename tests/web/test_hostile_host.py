"""The widgets on a hostile host page, in real Chromium (issue 28).

tests/hostile/ holds a portal page with every trait that broke or could break the widgets:
a strict Content-Security-Policy (`style-src 'self'`, no inline anything) with a
`securitypolicyviolation` listener, a global theme that hides `input` and `button` and
makes `div` inline, `Object.prototype` and `Array.prototype` extensions, a wrapped
`window.fetch` and a `$` global. The poll used to store the vote (201) and then say
"Chưa gửi được": its element builder walked the inherited `polluted` key with for-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from service import sites
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.store import Store, get_store
from tests.browser import HostPages, live_service
from tests.conftest import BROWSER
from widgets import embed_css

HOSTILE = Path(__file__).parent.parent / "hostile"
WIDGETS = ("counter", "views", "hotlines", "poll", "top-pages", "rating")


@pytest.fixture
def hostile(app: Flask, browser: Browser) -> Iterator[tuple[Page, str, Store, list[str]]]:
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        hotlines.replace(store, site, {"hotlines": [
            {"label": "Tiếp công dân", "number": "024.62933647", "group": "UBND Quận"}]})
        polls.create(store, site, {"id": "dap-ung", "question": "Khả năng đáp ứng thông tin?",
                                   "options": ["Tốt", "Khá", "Kém"]}, now=datetime.now(UTC))
        polls.set_current(store, site, {"poll": "dap-ung"})
        host = HostPages()
        with live_service(app) as service:
            csp = (f"default-src 'none'; script-src 'self' {service}; connect-src {service}; "
                   "style-src 'self'; img-src 'none'")
            host.add("/hostile.js", (HOSTILE / "hostile.js").read_text(),
                     {"Content-Type": "text/javascript"})
            host.add("/hostile.css", (HOSTILE / "hostile.css").read_text(),
                     {"Content-Type": "text/css"})
            host.add("/embed.css", embed_css().decode(), {"Content-Type": "text/css"})
            url = host.add("/tin-tuc/ke-hoach", (HOSTILE / "page.html").read_text()
                           .replace("{service}", service), {"Content-Security-Policy": csp})
            context = browser.new_context(locale="vi-VN", user_agent=BROWSER)
            page = context.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: console.append(str(exc)))
            page.goto(url)
            yield page, service, store, console
            context.close()
        host.close()


def shadow_text(page: Page, widget: str) -> str:
    return str(page.evaluate(
        "w => (document.querySelector(`[data-pw-widget=${w}]`).shadowRoot || {}).textContent",
        widget) or "").replace("\xa0", " ")


def wait_text(page: Page, widget: str, needle: str) -> None:
    page.wait_for_function(
        "([w, t]) => ((document.querySelector(`[data-pw-widget=${w}]`).shadowRoot || {})"
        ".textContent || '').replace(/\\u00a0/g, ' ').includes(t)", arg=[widget, needle])


def test_the_hostile_page_really_is_hostile(hostile: Any) -> None:
    page, *_ = hostile
    assert page.evaluate("({}).polluted") == "yes"
    assert page.evaluate("[1, 2].last()") == 2
    assert page.evaluate("typeof $") == "function"
    assert page.evaluate("window.fetch.toString()").find("[native code]") < 0
    assert page.evaluate("getComputedStyle(document.querySelector('main p')).textTransform") \
        == "uppercase"
    # inline styles are refused (the listener sees it), so the widgets may not use them
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_function("window.__violations.length > 0")
    assert "style-src" in page.evaluate("window.__violations[0]")


def test_every_widget_renders_votes_and_rates_without_violations_or_errors(
        hostile: Any) -> None:
    page, _service, store, console = hostile
    wait_text(page, "counter", "Tổng số truy cập: 1")
    wait_text(page, "views", "Lượt xem: 1")
    wait_text(page, "hotlines", "024.62933647")
    wait_text(page, "top-pages", "")  # the list or its empty state, whichever came first
    wait_text(page, "rating", "Thông tin này có hữu ích với bạn không?")
    poll = page.locator("[data-pw-widget=poll]")
    poll.get_by_label("Khá").check()  # the host hides every input: not inside the shadow root
    poll.get_by_role("button", name="Bình chọn").click()
    wait_text(page, "poll", "Cảm ơn bạn đã bình chọn.")
    assert "Khá: 100% (1 phiếu)" in shadow_text(page, "poll")
    assert store.redis.hget("pw:{thanhxuan}:poll:dap-ung:tally", "o2") == "1"
    rating = page.locator("[data-pw-widget=rating]")
    rating.get_by_role("button", name="Không").click()
    rating.get_by_label("Khó hiểu").check()
    rating.get_by_role("button", name="Gửi").click()
    wait_text(page, "rating", "Cảm ơn bạn đã đánh giá.")
    # the widgets keep their own look: the host's div{display:inline} and hidden buttons
    # do not reach them, and no host attribute leaks from Object.prototype into them
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'[data-pw-widget=counter]')).display") == "block"
    assert page.evaluate("document.querySelector('[data-pw-widget=poll]').shadowRoot"
                         ".querySelector('[polluted]')") is None
    assert page.evaluate("window.__violations") == []
    assert page.evaluate("window.__errors") == []
    assert console == []
