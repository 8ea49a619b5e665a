"""Report snapshots: a stored report is the report of its instant, is kept while it is fresh
on the city's clock, is computed again when older, and the background job keeps the periods
the screens open most."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import func, select

from backend.drill import snapshots
from backend.drill.assessment import ScoreTable, UnitScore, as_dict, assess_with_change, shown
from backend.drill.periods import period_of
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import report_snapshots
from tests.drilldata import simulate
from tests.helpers import report


def _live(system, p, now):
    frm, to = p.window(system.tz)
    with system.db.connect() as conn:
        return json.loads(json.dumps(build_report(conn, frm, to, now, scope=Scope.city())))


def test_a_snapshot_is_the_report_of_its_instant_until_it_is_too_old(system, clock):
    simulate(system, clock, days=3)  # 9–11 November; the clock stops at the 12th, 00:00
    p = period_of("dekad", clock.now().astimezone(system.tz).date())  # 11–20 November
    first_at = clock.now()
    first = snapshots.period_report(system.db, system.tz, p, first_at)
    assert first == _live(system, p, first_at)
    assert first["cases_total"] > 20

    # a new case arrives: within MAX_AGE the screens keep the stored figures and say of
    # which instant they are
    report(system)
    clock.advance(snapshots.MAX_AGE - timedelta(seconds=1))
    kept = snapshots.period_report(system.db, system.tz, p, clock.now())
    assert kept == first and kept["as_of"] == first_at.isoformat()

    # older than MAX_AGE: computed again, with the new case
    clock.advance(timedelta(seconds=2))
    again = snapshots.period_report(system.db, system.tz, p, clock.now())
    assert again["as_of"] == clock.now().isoformat()
    assert again["cases_total"] == first["cases_total"] + 1
    assert again == _live(system, p, clock.now())
    with system.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(report_snapshots)).scalar_one()
    assert n == 1  # replaced, not added


def test_a_snapshot_from_the_clocks_future_is_not_used(system, clock):
    simulate(system, clock, days=2)
    p = period_of("daily", date(2026, 11, 9))
    later = clock.now()
    snapshots.period_report(system.db, system.tz, p, later)
    earlier = later - timedelta(hours=6)  # a replay: the clock set back
    got = snapshots.period_report(system.db, system.tz, p, earlier)
    assert got["as_of"] == earlier.isoformat()
    assert got == _live(system, p, earlier)


def test_the_job_keeps_the_current_and_previous_periods(system, clock):
    simulate(system, clock, days=12)
    now = clock.now()
    assert snapshots.refresh_kept(system.db, system.tz, now) == 3 * 2 + 3 * 3
    today = now.astimezone(system.tz).date()
    with system.db.connect() as conn:
        for kind in ("daily", "dekad", "monthly"):
            cur = period_of(kind, today)
            for p in (cur, cur.previous()):
                body, at = snapshots.load(conn, snapshots.REPORT, p)
                assert at == now and body == _live(system, p, now), p
            want = [as_dict(u) for u in assess_with_change(conn, cur.previous(), system.tz, now)]
    # read back later (within MAX_AGE): the stored scores, with the change column
    clock.advance(timedelta(minutes=1))
    p = period_of("monthly", today).previous()
    scores, at = snapshots.period_assessment(system.db, system.tz, p, clock.now())
    assert at == now
    assert [as_dict(u) for u in scores] == want
    # the screen's rows alone: the same scores and changes as those rows of the whole list
    rows, _ = snapshots.period_assessment(system.db, system.tz, p, clock.now(), screen=True)
    assert [as_dict(u) for u in rows] == [as_dict(u) for u in shown(scores, lambda u: u.rank)]
    dekad = period_of("dekad", today).previous()
    scores, _ = snapshots.period_assessment(system.db, system.tz, dekad, clock.now())
    ranks = [u.rank for u in scores if u.rank is not None]
    assert ranks[0] == 1 and ranks == sorted(ranks) and len(set(ranks)) > 3
    assert any(u.prev_rank is not None for u in scores)  # compared with the dekad before


def test_the_screen_shows_the_best_and_the_last_ranked_units():
    ranked = [(f"u{i}", i) for i in range(1, 9)]
    unranked = [("x1", None), ("x2", None)]
    rank_of = lambda r: r[1]  # noqa: E731
    assert shown(ranked[:3] + unranked, rank_of, n=6) == ranked[:3] + unranked
    assert shown(ranked[:5] + unranked, rank_of, n=6) == ranked[:5]
    assert shown(ranked + unranked, rank_of, n=6) == ranked[:3] + ranked[-3:]


def test_a_stored_score_reads_back_as_the_score():
    u = UnitScore("GRID-1", 7, 0.5, 0.75, None, 9, 2, score=81.25, rank=3)
    v = UnitScore("GRID-2", 0, None, None, None, 4, 1)
    body = {
        "unit": ["GRID-1", "GRID-2"],
        "cases_total": [7, 0],
        "close_rate": [0.5, None],
        "on_time_rate": [0.75, None],
        "satisfaction_rate": [None, None],
        "stages": [9, 4],
        "escalations": [2, 1],
        "score": [81.25, None],
        "rank": [3, None],
    }
    table = ScoreTable.from_body(json.loads(json.dumps(body)))
    assert table.rows() == [u, v] and table.rows([1]) == [v]
    # a snapshot written before the columns: a list of rows, with the derived figures
    legacy = json.loads(json.dumps([as_dict(u), as_dict(v)]))
    assert ScoreTable.from_body(legacy).rows() == [u, v]


def test_scope_keys():
    from backend.queries.scope import Scope

    assert snapshots.scope_key(None) == snapshots.scope_key(Scope.city()) == "city"
    assert snapshots.scope_key(Scope("361102", "township")) == "township:361102"


def test_the_leader_jobs_run_in_child_processes(system, clock):
    """The web process's jobs, as it runs them: child processes on the same database."""
    from backend.store.models import cases, drill_case_risk
    from dashboard.drill_jobs import DrillJobs

    simulate(system, clock, days=5)
    jobs = DrillJobs(system)
    assert jobs.refresh_reports() >= 15  # the kept ones, then earlier days as time allows
    assert jobs._reports_took > 0
    now = clock.now()
    p = period_of("dekad", now.astimezone(system.tz).date())
    with system.db.connect() as conn:
        body, at = snapshots.load(conn, snapshots.REPORT, p)
        n_open = conn.execute(
            select(func.count())
            .select_from(cases)
            .where(cases.c.status.in_(["received", "dispatched", "accepted", "in_progress"]))
        ).scalar_one()
    assert at == now and body == _live(system, p, now)
    assert jobs.refresh_risk() >= n_open > 0
    with system.db.connect() as conn:
        scored = conn.execute(select(func.count()).select_from(drill_case_risk)).scalar_one()
    assert scored >= n_open


def test_a_failing_job_says_why(system, clock, monkeypatch):
    from dashboard.drill_jobs import DrillJobs

    jobs = DrillJobs(system)
    monkeypatch.setattr(system.settings, "tz", "Nowhere/Atlantis")
    try:
        jobs.refresh_reports()
    except RuntimeError as exc:
        assert "reports" in str(exc) and "Atlantis" in str(exc)
    else:
        raise AssertionError("a job with a bad time zone should fail")


def test_the_job_fills_in_earlier_months_and_ten_day_periods(system, clock):
    from datetime import datetime

    simulate(system, clock, days=2)  # cases on 9 and 10 November 2026
    later = datetime(2027, 1, 15, 9, 0, tzinfo=system.tz)
    clock.set(later)
    # November (the month before the previous), the ten-day periods from 1 November to
    # 21–31 December and the days from 9 November to 13 January: a report and an assessment
    # each
    assert snapshots.backfill(system.db, system.tz, later, budget=0) == 0
    assert snapshots.backfill(system.db, system.tz, later) == 2 * (1 + 6 + 22 + 31 + 13)
    nov = period_of("monthly", date(2026, 11, 1))
    assert snapshots.max_age_of(nov, later, system.tz) == snapshots.SETTLED_MAX_AGE
    dec = period_of("monthly", date(2026, 12, 1))
    assert snapshots.max_age_of(dec, later, system.tz) == snapshots.MAX_AGE
    with system.db.connect() as conn:
        body, at = snapshots.load(conn, snapshots.REPORT, nov)
        assert at == later and body == _live(system, nov, later) and body["cases_total"] > 0
        assert (
            snapshots.load(conn, snapshots.REPORT, period_of("monthly", date(2026, 10, 1))) is None
        )
    # a settled period's snapshot is good for a day: opened an hour later, it is the stored one
    clock.advance(timedelta(hours=1))
    got = snapshots.period_report(system.db, system.tz, nov, clock.now())
    assert got["as_of"] == later.isoformat()
    assert snapshots.backfill(system.db, system.tz, clock.now()) == 0
    clock.set(later + snapshots.SETTLED_MAX_AGE + timedelta(seconds=1))
    # a day later every one is due again, and 14 January has become an earlier day too
    assert snapshots.backfill(system.db, system.tz, clock.now()) == 2 * (73 + 1)
