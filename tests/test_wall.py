"""The wall's figures, kept by deltas from a real Redis, against independent SQL."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import and_, select

from backend.bus.live import parse_live_message
from backend.domain.events import Ticker
from backend.domain.vocabulary import OPEN_STATUSES, Status
from backend.live.wall import Entry, WallModel, entry_from_delta
from backend.queries.live import TICKER_LENGTH, TickerItem, WallSnapshot, wall_snapshot
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.store.models import cases
from backend.system import System
from tests.conftest import TZ, local
from tests.helpers import act, report

OPEN = [s.value for s in OPEN_STATUSES]


def _drain(pubsub, model: WallModel, quiet: float = 0.3) -> int:
    """Apply every message waiting on the subscription; the number applied."""
    n, last = 0, time.monotonic()
    while time.monotonic() - last < quiet:
        msg = pubsub.get_message(timeout=0.05)
        if msg is None:
            continue
        last = time.monotonic()
        assert model.apply(*parse_live_message(msg["data"])), "no message may be missed here"
        n += 1
    return n


def _load(system, model: WallModel) -> None:
    with system.db.connect() as conn:
        model.load(
            wall_snapshot(
                conn, system.publisher.last_seq, Scope.city(), system.clock.now(), system.tz
            )
        )


def _sql_area_load(system, column) -> dict[str, tuple[int, int]]:
    with system.db.connect() as conn:
        rows = conn.execute(
            select(column, cases.c.status, cases.c.colour, cases.c.overdue_tiers).where(
                cases.c.status.in_(OPEN), column.is_not(None)
            )
        ).all()
    # overdue on the map: a 超期件, overdue at a tier before or past its deadline now
    open_, over = Counter[str](), Counter[str]()
    for code, status, colour, tiers in rows:
        open_[code] += 1
        over[code] += bool(tiers) or (status != Status.PAUSED.value and colour == "red")
    return {c: (open_[c], over[c]) for c in open_}


#: Short allowances and no escalation out of the grid, so a day leaves cases overdue at
#: several tiers (with the default pack, auto-escalation clears most of them).
STRICT_POLICY = """
name: strict
thresholds: {reminder: 0.5, warning: 0.8}
rules:
  - {tier: grid, allowance: 6 wh}
  - {tier: township, allowance: 1 wd, auto_escalate: true}
  - {tier: department, allowance: 2 wd}
  - {tier: county, allowance: 3 wd}
"""


def test_the_wall_follows_a_simulated_city_and_equals_sql(settings, clock, tmp_path):
    policy = tmp_path / "strict.yaml"
    policy.write_text(STRICT_POLICY, encoding="utf-8")
    system = System(settings.model_copy(update={"policy": str(policy)}), clock)
    sim = CitySimulator(system.ref, system.tz, SimConfig(cases_per_grid_per_day=3.0, seed=11))
    # eleven days of history, then the wall connects mid-morning and follows the rest of the day
    start, connect, end = (
        local(2026, 11, 12, 0, 0),
        local(2026, 11, 23, 9, 0),
        local(2026, 11, 23, 16, 30),
    )
    run_fast(system.engine, sim, start, connect, clock=clock)
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    model = WallModel(system.tz)
    _load(system, model)
    assert model.kpi()["open"] > 0
    run_fast(system.engine, sim, connect, end, clock=clock, step=timedelta(minutes=7))
    assert _drain(pubsub, model) > 50
    model.advance(clock.now())
    pubsub.close()

    with system.db.connect() as conn:
        expected = kpi(conn, clock.now(), system.tz, scope=Scope.city())
    got = model.kpi()
    for key in (
        "received_today",
        "closed_today",
        "open",
        "awaiting_triage",
        "overdue",
        "overdue_cases_open",
        "by_tier",
        # each rate's base
        "handled_today",
        "closed_of_today",
        "on_time_of_today",
        "rated_today",
        "satisfied_today",
    ):
        assert got[key] == expected[key], key
    for key in ("close_rate_today", "on_time_rate_today", "satisfaction_rate_today"):
        assert got[key] == expected[key], key
    # the day really moved things, overdue at more than one tier
    assert got["closed_today"] > 0
    assert sum(1 for v in got["by_tier"].values() if v["overdue"]) >= 2
    # 超期件: more than the cases past their deadline this instant, at more than one tier
    assert got["overdue_cases_open"] > got["overdue"]
    assert sum(1 for v in got["by_tier"].values() if v["went_overdue"]) >= 2
    assert model.area_load("grid") == _sql_area_load(system, cases.c.grid_code)
    assert model.area_load("township") == _sql_area_load(system, cases.c.township_code)

    # the intake chart: reports per hour and channel over the last 24 hours
    hours, by_channel = model.intake_by_channel()
    with system.db.connect() as conn:
        rows = conn.execute(
            select(cases.c.reported_at, cases.c.channel).where(
                cases.c.reported_at >= hours[0],
                cases.c.reported_at < hours[-1] + timedelta(hours=1),
            )
        ).all()
    want = Counter(
        (r.reported_at.replace(minute=0, second=0, microsecond=0), r.channel) for r in rows
    )
    got_intake = Counter(
        {(hours[i], ch): n for ch, counts in by_channel.items() for i, n in enumerate(counts) if n}
    )
    assert got_intake == want

    # the stuck ranking: time waited in the present stage, summed per unit
    now = clock.now()
    with system.db.connect() as conn:
        rows = conn.execute(
            select(cases.c.unit_code, cases.c.stage_started_at).where(
                and_(
                    cases.c.status.in_([s for s in OPEN if s != Status.PAUSED.value]),
                    cases.c.unit_code.is_not(None),
                )
            )
        ).all()
    waited = Counter[str]()
    for unit, started in rows:
        waited[unit] += int(now.timestamp()) - int(started.timestamp())
    top = model.stuck_units(now, limit=5)
    assert [r["unit"] for r in top] == [
        u for u, _ in sorted(waited.items(), key=lambda x: (-x[1], x[0]))[:5]
    ]
    assert [r["waited_seconds"] for r in top] == sorted(waited.values(), reverse=True)[:5]
    system.db.dispose()


def test_the_ticker_tells_new_escalated_overdue_and_closed(system, clock):
    earlier = report(system, grid=sorted(system.ref.grids)[9])
    model = WallModel(system.tz)
    _load(system, model)
    # a wall that opens on a running city starts with the latest happenings of the event log
    assert [(i.kind, i.case_id) for i in model.ticker] == [("new", earlier)]
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    a = report(system)
    b = report(system, grid=sorted(system.ref.grids)[3])
    act(system, a, "escalate", reason="网格无法解决")
    act(system, b, "accept")
    act(system, b, "resolve", reason="已清理")
    _drain(pubsub, model)
    kinds = [(i.kind, i.case_id) for i in model.ticker]
    # newest first
    assert kinds == [("closed", b), ("escalated", a), ("new", b), ("new", a), ("new", earlier)]
    assert model.ticker[0].code.startswith("GW20261123")
    # a's deadline passes: the engine's tick turns it red, and the wall counts it overdue
    assert model.kpi()["overdue"] == 0
    clock.advance(timedelta(days=30))
    system.engine.tick()
    _drain(pubsub, model)
    # overdue at the township, so it climbs on its own ...
    latest = [(i.kind, i.case_id) for i in model.ticker][:2]
    assert latest == [("escalated", a), ("overdue", a)]
    # past its deadline for an instant only, yet a 超期件: counted at the tier where it went
    # overdue and at the one that holds it now, the same on the wall and in SQL
    k = model.kpi()
    assert k["overdue"] == 0 and k["overdue_cases_open"] == 2  # a, and the untouched earlier
    assert k["by_tier"]["township"]["went_overdue"] == 1
    assert k["by_tier"]["department"]["overdue_cases"] == 1
    with system.db.connect() as conn:
        assert kpi(conn, clock.now(), system.tz, scope=Scope.city())["by_tier"] == k["by_tier"]
    for _ in range(3):
        clock.advance(timedelta(days=30))
        system.engine.tick()
    _drain(pubsub, model)
    # ... until it sits overdue at the top, red, and is counted there (so does the untouched
    # earlier case)
    assert model.ticker[0].kind == "overdue" and model.ticker[0].tier == "county"
    k = model.kpi()
    assert k["overdue"] == 2 and k["by_tier"]["county"]["overdue"] == 2
    with system.db.connect() as conn:
        assert kpi(conn, clock.now(), system.tz, scope=Scope.city())["by_tier"] == k["by_tier"]
    pubsub.close()


def test_a_missed_message_asks_for_a_snapshot_and_midnight_starts_a_new_day(system, clock):
    model = WallModel(system.tz)
    _load(system, model)
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    report(system)
    report(system)
    got = []
    while len(got) < 2:
        msg = pubsub.get_message(timeout=2)
        if msg is not None:
            got.append(parse_live_message(msg["data"]))
    _first, second = got
    assert not model.apply(*second)  # the first was lost: the model says so
    _load(system, model)
    assert model.apply(*second)  # already in the snapshot: harmless
    assert model.kpi()["received_today"] == 2
    assert not model.needs_reload(clock.now())
    clock.advance(timedelta(hours=15, minutes=1))  # past local midnight
    assert model.needs_reload(clock.now())
    _load(system, model)
    k = model.kpi()
    assert k["received_today"] == 0 and k["open"] == 2
    pubsub.close()


def test_a_sequence_that_starts_over_asks_for_a_reload(system):
    """Redis restarted without persistence, behind a client that reconnected by itself: the
    numbers start again from 1, which must not pass for repeats."""
    model = WallModel(system.tz)
    _load(system, model)
    seq = model.seq
    assert model.apply(seq, [])  # right after a load, a repeat is harmless
    assert model.apply(seq + 1, []) and model.apply(seq + 2, [])
    assert not model.apply(1, [])  # later, going back means Redis started over


def test_what_happened_during_an_outage_reaches_the_ticker_once(system):
    model = WallModel(system.tz)
    _load(system, model)
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    a = report(system)
    _drain(pubsub, model)
    # the wall stops listening; two cases come in meanwhile; it loads again
    b = report(system, grid=sorted(system.ref.grids)[4])
    c = report(system, grid=sorted(system.ref.grids)[5])
    _load(system, model)
    _drain(pubsub, model)  # their messages arrive late: already told, not told again
    news = [i.case_id for i in model.ticker if i.kind == "new"]
    assert sorted(news) == sorted([a, b, c])
    pubsub.close()


def test_a_case_that_leaves_a_scoped_wall_leaves_its_numbers(system):
    grids = sorted(system.ref.grids, key=lambda g: system.ref.grids[g].township_code)
    here, there = grids[0], grids[-1]
    town = system.ref.grids[here].township_code
    model = WallModel(system.tz, Scope(area=town, level="township"))
    _load(system, model)
    case_id = report(system, grid=here)
    with system.db.connect() as conn:
        _load(system, model)
        d = next(
            x
            for x in wall_snapshot(
                conn, system.publisher.last_seq, Scope.city(), system.clock.now(), system.tz
            ).deltas
            if x["id"] == case_id
        )
    assert model.kpi()["open"] == 1 and model.area_load("township") == {town: (1, 0)}
    moved = dict(
        d, v=d["v"] + 1, grid_code=there, township_code=system.ref.grids[there].township_code
    )
    assert model.apply(model.seq + 1, [moved])
    assert model.kpi()["open"] == 0 and model.area_load("township") == {}
    assert case_id not in model.entries


def test_a_line_that_left_the_ticker_can_be_told_again_and_one_on_it_cannot():
    """The ticker keeps its last TICKER_LENGTH lines and tells a happening once while it is
    on them; once it has scrolled off, the same happening again is news."""
    now = local(2026, 11, 23, 9, 0)
    model = WallModel(TZ)

    def line(case_id: int, kind: Ticker = Ticker.CLOSED) -> TickerItem:
        return TickerItem(0, kind, now, case_id, f"GW{case_id}", "c", "u", "grid")

    first = [line(i) for i in range(TICKER_LENGTH, 0, -1)]  # newest first, as the log gives
    model.load(WallSnapshot(0, now, [], first))
    assert [i.case_id for i in model.ticker] == list(range(TICKER_LENGTH, 0, -1))
    model._announce(Ticker.CLOSED, _entry(7, now), "grid")  # on the ticker: not told twice
    assert len(model.ticker) == TICKER_LENGTH and model.ticker[0].case_id == TICKER_LENGTH
    model._announce(Ticker.CLOSED, _entry(TICKER_LENGTH + 1, now), "grid")  # case 1 scrolls off
    assert model.ticker[-1].case_id == 2
    model._announce(Ticker.CLOSED, _entry(1, now), "grid")  # gone from the ticker: news again
    assert model.ticker[0].case_id == 1
    model._announce(Ticker.NEW, _entry(1, now), "township")  # another happening of case 1
    assert [(i.kind, i.case_id) for i in list(model.ticker)[:2]] == [
        (Ticker.NEW, 1),
        (Ticker.CLOSED, 1),
    ]


def _entry(case_id: int, now: datetime) -> Entry:
    return entry_from_delta(
        {
            "id": case_id,
            "v": 1,
            "status": "resolved",
            "tier": "grid",
            "unit_code": "u",
            "grid_code": "g",
            "township_code": "t",
            "category": "c",
            "channel": "hotline",
            "colour": "green",
            "reported_at": now,
            "updated_at": now,
        }
    )


def test_a_case_that_can_change_no_more_is_counted_and_not_kept(system):
    """Closed and cancelled cases change no more: the wall counts them and lets them go, the
    engine does not keep them in its cache, so a busy day's memory is its live cases'
    (bench.soak: an hour at 200 events/s)."""
    model = WallModel(system.tz)
    _load(system, model)
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    made = [report(system, grid=sorted(system.ref.grids)[i]) for i in range(6)]
    for case_id in made[:4]:
        act(system, case_id, "cancel", reason="重复上报")
    _drain(pubsub, model)
    pubsub.close()
    assert set(model.entries) == set(made[4:])  # the open ones only
    with system.db.connect() as conn:
        expected = kpi(conn, system.clock.now(), system.tz, scope=Scope.city())
    got = model.kpi()
    for key in ("received_today", "handled_today", "open", "awaiting_triage"):
        assert got[key] == expected[key], key
    assert got["received_today"] == 6 and got["handled_today"] == 2
    hours, by_channel = model.intake_by_channel()
    assert sum(sum(v) for v in by_channel.values()) == 6  # each report counted once
    cached = system.engine._cache  # what the engine keeps between batches
    assert made[4] in cached and not any(case_id in cached for case_id in made[:4])
