"""A Shangrao year (about 1.4 million cases) through the engine on the simulated clock.

    python -m bench.shangrao_year [--days 365] [--step-minutes 30] [--backend sqlite|postgres]

The simulator (12,000 grids, 0.32 cases per grid per day: Shangrao's 1.4 million a year) hands
its commands to the engine in batches, one per simulated step, and the clock ticks after each
step. Printed: simulated days, cases, events, wall time; and, as a baseline from the same run,
the wall time the simulator alone needs to generate the same arrivals.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from backend.runtime import tune_gc
from backend.simrun import FastRunStats, run_fast
from backend.simulator import CitySimulator, SimConfig
from bench.common import TZ, fresh_system, machine


def generator_only(system: Any, start: datetime, end: datetime, step: timedelta) -> float:
    """Seconds the simulator needs just to generate the arrivals (no engine)."""
    sim = CitySimulator(system.ref, system.tz, SimConfig())
    t0 = time.perf_counter()
    t = start
    while t < end:
        sim.arrivals(t, min(end, t + step))
        t += step
    return time.perf_counter() - t0


def main() -> None:
    tune_gc()  # as the gridwatch processes run (backend/runtime.py)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=float, default=365)
    ap.add_argument("--step-minutes", type=float, default=30)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = ap.parse_args()
    start = datetime(2026, 1, 1, tzinfo=TZ)
    end = start + timedelta(days=args.days)
    step = timedelta(minutes=args.step_minutes)
    system = fresh_system(args.backend, city="shangrao", start=start)
    sim = CitySimulator(system.ref, system.tz, SimConfig())
    last = [0.0]

    def progress(t: datetime, s: FastRunStats) -> None:
        if s.wall_seconds - last[0] >= 10:
            last[0] = s.wall_seconds
            print(
                f"  {t:%Y-%m-%d}  {sim.stats.created:>9,} cases  {s.events:>10,} events  "
                f"{s.wall_seconds:7.0f}s  {s.events / s.wall_seconds:8,.0f} ev/s",
                file=sys.stderr,
                flush=True,
            )

    stats = run_fast(
        system.engine,
        sim,
        start,
        end,
        step=step,
        clock=system.clock,  # type: ignore[arg-type]
        progress=progress,
    )
    gen = generator_only(system, start, end, step)
    print(
        json.dumps(
            {
                "bench": "shangrao_year",
                "backend": args.backend,
                "machine": machine(),
                "sim_days": args.days,
                "step_minutes": args.step_minutes,
                "cases": sim.stats.created,
                "commands": stats.commands,
                "refused": stats.refused,
                "events": stats.events,
                "wall_s": round(stats.wall_seconds, 1),
                "events_per_s": round(stats.events / stats.wall_seconds),
                "generator_only_s": round(gen, 1),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
