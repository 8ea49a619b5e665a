"""Walls scoped to their areas, near the wall's limit: 20 screens in 10 townships at 500 events
per second, beside the same 20 screens all on the city's wall, in the same run.

Each screen is scoped in the live fan-out (one bridge per area, frames built from that area's
cases only), so a township's screen is sent its own township's changes. One screen is a real
Chromium, the others speak the websocket protocol (``bench.ws_screen``). Push latency is from
the commit of a batch to the first frame whose open-case count covers it, per screen and
batch, for the batches that touch that screen's area; server CPU is the web process's.

    python -m bench.scoped_walls [--rate 500] [--screens 20] [--areas 10] [--seconds 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections import Counter
from datetime import datetime
from typing import Any

from backend.domain.commands import create_command
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.system import System
from bench.common import TZ, fresh_system, machine
from bench.session import bench_cookie
from bench.wall_latency import (
    Load,
    cpu_seconds,
    latencies,
    open_screens,
    quantiles,
    start_server,
)
from bench.ws_screen import ProtocolScreens


class ScopedLoad(Load):
    """The same load; the open-case count after each batch is kept per township too."""

    def __init__(self, system: System, areas: list[str]) -> None:
        super().__init__(system)
        self.areas = areas
        self.town_of = {g: system.ref.grids[g].township_code for g in self.grids}
        with system.db.connect() as conn:
            now = system.clock.now()
            self.open_in = {
                a: int(kpi(conn, now, TZ, scope=Scope(a, "township"))["open"]) for a in areas
            }

    def run_scoped(self, rate: float, seconds: float) -> dict[str | None, list[tuple[int, float]]]:
        """Marks per area (``None``: the city), as ``Load.run`` gives them for the city."""
        marks: dict[str | None, list[tuple[int, float]]] = {a: [] for a in [None, *self.areas]}
        events = 0
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < seconds:
            due = rate * elapsed - events
            if due >= 1:
                k = max(1, math.ceil(due / 2))
                cmds, towns = [], Counter[str]()
                for _ in range(k):
                    self.n += 1
                    grid = self.grids[self.n % len(self.grids)]
                    towns[self.town_of[grid]] += 1
                    cmds.append(
                        create_command(
                            {
                                "category": self.cats[self.n % len(self.cats)],
                                "description": "基准测试",
                                "channel": "hotline",
                                "grid": grid,
                            }
                        )
                    )
                res = self.system.engine.apply(cmds)
                events += res.events
                self.open += sum(1 for r in res.results if r.ok)
                t_commit = self.recorder.times[-1]
                marks[None].append((self.open, t_commit))
                for town, n in towns.items():
                    if town in self.open_in:
                        self.open_in[town] += n
                        marks[town].append((self.open_in[town], t_commit))
            time.sleep(0.01)
        return marks


def cell(
    system: System, load: ScopedLoad, rate: float, screens: int, seconds: float, scoped: bool
) -> dict[str, Any]:
    areas: list[str | None] = [
        load.areas[i % len(load.areas)] if scoped else None for i in range(screens)
    ]
    searches = [f"?area={a}" if a else "" for a in areas]
    proc, url = start_server(system, "push")
    cookie = bench_cookie(system)
    (browser,) = open_screens(url, cookie, 1, path="/" + searches[0])
    others = ProtocolScreens(url, cookie, screens - 1, searches[1:])
    others.start()
    try:
        time.sleep(6.0)  # every screen connected, every area's bridge made
        cpu0, w0 = cpu_seconds(proc.pid), time.monotonic()
        marks = load.run_scoped(rate, seconds)
        cpu1, w1 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(3.0)
        seen_browser = browser.execute_script("return window.__gw")
    finally:
        browser.quit()
        done = others.finish()
        proc.terminate()
        proc.wait(timeout=20)
    lat = latencies(marks[areas[0]], [seen_browser])
    for area, (seen, _frames, _err) in zip(areas[1:], done, strict=True):
        lat += latencies(marks[area], [seen])
    expected = sum(len(marks[a]) for a in areas)
    server_cpu = 100 * (cpu1 - cpu0) / (w1 - w0)
    return {
        "scoped": scoped,
        "areas": len({a for a in areas}),
        "rate": rate,
        "screens": screens,
        "measured": len(lat),
        "missing": expected - len(lat),
        "errors": [err for _, _, err in done if err],
        **quantiles(lat),
        "server_cpu_pct": round(server_cpu, 1),
        "server_cpu_pct_per_screen": round(server_cpu / screens, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--areas", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
    system = fresh_system("sqlite", start=datetime.now(TZ))
    towns = sorted(c for c, lv in system.ref.area_levels.items() if lv == "township")
    load = ScopedLoad(system, towns[: args.areas])
    print(f"# {machine()}, {datetime.now(TZ):%Y-%m-%d %H:%M}", flush=True)
    ratios = []
    for run in range(args.runs):
        pair = {}
        for scoped in (False, True):  # the city-wide baseline first, in the same run
            pair[scoped] = cell(system, load, args.rate, args.screens, args.seconds, scoped)
            print(json.dumps({"run": run + 1, **pair[scoped]}), flush=True)
        if pair[True]["p99_ms"] and pair[False]["p99_ms"]:
            ratios.append(pair[True]["p99_ms"] / pair[False]["p99_ms"])
    if ratios:
        print(
            json.dumps(
                {
                    "p99_scoped_over_city": [round(r, 2) for r in ratios],
                    "median": round(statistics.median(ratios), 2),
                }
            )
        )


if __name__ == "__main__":
    main()
