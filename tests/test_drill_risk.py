"""The overdue-risk model: the life-table arithmetic on constructed stages, the back-off when
data is thin, the scores of an evaluation, and the risk of the open cases of a simulated city."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.drill import risk
from backend.drill.riskeval import evaluate
from backend.queries.grid import grid_block
from backend.queries.risk_bands import risk_bands
from backend.queries.scope import Scope
from backend.queries.stuck import StuckFilter
from backend.store.models import cases, drill_case_risk
from tests.drilldata import simulate
from tests.helpers import act

U, T, C = "GRID-1", "grid", "sanitation"


def _model(rows, min_at_risk=20):
    return risk.RiskModel.from_tables(risk.tables_from_durations(rows), min_at_risk)


def test_the_probability_of_missing_follows_the_survival_of_similar_stages():
    # 100 stages: half completed at a tenth of their allowance, 30 at 0.62, and 20 that
    # went overdue (known only to have lasted longer than the allowance: censored at 1)
    rows = (
        [(U, T, C, 0.11, True)] * 50 + [(U, T, C, 0.62, True)] * 30 + [(U, T, C, 1.0, False)] * 20
    )
    table = risk.tables_from_durations(rows)[(U, T, C)]
    assert table.survival(0.0) == 1.0
    assert table.survival(0.3) == pytest.approx(0.5)
    assert table.survival(0.7) == pytest.approx(0.2)
    m = _model(rows)
    due = 10 * 3600.0
    # every group is this one group here, so the estimate is its own: at the start one in
    # five misses; half-way, after the quick ones, two in five
    start = m.p_miss(U, T, C, 0.0, due)
    assert start.p == pytest.approx(0.2, abs=0.01)
    assert (start.basis, start.n) == ("unit+category", 100)
    assert m.p_miss(U, T, C, 0.3 * due, due).p == pytest.approx(0.4, abs=0.01)
    # past the slow completions only the overdue ones are left: very likely, not certain
    late = m.p_miss(U, T, C, 0.7 * due, due)
    assert 0.9 < late.p < 1.0 and late.n == 20
    assert m.p_miss(U, T, C, 1.2 * due, due) == risk.Estimate(1.0, "past due", 0)


def test_thin_evidence_never_gives_certainty_and_is_shrunk_towards_the_wider_groups():
    # the city: 200 stages, a fifth overdue; GRID-A: 3 stages, all overdue
    city = [("GRID-B", T, C, 0.3, True)] * 160 + [("GRID-B", T, C, 1.0, False)] * 40
    thin = [("GRID-A", T, C, 1.0, False)] * 3
    m = _model(city + thin)
    est = m.p_miss("GRID-A", T, C, 0.0, 100.0)
    # its own 3 of 3 pull it above the city's 21%, nowhere near 100%
    assert 0.2 < est.p < 0.4
    assert est.basis == "tier+category" and est.n == 203  # 3 < 5: its own group is not named
    # a unit never seen open this late (all its stages completed early) falls back on the rest
    quick = [("GRID-Q", T, C, 0.1, True)] * 30
    m2 = _model(city + quick)
    assert 0.0 < m2.p_miss("GRID-Q", T, C, 50.0, 100.0).p < 1.0
    # a group with nothing at all: the city, still strictly between 0 and 1
    nothing = _model([(U, T, C, 0.2, True)] * 10).p_miss("NEW", "county", "unseen", 0.0, 1.0)
    assert nothing.basis == "city" and 0.0 < nothing.p < 0.2


def test_a_units_own_history_counts_more_the_more_it_has():
    rows = [("GRID-B", T, C, 0.3, True)] * 100  # the rest of the city: always in time
    few = [("GRID-A", T, C, 1.0, False)] * 5
    many = [("GRID-A", T, C, 1.0, False)] * 200
    p_few = _model(rows + few).p_miss("GRID-A", T, C, 0.0, 100.0)
    p_many = _model(rows + many).p_miss("GRID-A", T, C, 0.0, 100.0)
    assert p_few.basis == p_many.basis == "unit+category"
    assert (p_few.n, p_many.n) == (5, 200)
    assert p_few.p < p_many.p < 1.0
    assert p_many.p > 0.85


def test_scores_of_an_evaluation():
    assert risk.brier([1.0, 0.0], [1, 0]) == 0.0
    assert risk.brier([0.5, 0.5], [1, 0]) == 0.25
    assert risk.auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0
    assert risk.auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) == 0.0
    assert risk.auc([0.5, 0.5, 0.5], [1, 0, 0]) == 0.5
    assert math.isnan(risk.auc([0.3], [1]))
    cal = risk.calibration([0.05, 0.15, 0.15, 0.95], [0, 0, 1, 1])
    assert cal[0] == {"band": "0.0–0.1", "n": 1, "predicted": 0.05, "observed": 0.0}
    assert cal[1]["n"] == 2 and cal[1]["observed"] == 0.5
    assert cal[-1]["band"] == "0.9–1.0" and cal[-1]["observed"] == 1.0
    tests = [
        risk.TestStage(U, T, C, 100.0, 50.0, False),
        risk.TestStage(U, T, C, 100.0, 100.0, True),
    ]
    m = _model([(U, T, C, 0.4, True)] * 30 + [(U, T, C, 1.0, False)] * 30)
    out = risk.score(m, tests)
    # the met stage is scored at 0 and ¼ (it was completed at ½); the missed one four times
    assert out["predictions"] == 2 + 4
    assert out["missed_share"] == round(4 / 6, 4)


def test_every_open_case_gets_a_risk_and_evaluation_beats_nothing(system, clock):
    _, end = simulate(system, clock, days=12)
    n = risk.refresh_risk(system.db, clock.now())
    with system.db.connect() as conn:
        open_ids = {
            r[0]
            for r in conn.execute(
                select(cases.c.id).where(
                    cases.c.status.in_(["dispatched", "accepted", "in_progress", "paused"]),
                    cases.c.due_at.is_not(None),
                )
            )
        }
        rows = conn.execute(select(drill_case_risk)).mappings().all()
        overdue = {
            r[0]
            for r in conn.execute(
                select(cases.c.id).where(cases.c.due_at <= clock.now(), cases.c.status != "paused")
            )
        }
    assert n == len(rows) == len(open_ids) > 0
    assert {r["case_id"] for r in rows} == open_ids
    assert all(0.0 <= r["p_miss"] <= 1.0 for r in rows)
    for r in rows:
        if r["case_id"] in overdue:
            assert r["p_miss"] == 1.0 and r["basis"] == "past due"
    assert len({r["basis"] for r in rows}) >= 2
    assert all(r["n_similar"] is not None for r in rows)
    # nothing is certain before its deadline
    assert all(r["p_miss"] < 1.0 for r in rows if r["basis"] != "past due")
    with system.db.connect() as conn:
        ev = evaluate(conn, end - timedelta(days=5), end)
    assert ev["test_stages"] > 50 and ev["predictions"] >= ev["test_stages"]
    # better than a constant guess of the miss share, and it ranks missed above met
    assert ev["brier"] < ev["brier_base_rate"]
    assert ev["auc"] > 0.6


def test_a_risk_belongs_to_its_stage_a_case_moved_on_since_shows_none_until_rescored(system, clock):
    """The issue's "100% with 3.9 h in stage and 6.8 days left": a risk computed while the
    case was overdue at its previous tier must not be shown for the stage it moved up to."""
    simulate(system, clock, days=6)
    risk.refresh_risk(system.db, clock.now())
    with system.db.connect() as conn:
        case_id = (
            conn.execute(
                select(cases.c.id)
                .where(cases.c.status.in_(["accepted", "in_progress"]), cases.c.tier != "county")
                .order_by(cases.c.id)
            )
            .scalars()
            .first()
        )
    assert case_id is not None
    clock.advance(timedelta(minutes=1))
    assert act(system, case_id, "escalate", reason="领导督办").results[0].ok
    ref, now = system.ref, clock.now()
    code_filter = {"code": {"filter": str(case_id), "type": "contains"}}
    with system.db.connect() as conn:
        (row,) = grid_block(
            conn, StuckFilter(), {"filterModel": code_filter}, ref, Scope.city(), now
        )["rows"]
        assert row["risk"] is None and row["seconds_left"] > 0
        before = risk_bands(conn, StuckFilter(), now, scope=Scope.city())
    risk.refresh_risk(system.db, now)
    with system.db.connect() as conn:
        (row,) = grid_block(
            conn, StuckFilter(), {"filterModel": code_filter}, ref, Scope.city(), now
        )["rows"]
        after = risk_bands(conn, StuckFilter(), now, scope=Scope.city())
    assert row["risk"] is not None and 0.0 < row["risk"] < 1.0
    assert row["risk_basis"] and row["risk_n"] is not None
    assert after["none"] == before["none"] - 1


def test_cheap_scoring_is_redone_sooner_but_never_more_than_a_tenth_of_a_core(system):
    from dashboard.drill_jobs import DrillJobs

    jobs = DrillJobs(system)
    jobs._risk_at, jobs._risk_took = 1000.0, 0.8  # a small city: under a second
    assert not jobs._risk_due(1000.0 + 29) and jobs._risk_due(1000.0 + 30)
    jobs._risk_took = 9.0  # a large city: 90 s apart
    assert not jobs._risk_due(1000.0 + 89) and jobs._risk_due(1000.0 + 90)
    jobs._risk_took = 60.0  # never rarer than every five minutes
    assert jobs._risk_due(1000.0 + 300)
