"""Where cases get stuck: dwell-time distributions by tier and by unit, the flows between
tiers, and overdue trends by area, all from ``drill_stages`` (one row per stage).

Distributions come from SQL histograms over the shared dwell bins (``stages.bin_of``), so a
query returns a few hundred rows whatever the number of cases; quantiles are read off the
histogram (within one bin, about ±12% of the value), means are exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from backend.domain import stages as st
from backend.domain.events import StageEnd
from backend.domain.vocabulary import TIER_ORDER
from backend.queries.filters import DrillFilter
from backend.queries.scope import Scope
from backend.refdata.index import RefIndex
from backend.store.models import drill_stages

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
TIERS = tuple(t.value for t in TIER_ORDER)
_EDGES = st.bin_edges_hours() + [st.bin_edges_hours()[-1] * st.BIN_RATIO]
MIN_STAGES_PER_UNIT = 5


def quantile_from_histogram(counts: dict[int, int], q: float) -> float | None:
    """The ``q`` quantile (hours) of a histogram over the dwell bins, interpolated within the
    bin geometrically (bins grow by a fixed ratio), linearly in the first bin."""
    total = sum(counts.values())
    if total == 0:
        return None
    target = q * total
    seen = 0.0
    for b in sorted(counts):
        n = counts[b]
        if n and seen + n >= target:
            frac = (target - seen) / n
            lo, hi = _EDGES[b], _EDGES[b + 1]
            if lo == 0:
                return hi * frac
            return float(lo * (hi / lo) ** frac)
        seen += n
    return _EDGES[max(counts)]


@dataclass(slots=True)
class Distribution:
    key: str
    n: int
    mean_hours: float
    quantiles: dict[float, float | None]

    @property
    def median(self) -> float | None:
        return self.quantiles.get(0.5)


def _distributions(rows: Any) -> dict[str, Distribution]:
    hist: dict[str, dict[int, int]] = defaultdict(dict)
    sums: dict[str, float] = defaultdict(float)
    for key, b, n, total in rows:
        hist[key][int(b)] = int(n)
        sums[key] += float(total or 0.0)
    out = {}
    for key, h in hist.items():
        n = sum(h.values())
        out[key] = Distribution(
            key=key,
            n=n,
            mean_hours=sums[key] / n / 3600 if n else 0.0,
            quantiles={q: quantile_from_histogram(h, q) for q in QUANTILES},
        )
    return out


def _history(f: DrillFilter, ref: RefIndex, scope: Scope) -> list[Any]:
    """The stages the filters and the viewer's scope admit."""
    return [scope.clause(drill_stages), *f.history_clauses(drill_stages, ref)]


def _finished(f: DrillFilter, ref: RefIndex, scope: Scope) -> list[Any]:
    return [drill_stages.c.bin.is_not(None), *_history(f, ref, scope)]


def dwell_by_tier(
    conn: Connection, f: DrillFilter, ref: RefIndex, *, scope: Scope
) -> list[Distribution]:
    """How long finished stages lasted at each tier (the tiers in order)."""
    rows = conn.execute(
        select(
            drill_stages.c.tier,
            drill_stages.c.bin,
            func.count(),
            func.sum(drill_stages.c.dwell_seconds),
        )
        .where(*_finished(f, ref, scope))
        .group_by(drill_stages.c.tier, drill_stages.c.bin)
    ).all()
    found = _distributions(rows)
    return [found[t] for t in TIERS if t in found]


def dwell_by_unit(
    conn: Connection, f: DrillFilter, ref: RefIndex, top: int = 15, *, scope: Scope
) -> list[Distribution]:
    """The units where finished stages lasted longest (by median), with their distributions.

    Units with fewer than ``MIN_STAGES_PER_UNIT`` stages are left out: one slow case is not a
    bottleneck. Candidates are picked by mean in SQL first, so the histogram query returns
    rows for a few dozen units, not for every grid of a large city.
    """
    conds = _finished(f, ref, scope)
    unit = drill_stages.c.unit_code
    candidates = [
        r[0]
        for r in conn.execute(
            select(unit)
            .where(*conds)
            .group_by(unit)
            .having(func.count() >= MIN_STAGES_PER_UNIT)
            .order_by(func.avg(drill_stages.c.dwell_seconds).desc(), unit)
            .limit(top * 3)
        )
    ]
    if not candidates:
        return []
    rows = conn.execute(
        select(unit, drill_stages.c.bin, func.count(), func.sum(drill_stages.c.dwell_seconds))
        .where(*conds, unit.in_(candidates))
        .group_by(unit, drill_stages.c.bin)
    ).all()
    found = _distributions(rows)
    ranked = sorted(found.values(), key=lambda d: (-(d.median or 0.0), d.key))
    return ranked[:top]


@dataclass(slots=True)
class Flows:
    """Sankey nodes and links: intake → tiers (upward moves) → how the stage ended."""

    links: dict[tuple[str, str], int]
    sideways: int  # handed over to the same or a lower tier (not drawn: it would loop)


INTAKE = "intake"
REOPENED = "reopened"
OUTCOMES = {
    StageEnd.COMPLETED.value: "completed",
    StageEnd.CANCELLED.value: "cancelled",
    StageEnd.OPEN.value: "open",
}


def tier_flows(conn: Connection, f: DrillFilter, ref: RefIndex, *, scope: Scope) -> Flows:
    c = drill_stages.c
    first = case((c.stage_no == 1, 1), else_=0)
    rows = conn.execute(
        select(c.tier, c.next_tier, c.end_kind, c.start_event, first, func.count())
        .where(*_history(f, ref, scope))
        .group_by(c.tier, c.next_tier, c.end_kind, c.start_event, first)
    ).all()
    rank = {t: i for i, t in enumerate(TIERS)}
    links: dict[tuple[str, str], int] = defaultdict(int)
    sideways = 0
    for tier, nxt, kind, start, is_first, n in rows:
        n = int(n)
        if is_first:
            links[(INTAKE, tier)] += n
        elif start == "reopened":
            links[(REOPENED, tier)] += n
        if kind in OUTCOMES:
            links[(tier, OUTCOMES[kind])] += n
        elif nxt is not None and rank.get(nxt, -1) > rank.get(tier, -1):
            links[(tier, nxt)] += n
        elif nxt is not None:
            sideways += n
    return Flows(dict(links), sideways)


@dataclass(slots=True)
class Trend:
    """Per area and week: cases reported, and times a deadline passed (超期次数)."""

    weeks: list[date]
    areas: list[str]
    cases: dict[str, list[int]]
    overdue: dict[str, list[int]]


def _week(d: date) -> date:
    return d - timedelta(days=d.weekday())


def overdue_trend(
    conn: Connection, f: DrillFilter, ref: RefIndex, top: int = 8, *, scope: Scope
) -> Trend:
    """Overdue occurrences by area and report week. The city and its counties are broken down
    by township, a township by grid (the ``top`` areas with most overdue)."""
    c = drill_stages.c
    level = ref.area_levels.get(f.area or "", "city")
    key = c.township_code if level in ("city", "county") else c.grid_code
    rows = conn.execute(
        select(
            key,
            c.day,
            func.sum(case((c.stage_no == 1, 1), else_=0)),
            func.sum(case((c.overdue_at.is_not(None), 1), else_=0)),
        )
        .where(*_history(f, ref, scope), key.is_not(None))
        .group_by(key, c.day)
    ).all()
    per_area: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    totals: dict[str, int] = defaultdict(int)
    weeks: set[date] = set()
    for area, day, n_cases, n_over in rows:
        d = day if isinstance(day, date) else date.fromisoformat(str(day))
        w = _week(d)
        weeks.add(w)
        cell = per_area[area][w]
        cell[0] += int(n_cases or 0)
        cell[1] += int(n_over or 0)
        totals[area] += int(n_over or 0)
    ordered = sorted(weeks)
    chosen = sorted(totals, key=lambda a: (-totals[a], a))[:top]
    return Trend(
        weeks=ordered,
        areas=chosen,
        cases={a: [per_area[a][w][0] for w in ordered] for a in chosen},
        overdue={a: [per_area[a][w][1] for w in ordered] for a in chosen},
    )
