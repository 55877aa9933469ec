"""No-JS widget pages: ContactPoint JSON-LD, CSP-proof poll bars, one label table."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskClient

from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.polls import votes
from service.sites import Site
from service.store import Store
from service.web.widgets import LABELS
from tests.conftest import SECRET
from widgets import PLACEHOLDER, embed_js, labels

ROOT = Path(__file__).parent.parent.parent
HOSTILE = '</script><script>window.__pwned=1</script><!--'
LD_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def cast_votes(store: Store, site: Site, poll_id: str, ballots: list[str]) -> None:
    for i, option in enumerate(ballots):
        votes.vote(store, site, poll_id, options=[option],
                   ticket=votes.issue_ticket(SECRET, site, poll_id), token=f"browser-{i:04d}",
                   ip=f"203.0.113.{i}", secret=SECRET, max_per_ip=20, now=datetime.now(UTC))


def test_hotlines_page_has_contact_point_json_ld(client: FlaskClient, store: Store,
                                                 site: Site) -> None:
    hotlines.replace(store, site, {"hotlines": [
        {"label": "Tiếp công dân", "number": "024.62933647", "group": "UBND Quận"},
        {"label": "Cấp cứu", "number": "115"}]})
    html = client.get("/widgets/thanhxuan/hotlines.html").get_data(as_text=True)
    found = LD_RE.findall(html)
    assert len(found) == 1
    ld = json.loads(found[0])
    assert ld["@context"] == "https://schema.org"
    assert ld["name"] == "Quận Thanh Xuân"
    assert ld["contactPoint"] == [
        {"@type": "ContactPoint", "contactType": "Tiếp công dân", "telephone": "+842462933647",
         "areaServed": "VN", "availableLanguage": "vi"},
        {"@type": "ContactPoint", "contactType": "Cấp cứu", "telephone": "115",
         "areaServed": "VN", "availableLanguage": "vi"}]


def test_a_hostile_label_cannot_break_out_of_the_json_ld(client: FlaskClient, store: Store,
                                                         site: Site) -> None:
    hotlines.replace(store, site, {"hotlines": [{"label": HOSTILE, "number": "1022",
                                                 "note": HOSTILE, "group": HOSTILE}]})
    html = client.get("/widgets/thanhxuan/hotlines.html").get_data(as_text=True)
    assert html.count("</script>") == 1  # only the JSON-LD's own end tag
    assert html.count("<script") == 1
    assert "<!--" not in html
    ld = json.loads(LD_RE.findall(html)[0])
    assert ld["contactPoint"][0]["contactType"] == HOSTILE  # the same text, safely escaped


def test_poll_results_are_svg_bars_without_style_attributes(client: FlaskClient, store: Store,
                                                            site: Site) -> None:
    polls.create(store, site, {"id": "p1", "question": "Đáp ứng?", "options": ["Tốt", "Khá", "Kém"],
                               "results": "always"}, now=datetime.now(UTC))
    cast_votes(store, site, "p1", ["o1", "o1", "o1", "o2"])
    polls.update(store, site, "p1", {"status": "closed"}, now=datetime.now(UTC))  # results
    html = client.get("/widgets/thanhxuan/poll.html?poll=p1").get_data(as_text=True)
    assert "<form" not in html
    widths = re.findall(r'<rect class="fill" width="([0-9.]+)%"', html)
    assert widths == ["75.0", "25.0", "0.0"]
    assert " style=" not in html
    assert store.redis.hget("pw:{thanhxuan}:poll:p1:tally", "_total") == "4"


def test_one_label_table_for_the_script_and_the_pages() -> None:
    table = json.loads((ROOT / "widgets" / "labels.json").read_text("utf-8"))
    assert labels() == table and LABELS == table
    assert set(table) == {"vi", "en"} and set(table["vi"]) == set(table["en"])
    served = embed_js().decode("utf-8")
    assert json.dumps(table, ensure_ascii=False, separators=(",", ":")) in served
    assert PLACEHOLDER.decode() not in served
    # no second copy anywhere: neither the script's source nor the views spell a label
    for source in (ROOT / "widgets" / "embed.js", ROOT / "service" / "web" / "widgets.py"):
        text = source.read_text("utf-8")
        for label in ("Đang online", "Lượt truy cập trong tuần", "Tổng số phiếu",
                      "Visits this week"):
            assert label not in text, (source.name, label)
