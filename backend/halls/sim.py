"""Simulated hall days: staff arriving for their shifts (a few late, one or two absent),
breaks, citizens taking tickets by the hour of the day, windows calling and serving them,
ratings (好差评, now and then a very dissatisfied one), a gathering or a phone at a window, and
a camera that drops out for a while. Each local day is planned from its own seed, so a day
replays the same; the runner hands out what is due as the clock moves."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.core.clock import Clock
from backend.deadlines.workcalendar import WorkCalendar
from backend.halls.events import HallEvent
from backend.halls.hours import local_at
from backend.halls.model import HallData
from backend.halls.stream import HallStream

#: Tickets per window per hour, by local hour (a township hall's day: a morning peak).
ARRIVALS = {8: 2.0, 9: 6.0, 10: 6.5, 11: 4.0, 14: 3.5, 15: 5.0, 16: 4.5, 17: 1.5}
RATING_WEIGHTS = (
    ("very_satisfied", 55),
    ("satisfied", 30),
    ("basic", 10),
    ("dissatisfied", 4),
    ("very_dissatisfied", 1),
)


@dataclass(slots=True)
class HallDayPlan:
    events: list[HallEvent] = field(default_factory=list)


def plan_day(data: HallData, day: date, tz: ZoneInfo, seed: int = 7) -> list[HallEvent]:
    """Every event of every hall on local date ``day``, in time order."""
    rng = random.Random(f"halls:{seed}:{day.isoformat()}")
    base = datetime(day.year, day.month, day.day, tzinfo=tz)
    out: list[HallEvent] = []
    n = 0

    def add(hall: str, type_: str, at: datetime, window: str | None = None, **kw: object) -> None:
        nonlocal n
        n += 1
        out.append(HallEvent(f"sim-{day:%Y%m%d}-{n}", hall, type_, at, window, None, dict(kw)))

    for sh in data.shifts:
        start, end = local_at(base, sh.start, tz), local_at(base, sh.end, tz)
        lapse = rng.random()
        if lapse < 0.01:
            continue  # absent: the shift-start rule will say so
        late = timedelta(minutes=rng.uniform(12, 25)) if lapse < 0.05 else timedelta(0)
        arrive = start - timedelta(minutes=rng.uniform(0, 10)) + late
        add(sh.hall_code, "staff_arrived", arrive, sh.window_code, staff=sh.staff_id)
        if rng.random() < 0.5:  # a break mid-shift
            b = arrive + (end - arrive) * rng.uniform(0.3, 0.7)
            minutes = rng.uniform(5, 12) if rng.random() > 0.05 else rng.uniform(25, 35)
            add(sh.hall_code, "staff_left", b, sh.window_code, staff=sh.staff_id, reason="break")
            add(
                sh.hall_code,
                "staff_arrived",
                b + timedelta(minutes=minutes),
                sh.window_code,
                staff=sh.staff_id,
            )
        if rng.random() < 0.03:
            add(
                sh.hall_code,
                "staff_distracted",
                arrive + timedelta(minutes=rng.uniform(20, 120)),
                sh.window_code,
                staff=sh.staff_id,
                kind=rng.choice(("phone", "asleep")),
            )
        add(
            sh.hall_code,
            "staff_left",
            end + timedelta(minutes=rng.uniform(0, 8)),
            sh.window_code,
            staff=sh.staff_id,
            reason="off",
        )
    values = [v for v, _ in RATING_WEIGHTS]
    weights = [w for _, w in RATING_WEIGHTS]
    opens, closes = local_at(base, "08:30", tz), local_at(base, "17:30", tz)
    lunch = (local_at(base, "12:00", tz), local_at(base, "14:00", tz))
    for w in data.windows:
        times = sorted(
            base + timedelta(hours=hour, minutes=rng.uniform(0, 60))
            for hour, rate in ARRIVALS.items()
            for _ in range(_poisson(rng, rate))
        )
        free = opens
        for t_no, taken in enumerate(times, 1):
            if not opens <= taken < closes or lunch[0] <= taken < lunch[1]:
                continue
            ticket = f"{w.code}{t_no:03d}"
            called = max(taken + timedelta(minutes=rng.uniform(0.5, 3)), free)
            if lunch[0] <= called < lunch[1]:
                called = lunch[1] + timedelta(minutes=rng.uniform(0, 3))
            served = called + timedelta(minutes=rng.uniform(3, 8))
            free = served
            add(w.hall_code, "ticket_taken", taken, w.code, ticket=ticket)
            add(w.hall_code, "ticket_called", called, w.code, ticket=ticket)
            add(w.hall_code, "ticket_served", served, w.code, ticket=ticket)
            if rng.random() < 0.6:
                value = rng.choices(values, weights)[0]
                add(
                    w.hall_code,
                    "rating",
                    served + timedelta(seconds=30),
                    w.code,
                    value=value,
                    ticket=ticket,
                )
    for h in data.halls:
        dark = rng.random() < 0.15  # a camera that drops out for a while today
        drop = base + timedelta(hours=rng.uniform(9, 16))
        back = drop + timedelta(minutes=rng.uniform(8, 20))
        for minute in range(0, 24 * 60, 2):  # cameras run day and night
            at = base + timedelta(minutes=minute)
            if dark and drop <= at < back:
                continue
            add(h.code, "camera_heartbeat", at, camera=f"{h.code}-cam1")
        if rng.random() < 0.08:  # staff gathered chatting
            g = base + timedelta(hours=rng.uniform(9.5, 16))
            add(h.code, "gathering", g, count=rng.randint(3, 4), zone="lobby")
            add(
                h.code, "gathering", g + timedelta(minutes=rng.uniform(4, 8)), count=0, zone="lobby"
            )
    out.sort(key=lambda e: e.at)
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


class HallSimulator:
    """Hands out the planned events that are due, day after day (working days only)."""

    def __init__(self, data: HallData, calendar: WorkCalendar, tz: ZoneInfo, seed: int = 7):
        self.data = data
        self.calendar = calendar
        self.tz = tz
        self.seed = seed
        self._day: date | None = None
        self._plan: list[HallEvent] = []
        self._next = 0

    def due(self, since: datetime, until: datetime) -> Iterator[HallEvent]:
        """Events with ``since < at <= until`` (a day is planned when the clock enters it)."""
        day = until.astimezone(self.tz).date()
        if day != self._day:
            self._day = day
            working = self.calendar.is_working_day(day)
            self._plan = plan_day(self.data, day, self.tz, self.seed) if working else []
            self._next = 0
        while self._next < len(self._plan) and self._plan[self._next].at <= until:
            e = self._plan[self._next]
            self._next += 1
            if e.at > since:
                yield e


def standing(events: list[HallEvent]) -> list[HallEvent]:
    """What of a day so far still stands: each person's latest attendance event, the tickets
    still waiting, each camera's latest heartbeat. A demo started at three in the afternoon
    begins with the halls as they are then, without replaying the morning's alerts."""
    last: dict[tuple[str, ...], HallEvent] = {}
    tickets: dict[tuple[str, str], list[HallEvent]] = {}
    for e in events:
        if e.type in ("staff_arrived", "staff_left"):
            last[(e.hall, str(e.window), str(e.data["staff"]))] = e
        elif e.type == "camera_heartbeat":
            last[(e.hall, str(e.data["camera"]))] = e
        elif e.type.startswith("ticket_"):
            tickets.setdefault((e.hall, str(e.data["ticket"])), []).append(e)
    waiting = [t[0] for t in tickets.values() if len(t) == 1 and t[0].type == "ticket_taken"]
    return sorted([*last.values(), *waiting], key=lambda e: e.at)


class HallSimRunner:
    """A thread putting the simulator's due events on the halls' stream once a second."""

    def __init__(self, sim: HallSimulator, stream: HallStream, clock: Clock) -> None:
        self.sim = sim
        self.stream = stream
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hall-sim", daemon=True)
        self._last: datetime | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def prime(self) -> None:
        """Put the halls as they stand now on the stream (before the processor first ticks)."""
        self._last = self.clock.now()
        local = self._last.astimezone(self.sim.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        so_far = list(self.sim.due(midnight, self._last))
        self.stream.add_many(e.to_json() for e in standing(so_far))

    def _run(self) -> None:
        if self._last is None:
            self.prime()
        last = self._last or self.clock.now()
        while not self._stop.wait(1.0):
            now = self.clock.now()
            self.stream.add_many(e.to_json() for e in self.sim.due(last, now))
            last = now
