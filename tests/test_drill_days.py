"""The days' roll-ups (backend/drill/days.py) and the report summed over them
(backend/drill/day_report.py): the same document as ``build_report`` over the cases, medians
included, for every period kind, kept current incrementally, and used for settled periods."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from backend.drill import days, snapshots
from backend.drill.assessment import as_dict, assess
from backend.drill.day_report import report_from_days
from backend.drill.periods import Period, period_of
from backend.drill.projection import refresh_stages
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.store.models import drill_days, drill_months, drill_state
from tests.drilldata import simulate
from tests.helpers import act, report


def _json(x: Any) -> Any:
    return json.loads(json.dumps(x))


def _both(system: Any, p: Period, now: datetime) -> tuple[Any, Any]:
    frm, to = p.window(system.tz)
    with system.db.connect() as conn:
        live = build_report(conn, frm, to, now, scope=Scope.city())
        summed = report_from_days(conn, p, frm, to, now)
    return _json(live), _json(summed)


def _table(system: Any, table: Any = drill_days) -> list[dict[str, Any]]:
    with system.db.connect() as conn:
        rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        return [dict(r) for r in rows]


def _periods(first: date, last: date) -> list[Period]:
    out = []
    for kind in ("daily", "dekad", "monthly"):
        p = period_of(kind, first)
        while p.start <= last:
            out.append(p)
            p = p.next()
    return out


def test_a_report_summed_over_days_is_the_report_counted_over_cases(system, clock):
    start, end = simulate(system, clock, days=6)
    assert days.refresh_days(system.db, system.tz, clock.now()) > 0
    with system.db.connect() as conn:
        assert days.months_ready(conn)  # a month is read from its own rows
    periods = _periods(start.date(), end.date())
    # at the end of the run, and later, when open cases have passed their deadlines
    for now in (clock.now(), clock.now() + timedelta(days=9)):
        for p in periods:
            live, summed = _both(system, p, now)
            assert summed == live, (p, now)
    month = period_of("monthly", start.date())
    live, _ = _both(system, month, clock.now() + timedelta(days=9))
    # the figures that could differ were there to differ: medians, open, overdue now
    assert live["cases_total"] > 100 and live["median_hours_to_close"] is not None
    assert live["overdue_open"] > 0 and live["overdue_cases"] > live["overdue_open"] // 2
    assert len(live["by_unit"]) > 10
    # the assessment's scores, from the days, are those counted over the cases
    with system.db.connect() as conn:
        for p in (month, period_of("daily", start.date())):
            counted = [as_dict(u) for u in assess(conn, p, system.tz, clock.now())]
            summed = [as_dict(u) for u in assess(conn, p, system.tz, clock.now(), from_days=True)]
            assert summed == counted and any(u["escalations"] for u in counted)


def test_the_roll_up_is_incremental_and_equals_a_rebuild(system, clock):
    start, end = simulate(system, clock, days=3)
    days.refresh_days(system.db, system.tz, clock.now())
    assert days.refresh_days(system.db, system.tz, clock.now()) == 0  # nothing new
    # the city goes on: new cases, cases closing days after they were reported
    sim = CitySimulator(system.ref, system.tz, SimConfig(cases_per_grid_per_day=1.0, seed=7))
    later = end + timedelta(days=2)
    run_fast(system.engine, sim, end, later, clock=clock)
    fresh = [report(system, grid=g) for g in sorted(system.ref.grids)[:3]]
    act(system, fresh[0], "accept")
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines)
    written = days.refresh_days(system.db, system.tz, clock.now())
    assert written > 0
    incremental, months = _table(system), _table(system, drill_months)
    days.refresh_days(system.db, system.tz, clock.now(), rebuild=True)
    assert _table(system) == incremental
    assert _table(system, drill_months) == months and len(months) > 10
    assert {r["day"] for r in incremental} >= {start.date(), later.date()}
    for p in _periods(start.date(), later.date()):
        live, summed = _both(system, p, clock.now())
        assert summed == live, p


def test_settled_periods_are_summed_over_days_and_stored_as_counted(system, clock):
    simulate(system, clock, days=2)  # 9 and 10 November 2026
    later = datetime(2027, 1, 15, 9, 0, tzinfo=system.tz)
    clock.set(later)
    nov = period_of("monthly", date(2026, 11, 1))
    dec = period_of("monthly", date(2026, 12, 1))
    with system.db.connect() as conn:
        assert not snapshots.from_days(conn, nov, later, system.tz)  # not built yet
    days.refresh_days(system.db, system.tz, later)
    with system.db.connect() as conn:
        assert snapshots.from_days(conn, nov, later, system.tz)
        assert not snapshots.from_days(conn, dec, later, system.tz)  # the previous month
    got = snapshots.period_report(system.db, system.tz, nov, later)
    frm, to = nov.window(system.tz)
    with system.db.connect() as conn:
        live = _json(build_report(conn, frm, to, later, scope=Scope.city()))
        counted = [as_dict(u) for u in assess(conn, nov, system.tz, later)]
    assert got == live and got["cases_total"] > 0
    scores, _ = snapshots.period_assessment(system.db, system.tz, nov, later)
    assert [(u.unit, u.score, u.rank) for u in scores] == [
        (u["unit"], u["score"], u["rank"]) for u in counted
    ]


def test_the_months_are_summed_once_the_days_are_there(system, clock):
    """A roll-up of days built before the months were kept: the next refresh sums every
    month, the same rows as a rebuild, and until then a month is summed over its days."""
    start, end = simulate(system, clock, days=3)
    days.refresh_days(system.db, system.tz, clock.now())
    months = _table(system, drill_months)
    assert {r["month"] for r in months} == {start.date().replace(day=1)}
    with system.db.begin() as conn:
        conn.execute(delete(drill_months))
        conn.execute(delete(drill_state).where(drill_state.c.name == days.MONTHS))
        assert days.ready(conn) and not days.months_ready(conn)
    month = period_of("monthly", start.date())
    live, summed = _both(system, month, clock.now())
    assert summed == live  # over its days meanwhile
    days.refresh_days(system.db, system.tz, clock.now())  # no new event
    with system.db.connect() as conn:
        assert days.months_ready(conn)
    assert _table(system, drill_months) == months
    live, summed = _both(system, month, clock.now())
    assert summed == live
