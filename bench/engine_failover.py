"""Failover under load: ``gridwatch engine`` processes on one database and Redis, one of them
killed with SIGKILL while every case's life cycle is being applied.

    python -m bench.engine_failover [--cases 5000] [--engines 2] [--backend postgres|sqlite]

Each case is reported, accepted, started, resolved, rated and closed, all by its ref, the
cases' commands interleaved; everything is put on the stream at once. Two runs: one with no
kill (the baseline), one where an engine is killed once a third of the commands are applied.
Printed: how long the killed engine's partitions waited for a new reader (beside the lease
time, which bounds it), how much longer the whole took than the baseline, dead letters
(expected 0), and whether every case's events are in the order sent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from backend.domain.commands import Command, action_command, create_command
from backend.store.models import case_events, cases, processed_commands
from backend.system import System
from bench.common import fresh_system, machine

LIFE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("accept", {}),
    ("start", {}),
    ("resolve", {"reason": "已处置"}),
    ("rate", {"rating": "satisfied"}),
    ("close", {}),
)


def workload(system: System, n: int, start: datetime) -> list[Command]:
    rng = random.Random(7)
    grids = sorted(system.ref.grids)
    cats = sorted(c for c, i in system.ref.categories.items() if not i.major)
    cursor = [0] * n
    live = list(range(n))
    out: list[Command] = []
    while live:
        k = rng.randrange(len(live))
        i = live[k]
        at = start + timedelta(milliseconds=len(out))
        ref = f"fo-{i}"
        if cursor[i] == 0:
            body = {
                "category": cats[i % len(cats)],
                "description": "群众反映噪音扰民",
                "channel": "hotline",
                "grid": grids[i % len(grids)],
            }
            out.append(create_command(body, ref=ref, at=at, actor="bench"))
        else:
            action, params = LIFE[cursor[i] - 1]
            out.append(action_command(action, params, ref=ref, at=at, actor="bench"))
        cursor[i] += 1
        if cursor[i] > len(LIFE):
            live[k] = live[-1]
            live.pop()
    return out


def holders(system: System) -> dict[int, str]:
    out = {}
    for p in range(system.stream.partitions):
        v: Any = system.redis.get(system.keys.lease(p))
        if v is not None:
            out[p] = v.decode().split(":")[0]
    return out


def applied(system: System) -> int:
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(processed_commands)).scalar_one()


def in_order(system: System) -> bool:
    with system.db.connect() as conn:
        rows = conn.execute(
            select(case_events.c.case_id, case_events.c.at)
            .join(cases, cases.c.id == case_events.c.case_id)
            .where(case_events.c.actor == "bench")
            .order_by(case_events.c.case_id, case_events.c.seq)
        ).all()
    seen: dict[int, list[datetime]] = defaultdict(list)
    for cid, at in rows:
        seen[cid].append(at)
    return all(v == sorted(v) for v in seen.values())


def run(backend: str, n: int, engines: int, kill: bool, lease_ms: int) -> dict[str, Any]:
    system = fresh_system(backend)
    s = system.settings
    env = dict(os.environ)
    env.update(
        DATABASE_URL=s.effective_database_url,
        REDIS_URL=s.redis_url or "",
        GRIDWATCH_REDIS_PREFIX=s.key_prefix,
        GRIDWATCH_LEASE_MS=str(lease_ms),
        GRIDWATCH_VAR=str(s.var_dir),
    )
    names = [f"e{i}" for i in range(engines)]
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "engine", "--consumer", name],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in names
    }
    commands = workload(system, n, datetime.now().astimezone() - timedelta(minutes=1))
    while set(holders(system).values()) != set(names):
        time.sleep(0.05)
    handover = None
    try:
        system.stream.add_many(c.to_json() for c in commands)
        t0 = time.perf_counter()
        if kill:
            while applied(system) < len(commands) // 3:
                time.sleep(0.02)
            victim = procs.pop("e0")
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed = time.perf_counter()
            while True:
                h = holders(system)
                if len(h) == system.stream.partitions and "e0" not in h.values():
                    handover = time.perf_counter() - killed
                    break
                time.sleep(0.01)
        while system.stream.backlog():
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            p.wait(30)
    out = {
        "kill": kill,
        "seconds": round(seconds, 2),
        "handover_s": None if handover is None else round(handover, 2),
        "applied": applied(system),
        "commands": len(commands),
        "dead_letters": len(system.stream.dead_letters(10_000)),
        "in_order": in_order(system),
    }
    system.db.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--engines", type=int, default=2)
    ap.add_argument("--lease-ms", type=int, default=3000)
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    args = ap.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    base = run(args.backend, args.cases, args.engines, False, args.lease_ms)
    fail = run(args.backend, args.cases, args.engines, True, args.lease_ms)
    print(
        json.dumps(
            {
                "bench": "engine_failover",
                "backend": args.backend,
                "machine": machine(),
                "engines": args.engines,
                "lease_ms": args.lease_ms,
                "no_kill": base,
                "one_killed": fail,
                "handover_per_lease": round(fail["handover_s"] * 1000 / args.lease_ms, 2),
                "extra_seconds": round(fail["seconds"] - base["seconds"], 2),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
