"""Report periods: a month (``2026-11``), an ISO week (``2026-W48``) or a range of days
(``2026-11-01..2026-11-30``), in local time, and the period before each."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["month", "week", "range"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
# Longest range of days a report covers: a year (a leap year's days).
MAX_DAYS = 366


class PeriodError(ValueError):
    """A period that cannot be reported; the message says why, in one line, and ``code`` names the
    problem for a page's catalogue (``reports.error.<code>``)."""

    def __init__(self, message: str, code: str = "period") -> None:
        super().__init__(message)
        self.code = code


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Period:
    """Local days ``first`` .. ``last`` (inclusive)."""

    kind: PeriodKind
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first.year:04d}-{self.first.month:02d}"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The month, week or equally long run of days just before."""
        if self.kind == "month":
            last = self.first - dt.timedelta(days=1)
            return Period("month", last.replace(day=1), last)
        length = dt.timedelta(days=self.days)
        return Period(self.kind, self.first - length, self.last - length)

    def start_ms(self, tz: dt.tzinfo) -> int:
        """Local midnight starting the first day, epoch ms."""
        return int(dt.datetime.combine(self.first, dt.time(0), tzinfo=tz).timestamp() * 1000)

    def end_ms(self, tz: dt.tzinfo) -> int:
        """Local midnight after the last day, epoch ms (exclusive)."""
        return int(dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0), tzinfo=tz).timestamp() * 1000)

    def day_list(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]


def parse_period(text: str) -> Period:
    """``2026-11`` | ``2026-W48`` | ``2026-11-01..2026-11-30``; PeriodError for anything else."""
    text = text.strip()
    try:
        if m := _MONTH.match(text):
            first = dt.date(int(m[1]), int(m[2]), 1)
            return Period("month", first, _first_of_next_month(first) - dt.timedelta(days=1))
        if m := _WEEK.match(text):
            first = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period("week", first, first + dt.timedelta(days=6))
        if m := _RANGE.match(text):
            first, last = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
        else:
            raise PeriodError(f"period {text!r}: expected YYYY-MM, YYYY-Www or YYYY-MM-DD..YYYY-MM-DD")
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"period {text!r}: {exc}") from None
    if last < first:
        raise PeriodError(f"period {text!r} is reversed: it ends before it starts", "reversed")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"period {text!r} is longer than {MAX_DAYS} days", "too_long")
    return Period("range", first, last)


def check_reportable(period: Period, tz: dt.tzinfo, now_ms: int, history: tuple[int, int] | None) -> None:
    """A report needs a period that has begun and that lies within the stored history."""
    if period.start_ms(tz) > now_ms:
        raise PeriodError(f"period {period.label} is in the future", "future")
    if history is None:
        raise PeriodError("the store holds no events yet: there is no history to report on", "history")
    earliest = dt.datetime.fromtimestamp(history[0] / 1000, tz).date()
    if period.first < earliest:
        raise PeriodError(f"period {period.label} reaches before the history kept, which starts on {earliest.isoformat()}",
                          "history")
