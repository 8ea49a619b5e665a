"""The halls in a running process: the hall processor (engine side) and, for the demo, the
simulated hall days, started and stopped together."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from backend.halls.processor import HallProcessor
from backend.halls.sim import HallSimRunner, HallSimulator
from backend.halls.stream import HallStream
from backend.system import System


@dataclass
class HallsRunning:
    processor: HallProcessor
    sim: HallSimRunner | None

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        self.processor.stop()


def start_halls(system: System, *, simulate: bool = False) -> HallsRunning:
    runner = None
    if simulate:
        sim = HallSimulator(system.halls, system.calendar, system.tz)
        runner = HallSimRunner(sim, HallStream(system.redis, system.keys), system.clock)
        runner.prime()  # the halls as they stand, before the processor's first tick
    proc = HallProcessor(system)
    threading.Thread(target=proc.run, name="halls", daemon=True).start()
    if runner is not None:
        runner.start()
    return HallsRunning(proc, runner)
