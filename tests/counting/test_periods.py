"""Calendar periods in the site's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from service.counting.periods import GRACE_SECONDS, periods_of
from tests.conftest import at

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("instant", "day", "week", "month", "year"),
    [
        ("2026-11-26T23:59:59.999+07:00", "2026-11-26", "2026-W48", "2026-11", "2026"),
        ("2026-11-27T00:00:00+07:00", "2026-11-27", "2026-W48", "2026-11", "2026"),
        ("2026-11-29T23:59:59.999+07:00", "2026-11-29", "2026-W48", "2026-11", "2026"),
        ("2026-11-30T00:00:00+07:00", "2026-11-30", "2026-W49", "2026-11", "2026"),
        ("2026-12-31T23:59:59.999+07:00", "2026-12-31", "2026-W53", "2026-12", "2026"),
        ("2027-01-01T00:00:00+07:00", "2027-01-01", "2026-W53", "2027-01", "2027"),
        ("2027-01-04T00:00:00+07:00", "2027-01-04", "2027-W01", "2027-01", "2027"),
        # 16:59:59 UTC is still 23:59:59 in Vietnam
        ("2026-11-26T16:59:59+00:00", "2026-11-26", "2026-W48", "2026-11", "2026"),
        ("2026-11-26T17:00:00+00:00", "2026-11-27", "2026-W48", "2026-11", "2026"),
    ],
)
def test_periods_in_vietnam(instant: str, day: str, week: str, month: str, year: str) -> None:
    p = periods_of(at(instant), VN)
    assert (p.day, p.week, p.month, p.year) == (day, week, month, year)


def test_day_expiry_is_the_next_local_midnight_plus_grace() -> None:
    p = periods_of(at("2026-11-26T10:00:00+07:00"), VN)
    assert p.expire_day == int(at("2026-11-27T00:00:00+07:00").timestamp()) + GRACE_SECONDS
    assert p.expire_week == int(at("2026-11-30T00:00:00+07:00").timestamp()) + GRACE_SECONDS
    assert p.expire_month == int(at("2026-12-01T00:00:00+07:00").timestamp()) + GRACE_SECONDS
    assert p.expire_year == int(at("2027-01-01T00:00:00+07:00").timestamp()) + GRACE_SECONDS


def test_dst_days_have_23_and_25_hours_in_berlin() -> None:
    spring = periods_of(at("2027-03-28T12:00:00+02:00"), BERLIN)
    start = int(datetime(2027, 3, 28, tzinfo=BERLIN).timestamp())
    assert spring.day == "2027-03-28"
    assert spring.expire_day - GRACE_SECONDS - start == 23 * 3600
    autumn = periods_of(at("2027-10-31T12:00:00+01:00"), BERLIN)
    start = int(datetime(2027, 10, 31, tzinfo=BERLIN).timestamp())
    assert autumn.expire_day - GRACE_SECONDS - start == 25 * 3600


def test_berlin_late_evening_after_fallback_is_still_that_day() -> None:
    # 23:30 CET on 31 Oct 2027 is 22:30 UTC
    assert periods_of(at("2027-10-31T22:30:00+00:00"), BERLIN).day == "2027-10-31"
    assert periods_of(at("2027-10-31T23:00:00+00:00"), BERLIN).day == "2027-11-01"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        periods_of(datetime(2026, 1, 1), VN)
