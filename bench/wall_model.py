"""The wall's model with 超期件 by tier (issue 10) against the model before it, in one run.

A simulated city's published deltas are recorded once, then replayed through both models in
alternating runs: the model of this checkout and the model at ``--before`` (a commit, read
with ``git show`` into a module of its own). Each replay applies every message and, every
``--frame`` messages, computes what a frame reads (``kpi``, the areas' loads and the stuck
ranking), as the live bridge does. Also the map's SVG, before (fills only) and after (fills,
tooltips, links, township names), in bytes and in time to draw.

    python -m bench.wall_model [--days 4] [--pairs 3] [--before 351e1d3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from backend.bus.live import parse_live_message
from backend.queries.live import WallSnapshot
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.store.refload import city_map
from bench.common import TZ, fresh_system, machine
from layouts.svg import map_svg, project_city
from layouts.wall import MAP_OPEN, area_href, map_tip

ROOT = Path(__file__).resolve().parent.parent


def model_at(commit: str) -> ModuleType:
    """``backend/live/wall.py`` as it was at ``commit``, as a module of its own."""
    text = subprocess.run(
        ["git", "show", f"{commit}:backend/live/wall.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="gw-wall-before-")) / "wall_before.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("wall_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wall_before"] = module
    spec.loader.exec_module(module)
    return module


def record(days: int) -> tuple[Any, datetime, list[tuple[int, list[dict[str, Any]]]]]:
    """Simulate ``days`` of the small city and keep every live message, in order."""
    start = datetime(2026, 11, 16, 0, 0, tzinfo=TZ)
    system = fresh_system("sqlite", start=start)
    clock: Any = system.clock
    sim = CitySimulator(system.ref, system.tz, SimConfig(cases_per_grid_per_day=3.0, seed=5))
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    seq0 = system.publisher.last_seq()
    messages: list[tuple[int, list[dict[str, Any]]]] = []
    t = start
    while t < start + timedelta(days=days):
        run_fast(system.engine, sim, t, t + timedelta(hours=2), clock=clock)
        t += timedelta(hours=2)
        while (msg := pubsub.get_message(timeout=0.05)) is not None:
            messages.append(parse_live_message(msg["data"]))
    pubsub.close()
    return system, start, [(seq0, [])] + messages


def replay(
    module: Any, tz: Any, start: datetime, messages: list[Any], frame: int
) -> tuple[float, dict[str, Any]]:
    """Seconds to apply every message and read a frame every ``frame`` messages."""
    model = module.WallModel(tz)
    model.load(WallSnapshot(messages[0][0], start, [], []))
    t0 = time.perf_counter()
    now = start
    for i, (seq, deltas) in enumerate(messages[1:], start=1):
        ok = model.apply(seq, deltas)
        assert ok, "a message was missed in the recording"
        if deltas:
            now = max(now, module._dt(deltas[-1].get("updated_at")) or now)
        if i % frame == 0:
            model.kpi()
            model.area_load("grid")
            model.stuck_units(now, 6)
    return time.perf_counter() - t0, model.kpi()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--frame", type=int, default=20, help="messages per frame read")
    ap.add_argument("--before", default="351e1d3")
    args = ap.parse_args()
    before = model_at(args.before)
    import backend.live.wall as after

    system, start, messages = record(args.days)
    deltas = sum(len(d) for _s, d in messages)
    print(f"{machine()}; {len(messages)} messages, {deltas} deltas over {args.days} days")
    times: dict[str, list[float]] = {"before": [], "after": []}
    for pair in range(args.pairs):
        order = [("before", before), ("after", after)]
        if pair % 2:
            order.reverse()  # alternate which runs first
        for name, module in order:
            seconds, k = replay(module, system.tz, start, messages, args.frame)
            times[name].append(seconds)
        print(
            f"pair {pair + 1}: before {times['before'][-1]:.3f} s, after {times['after'][-1]:.3f} s"
        )
    b, a = statistics.median(times["before"]), statistics.median(times["after"])
    ratios = sorted(x / y for x, y in zip(times["after"], times["before"], strict=True))
    print(
        f"median: before {b:.3f} s, after {a:.3f} s; after/before per pair: median "
        f"{statistics.median(ratios):.3f} (range {ratios[0]:.3f}–{ratios[-1]:.3f})"
    )
    lo_b, lo_a = min(times["before"]), min(times["after"])
    print(f"fastest: before {lo_b:.3f} s, after {lo_a:.3f} s, after/before {lo_a / lo_b:.3f}")
    print(f"超期件 open at the end: {k['overdue_cases_open']}, overdue now: {k['overdue']}")

    # the map: fills only (before) against fills, tooltips, links and names (after)
    with system.db.connect() as conn:
        _name, geo = city_map(conn)
    ref = system.ref
    shapes = project_city(geo, {c: len(g) for c, g in ref.grids_by_area.items()})
    colours = [MAP_OPEN[1]] * len(shapes.shapes)
    plain = shapes.__class__(shapes.shapes, shapes.borders, shapes.width, shapes.height)
    runs = 200
    t0 = time.perf_counter()
    for _ in range(runs):
        svg_before = map_svg(plain, colours)
    t1 = time.perf_counter()
    for _ in range(runs):
        titles = [map_tip(s.name, s.code, 3, 1) for s in shapes.shapes]
        svg_after = map_svg(shapes, colours, titles, [area_href(s.code) for s in shapes.shapes])
    t2 = time.perf_counter()
    mb, ma = (t1 - t0) / runs * 1000, (t2 - t1) / runs * 1000
    sb, sa = len(svg_before.encode()), len(svg_after.encode())
    print(
        f"map SVG: before {sb} B in {mb:.2f} ms, after {sa} B in {ma:.2f} ms "
        f"({sa / sb:.2f}× the bytes, {ma / mb:.2f}× the time)"
    )
    system.db.dispose()


if __name__ == "__main__":
    main()
