"""The demo's opening story, beat by beat, through the real engine: an urgent report goes
straight up, the slow unit's backlog goes overdue at the grid and climbs on the next tick, a
consultation is called, a resolved case is rated 不满意 and reopened; the simulator keeps its
hands off the story's cases, so nothing it plans collides with them."""

from __future__ import annotations

from datetime import timedelta

from backend.domain.vocabulary import OPEN_VALUES
from backend.sim.simulator import CitySimulator, SimConfig
from backend.sim.story import BACKLOG, BEATS, DemoStory
from tests.helpers import case_row, events_of


def _story(system):
    sim = CitySimulator(system.ref, system.tz, SimConfig(seed=7))
    story = DemoStory(
        system.engine, system.ref, system.clock, unit_speed=sim.unit_speed, hands_off=sim.hands_off
    )
    return story, sim


def test_the_opening_story_plays_every_beat_through_the_engine(system, clock):
    story, sim = _story(system)
    for beat in BEATS:
        story.play(beat)
    assert story.played == [b.name for b in BEATS]

    (urgent,) = story.case_ids["urgent"]
    row = case_row(system, urgent)
    assert row["severity"] == "urgent" and row["category"] == "road_collapse"
    assert row["tier"] in ("department", "county")  # straight up, not to the grid
    assert row["status"] in OPEN_VALUES

    backlog = story.case_ids["backlog"]
    assert len(backlog) == len(BACKLOG)
    slow = story.slowest_grid()
    speeds = [sim.unit_speed(system.ref.grid_unit[g]) for g in system.ref.grids]
    assert sim.unit_speed(system.ref.grid_unit[slow]) == max(speeds)
    for case_id in backlog:
        before = case_row(system, case_id)
        assert before["tier"] == "grid" and before["grid_code"] == slow
    clock.advance(timedelta(seconds=1))
    system.engine.tick()  # the clock's next second: the backlog goes overdue and climbs
    for case_id in backlog:
        after = case_row(system, case_id)
        assert after["tier"] == "township", after
        assert "grid" in (after["overdue_tiers"] or ""), after["overdue_tiers"]
        types = [e["type"] for e in events_of(system, case_id)]
        assert "escalated" in types

    (consulted,) = story.case_ids["consultation"]
    row = case_row(system, consulted)
    assert row["mode"] == "consultation" and row["tier"] == "department"
    assert "consultation" in [e["type"] for e in events_of(system, consulted)]

    (reopened,) = story.case_ids["reopened"]
    events = events_of(system, reopened)
    assert [e["type"] for e in events if e["type"] in ("resolved", "rated", "reopened")] == [
        "resolved",
        "rated",
        "reopened",
    ]
    assert case_row(system, reopened)["status"] in OPEN_VALUES


def test_the_simulator_leaves_the_storys_cases_alone(system, clock):
    story, sim = _story(system)
    for beat in BEATS:
        story.play(beat)
    owned = {i for name, ids in story.case_ids.items() if name != "urgent" for i in ids}
    (urgent,) = story.case_ids["urgent"]
    rows = [case_row(system, i) for i in (*owned, urgent)]
    sim.observe(dict(r) for r in rows)  # as if their deltas came over the live channel
    planned = sim.due_actions(clock.now() + timedelta(days=30))
    touched = {c.case_id for c in planned}
    assert not touched & owned  # nothing planned for the story's cases
    assert urgent in touched  # the urgent one is the simulator's to carry on


def test_the_demo_makes_one_account_per_role_once(system):
    from backend.auth.accounts import authenticate
    from backend.auth.permissions import Role
    from backend.sim.accounts import demo_accounts

    first = demo_accounts(system)
    assert sorted(role for _u, role, _p in first) == sorted(r.value for r in Role)
    assert demo_accounts(system) == first  # a restarted demo prints the same passwords
    with system.db.begin() as conn:
        for username, role, password in first:
            assert authenticate(conn, username, password, system.clock.now()).role == role
