"""One clock tick with many open cases of which few are due, at two sizes in the same run.

    python -m bench.tick [--open 1000000] [--due 100] [--rounds 20] [--backend sqlite|postgres]

The database is filled with ``open`` open cases (rows written directly, as the engine would
have left them); ``due`` of them have a reminder due at each of ``rounds`` instants. Each
tick (``CaseEngine.tick``: find, fire reminders, persist, publish) is timed. The same is done
with a tenth of the open cases: the ratio of the two medians shows the tick does not grow
with the number of open cases. The plain index query behind the tick is timed beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta
from typing import Any

from backend.core.runtime import tune_gc
from backend.domain.case import CASE_FIELDS
from backend.system import System
from bench.common import fresh_system, machine, template_case


def fill(system: System, n_open: int, due: int, rounds: int) -> list[Any]:
    """Write ``n_open`` open cases; return the instants at which ``due`` become due each."""
    engine = system.engine
    sql = engine.sql
    grids = sorted(system.ref.grids)
    tmpl = template_case(system)
    start = tmpl.reported_at
    idx = {f: i for i, f in enumerate(CASE_FIELDS)}
    row = sql.case_values(tmpl, CASE_FIELDS)
    far = start + timedelta(days=3650)
    # minutes apart, all before the probe case's own first milestone (hours away)
    instants = [start + timedelta(minutes=1 + k) for k in range(rounds)]
    first = int(tmpl.id or 0) + 1
    batch: list[list[Any]] = []
    due_rows = due * rounds
    conv = sql._dt  # the dialect's timestamp form, as the engine writes it

    def flush() -> None:
        with system.db.begin() as conn:
            cur = conn.connection.cursor()
            cur.executemany(sql.insert_case_sql, batch)
            cur.close()
        batch.clear()

    for i in range(n_open):
        r = list(row)
        cid = first + i
        r[idx["id"]] = cid
        r[idx["ref"]] = f"tick{cid}"
        r[idx["grid_code"]] = grids[i % len(grids)]
        if i < due_rows:
            when = instants[i // due] - timedelta(seconds=1)
        else:
            when = far + timedelta(seconds=i)
        r[idx["next_due_at"]] = conv(when)
        r[idx["reminder_at"]] = conv(when)
        r[idx["next_milestone"]] = "reminder"
        batch.append(r)
        if len(batch) >= 20_000:
            flush()
    if batch:
        flush()
    settle(system)
    return instants


def settle(system: System) -> None:
    """Leave the database as a live one would be, not fresh from a bulk load: statistics and
    the visibility map made (VACUUM ANALYZE), and the load's write-ahead log checkpointed, so
    the ticks do not run into the checkpoint and autovacuum the load itself set off."""
    with system.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if system.db.dialect.name == "postgresql":
            conn.exec_driver_sql("VACUUM ANALYZE cases")
            conn.exec_driver_sql("CHECKPOINT")
        else:
            conn.exec_driver_sql("ANALYZE cases")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def measure(backend: str, n_open: int, due: int, rounds: int) -> dict[str, Any]:
    system = fresh_system(backend)
    t = time.perf_counter()
    instants = fill(system, n_open, due, rounds)
    fill_s = time.perf_counter() - t
    engine = system.engine
    sql = engine.sql
    ticks, queries, fired = [], [], []
    for when in instants:
        with system.db.connect() as conn:
            q0 = time.perf_counter()
            rows = sql.due(conn, when, 2000)
            queries.append((time.perf_counter() - q0) * 1000)
        assert len(rows) == due, (len(rows), due)
        t0 = time.perf_counter()
        res = engine.tick(now=when)
        ticks.append((time.perf_counter() - t0) * 1000)
        fired.append(res.events)
    system.db.dispose()
    assert all(f == due for f in fired), fired
    return {
        "open": n_open,
        "fill_s": round(fill_s, 1),
        "tick_ms_median": round(statistics.median(ticks), 2),
        "tick_ms_max": round(max(ticks), 2),
        "query_ms_median": round(statistics.median(queries), 2),
    }


def main() -> None:
    tune_gc()  # as the gridwatch processes run (backend/core/runtime.py)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--open", type=int, default=1_000_000)
    ap.add_argument("--due", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = ap.parse_args()
    small = measure(args.backend, args.open // 10, args.due, args.rounds)
    large = measure(args.backend, args.open, args.due, args.rounds)
    print(
        json.dumps(
            {
                "bench": "tick",
                "backend": args.backend,
                "machine": machine(),
                "due_per_tick": args.due,
                "small": small,
                "large": large,
                "growth_ratio_10x_open": round(
                    large["tick_ms_median"] / small["tick_ms_median"], 2
                ),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
