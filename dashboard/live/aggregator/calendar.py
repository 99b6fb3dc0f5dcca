"""Local-time periods (day, month, quarter) as epoch-millisecond boundaries.

Every "today", "this month" and "this quarter" is a local one (Asia/Shanghai by
default). The aggregator compares an event's epoch milliseconds with these
boundaries, so the per-event path never builds a datetime.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dashboard.live.aggregator.spec import LOST_CONTACT_DAYS


def local_midnight_ms(day: dt.date, tz: dt.tzinfo) -> int:
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp() * 1000)


def month_number(year: int, month: int) -> int:
    """Months counted from year 0, so consecutive months differ by one."""
    return year * 12 + month - 1


@dataclass(frozen=True, slots=True)
class Periods:
    """The periods that contain one instant, in one time zone."""

    day: dt.date
    day_start_ms: int
    next_day_start_ms: int
    month: int
    month_start_ms: int
    prev_month_start_ms: int
    quarter_start_ms: int
    year: int
    lost_before_ms: int  # activity before this instant is older than the lost-contact window

    @classmethod
    def at(cls, now_ms: int, tz: dt.tzinfo) -> Periods:
        day = dt.datetime.fromtimestamp(now_ms / 1000, tz).date()
        first = day.replace(day=1)
        prev_first = (first - dt.timedelta(days=1)).replace(day=1)
        quarter_first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
        return cls(
            day=day,
            day_start_ms=local_midnight_ms(day, tz),
            next_day_start_ms=local_midnight_ms(day + dt.timedelta(days=1), tz),
            month=month_number(day.year, day.month),
            month_start_ms=local_midnight_ms(first, tz),
            prev_month_start_ms=local_midnight_ms(prev_first, tz),
            quarter_start_ms=local_midnight_ms(quarter_first, tz),
            year=day.year,
            lost_before_ms=local_midnight_ms(day - dt.timedelta(days=LOST_CONTACT_DAYS - 1), tz),
        )


def parse_month(text: object) -> int | None:
    """``"2026-11"`` → its month number; None for anything else."""
    if not isinstance(text, str) or len(text) != 7 or text[4] != "-":
        return None
    year, month = text[:4], text[5:]
    if not (year.isdigit() and month.isdigit()) or not 1 <= int(month) <= 12:
        return None
    return month_number(int(year), int(month))
