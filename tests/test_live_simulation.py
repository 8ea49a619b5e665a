"""The demo's live path end to end on a real Redis: simulator → command stream → engine worker
→ SQL → pub/sub deltas → the simulator reacts, on a scaled clock."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from backend.core.clock import ScaledClock
from backend.engine.worker import EngineWorker
from backend.sim.runner import LiveSimulation
from backend.sim.simulator import CitySimulator, SimConfig
from backend.store.models import case_events, cases
from backend.system import System
from tests.conftest import local


def test_the_live_city_flows_through_stream_engine_and_pubsub(settings):
    # 2026-11-23 09:00 local at 3600x: one simulated hour per second
    clock = ScaledClock(local(2026, 11, 23, 9, 0), speed=3600)
    system = System(settings, clock)
    sim = CitySimulator(system.ref, system.tz, SimConfig(cases_per_grid_per_day=4.0, seed=3))
    worker = EngineWorker(system.engine, system.stream, consumer="live-test", tick_every=0.2)
    engine_thread = threading.Thread(target=worker.run, daemon=True)
    engine_thread.start()
    live = LiveSimulation(sim, system.stream, clock, system.keys, interval=0.1)
    live.start()
    try:
        deadline = time.time() + 30
        accepted = 0
        while time.time() < deadline:
            time.sleep(0.5)
            with system.db.connect() as conn:
                accepted = conn.execute(
                    select(func.count())
                    .select_from(case_events)
                    .where(case_events.c.type == "accepted")
                ).scalar_one()
            if accepted >= 5:
                break
    finally:
        live.stop()
        worker.stop()
        engine_thread.join(timeout=10)
    with system.db.connect() as conn:
        n_cases = conn.execute(select(func.count()).select_from(cases)).scalar_one()
    assert n_cases > 10, "arrivals reached the engine through the stream"
    # acceptances only happen when the simulator heard the dispatch over pub/sub
    assert accepted >= 5
    assert worker.stats.dead == 0
    assert clock.now() - local(2026, 11, 23, 9, 0) > timedelta(hours=1)
    system.db.dispose()
