"""The case engine end to end on real SQL: lifecycle, triage, deadlines, escalation, the log."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from backend.core.errors import CommandInvalid, TransitionRefused
from backend.domain.commands import action_command, create_command
from backend.store.models import case_events, cases
from tests.conftest import local
from tests.helpers import act, case_row, events_of, grid_category, report


def test_a_case_lives_its_whole_life(system):
    cid = report(system)
    row = case_row(system, cid)
    assert row["status"] == "dispatched"
    assert row["tier"] == "grid"
    assert row["unit_code"] == system.ref.grid_unit[row["grid_code"]]
    # reported Monday 09:00, 1 working day: due at the end of Tuesday, local time
    assert row["due_at"] == local(2026, 11, 24, 23, 59, 59)
    for action, params, status in [
        ("accept", {}, "accepted"),
        ("start", {}, "in_progress"),
        ("resolve", {"reason": "已清理"}, "resolved"),
        ("rate", {"rating": "satisfied"}, "rated"),
        ("close", {}, "closed"),
    ]:
        res = act(system, cid, action, **params)
        assert res.results[0].ok, res.results[0].error
        assert case_row(system, cid)["status"] == status
    evs = events_of(system, cid)
    assert [e["type"] for e in evs] == [
        "reported",
        "dispatched",
        "accepted",
        "started",
        "resolved",
        "rated",
        "closed",
    ]
    assert [e["seq"] for e in evs] == list(range(1, 8))
    assert evs[0]["data"] == {"channel": "grid_worker"}  # JSON survives the bulk write
    assert evs[1]["to_unit"] == row["unit_code"] and evs[1]["to_tier"] == "grid"
    assert all(e["actor"] for e in evs)
    final = case_row(system, cid)
    assert final["completed_at"] is not None and final["closed_at"] is not None
    assert final["next_due_at"] is None
    assert final["version"] == 6  # created, then five changes


def test_forbidden_transition_is_refused_with_a_reason_and_stores_nothing(system):
    cid = report(system)
    before = case_row(system, cid)
    res = act(system, cid, "resolve", reason="done")
    r = res.results[0]
    assert not r.ok
    assert isinstance(r.error, TransitionRefused)
    assert "accept" in r.error.reason
    assert case_row(system, cid) == before
    assert len(events_of(system, cid)) == 2


def test_bad_fields_are_all_named_and_nothing_is_stored(system):
    res = system.engine.apply(
        [
            create_command(
                {"category": "no-such", "description": " ", "channel": "fax", "grid": "X1"}
            )
        ]
    )
    err = res.results[0].error
    assert isinstance(err, CommandInvalid)
    assert set(err.errors) == {"category", "description", "channel", "grid"}
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(case_events)).scalar_one() == 0


def test_one_bad_command_does_not_spoil_its_batch(system):
    good = create_command(
        {
            "category": grid_category(system),
            "description": "路灯不亮",
            "channel": "hotline",
            "grid": sorted(system.ref.grids)[1],
        }
    )
    bad = create_command(
        {
            "category": "nope",
            "description": "x",
            "channel": "qr",
            "grid": sorted(system.ref.grids)[1],
        }
    )
    res = system.engine.apply([bad, good])
    assert [r.ok for r in res.results] == [False, True]
    assert case_row(system, res.results[1].case_id)["status"] == "dispatched"


def test_major_matters_go_straight_to_the_department(system):
    cid = report(system, severity="major")
    row = case_row(system, cid)
    cat = system.ref.categories[row["category"]]
    assert row["tier"] == "department"
    assert row["unit_code"] == cat.owner_unit
    # department allowance: 10 working days from Monday 2026-11-23 → Monday 2026-12-07
    assert row["due_at"] == local(2026, 12, 7, 23, 59, 59)


def test_reminder_warning_overdue_and_auto_escalation(system, clock):
    cid = report(system)
    row = case_row(system, cid)
    assert row["colour"] == "green" and row["next_milestone"] == "reminder"
    clock.set(row["reminder_at"])
    system.engine.tick()
    assert case_row(system, cid)["colour"] == "yellow"
    clock.set(row["warning_at"])
    system.engine.tick()
    assert case_row(system, cid)["colour"] == "orange"
    clock.set(row["due_at"] + timedelta(seconds=1))
    res = system.engine.tick()
    assert res.events == 2  # overdue + escalated
    up = case_row(system, cid)
    assert up["tier"] == "township"
    assert up["overdue_tiers"] == "grid"
    assert up["colour"] == "green"  # a fresh allowance at the new tier
    assert up["escalations"] == 1
    assert up["unit_code"] == system.ref.township_unit[up["township_code"]]
    # township: 5 working days from Wednesday 2026-11-25 00:00:00 → Wednesday 2026-12-02
    assert up["due_at"] == local(2026, 12, 2, 23, 59, 59)
    types = [e["type"] for e in events_of(system, cid)]
    assert types[-4:] == ["reminded", "warned", "overdue", "escalated"]
    esc = events_of(system, cid)[-1]
    assert (esc["from_tier"], esc["to_tier"], esc["actor"]) == ("grid", "township", "clock")


def test_overdue_at_the_top_tier_stays_flagged_and_notifies_the_leader(system, clock):
    cid = report(system)
    for _ in range(3):
        act(system, cid, "escalate", reason="需要上级协调")
    row = case_row(system, cid)
    assert row["tier"] == "county"
    res = act(system, cid, "escalate", reason="again")
    assert isinstance(res.results[0].error, TransitionRefused)
    clock.set(row["due_at"] + timedelta(minutes=1))
    system.engine.tick()
    top = case_row(system, cid)
    assert top["tier"] == "county" and top["colour"] == "red"
    assert "county" in top["overdue_tiers"].split(",")
    assert top["next_due_at"] is None
    assert events_of(system, cid)[-1]["type"] == "leader_notified"


def test_a_pause_stops_the_clock(system, clock):
    cid = report(system, severity="major")  # department, 10 wd
    act(system, cid, "accept")
    due_before = case_row(system, cid)["due_at"]
    clock.set(local(2026, 11, 23, 10, 0))
    act(system, cid, "pause", reason="等待群众补充材料")
    paused = case_row(system, cid)
    assert paused["status"] == "paused" and paused["next_due_at"] is None
    # nothing fires while paused, however long
    clock.set(local(2026, 12, 20, 10, 0))
    assert system.engine.tick().events == 0
    # resumed on Monday 2026-11-30 10:00 after five working days away
    clock.set(local(2026, 11, 30, 10, 0))
    act(system, cid, "resume")
    resumed = case_row(system, cid)
    assert resumed["status"] == "accepted"
    assert resumed["due_at"] - due_before == timedelta(days=7)  # five working days + a weekend


def test_unsatisfied_rating_reopens_the_case(system):
    cid = report(system)
    act(system, cid, "accept")
    act(system, cid, "resolve", reason="done")
    act(system, cid, "rate", rating="unsatisfied")
    row = case_row(system, cid)
    assert row["status"] == "dispatched"
    assert row["reopen_count"] == 1 and row["completed_at"] is None
    assert [e["type"] for e in events_of(system, cid)][-2:] == ["rated", "reopened"]


def test_consultation_names_lead_and_co_units(system):
    cid = report(system, severity="major")
    act(system, cid, "accept")
    depts = sorted(u for u, i in system.ref.units.items() if i.kind == "department")
    lead, co = depts[0], depts[1:3]
    res = act(system, cid, "consult", lead=lead, co_units=co, reason="多部门职责交叉")
    assert res.results[0].ok, res.results[0].error
    row = case_row(system, cid)
    assert row["mode"] == "consultation"
    assert row["unit_code"] == lead and row["consultation"] == {"lead": lead, "co_units": co}
    bad = act(system, cid, "consult", lead=lead, co_units=[lead], reason="x")
    assert isinstance(bad.results[0].error, (CommandInvalid, TransitionRefused))


def test_a_redelivered_command_takes_effect_once(system):
    cmd = create_command(
        {
            "category": grid_category(system),
            "description": "井盖缺失",
            "channel": "qr",
            "grid": sorted(system.ref.grids)[0],
        }
    )
    first = system.engine.apply([cmd])
    again = system.engine.apply([cmd])
    assert first.results[0].ok and again.results[0].skipped
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1


def test_the_event_log_is_append_only(system, db_url_and_engine):
    cid = report(system)
    _, engine = db_url_and_engine
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(update(case_events).where(case_events.c.case_id == cid).values(actor="x"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM case_events"))
    assert len(events_of(system, cid)) == 2


def test_two_engines_never_apply_conflicting_changes(system, settings, clock):
    from backend.system import System

    cid = report(system)
    other = System(settings, clock)
    n = 25

    def instruct(sys_, tag):
        for i in range(n):
            res = sys_.engine.apply(
                [action_command("instruct", {"text": f"{tag}{i}"}, case_id=cid, actor=tag)]
            )
            assert res.results[0].ok, res.results[0].error

    threads = [
        threading.Thread(target=instruct, args=(s, tag)) for s, tag in ((system, "a"), (other, "b"))
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    evs = events_of(system, cid)
    assert len(evs) == 2 + 2 * n
    assert [e["seq"] for e in evs] == list(range(1, 2 * n + 3))
    assert case_row(system, cid)["event_count"] == 2 * n + 2
    other.db.dispose()


def test_tick_reads_only_due_cases_through_the_index(system, clock):
    ids = [report(system, grid=g) for g in sorted(system.ref.grids)[:30]]
    assert len(ids) == 30
    assert system.engine.tick().events == 0  # nothing due yet
    if system.db.dialect.name == "sqlite":
        with system.db.connect() as conn:
            plan = " ".join(
                str(r)
                for r in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT * FROM cases WHERE next_due_at <= '2030-01-01' "
                        "ORDER BY next_due_at LIMIT 100"
                    )
                )
            )
        assert "ix_cases_next_due_at" in plan


def test_address_only_cases_wait_for_triage_then_dispatch(system):
    res = system.engine.apply(
        [
            create_command(
                {
                    "category": grid_category(system),
                    "description": "无法定位的反映",
                    "channel": "hotline",
                    "address": "火星基地一号",
                }
            )
        ]
    )
    cid = res.results[0].case_id
    row = case_row(system, cid)
    assert row["status"] == "received" and row["unit_code"] is None
    grid = sorted(system.ref.grids)[3]
    res = act(system, cid, "dispatch", grid=grid, reason="人工分拨")
    assert res.results[0].ok, res.results[0].error
    row = case_row(system, cid)
    assert row["status"] == "dispatched" and row["grid_code"] == grid


def test_a_refusal_is_never_decided_on_another_processs_stale_state(system, settings, clock):
    from backend.system import System

    cid = report(system)
    act(system, cid, "accept")  # this engine now holds the case as "accepted"
    other = System(settings, clock)
    assert act(other, cid, "pause", reason="等待群众补充材料").results[0].ok
    # stale here, it would look "accepted" and refuse the resume; SQL says "paused"
    res = act(system, cid, "resume")
    assert res.results[0].ok, res.results[0].error
    assert case_row(system, cid)["status"] == "accepted"
    # and a refusal that is right stays a refusal
    res = act(system, cid, "resume")
    assert isinstance(res.results[0].error, TransitionRefused)
    other.db.dispose()


def test_resume_after_a_pause_in_uncounted_time_moves_the_deadline(system, clock):
    # reported Saturday 2026-11-28 10:00: 1 wd → due Monday 11-30 23:59:59
    clock.set(local(2026, 11, 28, 10, 0))
    cid = report(system)
    assert case_row(system, cid)["due_at"] == local(2026, 11, 30, 23, 59, 59)
    act(system, cid, "accept")
    clock.set(local(2026, 11, 28, 11, 0))
    act(system, cid, "pause", reason="等待群众补充材料")
    clock.set(local(2026, 12, 2, 9, 0))  # Wednesday
    act(system, cid, "resume")
    row = case_row(system, cid)
    # nothing was used (a weekend), so the whole budget is still there: Monday 00:00:00 to
    # 23:59:59 is 24 h less a second, counted on from Wednesday 09:00
    assert row["due_at"] == local(2026, 12, 3, 8, 59, 59)
    assert row["reminder_at"] < row["warning_at"] < row["due_at"]
    assert row["due_at"] > local(2026, 12, 2, 9, 0)


def test_resuming_an_overdue_case_keeps_its_deadline(system, clock):
    cid = report(system, severity="major")
    for _ in range(2):
        act(system, cid, "escalate", reason="需要上级协调")
    act(system, cid, "accept")
    due = case_row(system, cid)["due_at"]
    clock.set(due + timedelta(days=3))
    system.engine.tick()
    assert case_row(system, cid)["colour"] == "red"
    act(system, cid, "pause", reason="等待群众补充材料")
    clock.advance(timedelta(hours=2))
    act(system, cid, "resume")
    assert case_row(system, cid)["due_at"] == due  # still overdue by three days, not seconds


def test_source_fields_are_kept_and_long_holders_refused(system):
    cid = report(system, source="nyc311", source_channel="PHONE", source_type="Noise - Residential")
    row = case_row(system, cid)
    assert (row["source"], row["source_channel"], row["source_type"]) == (
        "nyc311",
        "PHONE",
        "Noise - Residential",
    )
    res = act(system, cid, "accept", holder="x" * 40)
    assert isinstance(res.results[0].error, CommandInvalid)
    assert "holder" in res.results[0].error.errors
    res = system.engine.apply(
        [
            create_command(
                {
                    "category": grid_category(system),
                    "description": "x",
                    "channel": "qr",
                    "grid": sorted(system.ref.grids)[0],
                    "at": "2026-01-01T00:00:00+08:00",
                }
            )
        ]
    )
    assert "at" in res.results[0].error.errors  # not a case field: refused, not ignored


def test_a_wrongly_routed_case_is_returned_to_its_township_centre(system):
    cid = report(system)  # a grid matter, at the grid's unit
    grid_unit = case_row(system, cid)["unit_code"]
    act(system, cid, "accept")
    refused = act(system, cid, "return")  # no reason
    assert not refused.results[0].ok and "reason" in refused.results[0].error.errors
    assert case_row(system, cid)["status"] == "accepted"
    res = act(system, cid, "return", reason="不属于本网格，应由城管处理")
    assert res.results[0].ok, res.results[0].error
    row = case_row(system, cid)
    township_unit = system.ref.township_unit[row["township_code"]]
    assert (row["status"], row["tier"], row["unit_code"]) == (
        "dispatched",
        "township",
        township_unit,
    )
    assert row["holder"] is None and row["unit_code"] != grid_unit
    last = events_of(system, cid)[-1]
    assert (last["type"], last["from_unit"], last["reason"]) == (
        "returned",
        grid_unit,
        "不属于本网格，应由城管处理",
    )
    # the township centre itself does not "return" to itself: it reassigns
    again = act(system, cid, "return", reason="再退")
    assert not again.results[0].ok
    assert case_row(system, cid)["unit_code"] == township_unit


def test_a_finished_case_is_not_returned(system):
    cid = report(system)
    act(system, cid, "accept")
    act(system, cid, "resolve", reason="已清理")
    res = act(system, cid, "return", reason="错派")
    assert not res.results[0].ok
    assert case_row(system, cid)["status"] == "resolved"
