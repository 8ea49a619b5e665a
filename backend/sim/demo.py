"""``gridwatch demo``: the whole system in one process on the embedded default."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from backend.core.clock import ManualClock, ScaledClock, SystemClock
from backend.core.config import load_settings
from backend.domain.case import CaseState
from backend.domain.vocabulary import OPEN_VALUES
from backend.engine.worker import EngineWorker
from backend.halls.run import start_halls
from backend.sim.runner import LiveSimulation, run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.sim.story import DemoStory
from backend.store.db import start_wal_checkpointer
from backend.store.models import cases
from backend.system import System

log = logging.getLogger("gridwatch.demo")


def run_demo(
    *,
    port: int,
    speed: float,
    city: str,
    history_days: float,
    rate: float,
    serve: Callable[[Any, str, int], None],
    story: bool = True,
) -> None:
    settings = load_settings()
    boot = System(settings, SystemClock())
    start_wal_checkpointer(boot.db)
    boot.init(city)
    with boot.db.connect() as conn:
        latest = conn.execute(select(func.max(cases.c.updated_at))).scalar()
    now = SystemClock().now()
    cfg = SimConfig(cases_per_grid_per_day=rate)
    if latest is None and history_days > 0:
        # a city with some history, so the screens have something to show at once
        start = now - timedelta(days=history_days)
        clock = ManualClock(start)
        warm = System(settings, clock)
        sim = CitySimulator(warm.ref, warm.tz, cfg)
        log.info("simulating %.1f days of history…", history_days)
        stats = run_fast(warm.engine, sim, start, now, clock=clock)
        log.info(
            "history: %d cases, %d events in %.1fs",
            sim.stats.created,
            stats.events,
            stats.wall_seconds,
        )
        warm.db.dispose()
        latest = now
    boot.db.dispose()
    begin = max(now, latest or now)
    scaled = ScaledClock(begin, speed)
    system = System(settings, scaled)
    sim = CitySimulator(system.ref, system.tz, cfg)
    with system.db.connect() as conn:
        open_rows = conn.execute(select(cases).where(cases.c.status.in_(OPEN_VALUES))).all()
    sim.observe(CaseState.from_row(r) for r in open_rows)  # pick up where the last run stopped
    worker = EngineWorker(system.engine, system.stream, consumer="demo-engine")
    threading.Thread(target=worker.run, name="engine", daemon=True).start()
    halls = start_halls(system, simulate=True)  # the hall processor and simulated hall days
    live = LiveSimulation(sim, system.stream, scaled, system.keys)
    live.start()
    opening = DemoStory(
        system.engine, system.ref, scaled, unit_speed=sim.unit_speed, hands_off=live.hands_off
    )
    if story:  # the core story on screen within the first minute
        opening.start()
    log.info("demo city live at %.0fx; open http://127.0.0.1:%d/", speed, port)
    first_grid = sorted(system.ref.grids)[0]
    log.info(
        "citizens report by QR code (码上办) at http://127.0.0.1:%d/r/%s (its code: /r/%s/qr.svg);"
        " Open311 at http://127.0.0.1:%d/open311/v2/discovery.json",
        port,
        first_grid,
        first_grid,
        port,
    )
    try:
        serve(system, "127.0.0.1", port)
    finally:
        opening.stop()
        live.stop()
        halls.stop()
        worker.stop()
