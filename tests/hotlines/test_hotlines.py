"""Hotlines: normalisation, order, partial updates, limits, schedules, clicks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.errors import Conflict, Invalid, NotFound
from service.hotlines import rules as hotlines
from service.sites import Site
from service.store import Store
from tests.conftest import at, metric
from tests.redis_proc import RedisProcess

SEED = [
    {"label": "Tiếp công dân", "number": "024.62933647", "group": "UBND Quận"},
    {"label": "Giải quyết TTHC", "number": "024.38585652", "group": "UBND Quận"},
    {"label": "An toàn thực phẩm", "number": "0868216873", "group": "UBND Quận"},
]
OFFICE = {d: [["07:30", "11:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("number", "tel"),
    [
        ("024.62933647", "+842462933647"),  # Hà Nội landline as portals write it
        ("024 3858 5652", "+842438585652"),
        ("0868216873", "+84868216873"),  # mobile
        ("+84 868 216 873", "+84868216873"),  # already international
        ("(028) 3829 6052", "+842838296052"),  # HCMC landline
        ("113", "113"),  # police
        ("1022", "1022"),  # city citizen hotline
        ("1800 1091", "18001091"),  # toll free: dialled nationally
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_numbers_are_normalised(number: str, tel: str) -> None:
    assert hotlines.tel_of(number) == tel


@pytest.mark.parametrize("number", ["abc", "0123", "024.123", "99999999999999", "12", "+84 1"])
def test_garbage_numbers_are_refused(number: str) -> None:
    with pytest.raises(Invalid, match="number"):
        hotlines.tel_of(number)


def test_replace_keeps_order_and_derives_ids(store: Store, site: Site) -> None:
    doc = hotlines.replace(store, site, {"hotlines": SEED})
    assert [h["id"] for h in doc["hotlines"]] == ["tiep-cong-dan", "giai-quyet-tthc",
                                                  "an-toan-thuc-pham"]
    assert doc["title"] == "Đường dây nóng"
    assert [h["number"] for h in doc["hotlines"]] == ["024.62933647", "024.38585652", "0868216873"]
    reordered = hotlines.replace(store, site, {"hotlines": list(reversed(doc["hotlines"]))})
    assert reordered["hotlines"][0]["id"] == "an-toan-thuc-pham"


def test_patch_changes_only_the_named_fields(store: Store, site: Site) -> None:
    hotlines.replace(store, site, {"hotlines": SEED})
    changed = hotlines.patch(store, site, "tiep-cong-dan", {"note": "Thứ 2 - Thứ 6"})
    assert changed["number"] == "024.62933647"
    assert changed["note"] == "Thứ 2 - Thứ 6"
    assert changed["group"] == "UBND Quận"
    changed = hotlines.patch(store, site, "tiep-cong-dan", {"number": "0243 555 1234"})
    assert changed["tel"] == "+842435551234"
    assert changed["note"] == "Thứ 2 - Thứ 6"
    with pytest.raises(NotFound):
        hotlines.patch(store, site, "nope", {"note": "x"})
    with pytest.raises(Conflict):
        hotlines.patch(store, site, "tiep-cong-dan", {"id": "giai-quyet-tthc"})


def _stored(store: Store, site: Site) -> Any:
    return store.redis.get(store.keys.hotlines(site.id))


@pytest.mark.parametrize(
    "bad",
    [
        {"label": "x" * 101, "number": "113"},
        {"label": "A", "number": "113", "note": "n" * 301},
        {"label": "", "number": "113"},
        {"label": "A"},
        {"label": "A", "number": "not a number"},
        {"label": "A", "number": "113", "id": "Có Dấu"},
        {"label": "A", "number": "113", "hours": {"monday": [["07:00", "08:00"]]}},
        {"label": "A", "number": "113", "hours": {"mon": [["08:00", "07:00"]]}},
        {"label": "A", "number": "113", "hours": {"mon": [["7:00", "08:00"]]}},
        {"label": "A", "number": "113", "colour": "red"},
        {"label": ["A"], "number": "113"},
    ],
)
def test_a_refused_hotline_changes_nothing(store: Store, site: Site, bad: dict[str, Any]) -> None:
    hotlines.replace(store, site, {"hotlines": SEED})
    before = _stored(store, site)
    with pytest.raises(Invalid):
        hotlines.add(store, site, bad)
    with pytest.raises(Invalid):
        hotlines.replace(store, site, {"hotlines": [*SEED, bad]})
    assert _stored(store, site) == before


def test_at_most_50_hotlines(store: Store, site: Site) -> None:
    many = [{"label": f"Số {i}", "number": "113"} for i in range(50)]
    hotlines.replace(store, site, {"hotlines": many})
    with pytest.raises(Invalid, match="at most 50"):
        hotlines.add(store, site, {"label": "one more", "number": "114"})
    with pytest.raises(Invalid, match="at most 50"):
        hotlines.replace(store, site, {"hotlines": [*many, {"label": "x", "number": "115"}]})
    assert len(hotlines.get(store, site)["hotlines"]) == 50


def test_duplicate_ids_are_a_conflict(store: Store, site: Site) -> None:
    hotlines.add(store, site, {"id": "cong-an", "label": "Công an", "number": "113"})
    with pytest.raises(Conflict):
        hotlines.add(store, site, {"id": "cong-an", "label": "Khác", "number": "114"})
    same_label = hotlines.add(store, site, {"label": "Công an", "number": "113"})
    assert same_label["id"] == "cong-an-2"


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-11-26T07:29:59+07:00", False),  # Thursday, before opening
        ("2026-11-26T07:30:00+07:00", True),
        ("2026-11-26T11:29:59+07:00", True),
        ("2026-11-26T11:30:00+07:00", False),  # lunch
        ("2026-11-26T13:30:00+07:00", True),
        ("2026-11-26T16:59:59+07:00", True),
        ("2026-11-26T17:00:00+07:00", False),
        ("2026-11-28T09:00:00+07:00", False),  # Saturday
        ("2026-11-26T01:00:00+00:00", True),  # 08:00 in Vietnam
    ],
)
def test_open_now_at_schedule_edges(store: Store, site: Site, instant: str,
                                    expected: bool) -> None:
    hotlines.replace(store, site, {"hotlines": [{**SEED[0], "hours": OFFICE}, SEED[1]]})
    box = hotlines.public(store, site, at(instant))
    assert box["hotlines"][0]["open_now"] is expected
    assert box["hotlines"][1]["open_now"] is None


def test_public_box_over_http(client: FlaskClient, store: Store, site: Site) -> None:
    hotlines.replace(store, site, {"title": "ĐƯỜNG DÂY NÓNG", "hotlines": SEED})
    response = client.get("/api/v1/sites/thanhxuan/hotlines")
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "ĐƯỜNG DÂY NÓNG"
    first = body["hotlines"][0]
    assert first == {"id": "tiep-cong-dan", "label": "Tiếp công dân", "number": "024.62933647",
                     "group": "UBND Quận", "note": None, "hours": None,
                     "tel": "+842462933647", "open_now": None}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    again = client.get("/api/v1/sites/thanhxuan/hotlines",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_site_without_hotlines_has_an_empty_box(client: FlaskClient, site: Site) -> None:
    body = client.get("/api/v1/sites/thanhxuan/hotlines").get_json()
    assert body == {"title": "Đường dây nóng", "site_name": "Quận Thanh Xuân", "hotlines": []}


def test_clicks_are_counted_per_hotline(client: FlaskClient, store: Store, site: Site,
                                        redis_server: RedisProcess) -> None:
    hotlines.replace(store, site, {"hotlines": SEED})
    before = metric(client, "pw_hotline_clicks_total", site="thanhxuan")
    for _ in range(3):
        assert client.post("/api/v1/sites/thanhxuan/hotlines/tiep-cong-dan/clicks"
                           ).status_code == 204
    assert client.post("/api/v1/sites/thanhxuan/hotlines/nope/clicks").status_code == 404
    view = hotlines.admin_view(store, site)
    assert [h["clicks"] for h in view["hotlines"]] == [3, 0, 0]
    with redis_server.client() as r:
        assert r.hgetall("pw:{thanhxuan}:hotline-clicks") == {"tiep-cong-dan": "3"}
    assert metric(client, "pw_hotline_clicks_total", site="thanhxuan") == before + 3


def test_text_is_stored_raw_for_the_renderer_to_escape(store: Store, site: Site) -> None:
    label = '<img src=x onerror="alert(1)">'
    hotlines.add(store, site, {"label": label, "number": "113"})
    stored = json.loads(_stored(store, site))
    assert stored["hotlines"][0]["label"] == label
