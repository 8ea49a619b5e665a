"""A hall's opening hours on the working-day calendar: open on working days (make-up working
days included) inside its hours, closed on holidays and weekends."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from backend.deadlines.workcalendar import WorkCalendar
from backend.halls.model import Hall, parse_hours


@lru_cache(maxsize=256)
def _spans(text: str) -> tuple[tuple[time, time], ...]:
    return parse_hours(text)


def is_open(hall: Hall, at: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> bool:
    local = at.astimezone(tz)
    if not calendar.is_working_day(local.date()):
        return False
    t = local.time()
    return any(a <= t < b for a, b in _spans(hall.hours))


def local_at(at: datetime, hhmm: str, tz: ZoneInfo) -> datetime:
    """The instant of local wall time ``hhmm`` on ``at``'s local date."""
    local = at.astimezone(tz)
    t = time.fromisoformat(hhmm)
    return local.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0)
