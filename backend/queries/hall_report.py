"""Attendance and discipline per hall and period, for the leader (DESIGN.md "For the leader"):

- ``open_minutes``: window-minutes the hall was open (its hours on working days) × windows,
  from the hall's first event on (before its hall system reported, nothing is known);
- ``staffed_minutes`` / ``vacant_minutes``: of those, with someone at the window or not
  (read from the attendance events, minute by minute; a break counts as vacant);
- ``on_post_rate`` = staffed_minutes ÷ open_minutes;
- ``alerts`` and ``alerts_by_rule``: alerts opened in the period; ``acknowledged``, the
  ``median_answer_minutes`` from opening to acknowledgement, and those never answered;
- ``ratings`` (好差评) by value and ``good_rate`` = (very satisfied + satisfied) ÷ ratings.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from backend.deadlines.workcalendar import WorkCalendar
from backend.halls.model import Hall, HallData, parse_hours
from backend.queries.halls import hall_codes
from backend.queries.scope import Scope
from backend.store.models import hall_alerts, hall_events

STAFF_TYPES = ("staff_arrived", "staff_left")
GOOD = ("very_satisfied", "satisfied")


def hall_figures(
    conn: Connection,
    data: HallData,
    start: datetime,
    end: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    *,
    scope: Scope,
) -> dict[str, dict[str, Any]]:
    """The figures of every hall in scope over ``[start, end)``, keyed by hall code."""
    out: dict[str, dict[str, Any]] = {}
    for code in hall_codes(conn, scope):
        hall = data.hall(code)
        if hall is None:
            continue
        windows = [w.code for w in data.windows_of(code)]
        staffed, open_min = _minutes(conn, hall, windows, start, end, calendar, tz)
        fig: dict[str, Any] = {
            "name": hall.name,
            "open_minutes": open_min,
            "staffed_minutes": staffed,
            "vacant_minutes": open_min - staffed,
            "on_post_rate": round(staffed / open_min, 4) if open_min else None,
        }
        fig.update(_alerts(conn, code, start, end))
        fig.update(_ratings(conn, code, start, end))
        out[code] = fig
    return out


MINUTE = timedelta(minutes=1)


def _minutes(
    conn: Connection,
    hall: Hall,
    windows: list[str],
    start: datetime,
    end: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> tuple[int, int]:
    """(staffed window-minutes, open window-minutes): each minute of the period (from
    ``start``, on the minute, and not before the hall's first event of all) counts when the
    hall is open then, and as staffed for a window
    with someone at it after the events up to that minute. Counted interval by interval, not
    minute by minute, so a month costs what its events cost (a month of 24 halls took
    seconds sampled minute by minute; the figures are the same, tests/test_halls_report.py)."""
    ev = hall_events
    rows = conn.execute(
        select(ev.c.window_code, ev.c.type, ev.c.at, ev.c.data)
        .where(ev.c.hall_code == hall.code, ev.c.type.in_(STAFF_TYPES), ev.c.at < end)
        .where(ev.c.at >= start - timedelta(days=1))  # who was in when the period began
        .order_by(ev.c.at)
    ).all()
    grid0 = start.replace(second=0, microsecond=0)
    # minutes before the hall system first reported are unknown, not vacant (a hall joined
    # this month, or a demo's yesterday): they count neither way
    first = conn.execute(
        select(func.min(ev.c.at)).where(ev.c.hall_code == hall.code)
    ).scalar_one_or_none()
    if first is None or first >= end:
        return 0, 0
    opened = _open_spans(hall, max(grid0, first), end, calendar, tz)
    open_min = sum(_samples(a, b, grid0) for a, b in opened) * len(windows)
    # each window's staffed spans: from an event leaving someone there to the next event
    present: dict[str, set[str]] = defaultdict(set)
    since: dict[str, datetime] = {}
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for w, kind, at, d in rows:
        who = (d or {}).get("staff", "")
        was = bool(present[w])
        if kind == "staff_arrived":
            present[w].add(who)
        else:
            present[w].discard(who)
        if was and not present[w]:
            spans[w].append((since.pop(w), at))
        elif not was and present[w]:
            since[w] = at
    for w, at in since.items():
        spans[w].append((at, end))
    staffed = 0
    for w in windows:
        for a, b in spans.get(w, ()):
            for oa, ob in opened:
                staffed += _samples(max(a, oa), min(b, ob), grid0)
    return staffed, open_min


def _open_spans(
    hall: Hall, start: datetime, end: datetime, calendar: WorkCalendar, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The hall's opening hours in ``[start, end)``, as instants, on working days only."""
    out = []
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if calendar.is_working_day(day):
            for a, b in parse_hours(hall.hours):
                lo = datetime.combine(day, a, tzinfo=tz)
                hi = datetime.combine(day, b, tzinfo=tz)
                if max(lo, start) < min(hi, end):
                    out.append((max(lo, start), min(hi, end)))
        day += timedelta(days=1)
    return out


def _samples(a: datetime, b: datetime, grid0: datetime) -> int:
    """How many of the minutes ``grid0 + k·1 min`` (k ≥ 0) fall in ``[a, b)``; exact (integer
    arithmetic on timedeltas, no floats)."""
    if b <= a:
        return 0
    lo = max(0, -((grid0 - a) // MINUTE))  # the first k with grid0 + k·min ≥ a
    hi = max(0, -((grid0 - b) // MINUTE))
    return max(0, hi - lo)


def _alerts(conn: Connection, hall: str, start: datetime, end: datetime) -> dict[str, Any]:
    a = hall_alerts
    rows = conn.execute(
        select(a.c.rule, a.c.opened_at, a.c.acked_at).where(
            a.c.hall_code == hall, a.c.opened_at >= start, a.c.opened_at < end
        )
    ).all()
    by_rule: dict[str, int] = defaultdict(int)
    answers = []
    for rule, opened, acked in rows:
        by_rule[rule] += 1
        if acked is not None:
            answers.append((acked - opened).total_seconds() / 60)
    return {
        "alerts": len(rows),
        "alerts_by_rule": dict(sorted(by_rule.items())),
        "acknowledged": len(answers),
        "median_answer_minutes": round(statistics.median(answers), 1) if answers else None,
    }


def _ratings(conn: Connection, hall: str, start: datetime, end: datetime) -> dict[str, Any]:
    ev = hall_events
    counts: dict[str, int] = defaultdict(int)
    for (d,) in conn.execute(
        select(ev.c.data).where(
            ev.c.hall_code == hall, ev.c.type == "rating", ev.c.at >= start, ev.c.at < end
        )
    ):
        value = (d or {}).get("value")
        if value:
            counts[value] += 1
    total = sum(counts.values())
    good = sum(counts[v] for v in GOOD)
    return {
        "ratings": dict(sorted(counts.items())),
        "good_rate": round(good / total, 4) if total else None,
    }


#: the columns of the halls' table in the leader's reports, exports and assessment
HALL_COLUMNS = (
    "key",
    "name",
    "on_post_rate",
    "open_minutes",
    "staffed_minutes",
    "vacant_minutes",
    "alerts",
    "acknowledged",
    "median_answer_minutes",
    "ratings",
    "good_rate",
)


def hall_rows(figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``hall_figures`` as table rows, the lowest on-post rate first (the halls to phone);
    ``ratings`` is their number here, by value in the JSON report."""
    rows = [
        {
            **{k: f.get(k) for k in HALL_COLUMNS},
            "key": code,
            "ratings": sum((f.get("ratings") or {}).values()),
        }
        for code, f in figures.items()
    ]
    return sorted(rows, key=lambda r: (r["on_post_rate"] is None, r["on_post_rate"] or 0, r["key"]))
