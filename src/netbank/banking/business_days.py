"""The bank's business-day calendar (営業日).

Not business days: Saturdays, Sundays, Japanese national holidays (the maintained
``jpholiday`` package, substitute holidays included) and the year-end closure
12/31–1/3. Dates are calendar dates in Japan.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import jpholiday

from netbank import clock

JST = ZoneInfo("Asia/Tokyo")
_YEAR_END_CLOSURE = frozenset({(12, 31), (1, 1), (1, 2), (1, 3)})


def is_business_day(day: date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in _YEAR_END_CLOSURE:
        return False
    return not jpholiday.is_holiday(day)


def next_business_day(day: date) -> date:
    """The first business day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    while not is_business_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def today_jst() -> date:
    return clock.now().astimezone(JST).date()


def jst_date(moment: datetime) -> date:
    return moment.astimezone(JST).date()


def jst_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Japanese calendar day as aware datetimes."""
    start = datetime(day.year, day.month, day.day, tzinfo=JST)
    return start, start + timedelta(days=1)
