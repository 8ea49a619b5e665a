"""The hall processor: engine-side, it reads the hall events' stream, folds each batch into
the halls' state, stores events and state in one SQL transaction with the alerts they raise or
clear, then tells the screens (pub/sub) and the case engine (create commands).

A clock tick re-evaluates every hall, since time alone opens alerts (a window vacant for five
minutes) and escalates them. One processor runs at a time, under a Redis lease; all it holds in
memory is a copy of what it committed (``hall_state``), read back when it starts.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis
from sqlalchemy import Connection, bindparam, insert, select, update

from backend.halls import alerts
from backend.halls.cases import alert_description, case_command, rating_description
from backend.halls.events import HallEvent, parse_event
from backend.halls.hours import is_open
from backend.halls.model import Shift
from backend.halls.rules import Condition, RulePack, evaluate, load_rules
from backend.halls.state import HallState
from backend.halls.stream import HallStream
from backend.store.models import hall_events, hall_state
from backend.system import System

log = logging.getLogger("gridwatch.halls")


@dataclass(slots=True)
class ProcessorStats:
    events: int = 0
    repeats: int = 0
    batches: int = 0
    cases: int = 0


class HallProcessor:
    def __init__(
        self,
        system: System,
        pack: RulePack | None = None,
        consumer: str | None = None,
        lease_ms: int = 3000,
        tick_every: float = 1.0,
    ) -> None:
        self.system = system
        self.pack = pack or load_rules()
        self.consumer = consumer or f"{socket.gethostname()}-{threading.get_ident()}"
        self.stream = HallStream(system.redis, system.keys)
        self.lease_ms = lease_ms
        self.tick_every = tick_every
        self.states: dict[str, HallState] = {}
        self.stats = ProcessorStats()
        self._shifts: dict[str, list[Shift]] = {}
        self._windows: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._started = False

    # ------------------------------------------------------------------ set-up

    def start(self) -> None:
        """Read the committed state back and join the stream's consumer group."""
        halls = self.system.halls
        self._shifts = {h.code: [] for h in halls.halls}
        for sh in halls.shifts:
            self._shifts.setdefault(sh.hall_code, []).append(sh)
        self._windows = {h.code: [w.code for w in halls.windows_of(h.code)] for h in halls.halls}
        with self.system.db.connect() as conn:
            rows = conn.execute(select(hall_state.c.hall_code, hall_state.c.data)).all()
        self.states = {code: HallState.from_json(data) for code, data in rows}
        for h in halls.halls:
            self.states.setdefault(h.code, HallState(h.code))
        self.stream.ensure_group()
        self._started = True
        pending = self.stream.read(self.consumer, pending=True, block_ms=None)
        if pending:
            self.process(pending)

    # ------------------------------------------------------------------ the loop

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Loop until stopped: hold the lease, apply what comes, tick every second."""
        last_tick = 0.0
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if not self._hold_lease():
                    self._started = False
                    self._stop.wait(self.lease_ms / 3000)
                    continue
                if not self._started:
                    self.start()
                self.step()
                if time.monotonic() - last_tick >= self.tick_every:
                    self.tick()
                    last_tick = time.monotonic()
                backoff = 0.5
            except redis.ConnectionError as exc:  # Redis away, or a Sentinel failover
                log.warning("hall processor: Redis away (%s); retrying in %.1fs", exc, backoff)
                self._started = False
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                log.exception("hall processor failed; retrying in %.1fs", backoff)
                self._started = False
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._release()

    def _hold_lease(self) -> bool:
        r, key = self.system.redis, self.system.keys.hall_lease
        if r.set(key, self.consumer, nx=True, px=self.lease_ms):
            return True
        holder: Any = r.get(key)
        if holder is not None and holder.decode() == self.consumer:
            r.pexpire(key, self.lease_ms)
            return True
        return False

    def _release(self) -> None:
        r, key = self.system.redis, self.system.keys.hall_lease
        holder: Any = r.get(key)
        if holder is not None and holder.decode() == self.consumer:
            r.delete(key)

    def step(self, block_ms: int | None = 100) -> int:
        if not self._started:
            self.start()
        entries = self.stream.read(self.consumer, block_ms=block_ms)
        if entries:
            self.process(entries)
        return len(entries)

    # ------------------------------------------------------------------ one batch

    def process(self, entries: list[tuple[str, bytes]]) -> None:
        events: list[HallEvent] = []
        for _, payload in entries:
            try:
                events.append(parse_event(payload))
            except (ValueError, KeyError, TypeError) as exc:  # checked at the door: a bug
                log.warning("hall event dropped, unreadable: %s (%r)", exc, payload[:200])
        self.apply(events)
        self.stream.ack([eid for eid, _ in entries])

    def apply(self, events: list[HallEvent]) -> None:
        """Store and fold in the events not seen before, evaluate their halls, commit."""
        now = self.system.clock.now()
        day = now.astimezone(self.system.tz).date().isoformat()
        fresh: dict[str, HallEvent] = {}
        for e in events:
            if e.hall in self.states:
                fresh.setdefault(e.id, e)
        with self.system.db.begin() as conn:
            known = _known(conn, list(fresh))
            new = [e for eid, e in fresh.items() if eid not in known]
            self.stats.repeats += len(events) - len(new)
            touched: set[str] = set()
            for e in sorted(new, key=lambda e: e.at):
                s = self.states[e.hall]
                s.start_day(day)
                s.apply(e)
                touched.add(e.hall)
            if new:
                conn.execute(
                    insert(hall_events),
                    [
                        {
                            "id": e.id,
                            "hall_code": e.hall,
                            "window_code": e.window,
                            "type": e.type,
                            "at": e.at,
                            "received_at": now,
                            "data": {**e.data, **({"snapshot": e.snapshot} if e.snapshot else {})},
                        }
                        for e in new
                    ],
                )
            changes = self._evaluate(conn, touched, now)
            self._save(conn, touched, now)
        self.stats.events += len(new)
        self.stats.batches += 1
        cases = self._rating_cases(new) + self._alert_cases(changes.cases, now)
        self._send_cases(cases)
        self._publish(touched, changes.alerts, now)

    def tick(self) -> None:
        """Time alone opens, clears and escalates alerts: every hall, every second."""
        now = self.system.clock.now()
        day = now.astimezone(self.system.tz).date().isoformat()
        changed: set[str] = set()
        for code, s in self.states.items():
            if s.day != day:
                s.start_day(day)
                changed.add(code)
            s.prune(now.timestamp())
        with self.system.db.begin() as conn:
            changes = self._evaluate(conn, set(self.states), now)
            self._save(conn, changed, now)
        self._send_cases(self._alert_cases(changes.cases, now))
        if changes.alerts or changed:
            self._publish(changed, changes.alerts, now)

    # ------------------------------------------------------------------ parts

    def conditions(self, codes: set[str], now: datetime) -> dict[str, list[Condition]]:
        out: dict[str, list[Condition]] = {}
        sys = self.system
        for code in codes:
            hall = sys.halls.hall(code)
            if hall is None:
                continue
            open_now = is_open(hall, now, sys.calendar, sys.tz)
            out[code] = evaluate(
                self.pack,
                hall,
                self._windows.get(code, []),
                self._shifts.get(code, []),
                self.states[code],
                now,
                open_now,
                sys.tz,
            )
        return out

    def _evaluate(self, conn: Connection, codes: set[str], now: datetime) -> alerts.Changes:
        if not codes:
            return alerts.Changes()
        snaps = {c: self.states[c].snapshots for c in codes}
        return alerts.sync(conn, self.pack, self.conditions(codes, now), now, snaps)

    def _save(self, conn: Connection, codes: set[str], now: datetime) -> None:
        """The touched halls' state, in one statement (executemany) for those stored before."""
        if not codes:
            return
        rows = [
            {"c": code, "data": self.states[code].to_json(), "updated_at": now}
            for code in sorted(codes)
        ]
        stored = set(
            conn.execute(
                select(hall_state.c.hall_code).where(hall_state.c.hall_code.in_(list(codes)))
            ).scalars()
        )
        old = [r for r in rows if r["c"] in stored]
        if old:
            conn.execute(
                update(hall_state)
                .where(hall_state.c.hall_code == bindparam("c"))
                .values(data=bindparam("data"), updated_at=bindparam("updated_at")),
                old,
            )
        new = [
            {"hall_code": r["c"], "data": r["data"], "updated_at": now}
            for r in rows
            if r["c"] not in stored
        ]
        if new:
            conn.execute(insert(hall_state), new)

    def _rating_cases(self, new: list[HallEvent]) -> list[Any]:
        out = []
        bad = self.pack.cases.get("on_rating")
        for e in new:
            if e.type != "rating" or e.data.get("value") != bad or not bad:
                continue
            hall = self.system.halls.hall(e.hall)
            if hall is None or e.window is None:
                continue
            out.append(
                case_command(
                    hall=hall,
                    ref=self.system.ref,
                    pack=self.pack,
                    case_ref=f"hall-rating-{e.id}"[:80],
                    description=rating_description(hall, e.window, e.data.get("comment")),
                    source_type="rating",
                    at=e.at,
                )
            )
        return out

    def _alert_cases(self, wanted: list[dict[str, Any]], now: datetime) -> list[Any]:
        out = []
        for w in wanted:
            hall = self.system.halls.hall(w["hall"])
            if hall is None:
                continue
            out.append(
                case_command(
                    hall=hall,
                    ref=self.system.ref,
                    pack=self.pack,
                    case_ref=w["ref"],
                    description=alert_description(hall, w["rule"], None),
                    source_type=f"alert:{w['rule']}",
                    at=now,
                )
            )
        return out

    def _send_cases(self, commands: list[Any]) -> None:
        payloads = [c.to_json() for c in commands if c is not None]
        if payloads:
            self.system.stream.add_many(payloads)
            self.stats.cases += len(payloads)

    def _publish(self, halls: set[str], alert_ids: set[int], now: datetime) -> None:
        r, keys = self.system.redis, self.system.keys
        seq = int(r.incr(keys.hall_live_seq))
        body = {"seq": seq, "halls": sorted(halls), "alerts": sorted(alert_ids)}
        body["at"] = now.isoformat()
        r.publish(keys.hall_live, orjson.dumps(body))


def _known(conn: Connection, ids: list[str]) -> set[str]:
    """Which of ``ids`` are stored already (the same event sent again)."""
    out: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.update(
            r[0] for r in conn.execute(select(hall_events.c.id).where(hall_events.c.id.in_(chunk)))
        )
    return out
