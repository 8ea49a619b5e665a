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
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import func, select, text

from backend.core.config import Settings
from backend.domain.case import CASE_FIELDS
from backend.domain.vocabulary import TIER_ORDER
from backend.drill.projection import OVERLAP, STAGES, set_state
from backend.drill.stages import bin_of
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


class Generator:
    def __init__(
        self, system: Any, n: int, end: datetime, seed: int, start: datetime | None = None
    ) -> None:
        self.ref = system.ref
        self.rng = random.Random(seed)
        self.end = end
        self.start = start or end - timedelta(days=max(1, math.ceil(n / PER_DAY)))
        self.days: float = max(1e-3, (end - self.start).total_seconds() / 86400)
        self.n = n
        self.wd = WorkingDays(system.calendar, self.start.date(), end.date())
        self.grids = sorted(self.ref.grids)
        cats = sorted(c for c, info in self.ref.categories.items())
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

    # ------------------------------------------------------------------ one case

    def case(self, cid: int, at: datetime) -> tuple[list[Any], list[list[Any]], list[list[Any]]]:
        rng = self.rng
        ref = self.ref
        grid = self.grids[int(rng.random() * len(self.grids))]
        g = ref.grids[grid]
        cat = self.cats[bisect_right(self.cat_w, rng.random() * self.cat_w[-1])]
        info = ref.categories[cat]
        channel = self.channels[bisect_right(self.chan_w, rng.random() * self.chan_w[-1])]
        severity = "major" if rng.random() < 0.03 else "general"
        tier = "department" if (info.major or severity != "general") else info.default_tier.value
        now = self.end
        events: list[dict[str, Any]] = []
        stages: list[dict[str, Any]] = []
        overdue_tiers: list[str] = []

        def ev(type_: str, t: datetime, actor: str, **kw: Any) -> bool:
            if t > now:
                return False
            events.append({"type": type_, "at": t, "actor": actor, **kw})
            return True

        def here(type_: str, when: datetime, actor: str, frm: str, to: str, **kw: Any) -> bool:
            """An event at the unit and tier the case is at now."""
            where = {"from_unit": unit, "to_unit": unit, "from_tier": tier, "to_tier": tier}
            return ev(type_, when, actor, from_status=frm, to_status=to, **where, **kw)

        ev("reported", at, "intake", to_status="received", data={"channel": channel})
        t = at
        start_type = "dispatched"
        status, holder, completed, rating, closed_at = "dispatched", None, None, None, None
        unit = ref.unit_for(grid, TIER_ORDER[TIERS.index(tier)], cat)
        stage_due = at
        colour = "green"
        escalations = 0
        while True:
            unit = ref.unit_for(grid, TIER_ORDER[TIERS.index(tier)], cat)
            due = self.wd.deadline(t, ALLOWANCE_WD[tier])
            stage_due = due
            span = (due - t).total_seconds()
            prev = events[-1]
            if not ev(
                start_type,
                t,
                "clock" if start_type == "escalated" else "triage",
                from_status=prev.get("to_status"),
                to_status="dispatched",
                from_unit=prev.get("to_unit"),
                to_unit=unit,
                from_tier=prev.get("to_tier"),
                to_tier=tier,
                data={"by": "clock"} if start_type == "escalated" else None,
            ):
                break
            stage = {
                "tier": tier,
                "unit": unit,
                "start": t,
                "start_event": start_type,
                "end": None,
                "kind": "open",
                "overdue_at": None,
                "rem": 0,
                "warn": 0,
                "due": span,
            }
            stages.append(stage)
            status, colour = "dispatched", "green"
            took = (
                3600 * HANDLING_HOURS[tier] * self.unit_speed(unit) * math.exp(rng.gauss(0, 0.75))
            )
            accept = t + timedelta(seconds=min(took * 0.1, 4 * 3600))
            if here(
                "accepted",
                accept,
                f"unit:{unit}"[:64],
                "dispatched",
                "accepted",
            ):
                status, holder = "accepted", f"H{rng.randint(1000, 9999)}"
            done_at = t + timedelta(seconds=took)
            for frac, kind in ((0.5, "reminded"), (0.8, "warned")):
                m = t + timedelta(seconds=span * frac)
                if m < done_at and here(
                    kind,
                    m,
                    "clock",
                    status,
                    status,
                    data={"due_at": due.isoformat()},
                ):
                    stage["rem" if kind == "reminded" else "warn"] += 1
                    colour = "yellow" if kind == "reminded" else "orange"
            if done_at > due:
                if not here(
                    "overdue",
                    due,
                    "clock",
                    status,
                    status,
                    data={"due_at": due.isoformat()},
                ):
                    break
                stage["overdue_at"] = due
                colour = "red"
                if tier not in overdue_tiers:
                    overdue_tiers.append(tier)
                if tier != "county":
                    stage["end"], stage["kind"] = due, "overdue"
                    tier = TIERS[TIERS.index(tier) + 1]
                    start_type = "escalated"
                    escalations += 1
                    t = due
                    continue
                here(
                    "leader_notified",
                    due,
                    "clock",
                    status,
                    status,
                    reason="overdue at the top tier",
                )
            if here(
                "resolved",
                done_at,
                f"unit:{unit}"[:64],
                status,
                "resolved",
            ):
                status, completed = "resolved", done_at
                stage["end"], stage["kind"] = done_at, "completed"
                if rng.random() < 0.85:
                    r = rng.random()
                    rating = "satisfied" if r < 0.9 else ("basic" if r < 0.96 else "unsatisfied")
                    if here(
                        "rated",
                        done_at + timedelta(hours=rng.uniform(1, 30)),
                        "citizen",
                        "resolved",
                        "rated",
                        data={"rating": rating},
                    ):
                        status = "rated"
                    else:
                        rating = None
                close = done_at + timedelta(hours=rng.uniform(30, 80))
                if here(
                    "closed",
                    close,
                    "system",
                    status,
                    "closed",
                ):
                    status, closed_at = "closed", close
            break
        last = events[-1]["at"]
        open_ = status in ("dispatched", "accepted")
        nxt: datetime | None = None
        milestone: str | None = None
        if open_ and stages:
            s = stages[-1]
            for frac, mark in ((0.5, "reminder"), (0.8, "warning"), (1.0, "due")):
                tm = s["start"] + timedelta(seconds=s["due"] * frac)
                if tm > now:
                    nxt, milestone = tm, mark
                    break
        st = stages[-1] if stages else None
        row = {
            "id": cid,
            "ref": f"bulk-{cid}",
            "reported_at": at,
            "channel": channel,
            "category": cat,
            "severity": severity,
            "complexity": info.complexity,
            "mode": "normal",
            "grid_code": grid,
            "township_code": g.township_code,
            "county_code": g.county_code,
            "address": None,
            "lat": None,
            "lon": None,
            "description": f"{ref.area_names[grid]}{info.name}：群众反映情况，请尽快处理。",
            "reporter": None,
            "status": status,
            "prev_status": None,
            "tier": st["tier"] if st else None,
            "unit_code": st["unit"] if st else None,
            "holder": holder,
            "stage_started_at": st["start"] if st else None,
            "status_changed_at": last,
            "allowance": f"{ALLOWANCE_WD[st['tier']]} wd" if st else None,
            "budget_seconds": float(ALLOWANCE_WD[st["tier"]] * 86400) if st else None,
            "used_seconds": 0.0,
            "segment_started_at": st["start"] if st and open_ else None,
            "reminder_at": st["start"] + timedelta(seconds=st["due"] * 0.5) if st else None,
            "warning_at": st["start"] + timedelta(seconds=st["due"] * 0.8) if st else None,
            "due_at": stage_due if st else None,
            "next_due_at": nxt,
            "next_milestone": milestone,
            "colour": colour,
            "overdue_tiers": ",".join(overdue_tiers),
            "escalations": escalations,
            "reopen_count": 0,
            "consultation": None,
            "completed_at": completed,
            "closed_at": closed_at,
            "rating": rating if status in ("rated", "closed") else None,
            "duplicate_count": 1,
            "source": None,
            "source_channel": None,
            "source_type": None,
            "event_count": len(events),
            "version": len(events),
            "updated_at": last,
        }
        case_row = [_pg(row[f]) for f in CASE_FIELDS]
        ev_rows = []
        for seq, e in enumerate(events, 1):
            ev_rows.append(
                [
                    self.next_event_id if f == "id" else _event_value(f, e, cid, seq)
                    for f in ("id", *EVENT_FIELDS)
                ]
            )
            self.next_event_id += 1
        day = at.astimezone(TZ).date()
        stage_rows = []
        for no, s in enumerate(stages, 1):
            ended = s["end"] is not None
            dwell = (s["end"] - s["start"]).total_seconds() if ended else None
            stage_rows.append(
                [
                    cid,
                    no,
                    day,
                    grid,
                    g.township_code,
                    g.county_code,
                    cat,
                    channel,
                    s["tier"],
                    s["unit"],
                    s["start_event"],
                    _pg(s["start"]),
                    _pg(s["end"]),
                    s["kind"],
                    dwell,
                    bin_of(dwell) if dwell is not None else None,
                    s["due"],
                    stages[no]["tier"] if no < len(stages) else None,
                    _pg(s["overdue_at"]),
                    s["rem"],
                    s["warn"],
                ]
            )
        return case_row, ev_rows, stage_rows


def _pg(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None)
    return v


def _event_value(f: str, e: dict[str, Any], cid: int, seq: int) -> Any:
    if f == "case_id":
        return cid
    if f == "seq":
        return seq
    if f == "at":
        return _pg(e["at"])
    if f == "data":
        return json.dumps(e["data"], ensure_ascii=False) if e.get("data") is not None else None
    return e.get(f)


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
    gen = Generator(system, n, end, seed, start)
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
            c, e, s = gen.case(cid, at)
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
