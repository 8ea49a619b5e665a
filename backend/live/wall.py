"""The duty officer's wall as numbers, kept current by deltas and exact against the SQL figures.

The wall holds a small entry for every case it needs: open now, reported in the last 24 hours,
or completed today. Every total on the wall is a sum of per-entry *contributions*, so a delta
costs "take away the entry's old contribution, add the new one" and nothing is rescanned per
event. The figures follow ``backend.queries.reports.kpi`` (DESIGN.md "Report definitions"): a
test holds the two side by side on the same data.

A case counts as overdue now on the wall when the engine has turned it red and it is not
paused: the wall shows what the engine decided and published, at the moment it did. With
auto-escalation that lasts an instant, so the wall's overdue figures are 超期件 (DESIGN.md
``overdue_cases``): open cases that went overdue at one tier or more, counted by the tier
where they went overdue and the tier where they are now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from backend.domain.case import case_code
from backend.domain.events import Ticker
from backend.domain.vocabulary import (
    COMPLETED_VALUES,
    FINAL_VALUES,
    OPEN_VALUES,
    RUNNING_VALUES,
    TIER_ORDER,
    Colour,
    Rating,
    Status,
)
from backend.queries.live import INTAKE_HOURS, TICKER_LENGTH, TickerItem, WallSnapshot
from backend.queries.reports import local_midnight
from backend.queries.rules import went_overdue_tiers
from backend.queries.scope import Scope

OPEN = frozenset(OPEN_VALUES)
RUNNING = frozenset(RUNNING_VALUES)
COMPLETED = frozenset(COMPLETED_VALUES)
TIERS = tuple(t.value for t in TIER_ORDER)
_RED = Colour.RED.value
_SATISFIED = Rating.SATISFIED.value


@dataclass(frozen=True, slots=True)
class Entry:
    """What the wall keeps of one case."""

    id: int
    v: int
    status: str
    tier: str | None
    unit: str | None
    grid: str | None
    township: str | None
    category: str
    channel: str
    severity: str
    colour: str
    escalations: int
    overdue_tiers: str
    rating: str | None
    reported_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    stage_started_at: datetime | None
    updated_at: datetime | None

    @property
    def overdue(self) -> bool:
        """Past its present deadline: the engine has turned it red and its clock runs."""
        return self.colour == _RED and self.status in RUNNING


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(v)


def entry_from_delta(d: dict[str, Any]) -> Entry:
    """Deltas come as dicts, with datetimes as objects (snapshot) or RFC 3339 text (pub/sub)."""
    reported = _dt(d["reported_at"])
    assert reported is not None
    return Entry(
        id=int(d["id"]),
        v=int(d["v"]),
        status=d["status"],
        tier=d["tier"],
        unit=d["unit_code"],
        grid=d["grid_code"],
        township=d["township_code"],
        category=d["category"],
        channel=d["channel"],
        severity=d.get("severity") or "general",
        colour=d["colour"],
        escalations=int(d.get("escalations") or 0),
        overdue_tiers=d.get("overdue_tiers") or "",
        rating=d.get("rating"),
        reported_at=reported,
        completed_at=_dt(d.get("completed_at")),
        due_at=_dt(d.get("due_at")),
        stage_started_at=_dt(d.get("stage_started_at")),
        updated_at=_dt(d.get("updated_at")),
    )


@dataclass
class WallModel:
    """The wall's figures for one scope, as exact running sums over the entries it holds."""

    tz: ZoneInfo
    scope: Scope = field(default_factory=Scope.city)
    seq: int = -1
    entries: dict[int, Entry] = field(default_factory=dict)
    sums: dict[tuple[Any, ...], int] = field(default_factory=dict)
    intake: dict[tuple[datetime, str], int] = field(default_factory=dict)
    ticker: deque[TickerItem] = field(default_factory=lambda: deque(maxlen=TICKER_LENGTH))
    ticker_seq: int = 0
    #: ``_told_key`` of every line on the ticker, so "told already?" costs one look-up
    _told_keys: set[tuple[Any, ...]] = field(default_factory=set)
    midnight: datetime | None = None
    hour: datetime | None = None
    _since_load: int = 0  # messages applied since the last load

    # ------------------------------------------------------------------ loading and applying

    def load(self, snap: WallSnapshot) -> None:
        """Start over from a snapshot (on connect, after a gap, at midnight)."""
        self.seq = snap.seq
        self.entries = {}
        self.sums = {}
        self.intake = {}
        self._set_clock(snap.now)
        for d in snap.deltas:
            if self.scope.admits(d):
                self._put(entry_from_delta(d), announce=False)
        # what happened while the wall was not listening (first load, gap, outage) is told
        # from the event log: the lines newer than the newest shown, each once
        newest = self.ticker[0].at if self.ticker else None
        for item in reversed(snap.recent):
            if (newest is None or item.at >= newest) and not self._told(item):
                self._push_ticker(item)
        self._since_load = 0

    def apply(self, seq: int, deltas: Iterable[dict[str, Any]]) -> bool:
        """Apply one published message. False: a message was missed, load a new snapshot."""
        if self.seq >= 0 and seq > self.seq + 1:
            return False
        if seq <= self.seq:
            # Right after a load, messages already in the snapshot come round again: harmless.
            # Later, a sequence going backwards means Redis started over (a restart without
            # persistence, with a client that reconnected by itself): load again.
            return self._since_load == 0
        self.seq = seq
        self._since_load += 1
        for d in deltas:
            if not self.scope.admits(d):
                self._drop(int(d["id"]))  # it has left this scope
                continue
            old = self.entries.get(int(d["id"]))
            if old is not None and int(d["v"]) <= old.v:
                continue
            new = entry_from_delta(d)
            self._put(new, announce=True)
            if new.status in FINAL_VALUES:
                # counted, and no later message can change it: its entry would only take
                # memory (a busy day's closed cases) until the next hour's clean-up. Entries
                # from a snapshot stay: a message just after it may repeat what it holds.
                del self.entries[new.id]
        return True

    def _drop(self, case_id: int) -> None:
        old = self.entries.pop(case_id, None)
        if old is not None:
            self._subtract(old)
            self._count_intake(old, -1)

    def needs_reload(self, now: datetime) -> bool:
        """True at local midnight: every "today" figure starts again, from SQL."""
        return self.midnight is not None and now >= self.midnight + timedelta(days=1)

    @property
    def loaded(self) -> bool:
        return self.midnight is not None

    def advance(self, now: datetime) -> bool:
        """Roll the 24-hour intake window forward to ``now`` and forget what it no longer needs.

        True when the hour turned (the intake chart and the waits then need redrawing)."""
        if not self.loaded:
            return False
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self.hour is not None and hour <= self.hour:
            return False
        self.hour = hour
        start = self._intake_start()
        for key in [k for k in self.intake if k[0] < start]:
            del self.intake[key]
        assert self.midnight is not None
        keep_from = min(self.midnight, start)
        for cid in [
            i
            for i, e in self.entries.items()
            if e.status not in OPEN
            and e.reported_at < keep_from
            and (e.completed_at is None or e.completed_at < self.midnight)
        ]:
            del self.entries[cid]
        return True

    # ------------------------------------------------------------------ figures

    def kpi(self) -> dict[str, Any]:
        """The tiles, in the shape of ``backend.queries.reports.kpi``."""
        s = self.sums
        by_tier = {
            t: {
                "open": s.get(("open_tier", t), 0),
                "overdue": s.get(("overdue_tier", t), 0),
                "overdue_cases": s.get(("overdue_cases_tier", t), 0),
                "went_overdue": s.get(("went_overdue_at", t), 0),
            }
            for t in TIERS
        }
        received = s.get(("received",), 0)
        handled = received - s.get(("cancelled",), 0)
        closed = s.get(("closed_of_today",), 0)
        on_time = s.get(("on_time",), 0)
        rated = s.get(("rated",), 0)
        satisfied = s.get(("satisfied",), 0)
        return {
            "received_today": received,
            "handled_today": handled,
            "closed_of_today": closed,
            "on_time_of_today": on_time,
            "rated_today": rated,
            "satisfied_today": satisfied,
            "closed_today": s.get(("closed_today",), 0),
            "open": s.get(("open",), 0),
            "awaiting_triage": s.get(("open_tier", None), 0),
            "overdue": sum(v["overdue"] for v in by_tier.values()),
            "overdue_cases_open": s.get(("overdue_cases_open",), 0),
            "close_rate_today": round(closed / handled, 6) if handled else None,
            "on_time_rate_today": round(on_time / closed, 6) if closed else None,
            "satisfaction_rate_today": round(satisfied / rated, 6) if rated else None,
            "by_tier": by_tier,
        }

    def area_load(self, level: str) -> dict[str, tuple[int, int]]:
        """Open cases and open 超期件 per grid or township code."""
        out: dict[str, tuple[int, int]] = {}
        for key, n in self.sums.items():
            if key[0] == f"{level}_open" and n:
                out[key[1]] = (n, self.sums.get((f"{level}_overdue", key[1]), 0))
        return out

    def stuck_units(self, now: datetime, limit: int = 8) -> list[dict[str, Any]]:
        """Units where open cases have waited longest in their present stage, summed over cases."""
        t = int(now.timestamp())
        rows = []
        for key, n in self.sums.items():
            if key[0] != "unit_open" or not n:
                continue
            unit = key[1]
            waited = n * t - self.sums.get(("unit_started", unit), 0)
            rows.append(
                {
                    "unit": unit,
                    "open": n,
                    "overdue": self.sums.get(("unit_overdue", unit), 0),
                    "waited_seconds": waited,
                    "mean_seconds": waited / n,
                }
            )
        rows.sort(key=lambda r: (-r["waited_seconds"], r["unit"]))
        return rows[:limit]

    def intake_by_channel(self) -> tuple[list[datetime], dict[str, list[int]]]:
        """Reports per hour over the last 24 hours, per channel, oldest hour first."""
        start = self._intake_start()
        hours = [start + timedelta(hours=i) for i in range(INTAKE_HOURS)]  # the last is now
        index = {h: i for i, h in enumerate(hours)}
        out: dict[str, list[int]] = {}
        for (h, channel), n in self.intake.items():
            i = index.get(h)
            if i is not None:
                out.setdefault(channel, [0] * INTAKE_HOURS)[i] += n
        return hours, out

    # ------------------------------------------------------------------ internals

    def _set_clock(self, now: datetime) -> None:
        self.midnight = local_midnight(now, self.tz)
        self.hour = now.replace(minute=0, second=0, microsecond=0)

    def _intake_start(self) -> datetime:
        assert self.hour is not None
        return self.hour - timedelta(hours=INTAKE_HOURS - 1)

    def _subtract(self, old: Entry) -> None:
        for key, n in self._contribution(old):
            left = self.sums[key] - n
            if left:
                self.sums[key] = left
            else:
                del self.sums[key]

    def _count_intake(self, e: Entry, n: int) -> None:
        hour = e.reported_at.replace(minute=0, second=0, microsecond=0)
        if self.hour is not None and hour >= self._intake_start():
            left = self.intake.get((hour, e.channel), 0) + n
            if left:
                self.intake[(hour, e.channel)] = left
            else:
                self.intake.pop((hour, e.channel), None)

    def _put(self, new: Entry, announce: bool) -> None:
        old = self.entries.get(new.id)
        if old is not None:
            self._subtract(old)
        else:
            self._count_intake(new, 1)
        for key, n in self._contribution(new):
            self.sums[key] = self.sums.get(key, 0) + n
        self.entries[new.id] = new
        if announce:
            fresh = self.hour is not None and new.reported_at >= self._intake_start()
            for kind in _happenings(old, new, fresh):
                # an overdue line names the tier where the deadline passed, not the one the
                # case was escalated to by it
                where = new.overdue_tiers.split(",")[-1] if kind is Ticker.OVERDUE else ""
                self._announce(kind, new, where or new.tier)

    def _announce(self, kind: Ticker, e: Entry, tier: str | None) -> None:
        item = TickerItem(
            seq=0,
            kind=kind,
            at=e.updated_at or e.reported_at,
            case_id=e.id,
            code=case_code(e.id, e.reported_at, self.tz),
            category=e.category,
            unit=e.unit,
            tier=tier,
            severity=e.severity,
        )
        if not self._told(item):  # e.g. a "new" line the event log already gave on loading
            self._push_ticker(item)

    def _told(self, item: TickerItem) -> bool:
        """Already on the ticker: the same thing happening to the same case at the same tier."""
        return _told_key(item) in self._told_keys

    def _push_ticker(self, item: TickerItem) -> None:
        """Put a line where its time puts it, newest first. Commands carry their own time and
        the clock's moves are told when they commit, so lines do not arrive in time order; one
        older than every line of a full ticker is not shown at all."""
        ticker = self.ticker
        at = item.at
        index = 0
        while index < len(ticker) and ticker[index].at > at:  # same time: the later one first
            index += 1
        if len(ticker) == ticker.maxlen:
            if index == len(ticker):
                return
            self._told_keys.discard(_told_key(ticker.pop()))  # the oldest line leaves
        self.ticker_seq += 1
        ticker.insert(index, replace(item, seq=self.ticker_seq))
        self._told_keys.add(_told_key(item))

    def _contribution(self, e: Entry) -> Iterator[tuple[tuple[Any, ...], int]]:
        """What one case adds to the sums; the exact mirror of the SQL in ``reports.kpi``."""
        midnight = self.midnight
        assert midnight is not None
        completed = e.status in COMPLETED
        if e.reported_at >= midnight:
            yield ("received",), 1
            if e.status == Status.CANCELLED.value:
                yield ("cancelled",), 1
            if completed:
                yield ("closed_of_today",), 1
                if (
                    e.completed_at is not None
                    and e.due_at is not None
                    and e.completed_at <= e.due_at
                    and e.overdue_tiers == ""
                ):
                    yield ("on_time",), 1
            if e.rating is not None:
                yield ("rated",), 1
                if e.rating == _SATISFIED:
                    yield ("satisfied",), 1
        if completed and e.completed_at is not None and e.completed_at >= midnight:
            yield ("closed_today",), 1
        if e.status not in OPEN:
            return
        red = e.colour == _RED and e.status in RUNNING  # ``e.overdue``, inlined: a hot path
        # a 超期件: what the tiles, the map and the ranking count as overdue
        overdue = red or e.overdue_tiers != ""
        yield ("open",), 1
        yield ("open_tier", e.tier), 1
        if red:
            yield ("overdue_tier", e.tier), 1
        if overdue:
            yield ("overdue_cases_open",), 1
            yield ("overdue_cases_tier", e.tier), 1
            for tier in went_overdue_tiers(e.overdue_tiers, e.tier, red):
                yield ("went_overdue_at", tier), 1
        if e.grid:
            yield ("grid_open", e.grid), 1
            if overdue:
                yield ("grid_overdue", e.grid), 1
        if e.township:
            yield ("township_open", e.township), 1
            if overdue:
                yield ("township_overdue", e.township), 1
        if e.unit and e.status in RUNNING and e.stage_started_at is not None:
            yield ("unit_open", e.unit), 1
            yield ("unit_started", e.unit), int(e.stage_started_at.timestamp())
            if overdue:
                yield ("unit_overdue", e.unit), 1


_NEW = Ticker.NEW  # a module constant: an enum member's look-up is slow on Python 3.11


def _told_key(item: TickerItem) -> tuple[Any, ...]:
    # a case is new once; it can go overdue, escalate or close again, at another tier
    if item.kind is _NEW:
        return (item.case_id, item.kind)
    return (item.case_id, item.kind, item.tier)


def _happenings(old: Entry | None, new: Entry, fresh: bool) -> list[Ticker]:
    """What the duty officer is told about a change: new, escalated, overdue, closed.

    A case the wall has not seen but that was reported inside its 24-hour window is new: the
    snapshot holds every case reported in that window.
    """
    if old is None:
        return [Ticker.NEW] if fresh else []
    out = []
    # an overdue tier is recorded even when auto-escalation gives the case a fresh (green) start
    if len(new.overdue_tiers) > len(old.overdue_tiers) or (
        new.colour == _RED and old.colour != _RED
    ):
        out.append(Ticker.OVERDUE)
    if new.escalations > old.escalations:
        out.append(Ticker.ESCALATED)
    if new.status in COMPLETED and old.status not in COMPLETED:
        out.append(Ticker.CLOSED)
    return out
