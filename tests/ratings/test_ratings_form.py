"""The rating without JavaScript: /widgets/{site}/rating.html, over HTTP and in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page

from service import sites
from service.sites import Site
from service.store import Store, get_store
from service.store.pages import page_id
from tests.browser import live_service
from tests.conftest import post_hit

FORM = "/widgets/thanhxuan/rating.html"
PAGE = "/tin-tuc/le-hoi"
PID = page_id(PAGE)


@pytest.fixture
def tracked(client: FlaskClient, site: Site) -> str:
    assert post_hit(client, path=PAGE, title="Lễ hội").status_code == 200
    return PAGE


def counts(store: Store) -> dict[str, str]:
    found: dict[str, str] = store.redis.hgetall("pw:{thanhxuan}:rt:all")
    return found


def _ticket(html: str) -> str:
    found = re.search(r'name="ticket" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_form_page_has_the_widget_headers(client: FlaskClient, tracked: str) -> None:
    response = client.get(FORM, query_string={"path": PAGE})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "frame-ancestors *" in csp
    assert "script-src" not in csp and "<script" not in html and " style=" not in html
    assert "Thông tin này có hữu ích với bạn không?" in html
    assert '<h1 id="q">Thông tin này có hữu ích với bạn không?</h1>' in html
    assert '<button type="submit" name="useful" value="yes">Có</button>' in html
    assert '<button type="submit" name="useful" value="no">Không</button>' in html


def test_no_then_reasons_then_thanks(client: FlaskClient, store: Store, tracked: str) -> None:
    first = client.get(FORM, query_string={"path": PAGE}).get_data(as_text=True)
    step = client.post(FORM, query_string={"path": PAGE},
                       data={"path": PAGE, "ticket": _ticket(first), "useful": "no"})
    html = step.get_data(as_text=True)
    assert step.status_code == 200
    assert counts(store) == {}  # nothing is recorded before the reasons are sent
    for label in ("Thiếu thông tin", "Khó hiểu", "Không chính xác", "Đã lỗi thời", "Khác"):
        assert f"> {label}</label>" in html
    sent = client.post(FORM, query_string={"path": PAGE}, data={
        "path": PAGE, "ticket": _ticket(html), "useful": "no", "send": "1",
        "reason": ["cu", "sai"]})
    assert sent.status_code == 303
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Cảm ơn bạn đã đánh giá." in thanks and "<form" not in thanks
    assert counts(store) == {"n": "1", "r:cu": "1", "r:sai": "1", f"{PID}:n": "1",
                             f"{PID}:r:cu": "1", f"{PID}:r:sai": "1"}


def test_a_resent_form_counts_once(client: FlaskClient, store: Store, tracked: str) -> None:
    first = client.get(FORM, query_string={"path": PAGE}).get_data(as_text=True)
    form = {"path": PAGE, "ticket": _ticket(first), "useful": "yes"}
    assert client.post(FORM, query_string={"path": PAGE}, data=form).status_code == 303
    again = client.post(FORM, query_string={"path": PAGE}, data=form)
    assert again.status_code == 409
    assert "Bạn đã đánh giá trang này." in again.get_data(as_text=True)
    assert counts(store)["u"] == "1"


@pytest.mark.parametrize(("form", "status", "text"), [
    ({"useful": "maybe"}, 400, "Hãy chọn Có hoặc Không."),
    ({"useful": "no", "send": "1", "reason": ["nope"]}, 400, "Lý do không hợp lệ."),
    ({"useful": "yes", "ticket": "forged"}, 400, "Phiếu không hợp lệ, vui lòng đánh giá lại."),
])
def test_bad_form_ratings_show_the_form_again(client: FlaskClient, store: Store,
                                              tracked: str, form: dict[str, Any],
                                              status: int, text: str) -> None:
    first = client.get(FORM, query_string={"path": PAGE}).get_data(as_text=True)
    response = client.post(FORM, query_string={"path": PAGE},
                           data={"path": PAGE, "ticket": _ticket(first), **form})
    assert response.status_code == status
    assert text in response.get_data(as_text=True)
    assert counts(store) == {}


def test_an_untracked_page_or_a_missing_path_is_refused(client: FlaskClient, site: Site) -> None:
    assert client.get(FORM).status_code == 400
    first = client.get(FORM, query_string={"path": "/moi"}).get_data(as_text=True)
    response = client.post(FORM, query_string={"path": "/moi"},
                           data={"path": "/moi", "ticket": _ticket(first), "useful": "yes"})
    assert response.status_code == 404


@pytest.fixture
def served(app: Flask, browser: Browser) -> Iterator[tuple[str, Any]]:
    with app.app_context():
        store = get_store()
        # origins set: the form posts from the service's own origin, which is always allowed
        sites.put_site(store, "thanhxuan", {"origins": ["https://thanhxuan.example"],
                                           "verify_pages": False})
        client = app.test_client()
        assert post_hit(client, path=PAGE, title="Lễ hội",
                        headers={"Origin": "https://thanhxuan.example"}).status_code == 200
        with live_service(app) as base:
            context = browser.new_context(java_script_enabled=False)
            yield base, context
            context.close()


def _axe(page: Page) -> list[tuple[str, str]]:
    from axe_playwright_python.sync_playwright import Axe

    # axe runs as a script of its own; the page itself has JavaScript off by its CSP
    results = Axe().run(page)
    return [(v["id"], v["impact"]) for v in results.response["violations"]]


def test_in_chromium_no_with_reasons_then_thanks_axe_clean(app: Flask, browser: Browser,
                                                          served: tuple[str, Any]) -> None:
    base, _ = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}{FORM}?path={PAGE}")
    assert page.get_by_role("group", name="Thông tin này có hữu ích với bạn không?").is_visible()
    assert _axe(page) == []
    page.get_by_role("button", name="Không").click()
    page.get_by_role("checkbox", name="Khó hiểu").check()
    page.get_by_role("checkbox", name="Đã lỗi thời").check()
    assert _axe(page) == []
    page.get_by_role("button", name="Gửi đánh giá").click()
    assert page.get_by_role("status").inner_text() == "Cảm ơn bạn đã đánh giá."
    assert _axe(page) == []
    with app.app_context():
        found = counts(get_store())
    assert found["n"] == "1" and found["r:kho-hieu"] == "1" and found["r:cu"] == "1"
    context.close()


def test_in_chromium_yes_in_english_by_keyboard(app: Flask, browser: Browser,
                                                served: tuple[str, Any]) -> None:
    base, context = served
    page = context.new_page()
    page.goto(f"{base}{FORM}?path={PAGE}&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("group", name="Was this information useful?").is_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Yes" is the first control
    assert page.get_by_role("status").inner_text() == "Thank you for your feedback."
    assert "lang=en" in page.url
    with app.app_context():
        assert counts(get_store())["u"] == "1"


def test_the_privacy_page_says_what_ratings_keep(client: FlaskClient) -> None:
    html = client.get("/privacy").get_data(as_text=True)
    assert "Đánh giá thông tin" in html and "Ratings of information" in html
    for words in ("trong 90 ngày rồi xoá", "kept for 90 days", "Nghị định 224/2026/NĐ-CP",
                  "No IP address, browser token or visitor id is kept with a rating"):
        assert words in html


def test_the_no_js_poll_form_posts_from_the_services_own_origin(client: FlaskClient,
                                                                 store: Store) -> None:
    from service.polls import rules as polls

    site, _ = sites.put_site(store, "thanhxuan", {"origins": ["https://thanhxuan.example"],
                                                  "verify_pages": False})
    polls.create(store, site, {"id": "p1", "question": "Q?", "options": ["A", "B"]},
                 now=datetime.now(UTC))
    html = client.get("/widgets/thanhxuan/poll.html?poll=p1").get_data(as_text=True)
    form = {"poll": "p1", "option": "o1", "ticket": _ticket(html)}
    refused = client.post("/widgets/thanhxuan/poll.html?poll=p1", data=form,
                          headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    sent = client.post("/widgets/thanhxuan/poll.html?poll=p1", data=form,
                       headers={"Origin": "http://localhost"})
    assert sent.status_code == 200  # the results are the answer to the voter's own POST
    assert store.redis.hget("pw:{thanhxuan}:poll:p1:tally", "_total") == "1"
