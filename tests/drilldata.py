"""Simulated histories for the leader drill-down tests: the real simulator on the real engine."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.core.clock import ManualClock
from backend.drill.projection import refresh_stages
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.system import System
from tests.conftest import local

START = local(2026, 11, 9, 0, 0)  # a Monday


def simulate(
    system: System, clock: ManualClock, days: float = 7, rate: float = 1.0, seed: int = 42
) -> tuple[datetime, datetime]:
    """``days`` of the small city from ``START``; the clock is left at the end. Then the
    stages projection is brought up to date, as the leader's screens would."""
    clock.set(START)
    sim = CitySimulator(system.ref, system.tz, SimConfig(cases_per_grid_per_day=rate, seed=seed))
    end = START + timedelta(days=days)
    run_fast(system.engine, sim, START, end, clock=clock)
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines)
    return START, end
