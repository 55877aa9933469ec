"""Calendar periods (day, ISO week, month, year) of an instant in a site's timezone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# Time-bucketed keys live this long after their period ends, so late readers still find them.
GRACE_SECONDS = 2 * 86400
# The zone of timestamps that belong to no site (tokens): a site's default zone too.
SERVICE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Periods:
    """Ids and expiry instants of the periods that contain one instant."""

    day: str  # 2026-11-26
    week: str  # 2026-W48 (ISO week: Monday first; week 53 exists)
    month: str  # 2026-11
    year: str  # 2026 (the calendar year of `day`, not the ISO year)
    day_field: str  # 11-26, the day's field prefix in the year's history hash
    yesterday: str  # 2026-11-25
    yesterday_field: str  # 11-25
    expire_day: int
    expire_week: int
    expire_month: int
    expire_year: int

    def ids(self) -> dict[str, str]:
        """Period name -> id, as the imported baselines record them."""
        return {"today": self.day, "week": self.week, "month": self.month, "year": self.year}


def _midnight(day: date, tz: ZoneInfo) -> int:
    """Unix time of the start of a local day (zoneinfo resolves DST gaps)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def periods_of(now: datetime, tz: ZoneInfo) -> Periods:
    """The periods containing `now` (an aware datetime) in `tz`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _periods_of_day(now.astimezone(tz).date(), tz)


@lru_cache(maxsize=1024)
def _periods_of_day(today: date, tz: ZoneInfo) -> Periods:
    # Everything follows from the local date, so every hit of a day shares one computation.
    iso_year, iso_week, iso_weekday = today.isocalendar()
    next_day = today + timedelta(days=1)
    next_week = today + timedelta(days=8 - iso_weekday)
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    next_year = date(today.year + 1, 1, 1)
    return Periods(
        day=today.isoformat(),
        week=f"{iso_year}-W{iso_week:02d}",
        month=f"{today.year}-{today.month:02d}",
        year=str(today.year),
        day_field=f"{today.month:02d}-{today.day:02d}",
        yesterday=(today - timedelta(days=1)).isoformat(),
        yesterday_field=(today - timedelta(days=1)).strftime("%m-%d"),
        expire_day=_midnight(next_day, tz) + GRACE_SECONDS,
        expire_week=_midnight(next_week, tz) + GRACE_SECONDS,
        expire_month=_midnight(next_month, tz) + GRACE_SECONDS,
        expire_year=_midnight(next_year, tz) + GRACE_SECONDS,
    )


def local_iso(now: datetime, tz: ZoneInfo) -> str:
    """`now` in the site's timezone, ISO 8601 to the second."""
    return now.astimezone(tz).replace(microsecond=0).isoformat()


def ms(now: datetime) -> int:
    """Unix time of an aware instant in milliseconds (how scripts and polls store time)."""
    return int(now.timestamp() * 1000)


def shift_month(month: str, n: int) -> str:
    """The month id `n` months after `month` (2026-11, 2 -> 2027-01; negative n goes back)."""
    year, mon = (int(part) for part in month.split("-"))
    index = year * 12 + (mon - 1) + n
    return f"{index // 12}-{index % 12 + 1:02d}"


def month_start(month: str, tz: ZoneInfo) -> int:
    """Unix time of local midnight on the first day of `month` (YYYY-MM)."""
    year, mon = (int(part) for part in month.split("-"))
    return _midnight(date(year, mon, 1), tz)
