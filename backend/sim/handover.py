"""History → live: the live city picks up every case where the history (or the last run) left
it, so each command it sends is a legal step from the case's present state.

The order matters. The simulator listens to the engine's deltas *before* it reads the cases
from SQL, so no change falls between the two (a delta older than the row is ignored by its
version); only then does the engine start ticking, and the simulator start sending.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from backend.core.clock import ScaledClock
from backend.domain.case import CaseState
from backend.engine.worker import EngineWorker
from backend.sim.runner import LiveSimulation
from backend.sim.simulator import CitySimulator
from backend.store.models import cases
from backend.system import System

#: statuses after which nothing more happens to a case
FINAL = ("closed", "cancelled")


@dataclass(slots=True)
class Live:
    """The running live phase: stop it with ``stop()``."""

    worker: EngineWorker
    simulation: LiveSimulation
    carried: int
    engine_thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop sending, then let the engine finish its batch and give its partitions back
        (before the embedded Redis server is shut down at exit)."""
        self.simulation.stop()
        self.worker.stop()
        self.engine_thread.join(timeout)


def settle_for(clock: ScaledClock, worker: EngineWorker) -> timedelta:
    """Simulated time in which the engine's clock surely ticked and its deltas arrived: five of
    its tick intervals at this speed, and never under a simulated minute."""
    return timedelta(seconds=max(60.0, clock.speed * worker.tick_every * 5))


def go_live(
    system: System, sim: CitySimulator, clock: ScaledClock, *, consumer: str = "demo-engine"
) -> Live:
    """Start the engine and the live simulation on ``system`` (whose clock is ``clock``),
    carrying on every case not yet closed or cancelled."""
    worker = EngineWorker(
        system.engine, system.stream, consumer=consumer, lease_ms=system.settings.lease_ms
    )
    sim.settle = settle_for(clock, worker)
    live = LiveSimulation(sim, system.stream, clock, system.keys)
    live.listen()
    with system.db.connect() as conn:
        rows = conn.execute(select(cases).where(cases.c.status.not_in(FINAL))).all()
    live.observe(CaseState.from_row(row) for row in rows)
    engine = threading.Thread(target=worker.run, name="engine", daemon=True)
    engine.start()
    live.produce()
    return Live(worker, live, len(rows), engine)
