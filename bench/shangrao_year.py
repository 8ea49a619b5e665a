"""A Shangrao year (about 1.4 million cases) through the engine on the simulated clock.

    python -m bench.shangrao_year [--days 365] [--step-minutes 30] [--backend sqlite|postgres]
                                  [--engines 2]

The simulator (12,000 grids, Shangrao's profile: 0.32 cases per grid per day, 1.4 million a
year; backend/sim/profiles.py) hands its commands to the engine in batches, one per simulated
step, and the clock ticks after each step. Printed: simulated days, cases, events, wall time;
and, as a baseline from the same run, the wall time the simulator alone needs to generate the
same arrivals.

With ``--engines K`` the counties are dealt out to K processes. Each simulates its counties
with its own engine, and keeps the clock of its own cases only (``CaseEngine.tick`` with
``counties``); cases never leave their county, so the shards share nothing but the database.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from backend.core.config import Settings
from backend.core.runtime import die_with_parent, exit_on_signals, tune_gc
from backend.sim.profiles import PROFILES, sim_config
from backend.sim.runner import FastRunStats, run_fast
from backend.sim.simulator import CitySimulator
from backend.system import System
from bench.common import TZ, fresh_system, machine, open_system


def generator_only(system: System, start: datetime, end: datetime, step: timedelta) -> float:
    """Seconds the simulator needs just to generate the arrivals (no engine)."""
    sim = CitySimulator(system.ref, system.tz, sim_config(PROFILES["shangrao"]))
    t0 = time.perf_counter()
    t = start
    while t < end:
        sim.arrivals(t, min(end, t + step))
        t += step
    return time.perf_counter() - t0


def simulate_shard(
    system: System,
    start: datetime,
    end: datetime,
    step: timedelta,
    counties: tuple[str, ...] | None,
    label: str = "",
) -> tuple[FastRunStats, int]:
    """Run the simulated city (or the shard of it in ``counties``) through its engine."""
    cfg = dataclasses.replace(sim_config(PROFILES["shangrao"]), counties=counties)
    sim = CitySimulator(system.ref, system.tz, cfg)
    last = [0.0]

    def progress(t: datetime, s: FastRunStats) -> None:
        if s.wall_seconds - last[0] >= 10:
            last[0] = s.wall_seconds
            print(
                f"  {label}{t:%Y-%m-%d}  {sim.stats.created:>9,} cases  {s.events:>10,} events"
                f"  {s.wall_seconds:7.0f}s  {s.events / s.wall_seconds:8,.0f} ev/s",
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
    return stats, sim.stats.created


def _shard_process(
    settings: Settings,
    start: datetime,
    end: datetime,
    step: timedelta,
    counties: tuple[str, ...],
    label: str,
    ready: Any,
    results: Any,
) -> None:
    die_with_parent()  # a shard ends with the benchmark, however that ends
    tune_gc()
    system = open_system(settings, start)
    ready.wait()
    stats, created = simulate_shard(system, start, end, step, counties, label)
    results.put((stats, created))
    system.db.dispose()


def run_sharded(
    system: System, start: datetime, end: datetime, step: timedelta, engines: int
) -> tuple[FastRunStats, int]:
    """The city's counties dealt out to ``engines`` processes, each with its own simulator,
    engine and clock, all writing to the one database (taking turns on SQLite)."""
    counties = sorted({g.county_code for g in system.ref.grids.values()})
    system.redis.ping()  # an embedded server is started here, once, and the shards join it
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(engines + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_shard_process,
            args=(
                system.settings,
                start,
                end,
                step,
                tuple(counties[i::engines]),
                f"[{i}] ",
                ready,
                results,
            ),
            daemon=True,  # ended at the benchmark's exit, not waited for
        )
        for i in range(engines)
    ]
    for p in procs:
        p.start()
    ready.wait()
    t0 = time.perf_counter()
    total = FastRunStats()
    created = 0
    for _ in procs:
        stats, n = results.get()
        total.commands += stats.commands
        total.events += stats.events
        total.refused += stats.refused
        created += n
    total.wall_seconds = time.perf_counter() - t0
    for p in procs:
        p.join()
    return total, created


def main() -> None:
    exit_on_signals()  # SIGTERM and SIGHUP clean up as Ctrl-C does (the embedded Redis)
    tune_gc()  # as the gridwatch processes run (backend/core/runtime.py)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=float, default=365)
    ap.add_argument("--step-minutes", type=float, default=30)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument(
        "--engines", type=int, default=1, help="processes, each with a shard of the counties"
    )
    args = ap.parse_args()
    start = datetime(2026, 1, 1, tzinfo=TZ)
    end = start + timedelta(days=args.days)
    step = timedelta(minutes=args.step_minutes)
    system = fresh_system(args.backend, city="shangrao", start=start)
    if args.engines > 1:
        stats, created = run_sharded(system, start, end, step, args.engines)
    else:
        stats, created = simulate_shard(system, start, end, step, None)
    gen = generator_only(system, start, end, step)
    print(
        json.dumps(
            {
                "bench": "shangrao_year",
                "backend": args.backend,
                "machine": machine(),
                "sim_days": args.days,
                "step_minutes": args.step_minutes,
                "engines": args.engines,
                "cases": created,
                "commands": stats.commands,
                "refused": stats.refused,
                "events": stats.events,
                "wall_s": round(stats.wall_seconds, 1),
                "events_per_s": round(stats.events / stats.wall_seconds),
                "generator_only_s": round(gen, 1),
                # for ``gridwatch report --json`` on the year (bench/city_profiles.py)
                "database": system.settings.effective_database_url,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
