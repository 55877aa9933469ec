"""Weekly opening hours of a hotline, in the site's timezone."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.errors import Invalid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")

Hours = dict[str, list[list[str]]]


def validate(value: Any) -> Hours | None:
    """{"mon": [["07:30", "11:30"], ["13:30", "17:00"]], ...}; days left out are closed."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise Invalid("hours must be an object of days (mon..sun) to [start, end] pairs")
    out: Hours = {}
    for day, spans in value.items():
        if day not in DAYS:
            raise Invalid(f"hours: unknown day {str(day)[:10]} (use mon..sun)")
        if not isinstance(spans, list) or len(spans) > 6:
            raise Invalid(f"hours.{day} must be a list of at most 6 [start, end] pairs")
        clean = []
        for span in spans:
            if (not isinstance(span, list) or len(span) != 2
                    or not all(isinstance(t, str) and _TIME_RE.match(t) for t in span)
                    or span[0] >= span[1]):
                raise Invalid(f"hours.{day} needs [\"HH:MM\", \"HH:MM\"] pairs, start before end")
            clean.append([span[0], span[1]])
        out[day] = sorted(clean)
    return {day: out[day] for day in DAYS if day in out}


def open_now(hours: Hours | None, tz: ZoneInfo, now: datetime) -> bool | None:
    """Whether the schedule is open at `now` in `tz`; None without a schedule."""
    if not hours:
        return None
    local = now.astimezone(tz)
    clock = local.strftime("%H:%M")
    spans = hours.get(DAYS[local.weekday()], [])
    return any(start <= clock < end for start, end in spans)
