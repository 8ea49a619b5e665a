"""Live deltas on a real Redis: a subscriber's view follows SQL, survives repeats and resyncs
from a snapshot when it misses a message."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.bus.live import parse_live_message
from backend.domain.vocabulary import OPEN_STATUSES
from backend.queries.live import take_snapshot
from backend.queries.scope import Scope
from backend.store.models import cases
from tests.helpers import act, report
from tests.subscriber import LiveView


def _open_in_sql(system) -> dict[int, int]:
    with system.db.connect() as conn:
        rows = conn.execute(
            select(cases.c.id, cases.c.version).where(
                cases.c.status.in_([s.value for s in OPEN_STATUSES])
            )
        ).all()
    return {r.id: r.version for r in rows}


def _messages(pubsub, n, timeout=5.0):
    out, deadline = [], time.time() + timeout
    while len(out) < n and time.time() < deadline:
        msg = pubsub.get_message(timeout=0.2)
        if msg:
            out.append(parse_live_message(msg["data"]))
    return out


def test_a_view_follows_sql_and_resyncs_after_a_missed_message(system):
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    first = report(system)
    view = LiveView()
    with system.db.connect() as conn:
        view.load(take_snapshot(conn, system.publisher.last_seq, Scope.city()))
    assert set(view.open_cases) == {first}
    second = report(system, grid=sorted(system.ref.grids)[2])
    act(system, first, "accept")
    act(system, first, "resolve", reason="已处理")
    msgs = _messages(pubsub, 4)
    assert len(msgs) == 4
    # the first message (the first case's creation) is already in the snapshot: harmless
    for seq, deltas in msgs[:3]:
        assert view.apply(seq, deltas)
    assert view.open_cases[first]["status"] == "accepted" and view.versions[first] == 2
    assert view.apply(*msgs[1])  # a repeat changes nothing
    assert view.open_cases[first]["status"] == "accepted" and view.versions[first] == 2
    assert view.apply(*msgs[3])
    assert set(view.open_cases) == {second}  # resolved cases leave the open view
    assert {i: d["v"] for i, d in view.open_cases.items()} == _open_in_sql(system)
    # a missed message is noticed, and a snapshot brings the view back to SQL
    act(system, second, "accept")
    act(system, second, "pause", reason="等待群众补充材料")
    lost, kept = _messages(pubsub, 2)
    assert not view.apply(*kept)
    with system.db.connect() as conn:
        view.load(take_snapshot(conn, system.publisher.last_seq, Scope.city()))
    assert {i: d["v"] for i, d in view.open_cases.items()} == _open_in_sql(system)
    assert view.open_cases[second]["status"] == "paused"
    pubsub.close()


def test_a_township_view_sees_only_its_township(system):
    grids = sorted(system.ref.grids, key=lambda g: system.ref.grids[g].township_code)
    a, b = grids[0], grids[-1]
    town_a = system.ref.grids[a].township_code
    assert town_a != system.ref.grids[b].township_code
    report(system, grid=a)
    report(system, grid=b)
    view = LiveView(scope=Scope(town_a, "township"))
    with system.db.connect() as conn:
        view.load(take_snapshot(conn, system.publisher.last_seq, view.scope))
    assert [d["township_code"] for d in view.open_cases.values()] == [town_a]


def test_the_snapshot_endpoint(system):
    with system.db.begin() as conn:
        key = create_key(conn, "screen", system.clock.now())
    client = TestClient(create_api(system))
    cid = report(system)
    r = client.get("/api/v1/live/snapshot", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    body = r.json()
    assert body["seq"] == system.publisher.last_seq()
    assert [c["id"] for c in body["cases"]] == [cid]
    assert body["cases"][0]["v"] == 1 and body["cases"][0]["status"] == "dispatched"
