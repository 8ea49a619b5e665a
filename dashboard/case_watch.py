"""Tells open case pages that their case changed: one Redis subscriber per web process, started
by the first page that watches (a process that only shows the wall never subscribes).

The engine publishes every change on pub/sub (``backend/bus/live.py``); a page that watches case
42 is woken whenever a delta for 42 arrives, and re-reads the case from SQL, the source of
truth. When the subscription is lost or the sequence shows a gap, every page is woken, so
nothing missed stays missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field

import redis

from backend.bus.live import parse_live_message
from backend.system import System

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Watch:
    """One page's interest: the case it shows, woken on its own event loop."""

    loop: asyncio.AbstractEventLoop
    case_id: int | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, timeout: float) -> bool:
        """True if the case changed (or may have) within ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except TimeoutError:
            return False
        self.wake.clear()
        return True


class CaseWatcher:
    def __init__(self, system: System) -> None:
        self.system = system
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._seq = -1

    def watch(self) -> Watch:
        w = Watch(asyncio.get_running_loop())
        with self._lock:
            self._watches.add(w)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="case-watch", daemon=True)
                self._thread.start()
        return w

    def unwatch(self, w: Watch) -> None:
        with self._lock:
            self._watches.discard(w)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _notify(self, case_ids: set[int] | None) -> None:
        with self._lock:
            watches = list(self._watches)
        for w in watches:
            if case_ids is None or w.case_id in case_ids:
                with contextlib.suppress(RuntimeError):  # its loop has closed
                    w.loop.call_soon_threadsafe(w.wake.set)

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.system.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.system.keys.live)
                self._seq = -1
                self._notify(None)  # (re)subscribed: whatever happened meanwhile, look again
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg is None:
                        continue
                    seq, deltas = parse_live_message(msg["data"])
                    gap = self._seq >= 0 and seq != self._seq + 1
                    self._seq = seq
                    self._notify(None if gap else {int(d["id"]) for d in deltas})
            except (redis.RedisError, OSError) as exc:
                log.info("case watch lost Redis (%s); reconnecting", exc)
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        pubsub.close()
