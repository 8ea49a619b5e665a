"""One Redis subscriber per web process, for every wall it shows.

A process shows the city's wall and, on demand, the walls of counties and townships: one
``LiveBridge`` per area. They all follow the same pub/sub channel, so one thread here reads
it, decodes each message once and hands it to every bridge (each keeps what its scope
admits), then lets each bridge send the frames that are due. One subscriber and one thread,
however many areas are shown: an area's wall costs its own model and frames, nothing more.
Bridges joined on separate threads fought over the interpreter lock and each decoded every
delta of the city (bench/RESULTS.md, "walls scoped to their areas").

Resync stays with the bridges (``LiveBridge``'s docstring): on (re)subscribing every bridge
reloads from SQL after the subscription is up; a gap reloads the bridge that saw it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Protocol

import redis

from backend.bus.live import parse_live_message
from backend.system import System
from dashboard import live_trace

log = logging.getLogger(__name__)

#: the longest the thread sleeps before it looks at its bridges again
IDLE_WAIT = 0.1


class LiveBridge(Protocol):
    """What the feed needs of a bridge (``dashboard.live_bridge.LiveBridge``)."""

    model: Any  # its WallModel: ``seq`` is the last message it applied
    heavy_interval: float
    heavy_phase: float

    def reload(self) -> None: ...
    def set_link(self, up: bool) -> None: ...
    def take(self, seq: int, deltas: list[dict[str, Any]]) -> None: ...
    def wait(self, now: float) -> float: ...
    def tick(self, now: float) -> None: ...


class LiveFeed:
    """The channel of live deltas → every bridge of this process, on one thread."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.link_up = False
        self._bridges: list[LiveBridge] = []
        self._joining: list[LiveBridge] = []  # added since the thread last looked
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._last_seq_check = 0.0
        self._joined = 0  # bridges ever joined, to spread their heavy redraws

    def join(self, bridge: LiveBridge) -> None:
        """Follow the channel for ``bridge`` too; the thread starts with the first bridge."""
        ending = self.thread
        if ending is not None and self._stop.is_set():
            ending.join(timeout=5)  # the last bridge just left: let that thread end first
        with self._lock:
            if bridge not in self._bridges and bridge not in self._joining:
                self._joining.append(bridge)
            if self.thread is None or not self.thread.is_alive():
                self._stop.clear()
                self.thread = threading.Thread(target=self._run, name="live-feed", daemon=True)
                self.thread.start()

    def leave(self, bridge: LiveBridge) -> None:
        """Stop feeding ``bridge``; the thread ends with the last one."""
        with self._lock:
            if bridge in self._joining:
                self._joining.remove(bridge)
            if bridge in self._bridges:
                self._bridges.remove(bridge)
            last = not self._bridges and not self._joining
            thread = self.thread
        if last:
            self._stop.set()
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.system.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.system.keys.live)
                with self._lock:  # every bridge starts over from SQL, after subscribing
                    self._joining = self._bridges + self._joining
                    self._bridges = []
                self._admit_joining()
                self.link_up = True
                backoff = 0.2
                self._follow(pubsub)
            except (redis.RedisError, OSError) as exc:
                if self.link_up:
                    log.warning("live link lost (%s); reconnecting", exc)
                self._link_down()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:  # keep the screens alive whatever one delta does
                log.exception("live feed failed; starting over from SQL")
                self._link_down()
                self._stop.wait(backoff)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        pubsub.close()

    def _admit_joining(self) -> None:
        """Load the bridges that joined (from SQL, the subscription being up) and feed them.
        One at a time, so a bridge whose load fails is still there to load on the retry."""
        while True:
            with self._lock:
                if not self._joining:
                    return
                bridge = self._joining[0]
            bridge.reload()
            self._joined += 1
            # the golden ratio spreads any number of bridges evenly over the interval
            bridge.heavy_phase = (self._joined * 0.618) % 1.0 * bridge.heavy_interval
            bridge.set_link(True)
            with self._lock:
                if bridge in self._joining:  # it may have left meanwhile
                    self._joining.remove(bridge)
                    self._bridges.append(bridge)

    def _follow(self, pubsub: Any) -> None:
        while not self._stop.is_set():
            if self._joining:
                self._admit_joining()
            with self._lock:
                bridges = list(self._bridges)
            now = time.monotonic()
            wait = min((b.wait(now) for b in bridges), default=IDLE_WAIT)
            msg = pubsub.get_message(timeout=min(wait, IDLE_WAIT))
            while msg is not None:
                seq, deltas = parse_live_message(msg["data"])
                if live_trace.ON:
                    live_trace.note("recv", seq)
                for bridge in bridges:
                    bridge.take(seq, deltas)
                msg = pubsub.get_message(timeout=0)
            now = time.monotonic()
            if now - self._last_seq_check >= 1.0:
                self._last_seq_check = now
                if live_trace.ON:
                    live_trace.flush()
                published = self.system.publisher.last_seq()
                for bridge in bridges:
                    if published < bridge.model.seq:
                        log.info("live sequence went back: Redis started over; reloading")
                        bridge.reload()
            for bridge in bridges:
                bridge.tick(now)

    def _link_down(self) -> None:
        """Tell every bridge's screens; nothing raised here may end the thread."""
        self.link_up = False
        with self._lock:
            bridges = self._bridges + self._joining
        for bridge in bridges:
            try:
                bridge.set_link(False)
            except Exception:
                log.exception("could not tell the screens the link is down")
