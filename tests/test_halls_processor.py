"""The hall processor against real Redis and SQL: events folded in any order and once, alerts
opened, grouped, silenced, escalated and resolved by the rules, and cases opened in the engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from backend.core.clock import ManualClock
from backend.engine.worker import EngineWorker
from backend.halls import alerts
from backend.halls.processor import HallProcessor
from backend.halls.rules import RulePack, load_rules
from backend.store.models import cases, hall_alert_events, hall_alerts, hall_events, hall_state
from backend.system import System
from tests.conftest import local
from tests.hallsdata import ev, load_halls

HALL = "H361102001"


def only(pack: RulePack, *names: str) -> RulePack:
    """The pack with only some rules on (the others would fire too on an empty city)."""
    return RulePack(
        pack.name, {k: v for k, v in pack.rules.items() if k in names}, pack.lifecycle, pack.cases
    )


@pytest.fixture
def proc(system: System, small_city) -> HallProcessor:
    load_halls(system, small_city)
    p = HallProcessor(system, only(load_rules(), "window_vacant", "camera_offline"))
    p.start()
    return p


def rows(system: System, table: Any, *where: Any) -> list[Any]:
    with system.db.connect() as conn:
        return list(conn.execute(select(table).where(*where)))


def a_queue_at_an_empty_window(proc: HallProcessor, clock: ManualClock) -> None:
    now = clock.now()
    proc.apply(
        [
            ev(HALL, "staff_arrived", now, "01", staff="s1"),
            ev(HALL, "ticket_taken", now, "01", ticket="A001"),
            ev(HALL, "staff_left", now + timedelta(seconds=5), "01", staff="s1", reason="other"),
        ]
    )


def test_vacant_window_with_a_queue_raises_and_clears(proc, system, clock) -> None:
    a_queue_at_an_empty_window(proc, clock)
    clock.advance(timedelta(minutes=4))
    proc.tick()
    assert rows(system, hall_alerts) == []  # not yet five minutes
    clock.advance(timedelta(minutes=2))
    proc.tick()
    (alert,) = rows(system, hall_alerts)
    assert (alert.rule, alert.hall_code, alert.window_code, alert.state) == (
        "window_vacant",
        HALL,
        "01",
        "open",
    )
    assert alert.detail["queue"] == 1
    proc.apply([ev(HALL, "staff_arrived", clock.now(), "01", staff="s1")])
    (alert,) = rows(system, hall_alerts)
    assert alert.state == "resolved" and alert.resolved_by == "system"
    kinds = [r.type for r in rows(system, hall_alert_events)]
    assert kinds == ["opened", "resolved"]


def test_repeats_and_late_events(proc, system, clock) -> None:
    now = clock.now()
    left = ev(HALL, "staff_left", now + timedelta(minutes=10), "02", staff="s2", id="L1")
    arrived = ev(HALL, "staff_arrived", now + timedelta(minutes=5), "02", staff="s2", id="A1")
    proc.apply([left])
    proc.apply([arrived, left])  # the arrival comes late, the leave again
    state = proc.states[HALL].windows["02"]
    assert state.status == "vacant" and not state.present
    with system.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(hall_events)).scalar_one()
        saved = conn.execute(select(hall_state.c.data).where(hall_state.c.hall_code == HALL))
        assert saved.scalar_one()["windows"]["02"]["status"] == "vacant"
    assert n == 2 and proc.stats.repeats == 1


def test_tickets_in_any_order_give_the_same_queue(proc, clock) -> None:
    now = clock.now()
    called = ev(HALL, "ticket_called", now + timedelta(minutes=3), "03", ticket="B7")
    taken = ev(HALL, "ticket_taken", now, "03", ticket="B7")
    proc.apply([called])
    proc.apply([taken])
    s = proc.states[HALL]
    assert s.queue("03") == 0
    assert s.average_wait(clock.now().timestamp())[0] == pytest.approx(180)


def test_repeat_is_grouped_and_silence_keeps_quiet(proc, system, clock) -> None:
    a_queue_at_an_empty_window(proc, clock)
    clock.advance(timedelta(minutes=6))
    proc.tick()
    proc.apply([ev(HALL, "staff_arrived", clock.now(), "01", staff="s1")])
    proc.apply([ev(HALL, "staff_left", clock.now(), "01", staff="s1")])
    clock.advance(timedelta(minutes=6))
    proc.tick()
    (alert,) = rows(system, hall_alerts)  # the same alert, reopened
    assert alert.state == "open" and alert.count == 2
    # a planned closure of window 02 keeps its vacancy quiet
    with system.db.begin() as conn:
        alerts.add_silence(
            conn,
            hall=HALL,
            window="02",
            rule=None,
            starts=clock.now(),
            ends=clock.now() + timedelta(hours=2),
            reason="培训",
            who="test",
        )
    now = clock.now()
    proc.apply(
        [
            ev(HALL, "ticket_taken", now, "02", ticket="C1"),
            ev(HALL, "staff_left", now, "02", staff="s9"),
        ]
    )
    clock.advance(timedelta(minutes=10))
    proc.tick()
    assert {r.window_code for r in rows(system, hall_alerts)} == {"01"}


def test_unanswered_alert_climbs_then_becomes_a_case(proc, system, clock) -> None:
    a_queue_at_an_empty_window(proc, clock)
    clock.advance(timedelta(minutes=6))
    proc.tick()
    clock.advance(timedelta(minutes=10))
    proc.tick()
    (alert,) = rows(system, hall_alerts)
    assert alert.level == 1 and alert.case_ref is None
    clock.advance(timedelta(minutes=10))
    proc.tick()
    (alert,) = rows(system, hall_alerts)
    assert alert.level == 2 and alert.case_ref == f"hall-alert-{alert.id}"
    data = [r.data for r in rows(system, hall_alert_events) if r.type == "escalated"]
    assert [d["to"] for d in data] == ["township_leader", "county_leader"]
    worker = EngineWorker(system.engine, system.stream)
    worker.start()
    worker.step(block_ms=None)
    (case,) = rows(system, cases, cases.c.ref == alert.case_ref)
    assert case.tier == "township" and case.township_code == "361102001"
    assert case.unit_code == system.ref.township_unit["361102001"]
    assert case.allowance == "3 wd" and case.due_at is not None  # the halls' own deadline


def test_acknowledged_alert_stops_climbing(proc, system, clock) -> None:
    a_queue_at_an_empty_window(proc, clock)
    clock.advance(timedelta(minutes=6))
    proc.tick()
    (alert,) = rows(system, hall_alerts)
    with system.db.begin() as conn:
        alerts.acknowledge(conn, alert.id, "李督查", "已电话联系乡镇分管领导", clock.now())
        with pytest.raises(alerts.AlertConflict):
            alerts.acknowledge(conn, alert.id, "王", "again", clock.now())
    clock.advance(timedelta(minutes=30))
    proc.tick()
    (alert,) = rows(system, hall_alerts)
    assert alert.state == "acknowledged" and alert.level == 0 and alert.acked_by == "李督查"
    with system.db.begin() as conn:
        alerts.resolve(conn, alert.id, "李督查", "已到岗", clock.now(), proc.pack)
    clock.advance(timedelta(minutes=1))
    proc.tick()  # the condition still holds, but a hand resolution rests the subject
    (alert,) = rows(system, hall_alerts)
    assert alert.state == "resolved" and alert.resolved_by == "李督查"
    with system.db.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(update(hall_alert_events).values(actor="x"))


def test_very_dissatisfied_rating_opens_a_case(proc, system, clock) -> None:
    proc.apply(
        [
            ev(HALL, "rating", clock.now(), "04", value="very_dissatisfied", id="R1"),
            ev(HALL, "rating", clock.now(), "04", value="satisfied", id="R2"),
        ]
    )
    proc.apply([ev(HALL, "rating", clock.now(), "04", value="very_dissatisfied", id="R1")])
    worker = EngineWorker(system.engine, system.stream)
    worker.start()
    worker.step(block_ms=None)
    found = rows(system, cases, cases.c.ref.like("hall-%"))
    assert [c.ref for c in found] == ["hall-rating-R1"]
    assert found[0].tier == "township" and "非常不满意" in found[0].description


def test_camera_offline_and_holiday_quiet(proc, system, clock) -> None:
    clock.set(local(2026, 10, 1, 9, 0))  # National Day: the hall is closed
    now = clock.now()
    proc.apply(
        [
            ev(HALL, "camera_heartbeat", now, camera="cam-1"),
            ev(HALL, "ticket_taken", now, "05", ticket="D1"),
            ev(HALL, "staff_left", now, "05", staff="x"),
        ]
    )
    clock.advance(timedelta(minutes=10))
    proc.tick()
    (alert,) = rows(system, hall_alerts)  # no vacancy on a holiday; the camera is dark though
    assert alert.rule == "camera_offline" and alert.detail["camera"] == "cam-1"
    proc.apply([ev(HALL, "camera_heartbeat", clock.now(), camera="cam-1")])
    assert rows(system, hall_alerts)[0].state == "resolved"


def test_a_restarted_processor_reads_its_state_back(proc, system, clock) -> None:
    a_queue_at_an_empty_window(proc, clock)
    again = HallProcessor(system, proc.pack)
    again.start()
    assert again.states[HALL].queue("01") == 1
    assert again.states[HALL].windows["01"].status == "vacant"


def test_events_through_the_stream(proc, system, clock) -> None:
    from backend.halls.stream import HallStream

    e = ev(HALL, "ticket_taken", clock.now(), "06", ticket="E1")
    HallStream(system.redis, system.keys).add_many([e.to_json(), e.to_json()])
    assert proc.step(block_ms=None) == 2
    assert proc.states[HALL].queue("06") == 1 and proc.stats.repeats == 1
    assert proc.stream.backlog() == 0
