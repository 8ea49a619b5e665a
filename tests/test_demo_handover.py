"""History → live, as the demo does it (backend/sim/handover.py): three days of history at the
rate that once gave forty dead letters, then the first live hour through the Redis command
stream, the engine worker and pub/sub, across local midnight (where the working-day deadlines
fall, and the engine's clock moves many cases at once). Every case the history left unfinished
is carried on through legal steps: not one command is dead-lettered.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from backend.core.clock import ScaledClock
from backend.sim.handover import FINAL, go_live
from backend.sim.profiles import PROFILES, sim_config
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator
from backend.store.models import case_events, cases
from backend.system import System
from tests.conftest import local

#: the history ends half an hour before midnight of a working day (Wednesday)
HANDOVER = local(2026, 11, 25, 23, 30)
SPEED = 240.0  # the first live hour in 15 s


def test_the_first_live_hour_after_the_history_has_no_dead_letter(settings, system, clock):
    cfg = sim_config(PROFILES["small"], rate=2.0, seed=5)
    start = HANDOVER - timedelta(days=3)
    clock.set(start)
    history = CitySimulator(system.ref, system.tz, cfg)
    stats = run_fast(system.engine, history, start, HANDOVER, clock=clock)
    assert stats.refused == 0
    with system.db.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.status).where(cases.c.status.not_in(FINAL)))
        left = {case_id: status for case_id, status in rows}
        last_event = conn.execute(select(func.max(case_events.c.id))).scalar_one()
    states = Counter(left.values())
    # the history leaves cases in every state a step can be taken from
    assert {"dispatched", "accepted", "resolved"} <= set(states), states

    scaled = ScaledClock(HANDOVER, SPEED)
    live_system = System(settings, scaled)
    live = go_live(live_system, CitySimulator(live_system.ref, live_system.tz, cfg), scaled)
    assert live.carried == len(left)
    try:
        while scaled.now() < HANDOVER + timedelta(hours=1):
            time.sleep(0.5)
        live.simulation.stop()
        time.sleep(3)  # the engine applies what was sent
    finally:
        live.stop()
    dead = live_system.stream.dead_letters(1000)
    assert dead == [], [d["error"] for d in dead[:10]]
    assert live.worker.stats.dead == 0
    assert live.worker.stats.commands > 0

    with live_system.db.connect() as conn:
        moved = conn.execute(
            select(case_events.c.case_id, case_events.c.type, case_events.c.actor).where(
                case_events.c.id > last_event
            )
        ).all()
    carried_on = {c for c, _t, actor in moved if c in left and (actor or "").startswith("sim:")}
    # the live city took the next step of many of the cases the history left open ...
    assert len(carried_on) > 0.2 * len(left), (len(carried_on), len(left))
    # ... and the clock moved some at midnight, after which their new holders took them on
    assert any(t == "escalated" or t == "overdue" for _c, t, _a in moved)
    live_system.db.dispose()
