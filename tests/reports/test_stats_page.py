"""The public statistics page /stats/{site}: off by default, server-rendered, strict CSP,
readable without JavaScript, axe clean in Chromium, Vietnamese and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page

from service import sites
from service.counting import figures, visits
from service.polls import rules as polls
from service.sites import Site
from service.store import Store, get_store
from tests.browser import live_service


def _publish(store: Store, *, baseline: bool = True) -> Site:
    site, _ = sites.put_site(store, "thanhxuan", {"name": "Quận Thanh Xuân",
                                                  "public_stats": True})
    now = datetime.now(UTC)
    for day in range(3):
        for i in range(day + 2):
            visits.record_hit(store, site, visitor=f"d{day}-{i}", path=f"/tin-tuc/{i}",
                              title=f"Tin số {i} <b>đậm</b>", now=now - timedelta(days=day))
    if baseline:
        figures.set_baselines(store, site, {"visits": {"total": 12380046}}, now=now)
    polls.create(store, site, {"id": "dap-ung", "question": "Khả năng đáp ứng thông tin?",
                               "options": ["Tốt", "Khá", "Kém"]}, now=now)
    polls.set_current(store, site, {"poll": "dap-ung"})
    return site


def test_it_is_404_unless_the_site_turns_it_on(client: FlaskClient, site: Site) -> None:
    assert site.public_stats is False
    response = client.get("/stats/thanhxuan")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}
    assert client.get("/stats/nope").status_code == 404
    assert client.get("/stats/NOT_AN_ID").status_code == 404


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_public_stats_must_be_a_boolean(client: FlaskClient, store: Store, site: Site,
                                        value: object) -> None:
    with pytest.raises(Exception, match="public_stats must be true or false"):
        sites.put_site(store, "thanhxuan", {"public_stats": value})
    assert sites.get_site(store, "thanhxuan", cached=False).public_stats is False


def test_the_page_is_plain_html_with_charts_tables_and_the_imported_share(
        client: FlaskClient, store: Store) -> None:
    _publish(store)
    response = client.get("/stats/thanhxuan")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "<script" not in html and " style=" not in html and "<style" not in html
    assert html.count('<svg class="bars"') == 2
    assert re.search(r'<rect [^>]*height="150.0"', html)  # the tallest bar (4 visits today)
    assert len(re.findall(r"<tr><th scope=\"row\">", html)) == 30 + 12
    assert "Tổng số truy cập</dt><dd>12.380.055</dd>" in html
    assert ("Trong tổng số 12.380.055 lượt truy cập, 12.380.046 lượt được chuyển từ bộ đếm cũ"
            in html)
    assert "Tin số 0 &lt;b&gt;đậm&lt;/b&gt;" in html  # titles are escaped
    assert "Khả năng đáp ứng thông tin?" in html and "Tốt: <strong>0 phiếu</strong>" in html


def test_english_and_no_imported_line_without_a_baseline(client: FlaskClient,
                                                          store: Store) -> None:
    _publish(store, baseline=False)
    html = client.get("/stats/thanhxuan?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Visits in the last 30 days" in html and "Total visits</dt><dd>9</dd>" in html
    assert "imported" not in html
    assert 'href="?lang=vi"' in html


def test_hidden_poll_results_are_not_shown(client: FlaskClient, store: Store) -> None:
    site = _publish(store)
    polls.create(store, site, {"id": "kin", "question": "Câu hỏi kín?", "options": ["A", "B"],
                               "results": "after_close"}, now=datetime.now(UTC))
    polls.set_current(store, site, {"poll": "kin"})
    html = client.get("/stats/thanhxuan").get_data(as_text=True)
    assert "Câu hỏi kín?" not in html and "Kết quả bình chọn" not in html


@pytest.fixture
def stats_page(app: Flask, browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    with app.app_context():
        _publish(get_store())
        with live_service(app) as base:
            context = browser.new_context(java_script_enabled=True)
            page = context.new_page()
            messages: list[str] = []
            page.on("console", lambda m: messages.append(m.text))
            response = page.goto(f"{base}/stats/thanhxuan")
            assert response is not None and response.status == 200
            yield page, messages
            context.close()


def test_in_chromium_under_its_own_csp_it_is_styled_and_axe_clean(
        stats_page: tuple[Page, list[str]]) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page, messages = stats_page
    header = page.locator("header").evaluate("h => getComputedStyle(h).backgroundColor")
    assert header == "rgb(164, 22, 26)"  # the stylesheet loaded under style-src 'self'
    assert page.locator("svg.bars").count() == 2
    assert page.locator("svg.bars").first.get_attribute("role") == "img"
    results = Axe().run(page)
    violations = [(v["id"], v["impact"]) for v in results.response["violations"]]
    assert violations == []
    page.locator("details summary").first.click()
    assert page.locator("details table").first.is_visible()
    assert [m for m in messages if "Content Security Policy" in m] == []


def test_readable_without_javascript_on_a_phone(app: Flask, browser: Browser) -> None:
    with app.app_context():
        _publish(get_store())
        with live_service(app) as base:
            context = browser.new_context(java_script_enabled=False,
                                          viewport={"width": 360, "height": 740})
            page = context.new_page()
            page.goto(f"{base}/stats/thanhxuan")
            assert "12.380.055" in page.locator(".figures").inner_text()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360
            context.close()


def test_each_period_says_how_much_was_imported_and_how_much_measured(
        client: FlaskClient, store: Store) -> None:
    site = _publish(store, baseline=False)
    figures.set_baselines(store, site, {"visits": {"month": 106288, "total": 12380046}},
                          now=datetime.now(UTC))
    html = client.get("/stats/thanhxuan").get_data(as_text=True)
    month = visits.read_stats(store, site, now=datetime.now(UTC))["visits"]["month"] - 106288
    assert f"106.288 chuyển từ bộ đếm cũ + {month} đo được" in html
    assert "12.380.046 chuyển từ bộ đếm cũ + 9 đo được" in html
    assert html.count('class="split"') == 2  # today, week and year have nothing imported
    assert "Biểu đồ chỉ gồm lượt truy cập đo được" in html
    assert "giờ Việt Nam" in html and "Asia/Ho_Chi_Minh" not in html
    assert html.count('<svg class="hbars"') == 2  # the phone layout of both charts


def test_english_counts_one_view_and_many_views(client: FlaskClient, store: Store) -> None:
    site, _ = sites.put_site(store, "thanhxuan", {"public_stats": True})
    now = datetime.now(UTC)
    visits.record_hit(store, site, visitor="a", path="/mot", title="One", now=now)
    for name in ("b", "c"):
        visits.record_hit(store, site, visitor=name, path="/hai", title="Two", now=now)
    html = client.get("/stats/thanhxuan?lang=en").get_data(as_text=True)
    assert '<span class="views">1 view</span>' in html
    assert '<span class="views">2 views</span>' in html
    assert "Vietnam time" in html
