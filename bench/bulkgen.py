"""Millions of realistic cases in PostgreSQL, fast: the rows the engine would have written for
a city's years, streamed with COPY instead of replayed through the engine (too slow for 5 M).

    BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/gw4 \\
        python -m bench.bulkgen --cases 1000000 [--city shangrao] [--seed 1]

The database named is emptied first. The city is the generated Shangrao (12,000 grids) unless
``--city small``. Each case follows the default policy pack's path: handed to the tier its
category starts at, worked by a unit with its own speed, reminded at half its allowance, warned
at 80%, overdue at the deadline and moved up a tier by the clock (自动跳级), until completed,
rated and closed. Cases are reported at the Shangrao rate (about 3,800 a day, with a daily and
weekly rhythm) up to ``--end``; whatever had not happened by then has not happened, so the last
days hold the open cases. Deadlines are counted in the city's working days (the same calendar
the engine uses). ``drill_stages``, the leader's projection, is written alongside from the same
stages, and its watermark set, as a refresh of the real projection would leave it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import func, select, text

from backend.core.config import Settings
from backend.deadlines.sla import DeadlineClock
from backend.domain.case import CASE_FIELDS
from backend.domain.vocabulary import TIER_ORDER
from backend.drill.projection import OVERLAP, STAGES, set_state
from backend.drill.stages import bin_of
from backend.refdata.index import RefIndex
from backend.sim.simulator import CHANNELS, COMMON_CATEGORIES, HANDLING_HOURS, HOURLY, WEEKDAY
from backend.store.fastsql import EVENT_FIELDS
from backend.store.models import cases, drill_stages
from bench.common import TZ, fresh_system, open_system

PER_DAY = 3836  # Shangrao: 1.4 million cases a year
ALLOWANCE_WD = {"grid": 1, "township": 5, "department": 10, "county": 15}
TIERS = [t.value for t in TIER_ORDER]
#: drop these while loading (much faster), build them again after
CASE_INDEXES = (
    "ix_cases_next_due_at",
    "ix_cases_status_tier",
    "ix_cases_unit_code",
    "ix_cases_township_code",
    "ix_cases_reported_at",
)
#: every index dropped while loading: the cases' and the event log's and the stages'
LOAD_INDEXES = (
    *CASE_INDEXES,
    "uq_case_events_case_id_seq",
    "ix_drill_stages_day",
    "ix_drill_stages_unit_code",
)
STAGE_COLS = [c.name for c in drill_stages.columns]


class WorkingDays:
    """``N wd`` deadlines: 23:59:59 local on the N-th working day after the date."""

    def __init__(self, calendar: Any, first: date, last: date) -> None:
        days = []
        d = first
        while d <= last + timedelta(days=60):
            if calendar.is_working_day(d):
                days.append(d)
            d += timedelta(days=1)
        self.days = days

    def deadline(self, t: datetime, n: int) -> datetime:
        d = t.astimezone(TZ).date()
        i = bisect_right(self.days, d)  # the first working day after d
        day = self.days[min(len(self.days) - 1, i + n - 1)]
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=TZ)


@dataclass(slots=True)
class Stage:
    """A hand-over: one unit at one tier with a fresh allowance, until handling is completed,
    the deadline moves the case up, or the end of the data."""

    tier: str
    unit: str
    start: datetime
    start_event: str  # the event that began it: dispatched or escalated
    deadline: datetime
    due_seconds: float  # from the start to the deadline
    end: datetime | None = None
    end_kind: str = "open"
    overdue_at: datetime | None = None
    reminders: int = 0
    warnings: int = 0


@dataclass(slots=True)
class BulkCase:
    """One generated case as the engine would hold it at the generator's end: where it stands,
    its event log (plain values, in order) and its stages."""

    id: int
    reported_at: datetime
    grid: str
    category: str
    channel: str
    severity: str
    tier: str  # where triage sends it; then the tier it is at
    status: str = "received"
    holder: str | None = None
    colour: str = "green"
    escalations: int = 0
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    rating: str | None = None
    overdue_tiers: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)

    @property
    def stage(self) -> Stage:
        return self.stages[-1]

    @property
    def unit(self) -> str:
        return self.stages[-1].unit


class Generator:
    """Cases of a city, one at a time, in memory: ``arrivals`` gives the report instants,
    ``case`` one case's whole path, ``row``/``pg_rows`` the rows to write. Reads nothing from
    the database (the reference data and the deadline clock are given)."""

    def __init__(
        self,
        ref: RefIndex,
        deadlines: DeadlineClock,
        n: int,
        end: datetime,
        seed: int,
        start: datetime | None = None,
    ) -> None:
        self.ref = ref
        self.deadlines = deadlines
        self.rng = random.Random(seed)
        self.end = end
        self.start = start or end - timedelta(days=max(1, math.ceil(n / PER_DAY)))
        self.days: float = max(1e-3, (end - self.start).total_seconds() / 86400)
        self.n = n
        self.wd = WorkingDays(deadlines.calendar, self.start.date(), end.date())
        self.grids = sorted(ref.grids)
        cats = sorted(c for c, info in ref.categories.items())
        self.cats = cats
        self.cat_w = list(accumulate(COMMON_CATEGORIES.get(c, 1.0) for c in cats))
        self.channels = [c for c, _ in CHANNELS]
        self.chan_w = list(accumulate(w for _, w in CHANNELS))
        self.speed: dict[str, float] = {}
        self.next_event_id = 1

    # ------------------------------------------------------------------ arrivals

    def arrivals(self) -> Iterator[datetime]:
        """``n`` report instants in time order, with the daily and weekly rhythm."""
        weights = [HOURLY[h] * WEEKDAY[d] for d in range(7) for h in range(24)]
        total = sum(weights) / 7
        # the city's rate up to the end: about n cases (± a few hundred), and the last days as
        # full as the others, since they hold the open cases
        per_hour_base = self.n / self.days / total
        rng = self.rng
        made = 0
        t = self.start
        while t < self.end:
            local = t.astimezone(TZ)
            lam = per_hour_base * HOURLY[local.hour] * WEEKDAY[local.weekday()]
            k = max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
            for s in sorted(rng.random() * 3600 for _ in range(k)):
                at = t + timedelta(seconds=s)
                if at >= self.end:
                    break
                yield at
                made += 1
            t += timedelta(hours=1)

    def unit_speed(self, unit: str) -> float:
        s = self.speed.get(unit)
        if s is None:
            s = math.exp(self.rng.gauss(0, 0.35)) * (2.6 if self.rng.random() < 0.2 else 1.0)
            self.speed[unit] = s
        return s

    # ------------------------------------------------------------------ one case's path

    def case(self, cid: int, at: datetime) -> BulkCase:
        """One case from its report to where it stands at the end: handed to a unit, worked,
        reminded and warned, overdue and moved up a tier by the clock, until completed."""
        c = self._report(cid, at)
        start_event, t = "dispatched", at
        while self._hand_over(c, t, start_event):
            done_at = self._work(c)
            self._remind_and_warn(c, done_at)
            if done_at > c.stage.deadline:
                if not self._go_overdue(c):
                    break
                if c.tier != "county":
                    start_event, t = "escalated", self._escalate(c)
                    continue
                self._notify_leader(c)
            self._complete(c, done_at)
            break
        return c

    def _report(self, cid: int, at: datetime) -> BulkCase:
        """Where, what and through which channel; triage picks the first tier."""
        rng = self.rng
        grid = self.grids[int(rng.random() * len(self.grids))]
        cat = self.cats[bisect_right(self.cat_w, rng.random() * self.cat_w[-1])]
        info = self.ref.categories[cat]
        channel = self.channels[bisect_right(self.chan_w, rng.random() * self.chan_w[-1])]
        severity = "major" if rng.random() < 0.03 else "general"
        tier = "department" if (info.major or severity != "general") else info.default_tier.value
        c = BulkCase(cid, at, grid, cat, channel, severity, tier)
        self._event(c, "reported", at, "intake", to_status="received", data={"channel": channel})
        return c

    def _event(self, c: BulkCase, type_: str, t: datetime, actor: str, **kw: Any) -> bool:
        """Log an event, unless it would happen after the end (then it has not happened)."""
        if t > self.end:
            return False
        c.events.append({"type": type_, "at": t, "actor": actor, **kw})
        return True

    def _event_here(
        self, c: BulkCase, type_: str, t: datetime, actor: str, frm: str, to: str, **kw: Any
    ) -> bool:
        """An event at the unit and tier the case is at now."""
        unit, tier = c.unit, c.tier
        where = {"from_unit": unit, "to_unit": unit, "from_tier": tier, "to_tier": tier}
        return self._event(c, type_, t, actor, from_status=frm, to_status=to, **where, **kw)

    def _hand_over(self, c: BulkCase, t: datetime, start_event: str) -> bool:
        """Hand the case to its tier's unit with a fresh allowance (triage's dispatch, or the
        clock's escalation); False if that is after the end."""
        unit = self.ref.unit_for(c.grid, TIER_ORDER[TIERS.index(c.tier)], c.category)
        due = self.wd.deadline(t, ALLOWANCE_WD[c.tier])
        prev = c.events[-1]
        by_clock = start_event == "escalated"
        if not self._event(
            c,
            start_event,
            t,
            "clock" if by_clock else "triage",
            from_status=prev.get("to_status"),
            to_status="dispatched",
            from_unit=prev.get("to_unit"),
            to_unit=unit,
            from_tier=prev.get("to_tier"),
            to_tier=c.tier,
            data={"by": "clock"} if by_clock else None,
        ):
            return False
        c.stages.append(Stage(c.tier, unit, t, start_event, due, (due - t).total_seconds()))
        c.status, c.colour = "dispatched", "green"
        return True

    def _work(self, c: BulkCase) -> datetime:
        """The unit signs for the case and works on it for a time of its own speed; returns
        when it would be done."""
        s = c.stage
        rng = self.rng
        took = (
            3600 * HANDLING_HOURS[s.tier] * self.unit_speed(s.unit) * math.exp(rng.gauss(0, 0.75))
        )
        accept = s.start + timedelta(seconds=min(took * 0.1, 4 * 3600))
        if self._event_here(c, "accepted", accept, f"unit:{s.unit}"[:64], "dispatched", "accepted"):
            c.status, c.holder = "accepted", f"H{rng.randint(1000, 9999)}"
        return s.start + timedelta(seconds=took)

    def _remind_and_warn(self, c: BulkCase, done_at: datetime) -> None:
        """The clock's reminder at half the allowance and warning at 80%, if before done."""
        s = c.stage
        for frac, kind in ((0.5, "reminded"), (0.8, "warned")):
            m = s.start + timedelta(seconds=s.due_seconds * frac)
            if m < done_at and self._event_here(
                c, kind, m, "clock", c.status, c.status, data={"due_at": s.deadline.isoformat()}
            ):
                if kind == "reminded":
                    s.reminders += 1
                    c.colour = "yellow"
                else:
                    s.warnings += 1
                    c.colour = "orange"

    def _go_overdue(self, c: BulkCase) -> bool:
        """The deadline passes: the tier is recorded as overdue; False if after the end."""
        s = c.stage
        if not self._event_here(
            c,
            "overdue",
            s.deadline,
            "clock",
            c.status,
            c.status,
            data={"due_at": s.deadline.isoformat()},
        ):
            return False
        s.overdue_at = s.deadline
        c.colour = "red"
        if c.tier not in c.overdue_tiers:
            c.overdue_tiers.append(c.tier)
        return True

    def _escalate(self, c: BulkCase) -> datetime:
        """自动跳级: the stage ends at its deadline and the case moves up a tier then."""
        s = c.stage
        s.end, s.end_kind = s.deadline, "overdue"
        c.tier = TIERS[TIERS.index(c.tier) + 1]
        c.escalations += 1
        return s.deadline

    def _notify_leader(self, c: BulkCase) -> None:
        """Overdue at the top tier: the case stays, flagged, and the leader is told."""
        self._event_here(
            c,
            "leader_notified",
            c.stage.deadline,
            "clock",
            c.status,
            c.status,
            reason="overdue at the top tier",
        )

    def _complete(self, c: BulkCase, done_at: datetime) -> None:
        """Resolved by the unit; mostly rated by the citizen; closed a few days later."""
        s = c.stage
        rng = self.rng
        if not self._event_here(
            c, "resolved", done_at, f"unit:{s.unit}"[:64], c.status, "resolved"
        ):
            return
        c.status, c.completed_at = "resolved", done_at
        s.end, s.end_kind = done_at, "completed"
        if rng.random() < 0.85:
            r = rng.random()
            rating = "satisfied" if r < 0.9 else ("basic" if r < 0.96 else "unsatisfied")
            rated_at = done_at + timedelta(hours=rng.uniform(1, 30))
            if self._event_here(
                c, "rated", rated_at, "citizen", "resolved", "rated", data={"rating": rating}
            ):
                c.status, c.rating = "rated", rating
        close = done_at + timedelta(hours=rng.uniform(30, 80))
        if self._event_here(c, "closed", close, "system", c.status, "closed"):
            c.status, c.closed_at = "closed", close

    # ------------------------------------------------------------------ rows

    def row(self, c: BulkCase) -> dict[str, Any]:
        """The ``cases`` row of the case as it stands at the end."""
        ref = self.ref
        g = ref.grids[c.grid]
        info = ref.categories[c.category]
        open_ = c.status in ("dispatched", "accepted")
        st = c.stages[-1] if c.stages else None
        nxt: datetime | None = None
        milestone: str | None = None
        if open_ and st:
            for frac, mark in ((0.5, "reminder"), (0.8, "warning"), (1.0, "due")):
                tm = st.start + timedelta(seconds=st.due_seconds * frac)
                if tm > self.end:
                    nxt, milestone = tm, mark
                    break
        last = c.events[-1]["at"]
        return {
            "id": c.id,
            "ref": f"bulk-{c.id}",
            "reported_at": c.reported_at,
            "channel": c.channel,
            "category": c.category,
            "severity": c.severity,
            "complexity": info.complexity,
            "mode": "normal",
            "grid_code": c.grid,
            "township_code": g.township_code,
            "county_code": g.county_code,
            "address": None,
            "lat": None,
            "lon": None,
            "description": f"{ref.area_names[c.grid]}{info.name}：群众反映情况，请尽快处理。",
            "reporter": None,
            "status": c.status,
            "prev_status": None,
            "tier": st.tier if st else None,
            "unit_code": st.unit if st else None,
            "holder": c.holder,
            "stage_started_at": st.start if st else None,
            "status_changed_at": last,
            "allowance": f"{ALLOWANCE_WD[st.tier]} wd" if st else None,
            "budget_seconds": float(ALLOWANCE_WD[st.tier] * 86400) if st else None,
            "used_seconds": 0.0,
            "segment_started_at": st.start if st and open_ else None,
            "reminder_at": st.start + timedelta(seconds=st.due_seconds * 0.5) if st else None,
            "warning_at": st.start + timedelta(seconds=st.due_seconds * 0.8) if st else None,
            "due_at": st.deadline if st else None,
            "next_due_at": nxt,
            "next_milestone": milestone,
            "colour": c.colour,
            "overdue_tiers": ",".join(c.overdue_tiers),
            "escalations": c.escalations,
            "reopen_count": 0,
            "consultation": None,
            "completed_at": c.completed_at,
            "closed_at": c.closed_at,
            "rating": c.rating if c.status in ("rated", "closed") else None,
            "duplicate_count": 1,
            "source": None,
            "source_channel": None,
            "source_type": None,
            "event_count": len(c.events),
            "version": len(c.events),
            "updated_at": last,
        }

    def event_rows(self, c: BulkCase) -> list[dict[str, Any]]:
        """The ``case_events`` rows of the case (without their ids)."""
        return [
            {f: e.get(f) for f in EVENT_FIELDS} | {"case_id": c.id, "seq": seq}
            for seq, e in enumerate(c.events, 1)
        ]

    def stage_rows(self, c: BulkCase) -> list[dict[str, Any]]:
        """The ``drill_stages`` rows of the case, as the projection would derive them."""
        g = self.ref.grids[c.grid]
        day = c.reported_at.astimezone(TZ).date()
        out = []
        for no, s in enumerate(c.stages, 1):
            dwell = (s.end - s.start).total_seconds() if s.end is not None else None
            out.append(
                {
                    "case_id": c.id,
                    "stage_no": no,
                    "day": day,
                    "grid_code": c.grid,
                    "township_code": g.township_code,
                    "county_code": g.county_code,
                    "category": c.category,
                    "channel": c.channel,
                    "tier": s.tier,
                    "unit_code": s.unit,
                    "start_event": s.start_event,
                    "started_at": s.start,
                    "ended_at": s.end,
                    "end_kind": s.end_kind,
                    "dwell_seconds": dwell,
                    "bin": bin_of(dwell) if dwell is not None else None,
                    "due_seconds": s.due_seconds,
                    "next_tier": c.stages[no].tier if no < len(c.stages) else None,
                    "overdue_at": s.overdue_at,
                    "reminders": s.reminders,
                    "warnings": s.warnings,
                }
            )
        return out

    def pg_rows(self, c: BulkCase) -> tuple[list[Any], list[list[Any]], list[list[Any]]]:
        """The case's rows for COPY: naive UTC times, JSON as text, the events' ids given."""
        row = self.row(c)
        case_row = [_pg(row[f]) for f in CASE_FIELDS]
        ev_rows = []
        for e in self.event_rows(c):
            ev_rows.append([self.next_event_id, *(_pg_event(f, e[f]) for f in EVENT_FIELDS)])
            self.next_event_id += 1
        stage_rows = [[_pg(r[f]) for f in STAGE_ORDER] for r in self.stage_rows(c)]
        return case_row, ev_rows, stage_rows


def _pg(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None)
    return v


def _pg_event(f: str, v: Any) -> Any:
    if f == "data":
        return json.dumps(v, ensure_ascii=False) if v is not None else None
    return _pg(v)


STAGE_ORDER = [
    "case_id",
    "stage_no",
    "day",
    "grid_code",
    "township_code",
    "county_code",
    "category",
    "channel",
    "tier",
    "unit_code",
    "start_event",
    "started_at",
    "ended_at",
    "end_kind",
    "dwell_seconds",
    "bin",
    "due_seconds",
    "next_tier",
    "overdue_at",
    "reminders",
    "warnings",
]


def load(
    system: Any,
    n: int,
    end: datetime,
    seed: int,
    chunk: int = 50_000,
    *,
    top_up: bool = False,
) -> dict[str, Any]:
    """Fill the database; with ``top_up``, add cases from the newest one to ``end`` at the
    city's rate (the indexes stay)."""
    db = system.db
    first_id = 0
    start = None
    if top_up:
        with db.connect() as conn:
            first_id = int(conn.execute(text("SELECT max(id) FROM cases")).scalar() or 0)
            last_ev = int(conn.execute(text("SELECT max(id) FROM case_events")).scalar() or 0)
            start = conn.execute(
                select(func.max(cases.c.reported_at)).where(cases.c.ref.like("bulk-%"))
            ).scalar()
        n = int((end - start).total_seconds() / 86400 * PER_DAY)
    gen = Generator(system.ref, system.deadlines, n, end, seed, start)
    if top_up:
        gen.next_event_id = last_ev + 1
    t0 = time.perf_counter()
    with db.begin() as conn:
        if not top_up:
            for ix in LOAD_INDEXES:
                conn.execute(text(f"DROP INDEX IF EXISTS {ix}"))
    made = events = stages = 0
    cid = first_id
    arrivals = gen.arrivals()
    copy_cases = f"COPY cases ({', '.join(CASE_FIELDS)}) FROM STDIN"
    copy_events = f"COPY case_events (id, {', '.join(EVENT_FIELDS)}) FROM STDIN"
    copy_stages = f"COPY drill_stages ({', '.join(STAGE_ORDER)}) FROM STDIN"
    done = False
    while not done:
        crow, erows, srows = [], [], []
        for at in arrivals:
            cid += 1
            c, e, s = gen.pg_rows(gen.case(cid, at))
            crow.append(c)
            erows += e
            srows += s
            if len(crow) >= chunk:
                break
        else:
            done = True
        if not crow:
            break
        with db.begin() as conn:
            cur = conn.connection.cursor()
            for sql, rows in ((copy_cases, crow), (copy_events, erows), (copy_stages, srows)):
                with cur.copy(sql) as cp:
                    for r in rows:
                        cp.write_row(r)
            cur.close()
        made += len(crow)
        events += len(erows)
        stages += len(srows)
        rate = made / (time.perf_counter() - t0)
        sys.stderr.write(f"\r{made:>10,} cases {events:>11,} events  {rate:,.0f} cases/s")
        sys.stderr.flush()
    sys.stderr.write("\n")
    loaded = time.perf_counter() - t0
    t1 = time.perf_counter()
    with db.begin() as conn:
        if not top_up:
            _indexes(conn)
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": cid})
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('case_events', 'id'), :n)"),
            {"n": gen.next_event_id - 1},
        )
        top = gen.next_event_id - 1
        set_state(conn, STAGES, top, min(top, OVERLAP), end)
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return {
        "cases": made,
        "events": events,
        "stages": stages,
        "days": round(gen.days, 2),
        "load_seconds": round(loaded, 1),
        "index_seconds": round(time.perf_counter() - t1, 1),
    }


def _indexes(conn: Any) -> None:
    """The indexes dropped for the load (``LOAD_INDEXES``), as the migrations make them."""
    for sql in (
        "CREATE INDEX ix_cases_next_due_at ON cases (next_due_at) WHERE next_due_at IS NOT NULL",
        "CREATE INDEX ix_cases_status_tier ON cases (status, tier)",
        "CREATE INDEX ix_cases_unit_code ON cases (unit_code)",
        "CREATE INDEX ix_cases_township_code ON cases (township_code)",
        "CREATE INDEX ix_cases_reported_at ON cases (reported_at)",
        "CREATE UNIQUE INDEX uq_case_events_case_id_seq ON case_events (case_id, seq)",
        "CREATE INDEX ix_drill_stages_day ON drill_stages (day)",
        "CREATE INDEX ix_drill_stages_unit_code ON drill_stages (unit_code)",
    ):
        conn.execute(text(sql))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, required=True)
    ap.add_argument("--city", default="shangrao", choices=("small", "shangrao"))
    ap.add_argument("--end", default="2026-11-23T09:00:00+08:00")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--top-up", action="store_true", help="add cases from the newest one to --end (kept data)"
    )
    args = ap.parse_args()
    if not os.environ.get("BENCH_PG_URL"):
        sys.exit("set BENCH_PG_URL to the PostgreSQL database to fill (it is emptied first)")
    end = datetime.fromisoformat(args.end)
    if args.top_up:
        settings = Settings(
            DATABASE_URL=os.environ["BENCH_PG_URL"], GRIDWATCH_REDIS_PREFIX="gwbulk"
        )
        system = open_system(settings, end)
    else:
        system = fresh_system("postgres", args.city, start=end)
    out = load(system, args.cases, end, args.seed + (7 if args.top_up else 0), top_up=args.top_up)
    out.update({"bench": "bulkgen", "city": args.city, "end": end.isoformat()})
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
