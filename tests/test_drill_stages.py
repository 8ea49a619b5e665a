"""Stages read from the event log, the projection that keeps them, and the analyses over it,
each checked against the engine's own log or an independent computation over raw rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import insert, select

from backend.core.errors import CommandInvalid
from backend.domain import stages as st
from backend.domain.events import STAGE_START_TYPES, StageEnd
from backend.drill.projection import OVERLAP, refresh_stages, state_of
from backend.queries import bottlenecks as bn
from backend.queries.filters import DrillFilter
from backend.queries.scope import Scope
from backend.queries.timeline import load_timeline
from backend.store.models import case_events, cases, drill_stages
from tests.drilldata import simulate
from tests.helpers import act, events_of, report

CITY = Scope.city()


def test_stages_of_a_case_that_went_overdue_climbed_and_was_reopened(system, clock):
    case_id = report(system)
    clock.advance(timedelta(days=5))  # nobody signs for it: overdue at grid, moved up
    system.engine.tick()
    act(system, case_id, "accept")
    clock.advance(timedelta(hours=3))
    act(system, case_id, "resolve", reason="已清理")
    act(system, case_id, "rate", rating="unsatisfied")  # reopened at the same tier
    clock.advance(timedelta(hours=2))
    act(system, case_id, "accept")
    act(system, case_id, "resolve", reason="再次清理")
    evs = events_of(system, case_id)
    stages = st.stages_from_events(evs)
    assert [(s.tier, s.end_kind, s.start_event) for s in stages] == [
        ("grid", StageEnd.OVERDUE, "dispatched"),
        ("township", StageEnd.COMPLETED, "escalated"),
        ("township", StageEnd.COMPLETED, "reopened"),
    ]
    at = {e["type"]: e["at"] for e in evs}
    first = stages[0]
    assert first.reminders == 1 and first.warnings == 1
    assert first.overdue_at == at["overdue"]
    assert first.ended_at == at["escalated"]
    assert stages[1].dwell(clock.now()) == pytest.approx(3 * 3600)
    assert stages[2].dwell(clock.now()) == pytest.approx(2 * 3600)
    assert first.next_tier == "township" and stages[2].next_tier is None
    # the case page's figures are the same stages
    with system.db.connect() as conn:
        tl = load_timeline(conn, case_id, clock.now(), scope=CITY)
    assert tl.tier_dwell["township"] == pytest.approx(5 * 3600)
    assert list(tl.unit_dwell) == [first.unit, stages[1].unit]
    assert tl.reminders == 1 and tl.warnings == 1 and len(tl.ratings) == 1


def test_bins_are_ordered_and_cover_every_duration():
    edges = st.bin_edges_hours()
    assert st.bin_of(0) == 0 and st.bin_of(10 * 60) == 0
    for k in range(1, st.BIN_COUNT - 1):
        inside = (edges[k] * 1.0001) * 3600
        assert st.bin_of(inside) == k
    assert st.bin_of(10_000 * 3600) == st.BIN_COUNT - 1


def _stage_table(system):
    with system.db.connect() as conn:
        rows = conn.execute(select(drill_stages).order_by("case_id", "stage_no")).mappings()
        return [{k: v for k, v in r.items()} for r in rows]


def test_the_projection_is_incremental_and_equals_a_rebuild(system, clock):
    simulate(system, clock, days=3)
    with system.db.connect() as conn:
        last, window, _ = state_of(conn, "stages")
        top = conn.execute(select(case_events.c.id).order_by(case_events.c.id.desc())).first()
    assert last == top[0] and window == min(top[0], OVERLAP)
    # the city goes on; the next refresh reads only what is new
    more = [report(system, grid=g) for g in sorted(system.ref.grids)[:5]]
    act(system, more[0], "accept")
    assert refresh_stages(system.db, system.tz, clock.now(), system.deadlines) == 5
    assert refresh_stages(system.db, system.tz, clock.now(), system.deadlines) == 0
    incremental = _stage_table(system)
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines, rebuild=True)
    assert _stage_table(system) == incremental
    with system.db.connect() as conn:
        dispatched = conn.execute(
            select(case_events.c.case_id).where(case_events.c.type == "dispatched").distinct()
        ).all()
    firsts = [r for r in incremental if r["stage_no"] == 1]
    assert len(firsts) == len(dispatched)


def test_an_event_committed_late_below_the_watermark_is_still_folded_in(system, clock):
    """On PostgreSQL a transaction may commit ids lower than one a refresh has already seen.
    Here the rows are written by hand with the ids such a commit would have."""
    case_id = report(system)
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines)
    with system.db.begin() as conn:
        evs = [
            dict(e._mapping)
            for e in conn.execute(select(case_events).where(case_events.c.case_id == case_id))
        ]
        top = max(e["id"] for e in evs)
        # a later event of the same case, leaving a gap of ids below it
        note = dict(evs[-1], id=top + 1000, seq=len(evs) + 1, type="instructed", reason="督办")
        conn.execute(insert(case_events).values(**note))
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines)
    with system.db.begin() as conn:
        row = dict(conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one())
        late = row["id"] + 1
        conn.execute(insert(cases).values(**dict(row, id=late, ref="late-commit")))
        for k, e in enumerate(evs):  # its whole log inside the gap: committed late
            conn.execute(insert(case_events).values(**dict(e, id=top + 10 + k, case_id=late)))
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines, overlap=0)
    with system.db.connect() as conn:
        assert late not in {r[0] for r in conn.execute(select(drill_stages.c.case_id))}
    refresh_stages(system.db, system.tz, clock.now(), system.deadlines)
    with system.db.connect() as conn:
        got = {r[0] for r in conn.execute(select(drill_stages.c.case_id))}
    assert {case_id, late} <= got


# ----------------------------------------------------------------------------- analyses


def _independent_stages(system) -> pd.DataFrame:
    """Stages again, from raw event rows with pandas, without ``stages_from_events``."""
    with system.db.connect() as conn:
        ev = pd.DataFrame(conn.execute(select(case_events)).mappings().all())
        cs = pd.DataFrame(
            conn.execute(select(cases.c.id, cases.c.reported_at, cases.c.township_code)).all(),
            columns=["case_id", "reported_at", "township_code"],
        )
    ev = ev.sort_values(["case_id", "seq"])
    ev["start"] = ev["type"].isin(sorted(STAGE_START_TYPES))
    ev["stage"] = ev.groupby("case_id")["start"].cumsum()
    ev = ev[ev["stage"] > 0]
    out = []
    for (cid, no), g in ev.groupby(["case_id", "stage"]):
        head = g.iloc[0]
        ends = g[g["type"].isin(["resolved", "cancelled"])]
        nxt = ev[(ev["case_id"] == cid) & (ev["stage"] == no + 1)]
        if len(ends):
            end, kind = ends.iloc[0]["at"], ends.iloc[0]["type"]
        elif len(nxt):
            end, kind = nxt.iloc[0]["at"], "moved"
        else:
            end, kind = None, "open"
        out.append(
            {
                "case_id": cid,
                "tier": head["to_tier"],
                "unit": head["to_unit"],
                "hours": (end - head["at"]).total_seconds() / 3600 if end is not None else None,
                "kind": kind,
                "overdue": bool((g["type"] == "overdue").any()),
                "first": no == 1,
            }
        )
    df = pd.DataFrame(out).merge(cs, on="case_id")
    return df


def test_dwell_flows_and_trends_against_an_independent_computation(system, clock):
    simulate(system, clock, days=5)
    ind = _independent_stages(system)
    f = DrillFilter()
    with system.db.connect() as conn:
        tiers = {d.key: d for d in bn.dwell_by_tier(conn, f, system.ref, scope=CITY)}
        units = bn.dwell_by_unit(conn, f, system.ref, top=5, scope=CITY)
        flows = bn.tier_flows(conn, f, system.ref, scope=CITY)
        trend = bn.overdue_trend(conn, f, system.ref, top=50, scope=CITY)
    done = ind[ind["hours"].notna()]
    for tier, g in done.groupby("tier"):
        d = tiers[tier]
        assert d.n == len(g)
        assert d.mean_hours == pytest.approx(g["hours"].mean())
        # the histogram's median lies within one bin (25%) of the exact one
        exact = g["hours"].median()
        assert exact / 1.3 <= d.median <= exact * 1.3, (tier, exact, d.median)
    assert len(units) == 5
    medians = [u.median for u in units]
    assert medians == sorted(medians, reverse=True)
    by_unit = done.groupby("unit")["hours"]
    for u in units:
        assert u.n == by_unit.count()[u.key] >= bn.MIN_STAGES_PER_UNIT
    # every stage leaves the intake once; completions per tier as counted independently
    assert sum(n for (a, _), n in flows.links.items() if a == bn.INTAKE) == int(ind["first"].sum())
    completed = Counter(ind[ind["kind"] == "resolved"]["tier"])
    for tier, n in completed.items():
        assert flows.links[(tier, "completed")] == n
    assert flows.links.get(("grid", "township"), 0) > 0  # the simulated city has slow grids
    # times overdue per township, summed over the weeks
    per_town = ind[ind["overdue"]].groupby("township_code").size()
    for town in trend.areas:
        assert sum(trend.overdue[town]) == per_town.get(town, 0)
    assert sum(sum(v) for v in trend.overdue.values()) == int(ind["overdue"].sum())


def test_filters_narrow_the_analyses(system, clock):
    simulate(system, clock, days=4)
    town = sorted(a for a, lvl in system.ref.area_levels.items() if lvl == "township")[0]
    ind = _independent_stages(system)
    f = DrillFilter(area=town, tier="grid")
    with system.db.connect() as conn:
        tiers = bn.dwell_by_tier(conn, f, system.ref, scope=CITY)
    expect = ind[(ind["township_code"] == town) & (ind["tier"] == "grid") & ind["hours"].notna()]
    assert [d.key for d in tiers] == ["grid"]
    assert tiers[0].n == len(expect)


def test_the_filters_go_to_the_url_and_back(system):
    ref = system.ref
    town = sorted(a for a, lvl in ref.area_levels.items() if lvl == "township")[1]
    unit = sorted(ref.units)[0]
    f = DrillFilter(area=town, tier="township", unit=unit, category=sorted(ref.categories)[0])
    f = f.with_(channel="hotline", status="accepted", colour="red")
    f = f.with_(
        date_from=pd.Timestamp("2026-11-01").date(), date_to=pd.Timestamp("2026-11-30").date()
    )
    q = f.to_query()
    assert q.startswith("?area=") and "from=2026-11-01" in q and "to=2026-11-30" in q
    assert DrillFilter.from_query(q, ref) == f
    assert DrillFilter.from_query("", ref) == DrillFilter()
    with pytest.raises(CommandInvalid) as bad:
        DrillFilter.from_query("?tier=moon&from=yesterday&unit=NOPE&colour=blue", ref)
    assert set(bad.value.errors) == {"tier", "from", "unit", "colour"}
    # a stale link keeps what still makes sense
    kept = DrillFilter.lenient(f"?area={town}&tier=moon", ref)
    assert kept == DrillFilter(area=town)
    with pytest.raises(CommandInvalid) as backwards:
        DrillFilter.from_query("?from=2026-11-30&to=2026-11-01", ref)
    assert set(backwards.value.errors) == {"to"}


def test_stage_rows_name_the_deadline_they_worked_to(system, clock):
    simulate(system, clock, days=3)
    with system.db.connect() as conn:
        rows = conn.execute(select(drill_stages)).mappings().all()
    overdue = [r for r in rows if r["overdue_at"] is not None]
    assert overdue
    for r in overdue:
        assert r["due_seconds"] == pytest.approx(
            (r["overdue_at"] - r["started_at"]).total_seconds()
        )
    # grid stages have one working day: the end of the next working day
    grid = [r for r in rows if r["tier"] == "grid" and r["overdue_at"] is None]
    assert all(12 * 3600 < r["due_seconds"] < 5 * 86400 for r in grid)
    kinds = defaultdict(int)
    for r in rows:
        kinds[r["end_kind"]] += 1
    assert kinds[StageEnd.COMPLETED] and kinds[StageEnd.OPEN]
