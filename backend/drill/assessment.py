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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

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
    if from_days:
        out, city = _from_days(conn, period)
    else:
        out, city = _counted(conn, period, tz, now, scope)
    area = _score(UnitScore("", 0, None, None, None, 0, 0), city)
    for u in out:
        if u.cases_total > 0:
            n = u.cases_total
            u.score = round((n * _score(u, city) + PRIOR_CASES * area) / (n + PRIOR_CASES), 2)
    ranked: list[UnitScore] = []
    rest: list[UnitScore] = []
    for u in out:
        (ranked if u.cases_total >= MIN_CASES and u.score is not None else rest).append(u)
    ranked.sort(key=lambda u: (-(u.score or 0.0), u.unit))
    rank_ties(ranked)
    rest.sort(key=lambda u: u.unit)
    return ranked + rest


def _counted(
    conn: Connection, period: Period, tz: ZoneInfo, now: datetime, scope: Scope | None
) -> tuple[list[UnitScore], dict[str, float | None]]:
    """The units' figures (unscored) and the area's rates, counted over the period's cases."""
    frm, to = period.window(tz)
    report = build_report(
        conn, frm, to, now, scope=scope or Scope.city(), groups=("by_unit",), medians=False
    )
    esc = escalations_by_unit(conn, period, scope)
    units = sorted(set(report["by_unit"]) - {"unassigned"} | set(esc))
    out = []
    for code in units:
        fig = report["by_unit"].get(code, {})
        stages, moved = esc.get(code, (0, 0))
        out.append(
            UnitScore(
                unit=code,
                cases_total=int(fig.get("cases_total", 0)),
                close_rate=fig.get("close_rate"),
                on_time_rate=fig.get("on_time_rate"),
                satisfaction_rate=fig.get("satisfaction_rate"),
                stages=stages,
                escalations=moved,
            )
        )
    rates = (report["close_rate"], report["on_time_rate"], report["satisfaction_rate"])
    return out, _area(rates, esc)


def _from_days(conn: Connection, period: Period) -> tuple[list[UnitScore], dict[str, float | None]]:
    """``_counted`` for the city, summed over the days' roll-ups. The scores use no figure
    that changes with the clock alone, so nothing is counted over the cases."""
    unit = day_report.DIMS["by_unit"]
    sums = day_report.day_sums(conn, period, [unit], medians=False)
    found = sorted(
        (key, base)
        for (dim, key), (base, _) in sums.items()
        if dim == unit and key != day_report.NO_KEY and (base["total"] or base["stages"])
    )
    out = []
    for code, base in found:
        close_rate, on_time_rate, satisfaction_rate = (
            reports.rates(base) if base["total"] else (None, None, None)
        )
        out.append(
            UnitScore(
                unit=code,
                cases_total=base["total"],
                close_rate=close_rate,
                on_time_rate=on_time_rate,
                satisfaction_rate=satisfaction_rate,
                stages=base["stages"],
                escalations=base["moved_up"],
            )
        )
    city = sums.get((day_report.ALL, day_report.NO_KEY))
    rates = reports.rates(city[0]) if city and city[0]["total"] else (None, None, None)
    return out, _area(rates, day_report.escalations_of(sums))


def _area(
    rates: tuple[float | None, float | None, float | None], esc: dict[str, tuple[int, int]]
) -> dict[str, float | None]:
    all_stages = sum(s for s, _ in esc.values())
    return {
        "close_rate": rates[0],
        "on_time_rate": rates[1],
        "satisfaction_rate": rates[2],
        "escalation_rate": (sum(m for _, m in esc.values()) / all_stages) if all_stages else None,
    }


def rank_ties(ranked: list[UnitScore]) -> None:
    """Standard competition ranking of units sorted best first: an equal score (to the one
    decimal shown) shares the rank, and the next rank skips."""
    prev: float | None = None
    for i, u in enumerate(ranked, 1):
        shown = round(u.score or 0.0, 1)
        if shown != prev:
            u.rank, prev = i, shown
        else:
            u.rank = ranked[i - 2].rank


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


def from_dict(d: dict[str, Any]) -> UnitScore:
    """The score ``stored`` (or ``as_dict``, in a snapshot written before) wrote; its derived
    figures are computed again."""
    return UnitScore(**{k: d[k] for k in _FIELDS if k in d})


#: what a snapshot keeps of a period's score: the fields, not the figures computed from them
#: (the escalation rate, the changes) nor the period before's (``with_change`` adds it when
#: read): a month of Shangrao is 12,000 of them, read twice by every view of the assessment
_STORED = tuple(f for f in _FIELDS if f not in ("prev_score", "prev_rank"))


def stored(u: UnitScore) -> dict[str, Any]:
    """The score as a snapshot keeps it (``from_dict`` reads it back)."""
    return {k: getattr(u, k) for k in _STORED}


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
