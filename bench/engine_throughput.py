"""Engine throughput (case events per second) beside the raw rate of the same SQL writes and
Redis publishes done without the engine, measured in the same run.

    python -m bench.engine_throughput [--cases 20000] [--batch 1000] [--backend sqlite|postgres]

Workload: ``cases`` cases are reported (reported + dispatched: 2 events each), then accepted,
resolved, rated and closed (1 event each): 6 events a case, in batches of ``batch`` commands.
The raw baseline writes the same rows (cases inserted, then updated; events; processed-command
ids) in the same transactions and publishes the same deltas, from rows prepared beforehand.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timedelta
from typing import Any

from backend.core.runtime import tune_gc
from backend.domain.case import CASE_FIELDS
from backend.domain.commands import Command, action_command, create_command, new_id
from backend.engine.delta import delta
from backend.store.fastsql import EVENT_FIELDS
from backend.system import System
from bench.common import fresh_system, machine, template_case

STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("accept", {}),
    ("resolve", {"reason": "已处置"}),
    ("rate", {"rating": "satisfied"}),
    ("close", {}),
)


def report_commands(system: System, n: int, at: datetime | None = None) -> list[Command]:
    """``n`` reports of the workload, spread over the grids and the general categories."""
    grids = sorted(system.ref.grids)
    cats = sorted(c for c, i in system.ref.categories.items() if not i.major)
    return [
        create_command(
            {
                "category": cats[i % len(cats)],
                "description": "群众反映噪音扰民",
                "channel": "hotline",
                "grid": grids[i % len(grids)],
            },
            at=at,
        )
        for i in range(n)
    ]


def run_engine(backend: str, n: int, batch: int) -> dict[str, Any]:
    """Time only ``engine.apply``: commands are built beforehand, as intake would hand them
    over (the raw baseline's rows are prepared beforehand too)."""
    system = fresh_system(backend)
    clock = system.clock
    engine = system.engine
    events = 0
    busy = 0.0
    ids: list[int] = []
    creates = report_commands(system, n)
    for start in range(0, n, batch):
        t = time.perf_counter()
        res = engine.apply(creates[start : start + batch])
        busy += time.perf_counter() - t
        events += res.events
        ids += [r.case_id for r in res.results if r.case_id is not None]
    for action, params in STEPS:
        clock.advance(timedelta(minutes=30))  # type: ignore[attr-defined]
        cmds = [action_command(action, params, case_id=cid) for cid in ids]
        for start in range(0, n, batch):
            t = time.perf_counter()
            res = engine.apply(cmds[start : start + batch])
            busy += time.perf_counter() - t
            events += res.events
    system.db.dispose()
    return {"events": events, "seconds": busy, "events_per_s": events / busy}


def run_raw(backend: str, n: int, batch: int) -> dict[str, Any]:
    """The same rows written and published with no engine: prepared tuples handed straight to
    the driver with the engine's own bulk statements (executemany; COPY on PostgreSQL) in the
    same transactions, and the same publishes.

    This is the floor the engine is measured against: no validation, state machine, deadline
    arithmetic, loading, diffing or version checks. The keys are the engine's kind too (random
    command ids, each create's also its case's ref): sequential keys would fill the unique
    indexes in order, a cheaper write than the engine's, and not the same SQL work."""
    system = fresh_system(backend)
    engine = system.engine
    sql = engine.sql
    template = template_case(system)  # one real case: the model for every row
    case_t = sql.case_values(template, CASE_FIELDS, copy=True)
    ev_t: dict[str, Any] = {k: None for k in EVENT_FIELDS}
    ev_t.update(case_id=0, seq=0, at=template.reported_at, type="reported", actor="raw")
    ev_row = sql.event_values(ev_t)
    at = sql.case_values(template, ("updated_at",))[0]  # for UPDATE
    at_copy = sql.case_values(template, ("updated_at",), copy=True)[0]  # for write_rows
    upd_cols = ("status", "holder", "status_changed_at", "event_count", "version", "updated_at")
    set_sql = ", ".join(f"{c} = {sql.ph}" for c in upd_cols)
    upd = f"UPDATE cases SET {set_sql} WHERE id = {sql.ph} AND version = {sql.ph}"
    pub = system.publisher
    d_t = delta(template)
    first = int(template.id or 0) + 1
    # every row prepared before the clock starts
    create_batches = []
    for start in range(0, n, batch):
        ids = list(range(first + start, first + min(n, start + batch)))
        # the keys the engine writes: a create's command id, which is also its case's ref
        keys = [new_id() for _ in ids]
        cases_rows = [[cid, key, *case_t[2:]] for cid, key in zip(ids, keys, strict=True)]
        evs = [[cid, s_, *ev_row[2:]] for cid in ids for s_ in (1, 2)]
        done = [(key, at_copy) for key in keys]
        create_batches.append((cases_rows, evs, done, [dict(d_t, id=cid) for cid in ids]))
    step_batches = []
    for step_no in range(len(STEPS)):
        for start in range(0, n, batch):
            ids = list(range(first + start, first + min(n, start + batch)))
            ups = [
                ("accepted", "H1", at, 3 + step_no, 2 + step_no, at, cid, 1 + step_no)
                for cid in ids
            ]
            evs = [[cid, 3 + step_no, *ev_row[2:]] for cid in ids]
            done = [(new_id(), at_copy) for _ in ids]
            step_batches.append((ups, evs, done, [dict(d_t, id=cid) for cid in ids]))
    events = 0
    t0 = time.perf_counter()
    for cases_rows, evs, done, deltas in create_batches:
        with system.db.begin() as conn:
            cur = conn.connection.cursor()
            sql.write_rows(cur, sql.insert_processed_sql, sql.copy_processed_sql, done)
            sql.write_rows(cur, sql.insert_case_sql, sql.copy_case_sql, cases_rows)
            sql.write_rows(cur, sql.insert_event_sql, sql.copy_event_sql, evs)
            cur.close()
        pub.publish(deltas)
        events += len(evs)
    for ups, evs, done, deltas in step_batches:
        with system.db.begin() as conn:
            cur = conn.connection.cursor()
            sql.write_rows(cur, sql.insert_processed_sql, sql.copy_processed_sql, done)
            cur.executemany(upd, ups)
            sql.write_rows(cur, sql.insert_event_sql, sql.copy_event_sql, evs)
            cur.close()
        pub.publish(deltas)
        events += len(evs)
    wall = time.perf_counter() - t0
    system.db.dispose()
    return {"events": events, "seconds": wall, "events_per_s": events / wall}


def main() -> None:
    tune_gc()  # as the gridwatch processes run (backend/core/runtime.py)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = ap.parse_args()
    raw = run_raw(args.backend, args.cases, args.batch)
    eng = run_engine(args.backend, args.cases, args.batch)
    out = {
        "bench": "engine_throughput",
        "backend": args.backend,
        "machine": machine(),
        "cases": args.cases,
        "batch": args.batch,
        "raw_events_per_s": round(raw["events_per_s"]),
        "engine_events_per_s": round(eng["events_per_s"]),
        "ratio": round(eng["events_per_s"] / raw["events_per_s"], 3),
        "engine_events": eng["events"],
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
