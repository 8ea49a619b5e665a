"""Tells open hall screens that halls or alerts changed: one Redis subscriber per web process
on the hall processor's channel, started by the first hall screen (a process that shows only
the duty wall never subscribes). A screen woken redraws from SQL, the source of truth; when
the subscription is lost or the sequence shows a gap, every screen is woken all the same."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field

import redis

from backend.system import System

log = logging.getLogger(__name__)


@dataclass(eq=False)
class HallWatch:
    loop: asyncio.AbstractEventLoop
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except TimeoutError:
            return False
        self.wake.clear()
        return True


class HallWatcher:
    def __init__(self, system: System) -> None:
        self.system = system
        self._watches: set[HallWatch] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def watch(self) -> HallWatch:
        w = HallWatch(asyncio.get_running_loop())
        with self._lock:
            self._watches.add(w)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="hall-watch", daemon=True)
                self._thread.start()
        return w

    def unwatch(self, w: HallWatch) -> None:
        with self._lock:
            self._watches.discard(w)

    def notify(self) -> None:
        """Wake every hall screen of this process (also after an answer given here)."""
        with self._lock:
            watches = list(self._watches)
        for w in watches:
            with contextlib.suppress(RuntimeError):  # its loop has closed
                w.loop.call_soon_threadsafe(w.wake.set)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.system.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.system.keys.hall_live)
                self.notify()  # (re)subscribed: whatever happened meanwhile, look again
                while not self._stop.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        self.notify()
            except (redis.RedisError, OSError) as exc:
                log.info("hall watch lost Redis (%s); reconnecting", exc)
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        pubsub.close()
