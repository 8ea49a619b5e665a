"""The live bridge of one area's wall, fanned out to every screen that shows it.

Fed by the process's one subscriber (``dashboard.live_feed``), it keeps one ``WallModel``
current for its scope and, at most every ``frame_interval``, turns what changed into a
*frame*: component id → new props, with ``Patch`` for the ticker; the intake chart is redrawn
as an image (``layouts.svg``), and the map is sent whole once, then as the areas whose colour
or tooltip changed (``WALL_MAP_PAINT``, painted in place by ``assets/live.js``): a city's map
is most of the bytes a screen would otherwise be sent. Every screen of the area gets the same
frames, so the cost of a change is paid once per area, not per screen. The numbers (tiles,
funnel) ride in the frame's pulse, as one JSON text, and ``assets/live.js`` writes them into
their elements; see ``wall_numbers``.

Resync rules, all in this one place:

- on (re)subscribing to Redis (the feed's), and whenever the sequence shows a gap, the model
  is reloaded from SQL *after* subscribing, so nothing committed in between is lost; versions
  make repeats harmless;
- at local midnight the "today" figures start again from SQL;
- a new screen gets the full view first; a screen too slow to keep up with its queue is sent
  one catch-up frame instead of the frames it missed: the present value of every component
  that changed since the last frame it was sent, and nothing else (the map, say, only if it
  changed meanwhile).

While Redis is unreachable the screens are told the link is down ("reconnecting"), and the
feed keeps trying; when it is back, the reload brings every figure back to SQL.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from dash import Patch
from plotly.io.json import to_json_plotly as to_json  # what Dash encodes its messages with

from backend.live.wall import WallModel
from backend.queries.live import wall_snapshot
from backend.queries.scope import Scope
from backend.system import System
from dashboard import live_trace
from dashboard.live_feed import LiveFeed
from layouts import ids
from layouts.plain import plain
from layouts.svg import CityMap, data_uri, map_svg
from layouts.wall import (
    STUCK_SHOWN,
    TICKER_SHOWN,
    area_href,
    intake_chart,
    map_colour,
    map_tip,
    stuck_rows,
    ticker_item,
    typical_load,
    wall_numbers,
)

log = logging.getLogger(__name__)

Props = dict[str, dict[str, Any]]
#: Seconds over which changes are coalesced into one frame (``GRIDWATCH_WALL_FRAME_MS``). A
#: change waits up to this long for its frame, most of a screen's p99 at high rates
#: (bench/wall_latency.py legs). With a frame sent as one message that carries its own
#: acknowledgement (callbacks/wall.py ``send_frame``), 60 ms frames cost a screen no more than
#: the 100 ms frames of before, for about 0.57 of their p99 (bench/RESULTS.md, 2026-12-04,
#: evening: 500 events/s × 20 screens on a quiet machine).
FRAME_INTERVAL = 0.06
TICKER_PER_FRAME = 6
#: Seconds after which the map, ranking and chart are redrawn even when nothing happened.
STALE_HEAVY = 60.0


@dataclass(slots=True)
class Frame:
    number: int
    full: bool
    props: Props
    #: its ``set_props`` payloads as JSON text, made once for every screen (``payloads``)
    texts: list[str] | None = None

    def payloads(self) -> list[str]:
        """One JSON text per prop, as Dash's ``set_props`` message carries it: encoded by the
        first screen that sends the frame, and only spliced by the others."""
        if self.texts is None:
            self.texts = [
                to_json({"componentId": key, "props": {prop: value}})
                for key, props in self.props.items()
                for prop, value in props.items()
            ]
        return self.texts


@dataclass(eq=False)
class Screen:
    """One connected wall; its frames are handed over on its own event loop."""

    loop: asyncio.AbstractEventLoop
    limit: int = 50
    after: int = 0  # frames up to this number are already in what the screen was sent
    sent: int = 0  # the number of the last frame handed to the browser (see ``catch_up``)
    queue: deque[Frame] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    behind: bool = False
    #: the order in which the screen connected to its bridge (for ``dashboard.live_trace``)
    number: int = 0

    def push(self, frame: Frame) -> None:
        """Runs on ``loop``. A screen that falls ``limit`` frames behind is resent in full."""
        if frame.number <= self.after:
            return
        if len(self.queue) >= self.limit:
            self.queue.clear()
            self.behind = True
        else:
            self.queue.append(frame)
        self.wake.set()

    async def next(self, timeout: float) -> Frame | None:
        if not self.queue and not self.behind:
            self.wake.clear()
            try:
                # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 that makes a task for
                # every wait, i.e. for every frame of every screen
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
            except TimeoutError:
                return None
        if self.queue:
            return self.queue.popleft()
        return None


@dataclass
class _View:
    """What every screen currently shows, to diff the next frame against."""

    stuck: list[Any] = field(default_factory=list)  # the ranking rows shown
    numbers: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the same, as the JSON text every pulse carries: encoded once per change, not by Dash's
    #: JSON cleaner once per screen per frame (which walks every nested value in Python)
    numbers_json: str = "{}"
    map_colours: list[str] = field(default_factory=list)
    map_load: list[tuple[int, int]] = field(default_factory=list)  # (open, 超期件) per shape
    ticker: list[Any] = field(default_factory=list)  # rendered items, newest first
    ticker_seqs: list[int] = field(default_factory=list)  # the model's seq of each
    ticker_top: int = 0  # the highest seq considered (lines not taken then are skipped)
    intake: tuple[Any, ...] = ()


class LiveBridge:
    """Redis pub/sub → one model → frames → every screen of this web process."""

    def __init__(
        self,
        system: System,
        city: CityMap,
        *,
        scope: Scope | None = None,
        feed: LiveFeed | None = None,
        frame_interval: float = FRAME_INTERVAL,
        pulse_interval: float = 1.0,
        heavy_interval: float = 1.0,
        ticker_interval: float = 0.5,
    ) -> None:
        self.system = system
        self.feed = feed or LiveFeed(system)
        self.city = city
        self.scope = scope or Scope.city()
        self.frame_interval = frame_interval
        self.pulse_interval = pulse_interval
        self.heavy_interval = heavy_interval
        self.ticker_interval = ticker_interval
        self._last_ticker = 0.0
        self._ticker_waiting = False
        self.model = WallModel(system.tz, self.scope)
        self.link_up = False
        self.frames = 0
        self.changes = 0
        self._screens: set[Screen] = set()
        self._connected = 0  # screens ever connected
        self._lock = threading.Lock()
        self._view = _View()
        self._full: Props = {}
        self._changed_at: dict[str, int] = {}  # component id → the last frame that changed it
        self._dirty = True
        self._last_frame = 0.0
        self._last_pulse = 0.0
        self._last_heavy = 0.0
        #: seconds this bridge's heavy redraws run ahead of a whole interval (set by the feed,
        #: so the walls of many areas do not all draw their maps in the same instant)
        self.heavy_phase = 0.0
        self._heavy_once = False
        self._last_change = time.monotonic()
        self._numbers_changed = False
        self._dirty_heavy = False
        self._clock_text = ""
        self._map_seq = 0
        self._map_src = ""

    # ------------------------------------------------------------------ screens (event loop side)

    def connect(self) -> Screen:
        """A new screen: it starts from the full view, then follows the frames."""
        screen = Screen(asyncio.get_running_loop())
        self.feed.join(self)
        with self._lock:
            self._connected += 1
            screen.number = self._connected
            screen.after = self.frames
            screen.queue.append(Frame(self.frames, True, dict(self._full)))
            self._screens.add(screen)
        screen.wake.set()
        return screen

    def disconnect(self, screen: Screen) -> None:
        with self._lock:
            self._screens.discard(screen)

    def catch_up(self, screen: Screen) -> Frame:
        """One frame for a screen that fell behind: the present value of what changed since
        the last frame it was sent. Frames still on their way to its queue are dropped, as
        this one already holds them."""
        with self._lock:
            screen.behind = False
            screen.queue.clear()
            screen.after = self.frames
            since = screen.sent
            props = {k: self._full[k] for k, n in self._changed_at.items() if n > since}
            return Frame(self.frames, False, props)

    @property
    def screens(self) -> int:
        return len(self._screens)

    # ------------------------------------------------------------------ fed by the feed

    def start(self) -> None:
        self.feed.join(self)

    def stop(self) -> None:
        self.feed.leave(self)

    def take(self, seq: int, deltas: list[dict[str, Any]]) -> None:
        """One published message (the feed decoded it once for every bridge)."""
        if not self.model.apply(seq, deltas):
            log.info("live sequence gap or reset at %s: reloading from SQL", seq)
            self.reload()
        self._dirty = True

    def wait(self, now: float) -> float:
        """Seconds until this bridge has a frame to send, for the feed's sleep."""
        if self._dirty:
            return max(0.0, self._last_frame + self.frame_interval - now)
        return self.frame_interval

    def tick(self, now: float) -> None:
        """Send a frame when one is due: changes coalesced over ``frame_interval``, the pulse
        every ``pulse_interval``, the heavy parts when they are waiting."""
        if self.model.needs_reload(self.system.clock.now()):
            self.reload()
        heavy_due = (
            (self._dirty_heavy and now - self._last_heavy >= self.heavy_interval)
            or (self._ticker_waiting and now - self._last_ticker >= self.ticker_interval)
            or now - self._last_heavy >= STALE_HEAVY  # the waits grow with time alone
        )
        if (self._dirty and now - self._last_frame >= self.frame_interval) or (
            now - self._last_pulse >= self.pulse_interval or heavy_due
        ):
            self._dirty = self._dirty or heavy_due
            self._emit()

    def reload(self) -> None:
        now = self.system.clock.now()
        with self.system.db.connect() as conn:
            snap = wall_snapshot(
                conn, self.system.publisher.last_seq, self.scope, now, self.system.tz
            )
        self.model.load(snap)
        self._dirty = True

    def set_link(self, up: bool) -> None:
        changed = up != self.link_up
        self.link_up = up
        if changed or not up:
            self._emit()

    # ------------------------------------------------------------------ frames

    def _emit(self) -> None:
        """Diff the view against what the screens show and hand the changes to every screen.

        Every frame carries the pulse (link state, seconds since the data last changed), which
        runs one small clientside callback per frame. Measured in Chromium, frames that carry
        it are drawn several times faster than frames of bare ``set_props`` (bench/RESULTS.md).
        """
        now = self.system.clock.now()
        mono = time.monotonic()
        hour_turned = self.model.advance(now)  # the chart's window and the waits move on
        heavy = hour_turned or mono - self._last_heavy >= self.heavy_interval
        ready = self.model.loaded  # until the first load there is only the pulse to send
        props = self._changes(now, heavy) if ready and (self._dirty or hour_turned) else {}
        # made plain JSON data once here, not by Dash's encoder once per screen (layouts.plain)
        props = {key: plain(value) for key, value in props.items()}
        if heavy:
            self._last_heavy = mono if self._heavy_once else mono - self.heavy_phase
            self._heavy_once = True
        if props or self._numbers_changed:
            self._last_change = mono
            self._numbers_changed = False
        props[ids.WALL_PULSE] = {
            "data": {
                "link": "live" if self.link_up else "down",
                "since_change": round(mono - self._last_change, 2),
                "frame": self.frames + 1,
                "numbers": self._view.numbers_json,
            }
        }
        clock_text = f"{now.astimezone(self.system.tz):%Y-%m-%d %H:%M:%S}"
        if clock_text != self._clock_text:
            self._clock_text = clock_text
            props[ids.WALL_CLOCK] = {"children": clock_text}
        self._dirty = False
        self._last_frame = self._last_pulse = mono
        with self._lock:
            self.frames += 1
            self._full.update(self._full_view(props))
            for key in props:
                # a screen that connects or catches up is given the whole map instead
                self._changed_at[ids.WALL_MAP if key == ids.WALL_MAP_PAINT else key] = self.frames
            frame = Frame(self.frames, False, props)
            screens = list(self._screens)
        if live_trace.ON:
            live_trace.note("frame", self.scope.area, frame.number, self.model.seq)
        by_loop: dict[asyncio.AbstractEventLoop, list[Screen]] = {}
        for screen in screens:
            by_loop.setdefault(screen.loop, []).append(screen)
        for loop, on_loop in by_loop.items():
            # one wake-up of each event loop for all its screens, not one per screen
            try:
                loop.call_soon_threadsafe(_push_all, on_loop, frame)
            except RuntimeError:  # its loop has closed: its screens are gone
                for screen in on_loop:
                    self.disconnect(screen)

    def _changes(self, now: Any, heavy: bool) -> Props:
        """What changed since the last frame. The tiles, the funnel and the ticker go out in
        every frame; the map, the stuck ranking and the intake chart cost a browser far more
        to redraw, so they go out at most every ``heavy_interval``."""
        m, v = self.model, self._view
        out: Props = {}
        numbers = wall_numbers(m.kpi())
        if numbers != v.numbers:
            v.numbers = numbers
            v.numbers_json = orjson.dumps(numbers).decode()
            self._numbers_changed = True
        if time.monotonic() - self._last_ticker >= self.ticker_interval:
            self._ticker_changes(out)
        elif self.model.ticker_seq > self._view.ticker_top:
            self._ticker_waiting = True  # come back for it
        if heavy:
            self._heavy_changes(now, out)
        else:
            self._dirty_heavy = True
        return out

    def _ticker_changes(self, out: Props) -> None:
        """New ticker lines put in place with a ``Patch``, in time order, newest first (the
        model's order); the oldest fall off the end.

        Each new line is a few components the browser must mount, which costs more than all
        the numbers together, so lines go out every ``ticker_interval``, not every frame.
        """
        m, v = self.model, self._view
        shown = dict(zip(v.ticker_seqs, v.ticker, strict=True))
        # a wall is read by people: a few lines a frame, the newest, however busy the city is
        fresh = [i for i in m.ticker if i.seq > v.ticker_top and i.seq not in shown]
        fresh = fresh[:TICKER_PER_FRAME]
        if fresh:
            lines = shown | {i.seq: self._ticker_item(i) for i in fresh}
            target = [i.seq for i in m.ticker if i.seq in lines][:TICKER_SHOWN]
            out[ids.WALL_TICKER] = {"children": _reorder(v.ticker_seqs, target, lines)}
            v.ticker_seqs = target
            v.ticker = [lines[seq] for seq in target]
        v.ticker_top = max(v.ticker_top, m.ticker_seq)
        self._last_ticker = time.monotonic()
        self._ticker_waiting = False

    def _heavy_changes(self, now: Any, out: Props) -> None:
        m, v, ref = self.model, self._view, self.system.ref
        self._dirty_heavy = False
        stuck = [
            (
                r["unit"],
                ref.units[r["unit"]].name if r["unit"] in ref.units else r["unit"],
                r["open"],
                r["overdue"],
                round(r["mean_seconds"] / 360) * 360.0,  # to the tenth of an hour shown
            )
            for r in m.stuck_units(now, STUCK_SHOWN)
        ]
        if stuck != v.stuck:
            v.stuck = stuck
            out[ids.WALL_STUCK] = {"children": stuck_rows(stuck)}

        shapes = self.city.shapes
        loads = {lvl: m.area_load(lvl) for lvl in {s.level for s in shapes}}
        load = [loads[s.level].get(s.code, (0, 0)) for s in shapes]
        typical = typical_load([(n, s.grids) for (n, _o), s in zip(load, shapes, strict=True)])
        colours = [
            map_colour(n, o, s.grids, typical) for (n, o), s in zip(load, shapes, strict=True)
        ]
        if colours != v.map_colours or load != v.map_load:
            titles = [map_tip(s.name, s.code, n, o) for (n, o), s in zip(load, shapes, strict=True)]
            if v.map_colours:  # the screens have a map: only the areas that changed
                self._map_seq += 1
                changed = [
                    [s.code, colours[i], titles[i]]
                    for i, s in enumerate(shapes)
                    if colours[i] != v.map_colours[i] or load[i] != v.map_load[i]
                ]
                out[ids.WALL_MAP_PAINT] = {"data": {"n": self._map_seq, "areas": changed}}
            # the whole map, for a screen that connects or catches up (not sent to the others)
            links = [area_href(s.code) for s in shapes]
            self._map_src = data_uri(map_svg(self.city, colours, titles, links))
            if not v.map_colours:
                out[ids.WALL_MAP] = {"src": self._map_src}
            v.map_colours = colours
            v.map_load = load

        hours, by_channel = m.intake_by_channel()
        intake = (hours[-1], tuple(sorted((c, tuple(n)) for c, n in by_channel.items())))
        if intake != v.intake:
            v.intake = intake
            out[ids.WALL_INTAKE] = {"src": intake_chart(hours, by_channel, self.system.tz)}

    def _full_view(self, props: Props) -> Props:
        """Fold a frame into the full view a new screen starts from (Patch → whole values)."""
        full: Props = {}
        v = self._view
        for key, value in props.items():
            if key == ids.WALL_TICKER:
                full[key] = {"children": list(v.ticker)}
            elif key == ids.WALL_MAP_PAINT:
                full[ids.WALL_MAP] = {"src": self._map_src}
            else:
                full[key] = value
        return full

    def _ticker_item(self, item: Any) -> Any:
        ref = self.system.ref
        cat = ref.categories.get(item.category)
        unit = ref.units.get(item.unit or "")
        line = ticker_item(
            item,
            (cat.name, cat.name_en) if cat else (item.category, item.category),
            unit.name if unit else "—",
            self.system.tz,
            major=bool(cat and cat.major),
        )
        return plain(line)  # kept as data: sent in many frames, to many screens


def _push_all(screens: list[Screen], frame: Frame) -> None:
    for screen in screens:
        screen.push(frame)


def _reorder(shown: list[int], target: list[int], lines: dict[int, Any]) -> Patch:
    """The Patch that turns the lines ``shown`` into ``target`` (both newest first): lines
    that left are deleted from the bottom up, new ones inserted where their time puts them.
    Lines on both keep their order (the model only inserts), so this ends at ``target``."""
    p = Patch()
    keep = set(target)
    now = list(shown)
    for index in range(len(now) - 1, -1, -1):
        if now[index] not in keep:
            del p[index]
            del now[index]
    for index, seq in enumerate(target):
        if index >= len(now) or now[index] != seq:
            p.insert(index, lines[seq])
            now.insert(index, seq)
    return p
