"""Drive the simulator: as fast as the machine allows (in-process engine), or live on a scaled
clock through the Redis command stream, reacting to the live deltas like any screen."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.bus.connection import DEFAULT_KEYS, Keys
from backend.bus.live import parse_live_message
from backend.bus.stream import CommandStream
from backend.core.clock import Clock, ManualClock
from backend.engine.case_engine import CaseEngine
from backend.sim.simulator import CitySimulator

log = logging.getLogger("gridwatch.sim")


@dataclass(slots=True)
class FastRunStats:
    sim_days: float = 0.0
    commands: int = 0
    events: int = 0
    refused: int = 0
    wall_seconds: float = 0.0


def run_fast(
    engine: CaseEngine,
    sim: CitySimulator,
    start: datetime,
    end: datetime,
    *,
    step: timedelta = timedelta(minutes=10),
    clock: ManualClock | None = None,
    progress: Callable[[datetime, FastRunStats], None] | None = None,
) -> FastRunStats:
    """Simulate ``[start, end)`` step by step: arrivals and planned actions, then a tick."""
    stats = FastRunStats()
    wall0 = time.perf_counter()
    t = start
    while t < end:
        t1 = min(end, t + step)
        cmds = sim.arrivals(t, t1) + sim.due_actions(t1)
        cmds.sort(key=lambda c: c.at or t1)
        if clock is not None:
            clock.set(t1)
        if cmds:
            res = engine.apply(cmds)
            stats.commands += len(cmds)
            stats.events += res.events
            stats.refused += sum(1 for r in res.results if not r.ok)
            sim.observe(res.cases)
        tick = engine.tick(now=t1, counties=sim.cfg.counties)
        stats.events += tick.events
        sim.observe(tick.cases)
        t = t1
        if progress is not None:
            stats.sim_days = (t - start).total_seconds() / 86400
            stats.wall_seconds = time.perf_counter() - wall0
            progress(t, stats)
    stats.sim_days = (end - start).total_seconds() / 86400
    stats.wall_seconds = time.perf_counter() - wall0
    return stats


class LiveSimulation:
    """The demo's city: commands go on the stream; deltas come back over pub/sub."""

    def __init__(
        self,
        sim: CitySimulator,
        stream: CommandStream,
        clock: Clock,
        keys: Keys = DEFAULT_KEYS,
        interval: float = 0.5,
    ) -> None:
        self.sim = sim
        self.stream = stream
        self.clock = clock
        self.keys = keys
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._subscribed = threading.Event()

    def start(self) -> None:
        """Listen, then produce: nothing the engine publishes from now on goes unseen."""
        self.listen()
        self.produce()

    def listen(self) -> None:
        """Subscribe to the live deltas; returns once the subscription is in place."""
        self._spawn(self._listen)
        self._subscribed.wait(timeout=10)

    def produce(self) -> None:
        """Send arrivals and planned steps from now on."""
        self._spawn(self._produce)

    def observe(self, changed: Iterable[Any]) -> None:
        """Seed the simulator with cases read elsewhere (SQL), beside the listener's deltas."""
        with self._lock:
            self.sim.observe(changed)

    def _spawn(self, target: Callable[[], None]) -> None:
        th = threading.Thread(target=target, name=f"sim-{target.__name__}", daemon=True)
        th.start()
        self._threads.append(th)

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(timeout=5)

    def hands_off(self, case_ids: Iterable[int]) -> None:
        """Cases another driver (the demo's story) carries on: the simulator leaves them."""
        with self._lock:
            self.sim.hands_off(case_ids)

    def _produce(self) -> None:
        last = self.clock.now()
        while not self._stop.wait(self.interval):
            now = self.clock.now()
            with self._lock:
                cmds = self.sim.arrivals(last, now) + self.sim.due_actions(now)
            last = now
            if cmds:
                try:
                    self.stream.add_many(c.to_json() for c in cmds)
                except Exception:
                    log.warning("simulator could not reach Redis; retrying", exc_info=True)

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self.stream.r.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.keys.live)
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation
                self._subscribed.set()
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg and msg["type"] == "message":
                        _seq, deltas = parse_live_message(msg["data"])
                        with self._lock:
                            self.sim.observe(deltas)
                pubsub.close()
            except Exception:
                pubsub.close()
                log.warning("simulator lost the live channel; reconnecting", exc_info=True)
                time.sleep(1)
