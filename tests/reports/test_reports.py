"""Reports: the workbook read back cell by cell with openpyxl, CSV, periods, retention."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from service import sites, tokens
from service.counting import figures, visits
from service.counting.sources import Source
from service.errors import TooMany
from service.pages import rules as pages
from service.polls import rules as polls
from service.reports import build as reports
from service.reports import gate as report_gate
from service.reports import workbook
from service.sites import Site
from service.store import Store
from service.store.keys import Keys
from service.store.pages import page_id
from tests.conftest import at

SHEETS = ["Tổng hợp", "Theo ngày", "Trang xem nhiều", "Nguồn truy cập", "Bình chọn",
          "Đánh giá thông tin"]


@pytest.fixture
def token(store: Store) -> str:
    return tokens.create(store, "editor", ["thanhxuan"], now=datetime.now(UTC))


def _hits(store: Store, site: Site, day: str, n: int, *, path: str = "/tin-tuc/a",
          title: str = "Tin A", source: Source | None = None, prefix: str = "") -> None:
    now = at(f"{day}T10:00:00+07:00")
    for i in range(n):
        visits.record_hit(store, site, visitor=f"{prefix}{day}-{path}-{i}", path=path,
                          title=title, now=now + timedelta(seconds=6 * i),
                          source=source or Source("direct"))


def _october(store: Store, site: Site) -> None:
    """October 2026: 3 visits on the 1st, 2 on the 31st; September: 4 visits. (Hits 6 s
    apart: a hit reuses uniques counted up to 5 s earlier for the day's history.)"""
    _hits(store, site, "2026-10-01", 2, source=Source("search", "coccoc.com"))
    _hits(store, site, "2026-10-01", 1, path="/tin-tuc/b", title="Tin B",
          source=Source("social", "zalo.me"))
    _hits(store, site, "2026-10-31", 2, path="/tin-tuc/b", title="Tin B",
          source=Source("gov", "dichvucong.gov.vn"))
    _hits(store, site, "2026-09-15", 4, path="/tin-tuc/c", title="Tin C")


def test_the_month_workbook_reads_back_cell_by_cell(store: Store, site: Site) -> None:
    _october(store, site)
    polls.create(store, site, {"id": "dap-ung", "question": "Khả năng đáp ứng?",
                               "options": ["Tốt", "Kém"]}, now=at("2026-09-01T00:00:00+07:00"))
    with store.guard("test"):
        store.redis.hset(Keys().poll_tally("thanhxuan", "dap-ung"),
                         mapping={"o1": 3, "o2": 1, "_total": 4})
    polls.create(store, site, {"id": "sau", "question": "Mở sau kỳ?", "options": ["A", "B"]},
                 now=at("2026-11-05T00:00:00+07:00"))
    now = at("2026-11-10T09:00:00+07:00")
    figures.set_baselines(store, site, {"visits": {"total": 1000}}, now=now)
    period = reports.period_from("2026-10", None, today=date(2026, 11, 10))
    data = workbook.render(reports.site_report(store, site, period, now=now))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.column_dimensions["A"].width >= 8, sheet.title

    summary = book["Tổng hợp"]
    assert [c.value for c in summary[1]] == ["Chỉ số", "Tháng 10/2026", "Tháng 9/2026",
                                             "Thay đổi"]
    assert [c.value for c in summary[2]] == ["Lượt truy cập (đo được)", 5, 4, 0.25]
    assert [c.value for c in summary[3]][:3] == ["Lượt truy cập chuyển từ bộ đếm cũ", 0, 0]
    assert [c.value for c in summary[5]][:3] == ["Lượt xem trang (đo được)", 5, 4]
    assert summary["A8"].value.startswith("Khách") and summary["B8"].value == 5
    assert summary["B2"].data_type == "n" and summary["D2"].number_format == "0.0%"
    values = {row[0].value: row[1].value for row in summary.iter_rows(min_row=10)}
    assert values["Cổng"] == "Quận Thanh Xuân"
    assert values["Từ ngày"] == datetime(2026, 10, 1)
    assert values["Số liệu đến hết ngày"] == datetime(2026, 10, 31)
    assert summary["B14"].is_date and summary["B14"].number_format == "dd/mm/yyyy"
    assert values["Tổng số truy cập từ trước đến nay"] == 1009
    assert values["Trong đó chuyển từ bộ đếm cũ"] == 1000

    days = book["Theo ngày"]
    assert [c.value for c in days[1]] == ["Ngày", "Lượt truy cập", "Lượt xem trang", "Khách"]
    assert days.max_row == 1 + 31
    assert days["A2"].is_date and days["A2"].value == datetime(2026, 10, 1)
    assert days["A2"].number_format == "dd/mm/yyyy"
    assert [c.value for c in days[2]][1:] == [3, 3, 3]
    assert [c.value for c in days[3]][1:] == [0, 0, 0]
    assert days["A32"].value == datetime(2026, 10, 31) and days["B32"].value == 2

    pages = book["Trang xem nhiều"]
    assert [c.value for c in pages[1]] == ["Hạng", "Đường dẫn", "Tiêu đề", "Lượt xem"]
    assert [c.value for c in pages[2]] == [1, "/tin-tuc/b", "Tin B", 3]
    assert [c.value for c in pages[3]] == [1 + 1, "/tin-tuc/a", "Tin A", 2]
    assert pages.max_row == 3  # September's page is not October's

    src = book["Nguồn truy cập"]
    rows = [[c.value for c in row] for row in src.iter_rows(min_row=2, max_row=7)]
    assert rows == [["Truy cập trực tiếp", 0, 0], ["Công cụ tìm kiếm", 2, 0.4],
                    ["Mạng xã hội", 1, 0.2],
                    ["Cổng, trang cơ quan nhà nước (.gov.vn)", 2, 0.4],
                    ["Trang web khác", 0, 0], ["Cộng", 5, 1]]
    hosts = [[c.value for c in row][:2] for row in src.iter_rows(min_row=10)]
    assert hosts == [["coccoc.com", 2], ["dichvucong.gov.vn", 2], ["zalo.me", 1]]

    poll_rows = [[c.value for c in row] for row in book["Bình chọn"].iter_rows(min_row=2)]
    assert poll_rows == [["Khả năng đáp ứng?", "Đang mở", "Tốt", 3, 0.75],
                         ["Khả năng đáp ứng?", "Đang mở", "Kém", 1, 0.25],
                         ["Khả năng đáp ứng?", None, "Tổng số phiếu", 4, None]]


def test_the_route_answers_a_named_workbook_or_csv(client: FlaskClient, store: Store,
                                                   site: Site, token: str) -> None:
    today = datetime.now(site.tz).date()
    visits.record_hit(store, site, visitor="x", path="/", title="", now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    month = today.strftime("%Y-%m")
    response = client.get(f"/api/v1/admin/sites/thanhxuan/report?month={month}",
                          headers=headers)
    assert response.status_code == 200
    assert response.mimetype == workbook.MIMETYPE
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="bao-cao-thanhxuan-{month}.xlsx"'
    book = load_workbook(io.BytesIO(response.data))
    assert book["Theo ngày"].max_row == 1 + today.day
    assert book["Tổng hợp"]["B2"].value == 1

    response = client.get(f"/api/v1/admin/sites/thanhxuan/report?year={today.year}",
                          headers={**headers, "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="bao-cao-thanhxuan-{today.year}.csv"'
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads the diacritics
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == today.timetuple().tm_yday
    assert rows[-1] == {"Ngày": today.isoformat(), "Lượt truy cập": "1",
                        "Lượt xem trang": "1", "Khách (ước tính)": "1"}


@pytest.mark.parametrize("query", ["month=2026-13", "month=26-11", "month=2026-1",
                                   "year=20261", "year=abcd", "month=2026-11&year=2026",
                                   "year=1999", "month=2999-01"])
def test_a_bad_period_is_400_and_says_why(client: FlaskClient, site: Site, token: str,
                                          query: str) -> None:
    response = client.get(f"/api/v1/admin/sites/thanhxuan/report?{query}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["error"] in ("month must be YYYY-MM", "year must be YYYY",
                                            "give month or year, not both",
                                            "the period has not begun")


def test_a_past_years_top_pages_are_summed_from_its_kept_months(store: Store,
                                                                site: Site) -> None:
    _october(store, site)
    # 2027-02-10: 2026's year list has expired (end of year + 2 days); its months are kept
    with store.guard("test"):
        store.redis.delete(Keys().rank("thanhxuan", "2026"))
    now = at("2027-02-10T09:00:00+07:00")
    period = reports.period_from(None, "2026", today=date(2027, 2, 10))
    report = reports.site_report(store, site, period, now=now)
    assert [(p["path"], p["views"]) for p in report.top_pages] == [
        ("/tin-tuc/c", 4), ("/tin-tuc/b", 3), ("/tin-tuc/a", 2)]
    assert len(report.days) == 365
    assert report.measured["visits"] == {"current": 9, "previous": 0}


def test_a_months_top_pages_are_kept_13_months_and_trimmed_when_it_ends(
        store: Store, site: Site) -> None:
    site, _ = sites.put_site(store, "thanhxuan", {"pageview_dedupe_seconds": 0})
    for i in range(1003):
        visits.record_hit(store, site, visitor="v", path=f"/p{i}", title="",
                          now=at("2026-10-15T10:00:00+07:00"), address=f"a{i}")
    visits.record_hit(store, site, visitor="v", path="/p0", title="",
                      now=at("2026-10-15T10:00:01+07:00"))
    october = Keys().rank("thanhxuan", "2026-10")
    with store.guard("test"):
        assert store.redis.zcard(october) == 1003
        ttl_days = store.redis.ttl(october) / 86400
    # the month ends 2026-11-01 local; kept 397 days after it (and the 2-day grace)
    assert 412 < ttl_days < 416
    visits.record_hit(store, site, visitor="w", path="/new", title="",
                      now=at("2026-11-01T00:00:01+07:00"))
    with store.guard("test"):
        assert store.redis.zcard(october) == 1000
        assert store.redis.zscore(october, page_id("/p0")) == 2  # the most viewed stays
    top = pages.top_of(store, site, "2026-10", 1)
    assert top == [{"path": "/p0", "title": None, "views": 2}]


def test_the_group_report_sums_sites_and_adds_one_row_per_site(store: Store,
                                                               site: Site) -> None:
    other, _ = sites.put_site(store, "caugiay", {"name": "Quận Cầu Giấy"})
    _october(store, site)
    _hits(store, other, "2026-10-01", 7, path="/tin-tuc/a", title="Tin A (CG)",
          source=Source("social", "facebook.com"))
    now = at("2026-11-10T09:00:00+07:00")
    period = reports.period_from("2026-10", None, today=date(2026, 11, 10))
    report = reports.group_report(store, "hanoi", "Hà Nội", [site, other], period, now=now)
    book = load_workbook(io.BytesIO(workbook.render(report)))
    assert book.sheetnames == [*SHEETS, "Theo cổng"]
    assert book["Tổng hợp"]["B2"].value == 12
    assert [c.value for c in book["Theo ngày"][2]][1:] == [10, 10, 10]
    assert [c.value for c in book["Trang xem nhiều"][2]] == [1, "Quận Cầu Giấy", "/tin-tuc/a",
                                                             "Tin A (CG)", 7]
    assert book["Nguồn truy cập"]["B4"].value == 8  # social: 1 + 7
    by_site = [[c.value for c in row] for row in book["Theo cổng"].iter_rows(min_row=1)]
    assert by_site == [["Hạng", "Cổng", "Mã", "Lượt truy cập", "Lượt xem trang", "Khách",
                        "Lượt đánh giá", "Tỉ lệ hữu ích"],
                       [1, "Quận Cầu Giấy", "caugiay", 7, 7, 7, 0, None],
                       [2, "Quận Thanh Xuân", "thanhxuan", 5, 5, 5, 0, None]]
    assert book["Theo cổng"].freeze_panes == "A2"


def test_a_report_of_an_ended_period_is_built_once_and_kept(
        client: FlaskClient, store: Store, site: Site, token: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real = reports.site_report

    def counting(*args: Any, **kwargs: Any) -> reports.Report:
        built.append(args[2].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "site_report", counting)
    headers = {"Authorization": f"Bearer {token}"}
    today = datetime.now(site.tz).date()
    last_year, this_month = str(today.year - 1), today.strftime("%Y-%m")
    answers = [client.get(f"/api/v1/admin/sites/thanhxuan/report?{query}", headers=headers)
               for query in (f"year={last_year}", f"year={last_year}", f"month={this_month}",
                             f"month={this_month}")]
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[0].data == answers[1].data
    assert built == [last_year, this_month, this_month]  # the running month: built each time
    # an admin's change to the site drops what was kept about it
    client.put("/api/v1/admin/sites/thanhxuan", json={"name": "Tên mới"}, headers=headers)
    client.get(f"/api/v1/admin/sites/thanhxuan/report?year={last_year}", headers=headers)
    assert built[-1] == last_year and len(built) == 4


def test_one_report_at_a_time_the_next_waits_then_gets_429(client: FlaskClient, site: Site,
                                                          token: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(report_gate, "WAIT_SECONDS", 0.2)
    headers = {"Authorization": f"Bearer {token}"}
    month = datetime.now(site.tz).date().strftime("%Y-%m")
    with report_gate.one_at_a_time():  # another request is building one
        response = client.get(f"/api/v1/admin/sites/thanhxuan/report?month={month}",
                              headers=headers)
    assert response.status_code == 429
    assert response.get_json() == {"error": "another report is being built; try again later"}
    assert response.headers["Retry-After"] == "30"
    assert client.get(f"/api/v1/admin/sites/thanhxuan/report?month={month}",
                      headers=headers).status_code == 200


def test_only_a_few_requests_wait_for_the_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiting request holds a worker thread: past MAX_WAITING they are refused at once."""
    monkeypatch.setattr(report_gate, "_waiting", report_gate.MAX_WAITING)
    with pytest.raises(TooMany) as refused:
        with report_gate.one_at_a_time(wait=30):
            pass
    assert refused.value.headers == {"Retry-After": "30"}
