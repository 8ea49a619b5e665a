"""The assessment scored a column at a time (``score_table``, ``py_round``) gives the very
floats, ranks and order of scoring unit by unit, the way the formula reads (a reference kept
here, written as the assessment was before the columns)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from backend.core.rounding import nan_to_none, py_round
from backend.drill.assessment import (
    MIN_CASES,
    PRIOR_CASES,
    WEIGHTS,
    UnitFigures,
    UnitScore,
    as_dict,
    score_table,
)


def test_py_round_is_pythons_round():
    rng = random.Random(7)
    values = [rng.random() * rng.choice([1, 100, 1000]) for _ in range(20_000)]
    # exact halves and their neighbours: where scaling and rounding back goes wrong
    for nd in (1, 2, 6):
        for k in range(2000):
            half = (2 * k + 1) / 2 / 10**nd
            values += [half, float(np.nextafter(half, 0)), float(np.nextafter(half, 1))]
    # rates of small counts, as the assessment rounds them
    values += [a / b for b in range(1, 120) for a in range(b + 1)]
    arr = np.array(values)
    for nd in (1, 2, 6):
        assert py_round(arr, nd).tolist() == [round(v, nd) for v in values]
    plain = np.round(arr, 2).tolist()
    assert plain != [round(v, 2) for v in values]  # the case py_round exists for
    assert nan_to_none(py_round(np.array([np.nan, 0.125]), 2)) == [None, 0.12]


def _score(u: UnitScore, city: dict[str, float | None]) -> float:
    def rate(name: str, value: float | None) -> float:
        v = value if value is not None else city.get(name)
        return v if v is not None else 0.0

    esc = u.escalation_rate if u.escalation_rate is not None else city.get("escalation_rate")
    total = (
        WEIGHTS["close_rate"] * rate("close_rate", u.close_rate)
        + WEIGHTS["on_time_rate"] * rate("on_time_rate", u.on_time_rate)
        + WEIGHTS["satisfaction_rate"] * rate("satisfaction_rate", u.satisfaction_rate)
        + WEIGHTS["no_escalation"] * (1 - (esc or 0.0))
    )
    return round(100 * total, 2)


def _unit_by_unit(units: list[UnitScore], city: dict[str, float | None]) -> list[UnitScore]:
    area = _score(UnitScore("", 0, None, None, None, 0, 0), city)
    for u in units:
        if u.cases_total > 0:
            n = u.cases_total
            u.score = round((n * _score(u, city) + PRIOR_CASES * area) / (n + PRIOR_CASES), 2)
    ranked = [u for u in units if u.cases_total >= MIN_CASES and u.score is not None]
    rest = [u for u in units if u not in ranked]
    ranked.sort(key=lambda u: (-(u.score or 0.0), u.unit))
    prev: float | None = None
    for i, u in enumerate(ranked, 1):
        shown = round(u.score or 0.0, 1)
        u.rank, prev = (i, shown) if shown != prev else (ranked[i - 2].rank, prev)
    rest.sort(key=lambda u: u.unit)
    return ranked + rest


def _random_units(rng: random.Random, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        total = rng.choice([0, 1, 2, 3, 4, 5, 8, 13, 40, 200])
        closed = rng.randint(0, total)
        rated = rng.randint(0, closed)
        stages = rng.choice([0, total, total + rng.randint(0, 9)])
        out.append(
            {
                "unit": f"U{rng.randint(0, 10**6):07d}-{i}",
                "total": total,
                "cancelled": rng.randint(0, total // 5),
                "closed": closed,
                "on_time": rng.randint(0, closed),
                "rated": rated,
                "satisfied": rng.randint(0, rated),
                "stages": stages,
                "moved_up": rng.randint(0, stages),
            }
        )
    return out


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def test_the_columns_score_as_unit_by_unit():
    rng = random.Random(3)
    for city in (
        {"close_rate": 0.81, "on_time_rate": 0.7, "satisfaction_rate": 0.9, "escalation_rate": 0.1},
        {"close_rate": None, "on_time_rate": None, "satisfaction_rate": None},
    ):
        rows = _random_units(rng, 3000)
        col = {k: np.array([r[k] for r in rows], dtype=np.int64) for k in rows[0] if k != "unit"}
        fig = UnitFigures.from_counts([r["unit"] for r in rows], col)
        one_by_one = [
            UnitScore(
                r["unit"],
                r["total"],
                _rate(r["closed"], r["total"] - r["cancelled"]),
                _rate(r["on_time"], r["closed"]),
                _rate(r["satisfied"], r["rated"]),
                r["stages"],
                r["moved_up"],
            )
            for r in rows
        ]
        want = [as_dict(u) for u in _unit_by_unit(one_by_one, city)]
        got = [as_dict(u) for u in score_table(fig, city).rows()]
        assert got == want
        ranks = [u["rank"] for u in got if u["rank"] is not None]
        assert len(ranks) > len(set(ranks)) > 100  # ties were there to share ranks
        assert any(u["rank"] is None and u["score"] is not None for u in got)  # too few cases
        assert any(u["score"] is None for u in got)  # stages, no case


def test_no_units_is_an_empty_table():
    empty = np.zeros(0, dtype=np.int64)
    fig = UnitFigures([], empty, empty * 1.0, empty * 1.0, empty * 1.0, empty, empty)
    table = score_table(fig, {"close_rate": None})
    assert len(table) == 0 and table.rows() == [] and table.shown_rows() == []
