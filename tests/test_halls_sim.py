"""Simulated hall days: planned the same from the same seed, nothing on holidays, and a
morning through the real processor gives a staffed hall with a few lapses caught."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from backend.halls.processor import HallProcessor
from backend.halls.sim import HallSimulator, plan_day, standing
from backend.halls.state import HallState
from backend.store.models import hall_alerts
from tests.conftest import TZ, local
from tests.hallsdata import load_halls


def test_a_day_is_planned_the_same_and_has_everything(system, small_city) -> None:
    data = load_halls(system, small_city)
    day = plan_day(data, date(2026, 11, 23), TZ)
    assert day == plan_day(data, date(2026, 11, 23), TZ)
    kinds = Counter(e.type for e in day)
    for kind in (
        "staff_arrived",
        "staff_left",
        "ticket_taken",
        "ticket_served",
        "rating",
        "camera_heartbeat",
    ):
        assert kinds[kind] > 0, kind
    assert [e.at for e in day] == sorted(e.at for e in day)
    sim = HallSimulator(data, system.calendar, TZ)
    holiday = local(2026, 10, 1, 12, 0)
    assert list(sim.due(holiday - timedelta(hours=4), holiday)) == []


def test_a_simulated_morning_through_the_processor(system, small_city, clock) -> None:
    data = load_halls(system, small_city)
    clock.set(local(2026, 11, 23, 8, 0))
    proc = HallProcessor(system)
    proc.start()
    sim = HallSimulator(data, system.calendar, TZ)
    last = clock.now()
    for _ in range(150):  # 08:00 → 10:30, a minute at a time
        now = clock.advance(timedelta(minutes=1))
        proc.apply(list(sim.due(last, now)))
        proc.tick()
        last = now
    staffed = sum(
        1 for s in proc.states.values() for w in s.windows.values() if w.status == "staffed"
    )
    assert staffed >= 0.7 * len(data.windows)
    with system.db.connect() as conn:
        rules = Counter(r.rule for r in conn.execute(select(hall_alerts)))
    assert sum(rules.values()) < len(data.windows)  # a few lapses, not an alarm everywhere


def test_a_demo_started_mid_day_begins_with_the_halls_as_they_stand(system, small_city) -> None:
    data = load_halls(system, small_city)
    day = plan_day(data, date(2026, 11, 23), TZ)
    now = local(2026, 11, 23, 15, 0)
    so_far = [e for e in day if e.at <= now]
    kept = standing(so_far)
    assert len(kept) < len(so_far) / 5
    full = {h.code: HallState(h.code) for h in data.halls}
    short = {h.code: HallState(h.code) for h in data.halls}
    for e in so_far:
        full[e.hall].apply(e)
    for e in kept:
        short[e.hall].apply(e)
    for code in full:  # the same people at the same windows, the same queue
        a, b = full[code], short[code]
        assert {k: sorted(w.present) for k, w in a.windows.items()} == {
            k: sorted(w.present) for k, w in b.windows.items()
        }
        assert a.queue() == b.queue()
