"""Engine throughput through the Redis command stream with one or more engine processes
sharing its partitions (each read by one engine under a lease), as ``gridwatch engine`` runs
in production.

    python -m bench.engine_scaleout [--cases 20000] [--engines 1,2] [--backend sqlite|postgres]

Workload: the same as ``bench.engine_throughput``: ``cases`` cases are reported (2 events
each), then accepted, resolved, rated and closed (1 event each), 6 events a case. Each phase's
commands are put on the stream first; then the engines are let go and the phase is timed
until every command is acknowledged (acknowledged means committed in SQL and published).

Baselines in the same run: the raw rate of the same SQL writes and publishes with no engine
(``bench.engine_throughput.run_raw``), and one engine process, against which more engines
are compared. Needs the Redis server of ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``):
several processes must share it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from datetime import datetime, timedelta
from multiprocessing.synchronize import Event
from typing import Any

from sqlalchemy import func, select

from backend.core.config import Settings
from backend.core.runtime import die_with_parent, exit_on_signals, tune_gc
from backend.domain.commands import action_command
from backend.engine.worker import EngineWorker
from backend.store.models import case_events, cases
from bench.common import fresh_system, machine, open_system
from bench.engine_throughput import STEPS, report_commands, run_raw

REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


def engine_process(
    settings: Settings, start: datetime, name: str, batch: int, gate: Event, stop: Event
) -> None:
    """One ``gridwatch engine``: reads the stream while the gate is open. Commands carry their
    own time, so the clock stands still."""
    die_with_parent()  # an engine ends with the benchmark, however that ends
    tune_gc()
    system = open_system(settings, start)
    worker = EngineWorker(system.engine, system.stream, consumer=name, batch_size=batch)
    worker.start()
    last_upkeep = time.monotonic()
    while not stop.is_set():
        if time.monotonic() - last_upkeep >= worker.lease_ms / 3000:
            worker.upkeep()  # keeps the leases and shares the partitions out, as the loop does
            last_upkeep = time.monotonic()
        if gate.wait(0.05):
            worker.step(block_ms=20)
    worker.close()
    system.db.dispose()


def run_engines(backend: str, n: int, batch: int, engines: int) -> dict[str, Any]:
    system = fresh_system(backend)
    settings = system.settings
    stream = system.stream
    ctx = mp.get_context("spawn")
    gate, stop = ctx.Event(), ctx.Event()
    procs = [
        ctx.Process(
            target=engine_process,
            args=(settings, system.clock.now(), f"bench-{i}", batch, gate, stop),
            daemon=True,  # ended at the benchmark's exit, not waited for
        )
        for i in range(engines)
    ]
    for p in procs:
        p.start()
    at = system.clock.now()
    phases: list[list[bytes]] = [[c.to_json() for c in report_commands(system, n, at)]]
    ids: list[int] = []
    busy = 0.0
    time.sleep(3.0)  # every engine process started and warm
    for step_no in range(len(STEPS) + 1):
        if step_no > 0:
            action, params = STEPS[step_no - 1]
            at += timedelta(minutes=30)
            if not ids:  # the cases the first phase reported, the same for every step
                with system.db.connect() as conn:
                    ids = [r[0] for r in conn.execute(select(cases.c.id).order_by(cases.c.id))]
            phases.append(
                [action_command(action, params, case_id=cid, at=at).to_json() for cid in ids]
            )
        stream.add_many(phases[step_no])
        t0 = time.perf_counter()
        gate.set()
        while stream.backlog():
            time.sleep(0.005)
        busy += time.perf_counter() - t0
        gate.clear()
        time.sleep(0.2)
    stop.set()
    for p in procs:
        p.join(timeout=30)
    with system.db.connect() as conn:
        events = conn.execute(select(func.count()).select_from(case_events)).scalar_one()
    dead = len(stream.dead_letters(10_000))
    system.db.dispose()
    return {"engines": engines, "events": events, "seconds": busy, "dead": dead}


def main() -> None:
    exit_on_signals()
    tune_gc()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--engines", default="1,2")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = ap.parse_args()
    os.environ.setdefault("REDIS_URL", REDIS_DEFAULT)
    raw = run_raw(args.backend, args.cases, args.batch)
    runs = [
        run_engines(args.backend, args.cases, args.batch, int(k)) for k in args.engines.split(",")
    ]
    one = next((r for r in runs if r["engines"] == 1), None)
    out = {
        "bench": "engine_scaleout",
        "backend": args.backend,
        "machine": machine(),
        "cases": args.cases,
        "batch": args.batch,
        "raw_events_per_s": round(raw["events_per_s"]),
        "runs": [
            {
                "engines": r["engines"],
                "events": r["events"],
                "dead_letters": r["dead"],
                "events_per_s": round(r["events"] / r["seconds"]),
                "ratio_to_raw": round(r["events"] / r["seconds"] / raw["events_per_s"], 3),
                "speedup_over_one": round(one["seconds"] / r["seconds"], 2) if one else None,
            }
            for r in runs
        ],
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
