"""bench/bulkgen.py's cases replayed through the real engine: the benchmark data is what the
engine would have written.

bulkgen writes millions of cases by COPY, re-implementing the life cycle; every 1 M / 5 M
figure rests on those rows being the engine's. Here a sample of its cases (the small demo
city, a few hundred cases over 75 days, so that every tier is reached, some cases are reopened
and the last days hold open ones) is replayed on the test database: each case is created at its
report time, the same actions (accept, resolve, rate, close) are sent at the same instants by
the same actors, and the engine's clock ticks at each milestone the engine itself has set, so
the engine makes its own reminders, warnings, overdue events, auto-escalations, leader
notices and reopenings, up to bulkgen's end. Then, per case, the whole ``cases`` row, the whole
event log (every column but the id) and the ``drill_stages`` rows (the real projection rebuilt
from the replayed log) must equal what bulkgen made. With PostgreSQL, the rows bulkgen's COPY
load writes are checked against the same generator's rows too.

Differences inherent to generating instead of running, so not compared:

* The clock. The replay ticks exactly at each milestone, as an engine whose clock never lags
  would, and so does bulkgen. A live engine ticks every few seconds: its clock events (and an
  escalated stage's start) come up to a tick later, and milestones within one tick share one
  write (one ``version``).
* Event ids and the log's physical order. bulkgen numbers the events case by case, so each
  case's log lies together on disk; a live log is in commit order, the cases interleaved.
  Reading one case's timeline is therefore cheaper on bulkgen data than live, and a range of
  recent events dearer.
* What is not the engine's case state: bulkgen writes no ``processed_commands`` rows (the
  engine's record of applied command ids) and no ``case_reports`` (intake's record of each
  report), neither of which the drill-down reads.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from backend.domain.case import CASE_FIELDS, CaseState
from backend.domain.commands import action_command, create_command
from backend.drill.projection import refresh_stages
from backend.engine.case_engine import CaseEngine
from backend.store.models import case_events, cases, drill_stages
from backend.system import System
from bench import bulkgen
from bench.bulkgen import BulkCase, Generator
from tests.conftest import TZ, local

END = local(2026, 11, 23, 9, 0)
DAYS = 75
CASES = 300  # about: the rate is the city's rhythm, so the sample holds 353
SEED = 20  # a sample with every path: escalated to the county, leader told, reopened, open

#: the events that are a person's action in bulkgen's log, and the engine's action for each
ACTIONS = {"accepted": "accept", "resolved": "resolve", "rated": "rate", "closed": "close"}


def _params(event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"] or {}
    if event["type"] == "accepted":
        return {"holder": data["holder"]}
    if event["type"] == "rated":
        return {"rating": data["rating"]}
    return {}


def _next_due(engine: CaseEngine, case_id: int) -> datetime | None:
    with engine.db.connect() as conn:
        due: datetime | None = conn.execute(
            select(cases.c.next_due_at).where(cases.c.id == case_id)
        ).scalar_one()
    return due


def _run_clock(engine: CaseEngine, case_id: int, until: datetime, *, inclusive: bool) -> None:
    """Tick at every milestone of the case before ``until`` (or at it, if ``inclusive``).

    Only this case can be due: the cases replayed before it have run their clocks to the end.
    """
    for _ in range(50):
        due = _next_due(engine, case_id)
        if due is None or due > until or (due == until and not inclusive):
            return
        engine.tick(now=due)
    raise AssertionError(f"case {case_id}: the clock does not settle before {until}")


def replay(engine: CaseEngine, end: datetime, c: BulkCase, refused: list[str]) -> int:
    """Create the case and send its actions, the engine's clock running in between."""
    st = c.state
    body = {
        "category": st.category,
        "description": st.description,
        "channel": st.channel,
        "grid": st.grid_code,
        "severity": st.severity,
    }
    actor = c.events[0]["actor"]
    created = engine.apply([create_command(body, ref=st.ref, at=st.reported_at, actor=actor)])
    result = created.results[0]
    assert result.ok, result.error
    case_id = result.case_id
    assert case_id is not None
    for e in c.events:
        action = ACTIONS.get(e["type"])
        if action is None:
            continue  # the engine makes it: at the create, on its clock, or as a consequence
        _run_clock(engine, case_id, e["at"], inclusive=False)
        done = engine.apply(
            [action_command(action, _params(e), case_id=case_id, actor=e["actor"], at=e["at"])]
        ).results[0]
        if not done.ok:
            refused.append(f"case {c.id}: {action} at {e['at']}: {done.error}")
    _run_clock(engine, case_id, end, inclusive=True)
    return case_id


class Differences:
    """What differs, how often, with one example each: a failure says everything at once."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.example: dict[str, str] = {}

    def add(self, what: str, case_id: int, bulk: Any, engine: Any) -> None:
        self.count[what] += 1
        self.example.setdefault(what, f"case {case_id}: bulkgen {bulk!r}, engine {engine!r}")

    def compare_rows(
        self, what: str, case_id: int, want: list[dict[str, Any]], got: list[dict[str, Any]]
    ) -> None:
        if len(want) != len(got):
            self.add(f"{what}: number of rows", case_id, len(want), len(got))
            return
        for w, g in zip(want, got, strict=True):
            of = f" of {w['type']}" if what == "case_events" else ""
            for f, value in w.items():
                if value != g[f]:
                    self.add(f"{what}.{f}{of}", case_id, value, g[f])

    def report(self) -> str:
        return "\n".join(f"{what} ({n}x): {self.example[what]}" for what, n in self.count.items())


def _stored(db: Engine) -> tuple[dict[int, CaseState], dict[int, list[Any]], dict[int, list[Any]]]:
    """Every case, its event log and its stages, as the database holds them."""
    logs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    stages: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with db.connect() as conn:
        states = {r.id: CaseState.from_row(r) for r in conn.execute(select(cases))}
        for r in conn.execute(
            select(case_events).order_by(case_events.c.case_id, case_events.c.seq)
        ).mappings():
            logs[r["case_id"]].append(dict(r))
        for r in conn.execute(
            select(drill_stages).order_by(drill_stages.c.case_id, drill_stages.c.stage_no)
        ).mappings():
            stages[r["case_id"]].append(dict(r))
    return states, logs, stages


def _differences(db: Engine, gen: Generator, bulk: list[BulkCase]) -> Differences:
    states, logs, stages = _stored(db)
    diff = Differences()
    assert sorted(states) == [c.id for c in bulk]
    for c in bulk:
        stored = dict(zip(CASE_FIELDS, states[c.id].snapshot(), strict=True))
        diff.compare_rows("cases", c.id, [gen.row(c)], [stored])
        want_types = [e["type"] for e in c.events]
        got_types = [e["type"] for e in logs[c.id]]
        if want_types != got_types:
            diff.add("event types", c.id, want_types, got_types)
        else:
            diff.compare_rows("case_events", c.id, gen.event_rows(c), logs[c.id])
        diff.compare_rows("drill_stages", c.id, gen.stage_rows(c), stages[c.id])
    return diff


def test_bulkgen_cases_are_what_the_engine_makes_of_the_same_actions(system: System) -> None:
    gen = Generator(system.ref, system.deadlines, CASES, END, SEED, start=END - timedelta(DAYS))
    bulk = [gen.case(cid, at) for cid, at in enumerate(gen.arrivals(), 1)]
    _assert_every_path_is_in(bulk)

    engine = CaseEngine(system.db, system.ref, system.deadlines, system.clock)  # no live push
    refused: list[str] = []
    for c in bulk:
        assert replay(engine, gen.end, c, refused) == c.id
    refresh_stages(system.db, TZ, gen.end, system.deadlines, rebuild=True)

    diff = _differences(system.db, gen, bulk)
    assert not refused and not diff.count, "\n".join(refused[:5]) + "\n" + diff.report()


def _assert_every_path_is_in(bulk: list[BulkCase]) -> None:
    """The sample exercises every step of the generator (else pick another seed)."""
    events = Counter(e["type"] for c in bulk for e in c.events)
    assert set(events) == {
        "reported",
        "dispatched",
        "accepted",
        "reminded",
        "warned",
        "overdue",
        "escalated",
        "leader_notified",
        "resolved",
        "rated",
        "reopened",
        "closed",
    }
    states = [c.state for c in bulk]
    open_ = [s for s in states if s.status in ("dispatched", "accepted")]
    assert {s.status for s in states} == {"dispatched", "accepted", "resolved", "rated", "closed"}
    assert {s.tier for s in open_} >= {"grid", "county"} and len(open_) >= 10
    assert any(s.reopen_count > 1 for s in states)
    assert {s.colour for s in open_} >= {"green", "yellow", "red"}
    assert {s.rating for s in states} >= {"satisfied", "basic", "unsatisfied"}


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgresql"),
    reason="bulkgen loads PostgreSQL only (COPY)",
)
def test_bulkgen_loads_by_copy_the_rows_it_generates(system: System) -> None:
    """The COPY path (``pg_rows``, the column lists, the ids, the JSON) writes the rows the
    replay above checks; the projection's watermark covers every event."""
    out = bulkgen.load(system, 400, END, SEED, chunk=150)
    gen = Generator(system.ref, system.deadlines, 400, END, SEED)
    bulk = [gen.case(cid, at) for cid, at in enumerate(gen.arrivals(), 1)]
    assert out["cases"] == len(bulk) and out["events"] == sum(len(c.events) for c in bulk)
    diff = _differences(system.db, gen, bulk)
    assert not diff.count, diff.report()
    _, logs, _ = _stored(system.db)
    ids = [e["id"] for c in bulk for e in logs[c.id]]
    assert ids == list(range(1, len(ids) + 1))
    # the projection's watermark is set as a refresh leaves it: nothing to fold in
    assert refresh_stages(system.db, TZ, END, system.deadlines) == 0
