"""How well the overdue risk predicts, on history held back from it: Brier score, AUC and a
calibration table (``backend/drill/riskeval.py``).

    BENCH_PG_URL=postgresql://… python -m bench.risk_eval [--days 28] [--max-tests 50000]
    python -m bench.risk_eval --simulate 21        # a simulated small city, on SQLite

The model is trained on the stages that started before ``until − days`` and scored on the
stages that started after, whose deadline had passed by ``until``, at 0, ¼, ½ and ¾ of their
allowance. ``brier_base_rate`` is the score of predicting the test set's own miss share for
every stage: a bar the model has to clear; ``brier_base_rate_train`` predicts the city's miss
rate as the training data had it (what a predictor without the model would know). With
``--markdown`` it prints the tables for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.drill.projection import refresh_stages
from backend.drill.riskeval import evaluate
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.store.models import case_events
from backend.system import System
from bench.common import TZ, machine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=float, default=28, help="the held-back history, in days")
    ap.add_argument("--max-tests", type=int, default=50_000)
    ap.add_argument("--simulate", type=float, default=None, help="simulate this many days first")
    ap.add_argument("--markdown", action="store_true", help="print RESULTS.md tables too")
    args = ap.parse_args()
    if args.simulate:
        var = Path(tempfile.mkdtemp(prefix="gwrisk-"))
        settings = Settings(
            DATABASE_URL=f"sqlite:///{var / 'risk.db'}",
            GRIDWATCH_VAR=var,
            GRIDWATCH_REDIS_PREFIX=f"gwrisk-{uuid.uuid4().hex[:6]}",
        )
        start = datetime(2026, 10, 5, tzinfo=TZ)
        clock = ManualClock(start)
        system = System(settings, clock)
        system.init("small")
        sim = CitySimulator(system.ref, system.tz, SimConfig(cases_per_grid_per_day=1.0))
        run_fast(system.engine, sim, start, start + timedelta(days=args.simulate), clock=clock)
        refresh_stages(system.db, system.tz, clock.now(), system.deadlines)
        source = f"simulated small city, {args.simulate:g} days, SQLite"
    else:
        url = os.environ.get("BENCH_PG_URL")
        if not url:
            sys.exit("set BENCH_PG_URL to a database filled by bench.bulkgen, or --simulate N")
        system = System(
            Settings(DATABASE_URL=url, GRIDWATCH_REDIS_PREFIX="gwrisk"),
            ManualClock(datetime.now(TZ)),
        )
        source = "bench.bulkgen data, PostgreSQL"
    with system.db.connect() as conn:
        until = conn.execute(select(func.max(case_events.c.at))).scalar_one()
        t = time.perf_counter()
        out = evaluate(conn, until - timedelta(days=args.days), until, max_tests=args.max_tests)
    out.update(
        {
            "bench": "risk_eval",
            "machine": machine(),
            "data": source,
            "held_back_days": args.days,
            "seconds": round(time.perf_counter() - t, 1),
        }
    )
    print(json.dumps(out, ensure_ascii=False))
    if args.markdown:
        print(markdown(out))


def markdown(out: dict[str, Any]) -> str:
    """The Brier scores and the reliability table, the model beside the base rate."""
    lines = [
        "| predictor | Brier | AUC |",
        "| --- | ---: | ---: |",
        f"| the model | **{out['brier']}** | {out['auc']} |",
        f"| base rate as trained ({out['base_rate_train']}) "
        f"| {out['brier_base_rate_train']} | 0.5 |",
        f"| base rate of the test set ({out['missed_share']}) | {out['brier_base_rate']} | 0.5 |",
        "",
        "| predicted band | predictions | mean predicted | observed |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in out["calibration"]:
        lines.append(f"| {r['band']} | {r['n']:,} | {r['predicted']} | {r['observed']} |")
    for r in out["calibration_base_rate_train"]:
        lines.append(
            f"| base rate, {r['band']} | {r['n']:,} | {r['predicted']} | {r['observed']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
