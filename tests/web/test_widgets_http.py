"""The embed script's delivery and the no-JavaScript widget pages."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskClient

from service import sites
from service.counting import figures
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.sites import Site
from service.store import Store
from widgets import embed_js

EMBED = Path(__file__).parent.parent.parent / "widgets" / "embed.js"
SERVED = embed_js()  # the source with widgets/labels.json inlined


def test_embed_js_is_at_most_6_kb_gzipped() -> None:
    size = len(gzip.compress(SERVED, 9))
    assert size <= 6 * 1024, f"embed.js is {size} bytes gzipped"


def test_embed_js_never_uses_inner_html_or_eval() -> None:
    source = SERVED.decode()
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function",
                      "document.write"):
        assert forbidden not in source


def test_embed_js_headers(client: FlaskClient) -> None:
    response = client.get("/widgets/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert response.data == SERVED
    etag = response.headers["ETag"]
    assert client.get("/widgets/embed.js", headers={"If-None-Match": etag}).status_code == 304


def test_embed_js_is_gzipped_when_asked(client: FlaskClient) -> None:
    response = client.get("/widgets/embed.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == SERVED
    assert "Accept-Encoding" in response.headers["Vary"]


def test_hashed_url_is_immutable_and_matches_sri(client: FlaskClient) -> None:
    manifest = client.get("/widgets/manifest.json").get_json()
    digest = hashlib.sha256(SERVED).hexdigest()[:16]
    assert manifest["url"] == f"/widgets/embed.{digest}.js"  # relative without PW_PUBLIC_URL
    sri = base64.b64encode(hashlib.sha384(SERVED).digest()).decode()
    assert manifest["integrity"] == f"sha384-{sri}"
    response = client.get(f"/widgets/embed.{digest}.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/widgets/embed.0123456789abcdef.js").status_code == 404


def test_counter_page_without_js(client: FlaskClient, store: Store) -> None:
    site, _ = sites.put_site(store, "thanhxuan", {"origins": ["https://thanhxuan.hanoi.gov.vn"],
                                                   "verify_pages": False})
    figures.set_baselines(store, site, {"visits": {"total": 12380046}}, now=datetime.now(UTC))
    response = client.get("/widgets/thanhxuan/counter.html")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tổng số truy cập: <span class=\"n\">12.380.046</span>" in html
    assert "Đang online" in html and 'title="Số người truy cập trong 5 phút qua"' in html
    assert "frame-ancestors https://thanhxuan.hanoi.gov.vn" in \
        response.headers["Content-Security-Policy"]
    english = client.get("/widgets/thanhxuan/counter.html?lang=en").get_data(as_text=True)
    assert "Total visits: <span class=\"n\">12,380,046</span>" in english


def test_hotlines_page_escapes_text(client: FlaskClient, store: Store, site: Site) -> None:
    hotlines.replace(store, site, {"hotlines": [
        {"label": "<script>alert(1)</script>", "number": "024.62933647", "group": "UBND Quận"}]})
    html = client.get("/widgets/thanhxuan/hotlines.html").get_data(as_text=True)
    assert '<a href="tel:+842462933647" target="_top">024.62933647</a>' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_poll_form_votes_without_js(client: FlaskClient, store: Store, site: Site) -> None:
    polls.create(store, site, {"id": "dap-ung", "question": "Đáp ứng?", "options": ["Tốt", "Kém"],
                               "results": "after_vote"}, now=datetime.now(UTC))
    polls.set_current(store, site, {"poll": "dap-ung"})
    form = client.get("/widgets/thanhxuan/poll.html?poll=current")
    html = form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    assert '<input type="radio" name="option" value="o1">' in html
    ticket = re.search(r'name="ticket" value="([^"]+)"', html)
    assert ticket is not None
    voted = client.post("/widgets/thanhxuan/poll.html",
                        data={"poll": "dap-ung", "ticket": ticket.group(1), "option": "o1"})
    assert voted.status_code == 200  # the results are the answer to the voter's own POST
    assert voted.headers["Cache-Control"] == "no-store"
    results = voted.get_data(as_text=True)
    assert "Tốt: 100.0% (1)" in results
    assert "Cảm ơn bạn đã bình chọn." in results
    replay = client.post("/widgets/thanhxuan/poll.html",
                         data={"poll": "dap-ung", "ticket": ticket.group(1), "option": "o1"})
    assert replay.status_code == 409
    assert "Phiếu đã được dùng" in replay.get_data(as_text=True)
    assert store.redis.hget("pw:{thanhxuan}:poll:dap-ung:tally", "_total") == "1"
    # no link shows after_vote results to anyone else (the old receipt parameter is ignored)
    plain = client.get("/widgets/thanhxuan/poll.html?poll=dap-ung&receipt=anything")
    assert "Tốt: 100.0%" not in plain.get_data(as_text=True)


def test_widget_pages_404_for_unknown_sites(client: FlaskClient) -> None:
    assert client.get("/widgets/nosuch/counter.html").status_code == 404
    assert client.get("/widgets/nosuch/poll.html").status_code == 404


def test_demo_page_uses_the_real_snippet(client: FlaskClient) -> None:
    assert client.get("/").status_code == 302
    html = client.get("/demo").get_data(as_text=True)
    assert 'src="/widgets/embed.js" data-site="demo"' in html
    for widget in ("counter", "hotlines", "poll", "views", "top-pages"):
        assert f'data-pw-widget="{widget}"' in html


def test_embed_css_reserves_every_widget_and_is_served_cross_origin(client: FlaskClient) -> None:
    response = client.get("/widgets/embed.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    css = response.get_data(as_text=True)
    for widget in ("counter", "views", "hotlines", "poll", "top-pages", "rating"):
        assert f'[data-pw-widget="{widget}"]' in css
    assert client.get("/widgets/embed.css", headers={
        "If-None-Match": response.headers["ETag"]}).status_code == 304


def test_embed_js_is_served_minified_with_its_header() -> None:
    source = EMBED.read_text()
    assert SERVED.startswith(b"/*! portal-widgets embed.js")
    assert len(SERVED) < len(source.encode())  # comments and blanks out
    assert b"// " not in SERVED


def test_widget_pages_with_nothing_to_show_say_so(client: FlaskClient, site: Site) -> None:
    poll = client.get("/widgets/thanhxuan/poll.html?poll=current")
    assert poll.status_code == 200
    assert "Hiện chưa có cuộc bình chọn nào." in poll.get_data(as_text=True)
    english = client.get("/widgets/thanhxuan/poll.html?poll=current&lang=en")
    assert "There is no poll at the moment." in english.get_data(as_text=True)
    assert client.get("/widgets/thanhxuan/poll.html?poll=no-such").status_code == 404
    box = client.get("/widgets/thanhxuan/hotlines.html").get_data(as_text=True)
    assert "Chưa có số điện thoại nào." in box
