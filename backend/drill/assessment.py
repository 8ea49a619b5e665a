"""Two-way assessment (双向考核): every unit scored per period, top-down from what the system
records (close rate, on-time rate, escalations the unit caused) and bottom-up from the citizens
(satisfaction), ranked, with the change against the period before.

    score = 100 × (0.25·close_rate + 0.35·on_time_rate + 0.20·satisfaction_rate
                   + 0.20·(1 − escalation_rate))

The rates are the report's own (``build_report(...)["by_unit"]``, DESIGN.md definitions), so a
unit's figures here are the figures in its periodic report. ``escalation_rate`` is the share of
the stages the unit held (of cases reported in the period) that ended with the case moved up:
overdue and escalated by the clock, or escalated by hand or at the handler's request. A rate
with nothing to measure (no case closed, none rated) takes the whole city's value, so it neither
helps nor hurts.

A unit with a handful of cases can reach 100 by luck; its score is therefore shrunk towards the
area's score by its number of cases, ``(n·score + PRIOR_CASES·area) / (n + PRIOR_CASES)``, as if
``PRIOR_CASES`` cases at the area's rates were added: 3 perfect cases score well above the
average, not at the top. Every unit with cases is scored (so the period after can compare with
it); units with fewer than ``MIN_CASES`` cases are listed, not ranked. Equal scores (as shown, to
one decimal) share a rank, and the next rank skips (1, 2, 2, 4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, case, func, select

from backend.core.rounding import nan_to_none, py_round
from backend.domain.events import StageEnd
from backend.drill import day_report
from backend.drill.periods import Period
from backend.queries import reports
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import drill_stages

WEIGHTS = {
    "close_rate": 0.25,
    "on_time_rate": 0.35,
    "satisfaction_rate": 0.20,
    "no_escalation": 0.20,
}
MIN_CASES = 3
PRIOR_CASES = 5
#: rows of the ranking a screen shows: the best and, below, the last places
RANKS_SHOWN = 60
_MOVED_UP = (StageEnd.OVERDUE.value, StageEnd.ESCALATED.value)


@dataclass(slots=True)
class UnitScore:
    unit: str
    cases_total: int
    close_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    stages: int
    escalations: int
    score: float | None = None
    rank: int | None = None
    prev_score: float | None = None
    prev_rank: int | None = None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalations / self.stages if self.stages else None

    @property
    def rank_change(self) -> int | None:
        """Places gained since the period before (positive: moved up)."""
        if self.rank is None or self.prev_rank is None:
            return None
        return self.prev_rank - self.rank

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.prev_score is None:
            return None
        return round(self.score - self.prev_score, 2)


def escalations_by_unit(
    conn: Connection, period: Period, scope: Scope | None = None
) -> dict[str, tuple[int, int]]:
    """unit → (stages held, stages that ended with the case moved up), for cases reported in
    the period."""
    scope = scope or Scope.city()
    c = drill_stages.c
    rows = conn.execute(
        select(
            c.unit_code,
            func.count(),
            func.sum(case((c.end_kind.in_(_MOVED_UP), 1), else_=0)),
        )
        .where(c.day >= period.start, c.day < period.end, scope.clause(drill_stages))
        .group_by(c.unit_code)
    ).all()
    return {u: (int(n), int(esc or 0)) for u, n, esc in rows}


def _score(u: UnitScore, city: dict[str, float | None]) -> float:
    """One unit's score before shrinking (the reference ``score_table`` computes for every
    unit at once, and the area's own score)."""

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


@dataclass(slots=True)
class UnitFigures:
    """The units' figures of a period before scoring, a numpy column each (a rate is NaN
    where it has nothing to measure): a month of Shangrao is 12,000 units, scored at once."""

    unit: list[str]
    cases_total: np.ndarray
    close_rate: np.ndarray
    on_time_rate: np.ndarray
    satisfaction_rate: np.ndarray
    stages: np.ndarray
    escalations: np.ndarray

    @classmethod
    def from_counts(cls, units: list[str], col: dict[str, np.ndarray]) -> UnitFigures:
        """The figures from the units' counts (total, cancelled, closed, on_time, rated,
        satisfied, stages, moved_up), the rates as ``reports.rates`` gives them."""
        return cls(
            unit=units,
            cases_total=col["total"],
            close_rate=py_round(ratio(col["closed"], col["total"] - col["cancelled"]), 6),
            on_time_rate=py_round(ratio(col["on_time"], col["closed"]), 6),
            satisfaction_rate=py_round(ratio(col["satisfied"], col["rated"]), 6),
            stages=col["stages"],
            escalations=col["moved_up"],
        )


def _or(column: np.ndarray, fallback: float | None) -> np.ndarray:
    """The column, ``fallback`` (the city's value, else 0) where it is NaN."""
    return np.where(np.isnan(column), fallback if fallback is not None else 0.0, column)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den as floats (the same as Python's int / int), NaN where den is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num, dtype=np.float64) / np.asarray(den, dtype=np.float64)
    out[np.asarray(den) == 0] = np.nan
    return out


def score_table(fig: UnitFigures, city: dict[str, float | None]) -> ScoreTable:
    """Every unit of ``fig`` scored, shrunk, ranked and ordered as ``assess`` lists them: the
    same floats as ``_score`` and the shrinking give unit by unit (the same operations in the
    same order; ``py_round`` rounds as Python does)."""
    esc = _or(ratio(fig.escalations, fig.stages), city.get("escalation_rate"))
    total = (
        WEIGHTS["close_rate"] * _or(fig.close_rate, city.get("close_rate"))
        + WEIGHTS["on_time_rate"] * _or(fig.on_time_rate, city.get("on_time_rate"))
        + WEIGHTS["satisfaction_rate"] * _or(fig.satisfaction_rate, city.get("satisfaction_rate"))
        + WEIGHTS["no_escalation"] * (1 - esc)
    )
    raw = py_round(100 * total, 2)
    area = _score(UnitScore("", 0, None, None, None, 0, 0), city)
    n = np.asarray(fig.cases_total, dtype=np.float64)
    score = py_round((n * raw + PRIOR_CASES * area) / (n + PRIOR_CASES), 2)
    score[fig.cases_total <= 0] = np.nan
    units = np.array(fig.unit, dtype=str)
    in_ranking = (fig.cases_total >= MIN_CASES) & ~np.isnan(score)
    ranked = np.flatnonzero(in_ranking)
    ranked = ranked[np.lexsort((units[ranked], -score[ranked]))]
    rest = np.flatnonzero(~in_ranking)
    rest = rest[np.argsort(units[rest], kind="stable")]
    order = np.concatenate([ranked, rest])
    # competition ranking on the score as shown (one decimal): a tie shares the rank
    shown = py_round(score[ranked], 1)
    new = np.ones(len(ranked), dtype=bool)
    new[1:] = shown[1:] != shown[:-1]
    positions = np.arange(1, len(ranked) + 1)
    ranks: list[int | None] = np.maximum.accumulate(np.where(new, positions, 0)).tolist()
    return ScoreTable(
        {
            "unit": units[order].tolist(),
            "cases_total": fig.cases_total[order].tolist(),
            "close_rate": nan_to_none(fig.close_rate[order]),
            "on_time_rate": nan_to_none(fig.on_time_rate[order]),
            "satisfaction_rate": nan_to_none(fig.satisfaction_rate[order]),
            "stages": fig.stages[order].tolist(),
            "escalations": fig.escalations[order].tolist(),
            "score": nan_to_none(score[order]),
            "rank": ranks + [None] * len(rest),
        }
    )


class ScoreTable:
    """A period's scores as a snapshot keeps them: one list per stored field of
    ``UnitScore`` (``_STORED``), the rows in the ranking's order (ranked best first, then the
    rest by unit). Columns are quick to write and read (a month is 12,000 units, read twice
    by every view of the assessment), and only the rows a screen shows become scores."""

    __slots__ = ("columns",)

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        self.columns = columns

    @classmethod
    def from_body(cls, body: Any) -> ScoreTable:
        """A stored snapshot's body: columns, or the list of rows written before them."""
        if isinstance(body, dict):
            return cls(body)
        return cls({k: [row.get(k) for row in body] for k in _STORED})

    def body(self) -> dict[str, list[Any]]:
        return self.columns

    def __len__(self) -> int:
        return len(self.columns["unit"])

    def rows(self, which: Iterable[int] | None = None) -> list[UnitScore]:
        """The scores of the rows ``which`` (all of them by default), in that order."""
        cols = [self.columns[k] for k in _STORED]
        picked = range(len(self)) if which is None else which
        return [UnitScore(*(col[i] for col in cols)) for i in picked]

    def shown_rows(self, n: int = RANKS_SHOWN) -> list[int]:
        """The rows ``shown`` picks for a screen."""
        return shown(range(len(self)), self.columns["rank"].__getitem__, n)

    def with_change(self, scores: list[UnitScore]) -> list[UnitScore]:
        """``with_change(scores, <this table, the period before>)``, reading only their rows."""
        row_of = {u: i for i, u in enumerate(self.columns["unit"])}
        score, rank = self.columns["score"], self.columns["rank"]
        for u in scores:
            i = row_of.get(u.unit)
            if i is not None:
                u.prev_score, u.prev_rank = score[i], rank[i]
        return scores


def assess(
    conn: Connection,
    period: Period,
    tz: ZoneInfo,
    now: datetime,
    scope: Scope | None = None,
    *,
    from_days: bool = False,
) -> list[UnitScore]:
    """Every unit with cases in the period, scored; ranked units first, best first.
    ``from_days``: the city's figures summed over the days' roll-ups (backend/drill/days.py)
    instead of counted over the period's cases."""
    return assess_table(conn, period, tz, now, scope, from_days=from_days).rows()


def assess_table(
    conn: Connection,
    period: Period,
    tz: ZoneInfo,
    now: datetime,
    scope: Scope | None = None,
    *,
    from_days: bool = False,
) -> ScoreTable:
    """``assess`` as the snapshot keeps it."""
    if from_days:
        fig, city = _from_days(conn, period)
    else:
        fig, city = _counted(conn, period, tz, now, scope)
    return score_table(fig, city)


def _counted(
    conn: Connection, period: Period, tz: ZoneInfo, now: datetime, scope: Scope | None
) -> tuple[UnitFigures, dict[str, float | None]]:
    """The units' figures and the area's rates, counted over the period's cases."""
    frm, to = period.window(tz)
    report = build_report(
        conn, frm, to, now, scope=scope or Scope.city(), groups=("by_unit",), medians=False
    )
    esc = escalations_by_unit(conn, period, scope)
    by_unit = report["by_unit"]
    units = sorted(set(by_unit) - {"unassigned"} | set(esc))
    nothing: dict[str, Any] = {}
    figs = [by_unit.get(code, nothing) for code in units]

    def rate(name: str) -> np.ndarray:
        values = [f.get(name) for f in figs]
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    held = [esc.get(code, (0, 0)) for code in units]
    fig = UnitFigures(
        unit=units,
        cases_total=np.array([int(f.get("cases_total", 0)) for f in figs], dtype=np.int64),
        close_rate=rate("close_rate"),
        on_time_rate=rate("on_time_rate"),
        satisfaction_rate=rate("satisfaction_rate"),
        stages=np.array([s for s, _ in held], dtype=np.int64),
        escalations=np.array([m for _, m in held], dtype=np.int64),
    )
    rates = (report["close_rate"], report["on_time_rate"], report["satisfaction_rate"])
    return fig, _area(rates, sum(s for s, _ in esc.values()), sum(m for _, m in esc.values()))


def _from_days(conn: Connection, period: Period) -> tuple[UnitFigures, dict[str, float | None]]:
    """``_counted`` for the city, summed over the days' roll-ups. The scores use no figure
    that changes with the clock alone, so nothing is counted over the cases."""
    units, col, city = day_report.unit_columns(conn, period)
    fig = UnitFigures.from_counts(units, col)
    rates = reports.rates(city) if city["total"] else (None, None, None)
    return fig, _area(rates, city["stages"], city["moved_up"])


def _area(
    rates: tuple[float | None, float | None, float | None], stages: int, moved_up: int
) -> dict[str, float | None]:
    """The area's rates (what a unit with nothing to measure takes): the report's, and the
    share of all the units' stages that ended with the case moved up."""
    return {
        "close_rate": rates[0],
        "on_time_rate": rates[1],
        "satisfaction_rate": rates[2],
        "escalation_rate": moved_up / stages if stages else None,
    }


def assess_with_change(
    conn: Connection,
    period: Period,
    tz: ZoneInfo,
    now: datetime,
    scope: Scope | None = None,
) -> list[UnitScore]:
    """This period's scores, each with its score and rank in the period before."""
    return with_change(
        assess(conn, period, tz, now, scope), assess(conn, period.previous(), tz, now, scope)
    )


def with_change(scores: list[UnitScore], before: list[UnitScore]) -> list[UnitScore]:
    """``scores``, each with its unit's score and rank in ``before`` (the period before)."""
    prev_of = {u.unit: u for u in before}
    for u in scores:
        prev = prev_of.get(u.unit)
        if prev is not None:
            u.prev_score, u.prev_rank = prev.score, prev.rank
    return scores


T = TypeVar("T")


def shown(scores: Sequence[T], rank_of: Callable[[T], int | None], n: int = RANKS_SHOWN) -> list[T]:
    """The rows of a ranking (ranked first, best first, as ``assess`` orders it) that a screen
    shows: every one when there are at most ``n``; else the ``n // 2`` best and the ``n // 2``
    last ranked units (all the ranked ones when there are at most ``n``)."""
    if len(scores) <= n:
        return list(scores)
    ranked = [u for u in scores if rank_of(u) is not None]
    half = n // 2
    return ranked[:half] + ranked[-half:] if len(ranked) > n else ranked


_FIELDS = tuple(f.name for f in fields(UnitScore))


#: what a snapshot keeps of a period's score (``ScoreTable``): the fields, not the figures
#: computed from them (the escalation rate, the changes) nor the period before's (added when
#: read)
_STORED = tuple(f for f in _FIELDS if f not in ("prev_score", "prev_rank"))


def as_dict(u: UnitScore) -> dict[str, Any]:
    return {
        "unit": u.unit,
        "rank": u.rank,
        "score": u.score,
        "cases_total": u.cases_total,
        "close_rate": u.close_rate,
        "on_time_rate": u.on_time_rate,
        "satisfaction_rate": u.satisfaction_rate,
        "stages": u.stages,
        "escalations": u.escalations,
        "escalation_rate": u.escalation_rate,
        "prev_rank": u.prev_rank,
        "prev_score": u.prev_score,
        "rank_change": u.rank_change,
        "score_change": u.score_change,
    }
