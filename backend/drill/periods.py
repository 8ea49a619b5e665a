"""Report periods: the day (日报), the ten-day period (旬报: 1–10, 11–20, 21 to the month's end)
and the month (月报), as local dates and as the instants a report covers."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KINDS = ("daily", "dekad", "monthly")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str
    start: date  # first day
    end: date  # the day after the last

    def window(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time(0), tz), datetime.combine(self.end, time(0), tz)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end)

    @property
    def dekad(self) -> int:
        """1, 2 or 3: 上旬, 中旬, 下旬."""
        return min(3, (self.start.day - 1) // 10 + 1)


def period_of(kind: str, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind == "daily":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "dekad":
        first = date(day.year, day.month, min(21, (day.day - 1) // 10 * 10 + 1))
        if first.day == 21:
            last = calendar.monthrange(day.year, day.month)[1]
            return Period(kind, first, date(day.year, day.month, last) + timedelta(days=1))
        return Period(kind, first, first + timedelta(days=10))
    if kind == "monthly":
        first = day.replace(day=1)
        last = calendar.monthrange(day.year, day.month)[1]
        return Period(kind, first, first.replace(day=last) + timedelta(days=1))
    raise ValueError(f"period kind must be one of {', '.join(KINDS)}, not {kind!r}")


def last_complete(kind: str, today: date) -> Period:
    """The latest period of ``kind`` that has ended by ``today`` (yesterday's daily report)."""
    p = period_of(kind, today)
    return p.previous() if p.end > today else p
