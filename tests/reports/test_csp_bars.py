"""Poll bars under a strict CSP (no 'unsafe-inline' styles), in Chromium: embed and no-JS page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from service import sites
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.polls import votes
from service.store import get_store
from tests.browser import HostPages, live_service, portal
from tests.conftest import BROWSER, SECRET

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
HOSTILE = '</script><script>window.__pwned=1</script>'


def ballot(app: Flask, option: str, i: int) -> None:
    with app.app_context():
        store = get_store()
        site = sites.get_site(store, "thanhxuan", cached=False)
        votes.vote(store, site, "p1", options=[option],
                   ticket=votes.issue_ticket(SECRET, site, "p1"), token=f"earlier-{i:03d}",
                   ip=f"203.0.113.{i}", secret=SECRET, max_per_ip=20, now=datetime.now(UTC))


@pytest.fixture
def world(app: Flask) -> Iterator[tuple[str, HostPages]]:
    with app.app_context():
        store = get_store()
        site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân"})
        polls.create(store, site, {"id": "p1", "question": "Đáp ứng?", "results": "always",
                                   "options": ["Tốt", "Khá", "Kém"]}, now=datetime.now(UTC))
        polls.set_current(store, site, {"poll": "p1"})
        for i in range(3):  # three earlier ballots for "Tốt"
            ballot(app, "o1", i)
        hotlines.replace(store, site, {"hotlines": [{"label": HOSTILE, "number": "1022"}]})
        host = HostPages()
        with live_service(app) as service:
            yield service, host
        host.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", user_agent=BROWSER)
    pg = context.new_page()
    pg.add_init_script(WATCH)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def proportional(widths: list[float], track: float) -> None:
    """3 : 1 : 0 ballots give 75 % : 25 % : 0 of the track."""
    assert track > 50
    assert widths[0] == pytest.approx(0.75 * track, abs=1.5)
    assert widths[1] == pytest.approx(0.25 * track, abs=1.5)
    assert widths[2] == 0


def test_embed_bars_keep_their_widths_under_a_strict_host_csp(world: Any, page: Page) -> None:
    service, host = world
    csp = (f"default-src 'self'; script-src {service}; connect-src {service}; "
           "style-src 'self'; img-src 'none'")
    page.goto(host.add("/csp", portal(service, widgets=(
        '<div data-pw-widget="poll" data-poll="current"></div><p id="probe">x</p>')),
        {"Content-Security-Policy": csp}))
    # the policy is in force: a style attribute set from script is dropped
    blocked = page.evaluate("""() => { const p = document.getElementById('probe');
        p.setAttribute('style', 'display: none'); return getComputedStyle(p).display; }""")
    assert blocked != "none"
    page.get_by_label("Khá").check()
    page.get_by_role("button", name="Bình chọn").click()
    page.wait_for_function(
        "() => document.querySelector('[data-pw-widget=poll]').shadowRoot.textContent"
        ".includes('25%')")
    measured = page.evaluate("""() => {
        const root = document.querySelector('[data-pw-widget=poll]').shadowRoot;
        return {fills: [...root.querySelectorAll('.bar span')]
                  .map(s => s.getBoundingClientRect().width),
                track: root.querySelector('.bar').getBoundingClientRect().width};
    }""")
    proportional(measured["fills"], measured["track"])
    violations = page.evaluate("window.__violations")
    assert violations == ["style-src-attr inline"]  # only the probe's, none from the widget
    assert page.errors == []  # type: ignore[attr-defined]


def test_no_js_poll_bars_render_under_the_pages_own_csp(world: Any, page: Page,
                                                        app: Flask) -> None:
    service, _ = world
    ballot(app, "o2", 9)  # 3 : 1 : 0
    with app.app_context():  # a closed poll: the page shows its results
        store = get_store()
        polls.update(store, sites.get_site(store, "thanhxuan"), "p1", {"status": "closed"},
                     now=datetime.now(UTC))
    page.goto(f"{service}/widgets/thanhxuan/poll.html?poll=p1")
    measured = page.evaluate("""() => ({
        fills: [...document.querySelectorAll('svg.bar rect.fill')]
                 .map(r => r.getBoundingClientRect().width),
        track: document.querySelector('svg.bar').getBoundingClientRect().width,
        colour: getComputedStyle(document.querySelector('svg.bar rect.fill')).fill})""")
    assert measured["fills"][0] > 0
    assert measured["fills"][0] == pytest.approx(3 * measured["fills"][1], rel=0.02)
    assert measured["fills"][0] == pytest.approx(0.75 * measured["track"], abs=1.5)
    assert measured["fills"][2] == 0
    assert measured["colour"] == "rgb(164, 22, 26)"  # widget.css applied under style-src 'self'
    assert page.evaluate("window.__violations") == []


def test_no_js_hotlines_json_ld_survives_a_hostile_label(world: Any, page: Page) -> None:
    service, _ = world
    page.goto(f"{service}/widgets/thanhxuan/hotlines.html")
    assert page.evaluate("window.__pwned") is None
    ld = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "{}")
    assert ld["contactPoint"][0]["contactType"] == HOSTILE
    assert page.locator("script").count() == 1
    assert page.evaluate("window.__violations") == []
