"""Tells open hall screens which halls and alerts changed: one Redis subscriber per web process
on the hall processor's channel, started by the first hall screen (a process that shows only
the duty wall never subscribes). A screen woken redraws from SQL, the source of truth, but only
the halls that changed since its last frame: at 240 halls an event a second per window, every
hall reread for every frame was what put the wall seconds behind (bench/RESULTS.md). When the
subscription is lost or the sequence shows a gap, every screen is told everything changed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis

from backend.system import System

log = logging.getLogger(__name__)


@dataclass(eq=False)
class HallWatch:
    """One screen's wake-up call and what changed since it last looked (its event loop's)."""

    loop: asyncio.AbstractEventLoop
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    halls: set[str] | None = None  # None: every hall (a first look, a gap, a reconnect)
    alerts: bool = True

    def mark(self, halls: Iterable[str] | None, alerts: bool) -> None:
        """Runs on ``loop``: note what changed and wake the screen."""
        if halls is None:
            self.halls = None
        elif self.halls is not None:
            self.halls.update(halls)
        self.alerts = self.alerts or alerts
        self.wake.set()

    def take(self) -> tuple[set[str] | None, bool]:
        """What changed since the last call (and forget it): halls (None: all), alerts?"""
        halls, alerts = self.halls, self.alerts
        self.halls, self.alerts = set(), False
        self.wake.clear()
        return halls, alerts

    def everything(self) -> None:
        """The next look rereads every hall and the alerts (a page drawn anew, the ages)."""
        self.halls, self.alerts = None, True

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except TimeoutError:
            return False
        return True


class HallWatcher:
    def __init__(self, system: System) -> None:
        self.system = system
        self._watches: set[HallWatch] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._seq: int | None = None

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

    def notify(self, halls: Iterable[str] | None = None, alerts: bool = True) -> None:
        """Tell every hall screen of this process what changed (None: everything)."""
        with self._lock:
            watches = list(self._watches)
        changed = None if halls is None else tuple(halls)
        for w in watches:
            with contextlib.suppress(RuntimeError):  # its loop has closed
                w.loop.call_soon_threadsafe(w.mark, changed, alerts)

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
                self._seq = None
                self.notify()  # (re)subscribed: whatever happened meanwhile, look again
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg is not None:
                        self._told(msg["data"])
            except (redis.RedisError, OSError) as exc:
                log.info("hall watch lost Redis (%s); reconnecting", exc)
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        pubsub.close()

    def _told(self, data: Any) -> None:
        """One message of the processor (``{"seq", "halls", "alerts"}``) or of an answer given
        on a screen (``{"answer": true}``); anything unreadable or out of sequence: all."""
        try:
            body = orjson.loads(data)
            seq = body.get("seq")
            halls = [str(h) for h in body.get("halls", [])]
            alerts = bool(body.get("alerts")) or bool(body.get("answer"))
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            self.notify()
            return
        if isinstance(seq, int):
            gap = self._seq is not None and seq != self._seq + 1
            self._seq = seq
            if gap:
                self.notify()
                return
        self.notify(halls, alerts)
