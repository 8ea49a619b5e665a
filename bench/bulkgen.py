"""Millions of realistic cases in PostgreSQL, fast: the rows the engine would have written for
a city's years, streamed with COPY instead of replayed through the engine (too slow for 5 M).

    BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/gw4 \\
        python -m bench.bulkgen --cases 1000000 [--city shangrao] [--seed 1]

The database named is emptied first. The city is the generated Shangrao (12,000 grids) unless
``--city small``. Each case follows the path the engine would give it under the system's policy
pack (the default: grid 1 wd, township 5, department 10, county 15): handed to the tier triage
picks, signed for and worked by a unit with its own speed; reminded, warned, overdue and moved
up a tier (自动跳级) at the instants the engine's own deadline clock sets (the same policy, the
same working-day calendar and meters); resolved, mostly rated (an unsatisfied citizen reopens
it) and closed. Cases are reported at the Shangrao rate (about 3,800 a day, with a daily and
weekly rhythm) up to ``--end``; whatever had not happened by then has not happened, so the last
days hold the open cases. ``drill_stages``, the leader's projection, is written alongside from
the same stages, and its watermark set, as a refresh of the real projection would leave it.
tests/test_bulkgen_replay.py replays a sample through the engine: the rows must be the same.
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
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select, text

from backend.core.config import Settings
from backend.deadlines.sla import DeadlineClock
from backend.domain.case import CASE_FIELDS, CaseState
from backend.domain.stages import bin_of
from backend.domain.vocabulary import Milestone, Tier
from backend.drill.days import refresh_days
from backend.drill.projection import OVERLAP, STAGES, set_state
from backend.refdata.index import RefIndex
from backend.sim.simulator import CHANNELS, COMMON_CATEGORIES, HANDLING_HOURS, HOURLY, WEEKDAY
from backend.store.fastsql import EVENT_FIELDS, CaseSQL
from backend.store.models import UTCDateTime, cases, drill_stages
from backend.system import System
from bench.common import TZ, fresh_system, open_system

PER_DAY = 3836  # Shangrao: 1.4 million cases a year
#: the actor of the create commands (intake), so also of the triage's dispatch
CREATE_ACTOR = "intake"
#: why an unsatisfied rating reopens a case (the engine's reason)
REOPEN = "citizen unsatisfied"
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
_STAGE_VALUES = itemgetter(*STAGE_COLS)
_STAGE_TIMES = [i for i, c in enumerate(drill_stages.columns) if isinstance(c.type, UTCDateTime)]


@dataclass(slots=True)
class Stage:
    """A hand-over: one unit at one tier with a fresh allowance, until handling is completed,
    the deadline moves the case up, or the end of the data."""

    tier: str
    unit: str
    start: datetime
    start_event: str  # the event that began it: dispatched, escalated or reopened
    due_seconds: float  # from the start to the deadline
    end: datetime | None = None
    end_kind: str = "open"
    overdue_at: datetime | None = None
    reminders: int = 0
    warnings: int = 0


@dataclass(slots=True)
class BulkCase:
    """One generated case: the engine's state of it at the generator's end, its event log
    (plain values, in order) and its stages."""

    state: CaseState
    events: list[dict[str, Any]] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)

    @property
    def id(self) -> int:
        assert self.state.id is not None
        return self.state.id

    @property
    def stage(self) -> Stage:
        return self.stages[-1]


class Generator:
    """Cases of a city, one at a time, in memory: ``arrivals`` gives the report instants,
    ``case`` one case's whole path, ``row``/``event_rows``/``stage_rows`` its rows and
    ``pg_rows`` the same for COPY. Reads nothing from the database: the reference data and the
    deadline clock (the engine's policy pack and working-day calendar) are given."""

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
        self.grids = sorted(ref.grids)
        cats = sorted(c for c, info in ref.categories.items())
        self.cats = cats
        self.cat_w = list(accumulate(COMMON_CATEGORIES.get(c, 1.0) for c in cats))
        self.channels = [c for c, _ in CHANNELS]
        self.chan_w = list(accumulate(w for _, w in CHANNELS))
        self.speed: dict[str, float] = {}
        self.next_event_id = 1
        self._sql = CaseSQL("postgresql")

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
                yield at.astimezone(UTC)  # UTC from here on: what the database holds
                made += 1
            t += timedelta(hours=1)

    def unit_speed(self, unit: str) -> float:
        s = self.speed.get(unit)
        if s is None:
            s = math.exp(self.rng.gauss(0, 0.35)) * (2.6 if self.rng.random() < 0.2 else 1.0)
            self.speed[unit] = s
        return s

    # ------------------------------------------------------------------ one case's path
    # Each step changes the case as the engine's state machine would (backend/domain/
    # transitions.py) and logs the same event; a step after the end has not happened.
    # tests/test_bulkgen_replay.py replays generated cases through the engine to keep it so.

    def case(self, cid: int, at: datetime) -> BulkCase:
        """One case from its report to where it stands at the end: handed to a unit, signed
        for and worked on, reminded, warned, overdue and moved up a tier by the clock
        (自动跳级), resolved, rated (an unsatisfied citizen reopens it) and closed."""
        c = self._report(cid, at)
        self._triage(c, at)
        while True:
            accept_at, done_at = self._pace(c)
            if self._run_clock(c, until=accept_at):
                continue  # overdue before the unit signed for it: moved up a tier
            self._accept(c, accept_at)
            if self._run_clock(c, until=done_at):
                continue  # overdue before the unit was done: moved up a tier
            if not self._resolve(c, done_at):
                break  # still being handled at the end
            self._rate(c, done_at)
            if c.state.status == "dispatched":
                continue  # the citizen was unsatisfied: reopened, handled again
            self._close(c, done_at)
            break
        return c

    def _report(self, cid: int, at: datetime) -> BulkCase:
        """Where, what and through which channel (the engine's create, ``new_case``)."""
        rng = self.rng
        ref = self.ref
        grid = self.grids[int(rng.random() * len(self.grids))]
        cat = self.cats[bisect_right(self.cat_w, rng.random() * self.cat_w[-1])]
        info = ref.categories[cat]
        channel = self.channels[bisect_right(self.chan_w, rng.random() * self.chan_w[-1])]
        severity = "major" if rng.random() < 0.03 else "general"
        g = ref.grids[grid]
        state = CaseState.received(  # the create is the case's first write: version 1
            ref=f"bulk-{cid}",
            at=at,
            channel=channel,
            category=cat,
            severity=severity,
            complexity=info.complexity,
            description=f"{ref.area_names[grid]}{info.name}：群众反映情况，请尽快处理。",
            id=cid,
            grid_code=grid,
            township_code=g.township_code,
            county_code=g.county_code,
        )
        c = BulkCase(state)
        self._log(c, "reported", at, CREATE_ACTOR, data={"channel": channel})
        return c

    def _triage(self, c: BulkCase, at: datetime) -> None:
        """直通办理 / 一键上报: a general matter to its category's tier, a major one straight
        to the department (in the same write as the report)."""
        st = c.state
        info = self.ref.categories[st.category]
        major = info.major or st.severity != "general"
        tier = Tier.DEPARTMENT if major else info.default_tier
        reason = "triage: " + (
            "major matter, straight up" if tier is Tier.DEPARTMENT else "handled where it arises"
        )
        unit = self.ref.unit_for(st.grid_code or "", tier, st.category)
        self._hand_over(c, at, "dispatched", tier.value, unit, CREATE_ACTOR, reason=reason)

    def _hand_over(
        self,
        c: BulkCase,
        at: datetime,
        type_: str,
        tier: str,
        unit: str,
        actor: str,
        *,
        reason: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        """The case to ``unit`` at ``tier`` with a fresh allowance from the deadline clock:
        a new stage (the engine's ``_dispatch``)."""
        st = c.state
        frm = (st.status, st.unit_code, st.tier)
        st.status, st.prev_status, st.holder = "dispatched", None, None
        st.tier, st.unit_code = tier, unit
        st.stage_started_at = st.status_changed_at = at
        self.deadlines.start(st, at)
        self._log(c, type_, at, actor, frm, reason=reason, data=data)
        assert st.due_at is not None
        c.stages.append(Stage(tier, unit, at, type_, (st.due_at - at).total_seconds()))

    def _pace(self, c: BulkCase) -> tuple[datetime, datetime]:
        """When the unit holding the case signs for it, and when it would be done: a time of
        the unit's own speed."""
        s = c.stage
        speed = self.unit_speed(s.unit)
        took = 3600 * HANDLING_HOURS[s.tier] * speed * math.exp(self.rng.gauss(0, 0.75))
        accept_at = s.start + timedelta(seconds=min(took * 0.1, 4 * 3600))
        return accept_at, s.start + timedelta(seconds=took)

    def _accept(self, c: BulkCase, at: datetime) -> None:
        """The unit signs for the case; a handler holds it."""
        if at > self.end:
            return
        st = c.state
        n = self.rng.randint(1000, 9999)
        people = self.ref.staff_by_unit.get(st.unit_code or "")
        # one of the unit's own staff, as the simulator signs (the desk shows their names)
        holder = people[n % len(people)] if people else f"H{n}"
        frm = self._from(c)
        st.status, st.holder, st.status_changed_at = "accepted", holder, at
        self._log(c, "accepted", at, _unit_actor(st), frm, data={"holder": holder})
        self._write(c, at)

    def _run_clock(self, c: BulkCase, until: datetime) -> bool:
        """The engine's clock ticks at each milestone before ``until`` (and not after the
        end): reminder, warning, overdue; True when the case moved up a tier."""
        st = c.state
        while st.next_due_at is not None and st.next_due_at < until and st.next_due_at <= self.end:
            at = st.next_due_at
            tier = st.tier
            for m in self.deadlines.fire(st, at):
                if m is Milestone.REMINDER:
                    c.stage.reminders += 1
                    self._log(c, "reminded", at, "clock", self._from(c), data=self._due(st))
                elif m is Milestone.WARNING:
                    c.stage.warnings += 1
                    self._log(c, "warned", at, "clock", self._from(c), data=self._due(st))
                else:
                    self._overdue(c, at)
            self._write(c, at)
            if st.tier != tier:
                return True
        return False

    def _overdue(self, c: BulkCase, at: datetime) -> None:
        """The deadline passes: the tier is recorded as overdue and, where the policy says so,
        the case moves up a tier (自动跳级); at the top tier the leader is told."""
        st = c.state
        tier = st.tier or Tier.GRID
        if c.stage.overdue_at is None:
            c.stage.overdue_at = at
        st.add_overdue_tier(tier)
        self._log(c, "overdue", at, "clock", self._from(c), data=self._due(st))
        up = Tier(tier).next_up()
        if up is not None and self.deadlines.rule_for(st).auto_escalate:
            c.stage.end, c.stage.end_kind = at, "overdue"
            st.escalations += 1
            unit = self.ref.unit_for(st.grid_code or "", up, st.category)
            reason = f"auto-escalation: overdue at {tier}"
            data = {"by": "clock"}
            self._hand_over(c, at, "escalated", up.value, unit, "clock", reason=reason, data=data)
        elif up is None:
            reason = "overdue at the top tier"
            self._log(c, "leader_notified", at, "clock", self._from(c), reason=reason)

    def _resolve(self, c: BulkCase, at: datetime) -> bool:
        """The unit completes handling (办结); False if that is after the end."""
        if at > self.end:
            return False
        st = c.state
        frm = self._from(c)
        st.status, st.completed_at, st.status_changed_at = "resolved", at, at
        self.deadlines.stop(st)
        on_time = st.due_at is not None and at <= st.due_at and not st.overdue_tiers
        self._log(c, "resolved", at, _unit_actor(st), frm, data={"on_time": on_time})
        self._write(c, at)
        c.stage.end, c.stage.end_kind = at, "completed"
        return True

    def _rate(self, c: BulkCase, done_at: datetime) -> None:
        """Most citizens rate the result within a day or so; an unsatisfied one reopens the
        case at the same unit with a fresh allowance."""
        rng = self.rng
        if rng.random() >= 0.85:
            return
        r = rng.random()
        rating = "satisfied" if r < 0.9 else ("basic" if r < 0.96 else "unsatisfied")
        at = done_at + timedelta(hours=rng.uniform(1, 30))
        if at > self.end:
            return
        st = c.state
        frm = self._from(c)
        st.status, st.rating, st.status_changed_at = "rated", rating, at
        self._log(c, "rated", at, "citizen", frm, data={"rating": rating})
        if rating == "unsatisfied":
            st.reopen_count += 1
            st.completed_at = None
            data = {"reopen_count": st.reopen_count}
            tier, unit = st.tier or Tier.GRID, st.unit_code or ""
            self._hand_over(c, at, "reopened", tier, unit, "citizen", reason=REOPEN, data=data)
        self._write(c, at)

    def _close(self, c: BulkCase, done_at: datetime) -> None:
        """Closed a few days after completion."""
        at = done_at + timedelta(hours=self.rng.uniform(30, 80))
        if at > self.end:
            return
        st = c.state
        frm = self._from(c)
        st.status, st.closed_at, st.status_changed_at = "closed", at, at
        self._log(c, "closed", at, "system", frm)
        self._write(c, at)

    # ------------------------------------------------------------------ the log

    @staticmethod
    def _from(c: BulkCase) -> tuple[str | None, str | None, str | None]:
        """Where the case is now (status, unit, tier): an event's "from"."""
        st = c.state
        return st.status, st.unit_code, st.tier

    @staticmethod
    def _due(st: CaseState) -> dict[str, Any]:
        """A clock event's payload: the deadline, as the engine writes it (read back from SQL,
        so in UTC)."""
        return {"due_at": st.due_at.astimezone(UTC).isoformat() if st.due_at else None}

    @staticmethod
    def _log(
        c: BulkCase,
        type_: str,
        at: datetime,
        actor: str,
        frm: tuple[str | None, str | None, str | None] = (None, None, None),
        *,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """One event, from ``frm`` to where the case is now (the engine's ``Ctx.emit``)."""
        st = c.state
        st.event_count += 1
        c.events.append(
            {
                "case_id": st.id,
                "seq": st.event_count,
                "type": type_,
                "at": at,
                "actor": actor,
                "from_status": frm[0],
                "to_status": st.status,
                "from_unit": frm[1],
                "to_unit": st.unit_code,
                "from_tier": frm[2],
                "to_tier": st.tier,
                "reason": reason,
                "data": data,
            }
        )

    @staticmethod
    def _write(c: BulkCase, at: datetime) -> None:
        """One more write of the case (an action, or a tick that fired something)."""
        c.state.version += 1
        c.state.updated_at = at

    # ------------------------------------------------------------------ rows

    def row(self, c: BulkCase) -> dict[str, Any]:
        """The ``cases`` row of the case as it stands at the end."""
        return dict(zip(CASE_FIELDS, c.state.snapshot(), strict=True))

    def event_rows(self, c: BulkCase) -> list[dict[str, Any]]:
        """The ``case_events`` rows of the case (without their ids)."""
        return [dict(e) for e in c.events]

    def stage_rows(self, c: BulkCase) -> list[dict[str, Any]]:
        """The ``drill_stages`` rows of the case, as the projection would derive them."""
        st = c.state
        day = st.reported_at.astimezone(TZ).date()
        out = []
        for no, s in enumerate(c.stages, 1):
            dwell = (s.end - s.start).total_seconds() if s.end is not None else None
            out.append(
                {
                    "case_id": c.id,
                    "stage_no": no,
                    "day": day,
                    "grid_code": st.grid_code,
                    "township_code": st.township_code,
                    "county_code": st.county_code,
                    "category": st.category,
                    "channel": st.channel,
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
        """The case's rows for COPY, the events' ids given: converted as the engine's own COPY
        converts them (naive UTC times, JSON as text)."""
        sql = self._sql
        case_row = sql.case_values(c.state, CASE_FIELDS)
        ev_rows = []
        for e in c.events:
            ev_rows.append([self.next_event_id, *sql.event_values(e)])
            self.next_event_id += 1
        stage_rows = []
        for r in self.stage_rows(c):
            values = list(_STAGE_VALUES(r))
            for i in _STAGE_TIMES:
                if values[i] is not None:
                    values[i] = values[i].astimezone(UTC).replace(tzinfo=None)
            stage_rows.append(values)
        return case_row, ev_rows, stage_rows


def _unit_actor(st: CaseState) -> str:
    return f"unit:{st.unit_code}"[:64]


def load(
    system: System,
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
        if start is None:
            sys.exit("--top-up: the database holds no generated cases to continue from")
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
    copy_stages = f"COPY drill_stages ({', '.join(STAGE_COLS)}) FROM STDIN"
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
        # building an index over 34 M events takes minutes on a busy machine: past the
        # statement timeout a request gets (GRIDWATCH_DB_STATEMENT_TIMEOUT_MS)
        conn.execute(text("SET LOCAL statement_timeout = 0"))
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
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        auto.execute(text("SET statement_timeout = 0"))
        auto.execute(text("VACUUM ANALYZE"))
        auto.execute(text("RESET statement_timeout"))
    indexed = time.perf_counter() - t1
    # the days' roll-ups, from the rows just written, as the reports job would keep them
    t2 = time.perf_counter()
    refresh_days(db, TZ, end)
    return {
        "cases": made,
        "events": events,
        "stages": stages,
        "days": round(gen.days, 2),
        "load_seconds": round(loaded, 1),
        "index_seconds": round(indexed, 1),
        "day_rollup_seconds": round(time.perf_counter() - t2, 1),
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
