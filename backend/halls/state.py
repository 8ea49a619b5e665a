"""A hall's live state, folded from its events: pure, no SQL, no Redis.

Events may arrive late, out of order or twice (the processor drops repeats by id). Each part of
the state is kept so that order does not matter: a person's presence follows their latest event
by its own time, a ticket keeps the time of each stage it reached, a camera its latest heartbeat
and the time it was said to be offline, a count its latest reading. Times are UTC epoch seconds,
so the whole state is plain JSON (stored per hall in ``hall_state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.halls.events import HallEvent

STAFFED, VACANT, BREAK = "staffed", "vacant", "break"
#: Served tickets are kept this long for the average wait, then only counted.
WAIT_WINDOW = 3600.0


@dataclass(slots=True)
class WindowState:
    """One window: who is at it, since when it is staffed / vacant / on break, its tickets."""

    status: str = VACANT
    since: float | None = None  # when the status began (None: not since the day started)
    present: dict[str, float] = field(default_factory=dict)  # staff → arrived at
    seen: dict[str, list[Any]] = field(default_factory=dict)  # staff → [at, "in"|reason]
    distracted: list[Any] | None = None  # [at, kind, staff]
    served: int = 0
    ratings: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "since": self.since,
            "present": self.present,
            "seen": self.seen,
            "distracted": self.distracted,
            "served": self.served,
            "ratings": self.ratings,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> WindowState:
        return cls(
            d.get("status", VACANT),
            d.get("since"),
            dict(d.get("present", {})),
            dict(d.get("seen", {})),
            d.get("distracted"),
            int(d.get("served", 0)),
            dict(d.get("ratings", {})),
        )


@dataclass(slots=True)
class HallState:
    """One hall: its windows, tickets (queue), zones, gathering, cameras, latest snapshots."""

    code: str
    day: str = ""  # the local date the counts are for
    windows: dict[str, WindowState] = field(default_factory=dict)
    #: ticket → {"w": window or None, "t": taken, "c": called, "s": served}
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    zones: dict[str, list[float]] = field(default_factory=dict)  # zone → [count, at]
    gathering: list[float] = field(default_factory=lambda: [0, 0.0, 0.0])  # count, since, at
    cameras: dict[str, dict[str, float | None]] = field(default_factory=dict)
    snapshots: dict[str, list[Any]] = field(default_factory=dict)  # window or "" → [url, at]
    ratings: list[list[Any]] = field(default_factory=list)  # [at, value, window, event id]

    # ------------------------------------------------------------------ reading

    def window(self, code: str) -> WindowState:
        w = self.windows.get(code)
        if w is None:
            w = self.windows[code] = WindowState()
        return w

    def queue(self, window: str | None = None) -> int:
        """Tickets taken and not yet called (at one window, or in the whole hall)."""
        return sum(
            1
            for t in self.tickets.values()
            if t.get("t") is not None
            and t.get("c") is None
            and t.get("s") is None
            and (window is None or t.get("w") == window)
        )

    def average_wait(self, now: float, window: str | None = None) -> tuple[float, int]:
        """Mean wait (seconds) of tickets called in the last hour and of those still waiting,
        and how many tickets that mean is over."""
        total, n = 0.0, 0
        for t in self.tickets.values():
            if window is not None and t.get("w") != window:
                continue
            taken = t.get("t")
            if taken is None:
                continue
            called = t.get("c") or t.get("s")
            if called is None:
                total += max(0.0, now - taken)
                n += 1
            elif now - called <= WAIT_WINDOW:
                total += max(0.0, called - taken)
                n += 1
        return (total / n if n else 0.0), n

    # ------------------------------------------------------------------ folding

    def apply(self, e: HallEvent) -> None:
        """Fold one event in; any order gives the same state once all are in."""
        at = e.at.timestamp()
        if e.snapshot:
            key = e.window or ""
            if key not in self.snapshots or self.snapshots[key][1] <= at:
                self.snapshots[key] = [e.snapshot, at]
        handler = _HANDLERS.get(e.type)
        if handler is not None:
            handler(self, e, at)

    def start_day(self, day: str) -> None:
        """A new local day: the queue, waits and the day's counts start again; who is at
        which window, the cameras and the zones carry over."""
        if self.day == day:
            return
        self.day = day
        self.tickets.clear()
        self.ratings.clear()
        for w in self.windows.values():
            w.served = 0
            w.ratings.clear()

    def prune(self, now: float) -> None:
        """Forget served tickets older than the wait window (the day's counts keep them)."""
        old = [
            k
            for k, t in self.tickets.items()
            if (t.get("s") or t.get("c") or now) < now - WAIT_WINDOW
        ]
        for k in old:
            del self.tickets[k]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "day": self.day,
            "windows": {k: w.to_json() for k, w in self.windows.items()},
            "tickets": self.tickets,
            "zones": self.zones,
            "gathering": self.gathering,
            "cameras": self.cameras,
            "snapshots": self.snapshots,
            "ratings": self.ratings,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HallState:
        return cls(
            code=d["code"],
            day=d.get("day", ""),
            windows={k: WindowState.from_json(v) for k, v in d.get("windows", {}).items()},
            tickets=dict(d.get("tickets", {})),
            zones=dict(d.get("zones", {})),
            gathering=list(d.get("gathering", [0, 0.0, 0.0])),
            cameras=dict(d.get("cameras", {})),
            snapshots=dict(d.get("snapshots", {})),
            ratings=list(d.get("ratings", [])),
        )


def _staff(s: HallState, e: HallEvent, at: float) -> None:
    assert e.window is not None
    w = s.window(e.window)
    staff = str(e.data["staff"])
    last = w.seen.get(staff)
    if last is not None and last[0] > at:
        return  # a later event of this person is already in
    what = "in" if e.type == "staff_arrived" else str(e.data.get("reason", "other"))
    w.seen[staff] = [at, what]
    before = w.status
    if what == "in":
        w.present[staff] = at
    else:
        w.present.pop(staff, None)
    status = STAFFED if w.present else BREAK if what == "break" else VACANT
    if status != before or w.since is None:
        w.status = status
        w.since = at
        if status == STAFFED:
            w.distracted = None


def _ticket(s: HallState, e: HallEvent, at: float) -> None:
    t = s.tickets.setdefault(str(e.data["ticket"]), {"w": None, "t": None, "c": None, "s": None})
    stage = {"ticket_taken": "t", "ticket_called": "c", "ticket_served": "s"}[e.type]
    if t[stage] is None or at < t[stage]:
        t[stage] = at
    if e.window is not None:
        t["w"] = e.window
    if stage == "s" and e.window is not None:
        s.window(e.window).served += 1


def _zone(s: HallState, e: HallEvent, at: float) -> None:
    zone = str(e.data.get("zone", "hall"))
    last = s.zones.get(zone)
    if last is None or last[1] <= at:
        s.zones[zone] = [int(e.data["count"]), at]


def _gathering(s: HallState, e: HallEvent, at: float) -> None:
    count, since, last = s.gathering
    if last > at:
        return
    n = int(e.data["count"])
    if n and not count:
        since = at
    s.gathering = [n, since if n else 0.0, at]


def _distracted(s: HallState, e: HallEvent, at: float) -> None:
    assert e.window is not None
    w = s.window(e.window)
    if w.distracted is None or w.distracted[0] <= at:
        w.distracted = [at, e.data["kind"], e.data.get("staff")]


def _camera(s: HallState, e: HallEvent, at: float) -> None:
    cam = s.cameras.setdefault(str(e.data["camera"]), {"last": None, "offline": None})
    if e.type == "camera_heartbeat":
        if cam["last"] is None or at > cam["last"]:
            cam["last"] = at
        off = cam["offline"]
        if off is not None and at > off:
            cam["offline"] = None
    else:
        last = cam["last"]
        if last is None or at > last:
            off = cam["offline"]
            cam["offline"] = at if off is None else min(off, at)


def _rating(s: HallState, e: HallEvent, at: float) -> None:
    assert e.window is not None
    value = str(e.data["value"])
    w = s.window(e.window)
    w.ratings[value] = w.ratings.get(value, 0) + 1
    s.ratings.append([at, value, e.window, e.id])
    del s.ratings[:-50]  # the latest are enough on screen; SQL has them all


_HANDLERS = {
    "staff_arrived": _staff,
    "staff_left": _staff,
    "ticket_taken": _ticket,
    "ticket_called": _ticket,
    "ticket_served": _ticket,
    "zone_count": _zone,
    "gathering": _gathering,
    "staff_distracted": _distracted,
    "camera_heartbeat": _camera,
    "camera_offline": _camera,
    "rating": _rating,
}
