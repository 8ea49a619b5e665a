"""Overdue risk before it happens: for an open case, the probability that its present stage
misses its deadline, from how long similar stages took.

The model is empirical and measures a stage by the share of its own allowance it used,
F = (time with the unit) / (time from the stage's start to its deadline): a case handed over on
a Friday evening has a longer allowance in clock hours and also takes longer, and the share
cancels that out. For every group of similar stages it keeps a life table of F over bins of
5% of the allowance: in each bin, how many stages were completed there (events) and how many
left it some other way or are still open (censored: overdue and moved up by the clock at F = 1,
escalated, reassigned, cancelled). From the table, S(x) = P(F > x) by the actuarial method, and

    P(miss | open for a share x of the allowance so far) = S(1) / S(x)        (1 if x >= 1)

Groups back off when data is thin: the same unit and category, else the same category at the
same tier, else the unit, else the tier, else the whole city: the first with at least
``MIN_AT_RISK`` stages still running at x (``basis`` records which). The category backs off
within its tier because a matter handled in a grid and the same matter handled by a department
take very different times. ``refresh_risk`` writes the probability of every open case to
``drill_case_risk``; ``backend/drill/riskeval.py`` trains on older stages and scores newer ones.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Integer, case, cast, delete, func, insert, select

from backend.domain.events import StageEnd
from backend.domain.vocabulary import OPEN_VALUES, Status
from backend.store.models import cases, drill_case_risk, drill_stages

MIN_AT_RISK = 20
#: a group with fewer similar stages than this is not named as the basis of an estimate
MIN_BASIS = 5
PAST_DUE = "past due"
#: the history the model learns from: recent enough to describe the units as they work now,
#: and a bounded cost however many years the database holds
HISTORY_DAYS = 120
BASES = ("unit+category", "tier+category", "unit", "tier", "city")
STEP = 0.05  # bin width, as a share of the allowance
NB = 41  # bins 0 … 39 cover [0, 2); bin 40 is two allowances and more

Key = tuple[str, str, str]  # unit, tier, category


def frac_bin(share: float) -> int:
    return min(NB - 1, max(0, int(share / STEP)))


@dataclass(slots=True)
class LifeTable:
    """Completions and censorings per bin of F; survival at each bin's upper edge."""

    events: np.ndarray = field(default_factory=lambda: np.zeros(NB))
    censored: np.ndarray = field(default_factory=lambda: np.zeros(NB))
    _surv: np.ndarray | None = None

    def add(self, other: LifeTable) -> None:
        self.events = self.events + other.events
        self.censored = self.censored + other.censored
        self._surv = None

    @property
    def total(self) -> float:
        return float(self.events.sum() + self.censored.sum())

    def at_risk(self, share: float) -> float:
        """Stages still running at ``share`` of their allowance."""
        b = frac_bin(share)
        return float(self.events[b:].sum() + self.censored[b:].sum())

    def survival_edges(self) -> np.ndarray:
        if self._surv is None:
            gone = np.concatenate([[0.0], np.cumsum(self.events + self.censored)[:-1]])
            n = self.total - gone  # entering each bin
            effective = n - self.censored / 2
            with np.errstate(divide="ignore", invalid="ignore"):
                hazard = np.where(effective > 0, self.events / effective, 0.0)
            self._surv = np.cumprod(1 - np.clip(hazard, 0.0, 1.0))
        return self._surv

    def survival(self, share: float) -> float:
        """S(x) = P(F > x), log-linear within a bin."""
        surv = self.survival_edges()
        x = max(0.0, share)
        b = frac_bin(x)
        s_lo = 1.0 if b == 0 else float(surv[b - 1])
        s_hi = float(surv[b])
        frac = min(1.0, (x - b * STEP) / STEP)
        if s_lo <= 0:
            return 0.0
        if s_hi <= 0:
            return s_lo * (1 - frac)
        return float(math.exp(math.log(s_lo) + frac * (math.log(s_hi) - math.log(s_lo))))


@dataclass(slots=True)
class RiskModel:
    by_unit_category: dict[tuple[str, str], LifeTable]
    by_tier_category: dict[tuple[str, str], LifeTable]
    by_unit: dict[str, LifeTable]
    by_tier: dict[str, LifeTable]
    city: LifeTable
    min_at_risk: int = MIN_AT_RISK

    @classmethod
    def from_tables(cls, tables: dict[Key, LifeTable], min_at_risk: int = MIN_AT_RISK) -> RiskModel:
        uc: dict[tuple[str, str], LifeTable] = defaultdict(LifeTable)
        tc: dict[tuple[str, str], LifeTable] = defaultdict(LifeTable)
        units: dict[str, LifeTable] = defaultdict(LifeTable)
        tiers: dict[str, LifeTable] = defaultdict(LifeTable)
        city = LifeTable()
        for (unit, tier, cat), t in tables.items():
            uc[(unit, cat)].add(t)
            tc[(tier, cat)].add(t)
            units[unit].add(t)
            tiers[tier].add(t)
            city.add(t)
        return cls(dict(uc), dict(tc), dict(units), dict(tiers), city, min_at_risk)

    def levels(self, unit: str, tier: str, category: str) -> list[tuple[LifeTable | None, str]]:
        """The groups a stage belongs to, most general first (the order of shrinkage)."""
        return [
            (self.city, BASES[4]),
            (self.by_tier.get(tier), BASES[3]),
            (self.by_unit.get(unit), BASES[2]),
            (self.by_tier_category.get((tier, category)), BASES[1]),
            (self.by_unit_category.get((unit, category)), BASES[0]),
        ]

    def p_miss(self, unit: str, tier: str, category: str, elapsed: float, due: float) -> Estimate:
        """P(the stage is not completed by ``due`` | still open at ``elapsed``), both in
        seconds from the stage's start.

        Each group's own estimate S(1)/S(x) counts as many stages as it had still running
        at x; from the whole city down to the unit and category, each is averaged with the
        one above, weighted ``n : min_at_risk``. A group of 3 stages that all went overdue
        thus moves the estimate a little, never to 100%, and the city's own estimate starts
        from an even prior worth one stage each way (so it is never 0 or 1 either)."""
        if due <= elapsed or due <= 0:
            return Estimate(1.0, PAST_DUE, 0)
        share = elapsed / due
        p = 0.5
        weight = 2.0  # the prior: one stage missed, one met
        basis, n_basis = BASES[4], 0
        for table, name in self.levels(unit, tier, category):
            if table is None:
                continue
            n = table.at_risk(share)
            s_x = table.survival(share)
            if n <= 0 or s_x <= 0:
                continue  # no stage of this group was seen still open this late
            own = min(1.0, max(0.0, table.survival(1.0) / s_x))
            k = weight if name == BASES[4] else float(self.min_at_risk)
            p = (n * own + k * p) / (n + k)
            if n >= MIN_BASIS or name == BASES[4]:
                basis, n_basis = name, int(n)
        return Estimate(p, basis, n_basis)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A probability, the most specific group that weighed in, and how many of its past
    stages were still running at the same share of their allowance (what the screen shows)."""

    p: float
    basis: str
    n: int


# ----------------------------------------------------------------------------- training


Duration = tuple[str, str, str, float, bool]  # unit, tier, category, share F, completed


def tables_from_durations(rows: Iterable[Duration]) -> dict[Key, LifeTable]:
    """(unit, tier, category, F, completed) per stage → one life table per group."""
    ev: dict[Key, np.ndarray] = defaultdict(lambda: np.zeros(NB))
    ce: dict[Key, np.ndarray] = defaultdict(lambda: np.zeros(NB))
    for unit, tier, cat, share, completed in rows:
        (ev if completed else ce)[(unit, tier, cat)][frac_bin(share)] += 1
    return {k: LifeTable(ev[k], ce[k]) for k in set(ev) | set(ce)}


def _share_bin(conn: Connection) -> Any:
    """F's bin in SQL: floor(20·F), capped; PostgreSQL's CAST rounds, SQLite's truncates."""
    c = drill_stages.c
    scaled = c.dwell_seconds / c.due_seconds / STEP
    floored = func.floor(scaled) if conn.dialect.name == "postgresql" else scaled
    return case((scaled >= NB - 1, NB - 1), else_=cast(floored, Integer))


def train(
    conn: Connection,
    now: datetime,
    min_at_risk: int = MIN_AT_RISK,
    history_days: int = HISTORY_DAYS,
) -> RiskModel:
    """The model from the stages of the cases reported in the last ``history_days``, with a
    known deadline: finished ones binned in SQL, open ones censored at the share of their
    allowance used by now."""
    c = drill_stages.c
    completed = c.end_kind == StageEnd.COMPLETED.value
    fb = _share_bin(conn)
    recent = c.day >= (now - timedelta(days=history_days)).date()
    tables: dict[Key, LifeTable] = defaultdict(LifeTable)
    for unit, tier, cat, b, done, n in conn.execute(
        select(c.unit_code, c.tier, c.category, fb, completed, func.count())
        .where(c.bin.is_not(None), c.due_seconds > 0, recent)
        .group_by(c.unit_code, c.tier, c.category, fb, completed)
    ):
        t = tables[(unit, tier, cat)]
        (t.events if done else t.censored)[int(b)] += int(n)
    for unit, tier, cat, started, due in conn.execute(
        select(c.unit_code, c.tier, c.category, c.started_at, c.due_seconds).where(
            c.end_kind == StageEnd.OPEN.value, c.due_seconds > 0, recent
        )
    ):
        share = (now - started).total_seconds() / due
        tables[(unit, tier, cat)].censored[frac_bin(share)] += 1
    return RiskModel.from_tables(dict(tables), min_at_risk)


# ----------------------------------------------------------------------------- open cases


def _deadline_seconds(r: Any) -> float | None:
    """Seconds from the stage's start to its deadline; a paused case as if resumed now."""
    start = r.stage_started_at
    if start is None:
        return None
    if r.status == Status.PAUSED.value and r.budget_seconds is not None:
        return None  # filled in by the caller, who knows ``now``
    if r.due_at is None:
        return None
    return (r.due_at - start).total_seconds()


def predict_open(conn: Connection, model: RiskModel, now: datetime) -> list[dict[str, Any]]:
    """P(miss) of every open case with a running deadline."""
    out = []
    for r in conn.execute(
        select(
            cases.c.id,
            cases.c.unit_code,
            cases.c.tier,
            cases.c.category,
            cases.c.status,
            cases.c.stage_started_at,
            cases.c.due_at,
            cases.c.budget_seconds,
            cases.c.used_seconds,
        ).where(cases.c.status.in_(OPEN_VALUES), cases.c.unit_code.is_not(None))
    ):
        if r.stage_started_at is None:
            continue
        elapsed = max(0.0, (now - r.stage_started_at).total_seconds())
        due = _deadline_seconds(r)
        if r.status == Status.PAUSED.value and r.budget_seconds is not None:
            due = elapsed + max(0.0, r.budget_seconds - (r.used_seconds or 0.0))
        if due is None:
            continue
        est = model.p_miss(r.unit_code, r.tier or "", r.category, elapsed, due)
        out.append(
            {
                "case_id": r.id,
                "p_miss": est.p,
                "basis": est.basis,
                "n_similar": est.n,
                "computed_at": now,
            }
        )
    return out


def refresh_risk(db: Engine, now: datetime) -> int:
    """Retrain on the stages and rewrite every open case's risk; returns how many. The web
    process runs this in a child process (``backend.drill.childjob``), so a model of a large
    city is trained without holding up the screens."""
    with db.connect() as conn:
        model = train(conn, now)
        rows = predict_open(conn, model, now)
    with db.begin() as conn:
        conn.execute(delete(drill_case_risk))
        for i in range(0, len(rows), 5000):
            conn.execute(insert(drill_case_risk), rows[i : i + 5000])
    return len(rows)


# ----------------------------------------------------------------------------- evaluation


def brier(p: Sequence[float], y: Sequence[int]) -> float:
    return float(np.mean((np.asarray(p) - np.asarray(y)) ** 2)) if len(p) else math.nan


def auc(p: Sequence[float], y: Sequence[int]) -> float:
    """Area under the ROC curve: the chance a missed stage scores above a met one (ties ½)."""
    pos = sorted(pi for pi, yi in zip(p, y, strict=True) if yi)
    neg = sorted(pi for pi, yi in zip(p, y, strict=True) if not yi)
    if not pos or not neg:
        return math.nan
    wins = 0.0
    for x in pos:
        lo = bisect.bisect_left(neg, x)
        hi = bisect.bisect_right(neg, x)
        wins += lo + (hi - lo) / 2
    return wins / (len(pos) * len(neg))


def calibration(p: Sequence[float], y: Sequence[int], bins: int = 10) -> list[dict[str, Any]]:
    """Predicted against observed, in ``bins`` equal-width bands of the predicted risk."""
    rows = []
    pa, ya = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        sel = (pa >= lo) & ((pa < hi) if k < bins - 1 else (pa <= hi))
        if sel.any():
            rows.append(
                {
                    "band": f"{lo:.1f}–{hi:.1f}",
                    "n": int(sel.sum()),
                    "predicted": round(float(pa[sel].mean()), 4),
                    "observed": round(float(ya[sel].mean()), 4),
                }
            )
    return rows


@dataclass(slots=True)
class TestStage:
    unit: str
    tier: str
    category: str
    deadline: float  # seconds from start
    duration: float  # seconds until completed, or until it went overdue
    missed: bool


CHECKPOINTS = (0.0, 0.25, 0.5, 0.75)


def score(model: RiskModel, tests: Iterable[TestStage]) -> dict[str, Any]:
    """Predict each test stage at 0, ¼, ½ and ¾ of its allowance (while it was still open)
    and compare with what happened; beside it, two base-rate predictors that know nothing of
    the stage: the city's miss rate as the training data had it (an honest bar), and the test
    set's own miss share (a bar that knows the answer's average)."""
    p: list[float] = []
    y: list[int] = []
    n_basis: list[int] = []
    for t in tests:
        for frac in CHECKPOINTS:
            e = frac * t.deadline
            if t.duration <= e:
                continue  # already completed by then: nothing to predict
            est = model.p_miss(t.unit, t.tier, t.category, e, t.deadline)
            p.append(est.p)
            n_basis.append(est.n)
            y.append(1 if t.missed else 0)
    base = float(np.mean(y)) if y else math.nan
    trained = float(model.city.survival(1.0))  # P(F > 1) at the start: the city's miss rate
    return {
        "predictions": len(p),
        "missed_share": round(base, 4) if y else None,
        "brier": round(brier(p, y), 4) if p else None,
        "brier_base_rate_train": round(brier([trained] * len(y), y), 4) if y else None,
        "base_rate_train": round(trained, 4),
        # the same share predicted for every stage: the score to beat
        "brier_base_rate": round(brier([base] * len(y), y), 4) if y else None,
        "auc": round(auc(p, y), 4) if p else None,
        "max_p": round(max(p), 4) if p else None,
        "median_n_basis": int(np.median(n_basis)) if n_basis else None,
        "calibration": calibration(p, y),
        "calibration_base_rate_train": calibration([trained] * len(y), y),
    }
