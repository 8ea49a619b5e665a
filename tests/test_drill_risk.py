"""The overdue-risk model: the life-table arithmetic on constructed stages, the back-off when
data is thin, the scores of an evaluation, and the risk of the open cases of a simulated city."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.drill import risk
from backend.drill.riskeval import evaluate
from backend.store.models import cases, drill_case_risk
from tests.drilldata import simulate

U, T, C = "GRID-1", "grid", "sanitation"


def _model(rows, min_at_risk=20):
    return risk.RiskModel.from_tables(risk.tables_from_durations(rows), min_at_risk)


def test_the_probability_of_missing_follows_the_survival_of_similar_stages():
    # 100 stages: half completed at a tenth of their allowance, 30 at 0.62, and 20 that
    # went overdue (known only to have lasted longer than the allowance: censored at 1)
    rows = (
        [(U, T, C, 0.11, True)] * 50 + [(U, T, C, 0.62, True)] * 30 + [(U, T, C, 1.0, False)] * 20
    )
    m = _model(rows)
    table, basis = m.table_for(U, T, C, 0.0)
    assert basis == "unit+category"
    assert table.survival(0.0) == 1.0
    assert table.survival(0.3) == pytest.approx(0.5)
    assert table.survival(0.7) == pytest.approx(0.2)
    due = 10 * 3600.0
    # at the start: one in five misses; half-way, after the quick ones: two in five
    assert m.p_miss(U, T, C, 0.0, due)[0] == pytest.approx(0.2)
    assert m.p_miss(U, T, C, 0.3 * due, due)[0] == pytest.approx(0.4)
    # past the slow completions nothing similar was ever completed in time
    assert m.p_miss(U, T, C, 0.7 * due, due)[0] == pytest.approx(1.0)
    assert m.p_miss(U, T, C, 1.2 * due, due) == (1.0, "past due")


def test_thin_groups_back_off_to_the_tier_and_category_then_further():
    rows = [("GRID-A", T, C, 0.2, True)] * 5 + [("GRID-B", T, C, 0.9, True)] * 40
    rows += [("GRID-B", T, "noise", 0.5, True)] * 30 + [
        ("TS-1", "township", "noise", 1.0, False)
    ] * 3
    m = _model(rows)
    assert m.table_for("GRID-A", T, C, 0.0)[1] == "tier+category"  # 5 < 20 of its own
    assert m.table_for("GRID-B", T, C, 0.0)[1] == "unit+category"
    assert m.table_for("GRID-A", T, "noise", 0.0)[1] == "tier+category"
    assert m.table_for("NEW", T, "unseen", 0.0)[1] == "tier"
    assert m.table_for("NEW", "county", "unseen", 0.0)[1] == "city"
    # the back-off changes the answer: GRID-A's own few stages were quick
    p_own = _model(rows, min_at_risk=1).p_miss("GRID-A", T, C, 0.0, 100.0)[0]
    p_backed = m.p_miss("GRID-A", T, C, 0.0, 100.0)[0]
    assert p_own == pytest.approx(0.0) and p_backed == pytest.approx(0.0)
    late = [("GRID-C", T, C, 1.5, True)] * 25 + [("GRID-C", T, C, 0.5, True)] * 25
    assert _model(late).p_miss("GRID-C", T, C, 0.0, 100.0)[0] == pytest.approx(0.5)


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
    with system.db.connect() as conn:
        ev = evaluate(conn, end - timedelta(days=5), end)
    assert ev["test_stages"] > 50 and ev["predictions"] >= ev["test_stages"]
    # better than a constant guess of the miss share, and it ranks missed above met
    assert ev["brier"] < ev["brier_base_rate"]
    assert ev["auc"] > 0.6
