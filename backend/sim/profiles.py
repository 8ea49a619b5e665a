"""Calibrated demo cities: the figures a person can check against the source reports (seeds/).

Each profile says what a year of the city looks like: how many cases, through which channels,
of which kinds, where they end up, how many close, how citizens rate them, how many go overdue
and climb. The simulator takes its knobs from it (``sim_config``), and ``measure`` reads the
same figures back from a ``gridwatch report --json``, so a run can be held to its profile
(tests/test_city_profiles.py, bench/RESULTS.md "Simulated cities").

Figures marked ``SEED`` are from the reports; the others (``ASSUMED``) are the model's own
and say so, because the reports do not give them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from backend.sim.simulator import CHANNELS, COMMON_CATEGORIES, SimConfig

#: the share of a year's cases still being handled at its end (measured: a 365-day run with
#: no never-closing cases closes all but this share)
YEAR_TAIL = 0.006
SEED = "seed"
ASSUMED = "assumed"


@dataclass(frozen=True, slots=True)
class CityProfile:
    """One demo city's year, as figures; ``sources`` says where each figure comes from."""

    kind: str
    grids: int
    cases_per_year: float
    channel_mix: Mapping[str, float]
    close_rate: float
    satisfaction_rate: float
    #: share of cases by the tier they end at (handled there, or still open there)
    tier_shares: Mapping[str, float]
    #: share of cases that went overdue at one tier or more (DESIGN.md ``overdue_cases``)
    overdue_share: float
    #: share of cases moved up one tier or more (by the clock, a person or a consultation)
    climb_share: float
    policy: str
    sources: Mapping[str, str]
    category_weights: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(dict(COMMON_CATEGORIES))
    )

    @property
    def rate(self) -> float:
        """Cases per grid per day: the simulator's and the demo's default ``--rate``."""
        return self.cases_per_year / self.grids / 365.0


def _mix(pairs: tuple[tuple[str, float], ...]) -> Mapping[str, float]:
    total = sum(w for _, w in pairs)
    return MappingProxyType({k: w / total for k, w in pairs})


#: every figure but cases, grids and close rate is the model's own for Shangrao
_SHANGRAO_SOURCES = MappingProxyType(
    {
        "grids": SEED,  # 全市细划确定了1.2万个网格
        "cases_per_year": SEED,  # 2019 年办结民安民生事件140多万件
        "close_rate": SEED,  # 办结率达98.7%
        "channel_mix": ASSUMED,  # named (网格员巡格, 窗口来访, APP, 网站), not counted
        "category_mix": ASSUMED,
        "tier_shares": ASSUMED,  # 乡镇圈 → 部门圈 → 县级圈, not counted
        "satisfaction_rate": ASSUMED,  # 满意度评价 exists, no figure given
        "overdue_share": ASSUMED,
        "climb_share": ASSUMED,
    }
)
#: the model's own figures (a 365-day run of each city gives them; bench/RESULTS.md): nearly
#: three in four cases end in the grid, and one in ten goes overdue once and climbs
_TIERS_ASSUMED = (("grid", 0.72), ("township", 0.20), ("department", 0.05), ("county", 0.03))
_OVERDUE_ASSUMED = 0.10

PROFILES: Mapping[str, CityProfile] = MappingProxyType(
    {
        # the whole city (seeds/000: 上饶日报 2020-11-23)
        "shangrao": CityProfile(
            kind="shangrao",
            grids=12_000,
            cases_per_year=1_400_000,
            channel_mix=_mix(CHANNELS),
            close_rate=0.987,
            satisfaction_rate=0.95,
            tier_shares=_mix(_TIERS_ASSUMED),
            overdue_share=_OVERDUE_ASSUMED,
            climb_share=_OVERDUE_ASSUMED,
            policy="default",
            sources=_SHANGRAO_SOURCES,
        ),
        # one district of Shangrao (信州区, 100 grids) at Shangrao's rate per grid
        "small": CityProfile(
            kind="small",
            grids=100,
            cases_per_year=1_400_000 / 12_000 * 100,
            channel_mix=_mix(CHANNELS),
            close_rate=0.987,
            satisfaction_rate=0.95,
            tier_shares=_mix(_TIERS_ASSUMED),
            overdue_share=_OVERDUE_ASSUMED,
            climb_share=_OVERDUE_ASSUMED,
            policy="default",
            sources=MappingProxyType(dict(_SHANGRAO_SOURCES) | {"grids": ASSUMED}),
        ),
        # 吉州区 (seeds/002: 井冈山报 2021-11-06): 364 city grids; since the platform went live
        # in September, 180 directly handled matters (网格 八员) and 30 QR reports (码上办) in
        # about 66 days; 99% closed; QR matters due in 5 working days (policies/jizhou.yaml)
        "jizhou": CityProfile(
            kind="jizhou",
            grids=364,
            cases_per_year=210 / 66 * 365,
            channel_mix=_mix((("grid_worker", 180.0), ("qr", 30.0))),
            close_rate=0.99,
            satisfaction_rate=0.95,
            tier_shares=_mix(_TIERS_ASSUMED),
            overdue_share=_OVERDUE_ASSUMED,
            climb_share=_OVERDUE_ASSUMED,
            policy="jizhou",
            sources=MappingProxyType(
                dict(_SHANGRAO_SOURCES) | {"channel_mix": SEED, "grids": SEED}
            ),
        ),
    }
)


def profile_for(kind: str) -> CityProfile | None:
    """The profile of a demo city kind, or None (a city loaded from its own files)."""
    return PROFILES.get(kind)


def sim_config(profile: CityProfile, *, seed: int = 42, rate: float | None = None) -> SimConfig:
    """The simulator's knobs for a profile; ``rate`` (cases per grid per day) overrides.

    Ratings: of the answers not "satisfied" (share n), 40% are "unsatisfied" and reopen the
    case, which is rated again; the last rating counts, so 1 − satisfaction = 0.6 n + 0.4 n²
    (basic answers, and unsatisfied ones answered again with less than satisfied)."""
    miss = 1.0 - profile.satisfaction_rate
    unsatisfied = (-0.6 + (0.36 + 1.6 * miss) ** 0.5) / 0.8
    return SimConfig(
        cases_per_grid_per_day=profile.rate if rate is None else rate,
        seed=seed,
        channels=tuple(profile.channel_mix.items()),
        category_weights=tuple(profile.category_weights.items()),
        # the rest of the open share is the tail: cases reported in the last days of the
        # report's window, not finished yet (about 0.6% of a year)
        never_close_share=max(0.0, 1.0 - profile.close_rate - YEAR_TAIL),
        slow_unit_share=0.1,
        unsatisfied_share=0.4 * unsatisfied,
        basic_share=0.6 * unsatisfied,
    )


def measure(report: Mapping[str, Any], days: float) -> dict[str, Any]:
    """A profile's figures read back from a ``gridwatch report --json`` covering ``days``."""
    total = report["cases_total"] or 0

    def shares(group: str) -> dict[str, float]:
        return {k: v["cases_total"] / total for k, v in report[group].items()} if total else {}

    return {
        "cases_per_year": total * 365.0 / days,
        "channel_mix": shares("by_channel"),
        "category_mix": shares("by_category"),
        "tier_shares": shares("by_tier"),
        "close_rate": report["close_rate"],
        "satisfaction_rate": report["satisfaction_rate"],
        "overdue_share": report["overdue_cases"] / total if total else None,
        "climb_share": report["escalated_cases"] / total if total else None,
    }


def category_mix(profile: CityProfile, categories: Mapping[str, bool]) -> dict[str, float]:
    """The expected share of each category (``categories``: code → major) for the profile:
    its weight, a major matter's cut to 8%, over the sum (as the simulator draws them)."""
    weights = {
        c: profile.category_weights.get(c, 1.0) * (0.08 if major else 1.0)
        for c, major in categories.items()
    }
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}
