"""The leader desk on a streaming replica: its interactions' latency reading the primary
(the baseline) beside reading the replica, while the engine writes at a steady rate on the
primary, and the replica's lag meanwhile.

    REDIS_URL=redis://127.0.0.1:6379/13 python -m bench.read_replica \\
        [--cases 100000] [--rate 50] [--repeat 30] [--runs 3]

A private primary and replica are started on loopback ports with the shipped
``deploy/postgres/`` files (tests/pgreplica.py), the small city is filled by
``bench.bulkgen`` on the primary and replayed by the replica. Two web processes' apps are
served in this process, one with the leader desk on the primary (no ``DATABASE_READ_URL``),
one on the replica; each interaction is one HTTP round trip of its Dash callback (as
bench/drill_latency.py times them), the two apps asked in turn with the same filters, so
both see the same load. Meanwhile a writer applies ``--rate`` new cases a second through
the engine on the primary, and the replica's lag (``backend/store/replica.py``, measured
every 100 ms, uncached) is sampled. Each run prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.domain.commands import create_command
from backend.store.db import make_engine
from backend.store.models import cases
from backend.store.replica import replay_lag
from backend.system import System
from bench.bulkgen import load
from bench.common import TZ, fresh_system, machine
from bench.drill_latency import DashClient
from bench.session import bench_cookie
from dashboard.app import create_app
from tests.browser import serving
from tests.pgreplica import primary_and_replica, wait_replayed

END = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * len(xs)) - 1))]


def _ms(xs: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(1000 * statistics.median(xs), 1),
        "p95_ms": round(1000 * _pct(xs, 0.95), 1),
    }


class Writer(threading.Thread):
    """``rate`` new cases a second through the engine on the primary, in batches of ten."""

    def __init__(self, system: System, rate: float) -> None:
        super().__init__(name="bench-writer", daemon=True)
        self.system, self.rate = system, rate
        self.stop = threading.Event()
        self.written = 0
        grids = sorted(system.ref.grids)
        cats = sorted(c for c, i in system.ref.categories.items() if not i.major)
        self.bodies = [
            {"category": cats[i % len(cats)], "description": "基准新增", "channel": "hotline"}
            | {"grid": grids[i * 7 % len(grids)]}
            for i in range(100)
        ]

    def run(self) -> None:
        every = 10 / self.rate
        next_at = time.monotonic()
        i = 0
        while not self.stop.is_set():
            batch = [create_command(self.bodies[(i + k) % 100]) for k in range(10)]
            self.written += len(self.system.engine.apply(batch).results)
            i += 10
            next_at += every
            self.stop.wait(max(0.0, next_at - time.monotonic()))


class LagSampler(threading.Thread):
    """The replica's lag every 100 ms, asked of the replica itself (no cache)."""

    def __init__(self, url: str) -> None:
        super().__init__(name="bench-lag", daemon=True)
        self.engine = make_engine(url)
        self.stop = threading.Event()
        self.samples: list[float] = []

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.wait(0.1):
                self.samples.append(replay_lag(conn)[1])
                conn.rollback()  # a fresh snapshot (and now()) each time
        self.engine.dispose()


def interactions(towns: list[str]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(name, callback output, the values of each request) of the leader's interactions."""
    lang = {"leader-lang.data": "zh"}
    filters = [""] + [f"?area={t}" for t in towns]

    def fl(extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [{"leader-filters.data": q, **lang, **(extra or {})} for q in filters]

    first = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "in_stage", "sort": "desc"}]}
    by_risk = {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "risk", "sort": "desc"}]}
    rows = "stuck-grid.getRowsResponse"
    return [
        ("overview figures", "kpi-open.children", fl()),
        ("stuck table, longest in stage", rows, fl({"stuck-grid.getRowsRequest": first})),
        ("stuck table, by risk", rows, fl({"stuck-grid.getRowsRequest": by_risk})),
        ("bottlenecks: dwell by tier", "chart-dwell-tier.figure", fl()),
    ]


def one_run(clients: dict[str, DashClient], towns: list[str], repeat: int) -> list[dict[str, Any]]:
    out = []
    for name, output, variants in interactions(towns):
        times: dict[str, list[float]] = {k: [] for k in clients}
        for v in variants[:2]:  # warm-up
            for c in clients.values():
                c.call(output, v)
        for i in range(repeat):
            order = list(clients.items())
            if i % 2:  # neither always goes first
                order.reverse()
            for k, c in order:
                times[k].append(c.call(output, variants[i % len(variants)]))
        row: dict[str, Any] = {"interaction": name, "n": repeat}
        for k, xs in times.items():
            row[k] = _ms(xs)
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=50.0, help="new cases a second on the primary")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ["REDIS_URL"] = redis_url
    with primary_and_replica() as (primary, replica):
        t0 = time.monotonic()
        filler = fresh_system("postgres", "small", start=END, pg_url=primary.url)
        load(filler, args.cases, END, seed=1)
        filler.dispose()
        gen_s = time.monotonic() - t0

        def system(read_url: str | None) -> System:
            settings = Settings(
                DATABASE_URL=primary.url,
                DATABASE_READ_URL=read_url,
                REDIS_URL=redis_url,
                GRIDWATCH_REDIS_PREFIX=f"gwbench-rr-{uuid.uuid4().hex[:8]}",
            )
            return System(settings, ManualClock(END))

        on_primary, on_replica, writer_sys = system(None), system(replica.url), system(None)
        replayed_s = wait_replayed(on_primary.db, on_replica.read_db, timeout=300)
        with on_primary.db.connect() as conn:
            towns = [
                r[0]
                for r in conn.execute(
                    select(cases.c.township_code)
                    .group_by(cases.c.township_code)
                    .order_by(func.count().desc())
                    .limit(5)
                )
            ]
        systems = {"primary": on_primary, "replica": on_replica}
        apps = {k: create_app(s) for k, s in systems.items()}
        try:
            with serving(apps["primary"]) as url_p, serving(apps["replica"]) as url_r:
                cookies = {k: bench_cookie(s, "leader") for k, s in systems.items()}
                clients = {
                    k: DashClient(url, apps[k], cookies[k])
                    for k, url in (("primary", url_p), ("replica", url_r))
                }
                for run in range(1, args.runs + 1):
                    writer, sampler = Writer(writer_sys, args.rate), LagSampler(replica.url)
                    started = time.monotonic()
                    writer.start()
                    sampler.start()
                    rows = one_run(clients, towns, args.repeat)
                    writer.stop.set()
                    sampler.stop.set()
                    writer.join()
                    sampler.join()
                    took = time.monotonic() - started
                    lag = sampler.samples
                    print(
                        json.dumps(
                            {
                                "bench": "read_replica",
                                "run": run,
                                "machine": machine(),
                                "load": [round(x, 2) for x in os.getloadavg()],
                                "cases": args.cases,
                                "generated_s": round(gen_s, 1),
                                "replayed_s": round(replayed_s, 2),
                                "write_rate": round(writer.written / took, 1),
                                "seconds": round(took, 1),
                                "lag_samples": len(lag),
                                "lag_p50_ms": round(1000 * statistics.median(lag), 1),
                                "lag_p99_ms": round(1000 * _pct(lag, 0.99), 1),
                                "lag_max_ms": round(1000 * max(lag), 1),
                                "interactions": rows,
                            },
                            ensure_ascii=False,
                        ),
                        flush=True,
                    )
        finally:
            for app in apps.values():
                app.state.bridge.stop()
                app.state.leader.stop()
            for s in (on_primary, on_replica, writer_sys):
                keys = list(s.redis.scan_iter(match=f"{s.settings.key_prefix}:*"))
                if keys:
                    s.redis.delete(*keys)
                s.dispose()


if __name__ == "__main__":
    main()
