"""The Redis side on a real server: the command stream, dead letters, claiming, live pub/sub."""

from __future__ import annotations

import time

import orjson
from sqlalchemy import func, select

from backend.bus.live import parse_live_message
from backend.bus.stream import CommandStream
from backend.domain.commands import action_command, create_command
from backend.engine.worker import EngineWorker
from backend.store.models import cases
from tests.helpers import case_row, grid_category


def _create(system, grid_index=0, **extra):
    body = {
        "category": grid_category(system),
        "description": "垃圾清运不及时",
        "channel": "wechat",
        "grid": sorted(system.ref.grids)[grid_index],
    }
    body.update(extra)
    return create_command(body)


def _drain(worker, stream, consumer="w"):
    for _ in range(20):
        entries = stream.read(consumer, 500, block_ms=50)
        if not entries:
            return
        worker.process(entries)


def test_stream_commands_are_applied_and_acknowledged(system):
    stream = system.stream
    stream.ensure_group()
    cmds = [_create(system, i) for i in range(5)]
    stream.add_many(c.to_json() for c in cmds)
    worker = EngineWorker(system.engine, stream, consumer="w")
    _drain(worker, stream)
    assert worker.stats.commands == 5 and worker.stats.dead == 0
    assert stream.pending() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 5


def test_bad_commands_go_to_dead_letters_and_the_engine_carries_on(system):
    stream = system.stream
    stream.ensure_group()
    good = _create(system)
    stream.add(b"{not json")
    stream.add(orjson.dumps({"id": "x1", "kind": "create", "case": {"category": "nope"}}))
    stream.add(action_command("resolve", {}, case_id=999_999).to_json())
    stream.add(good.to_json())
    worker = EngineWorker(system.engine, stream, consumer="w")
    _drain(worker, stream)
    dead = stream.dead_letters()
    assert len(dead) == 3
    errors = " | ".join(d["error"] for d in dead)
    assert "not valid JSON" in errors
    assert "category" in errors
    assert "CaseNotFound" in errors
    assert worker.stats.commands == 3 and stream.pending() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1


def test_dead_letters_can_be_replayed_once_fixed(system):
    stream = system.stream
    stream.ensure_group()
    cid = system.engine.apply([_create(system)]).results[0].case_id
    early = action_command("start", {}, case_id=cid)  # refused: not accepted yet
    stream.add(early.to_json())
    worker = EngineWorker(system.engine, stream, consumer="w")
    _drain(worker, stream)
    assert len(stream.dead_letters()) == 1
    system.engine.apply([action_command("accept", {}, case_id=cid)])
    assert stream.replay_dead() == 1
    _drain(worker, stream)
    assert stream.dead_letters() == []
    assert case_row(system, cid)["status"] == "in_progress"


def test_a_dead_engines_pending_commands_are_claimed_by_another(system):
    stream = system.stream
    stream.ensure_group()
    stream.add_many(_create(system, i).to_json() for i in range(3))
    taken = stream.read("crashed", 10, block_ms=50)  # read, never acknowledged
    assert len(taken) == 3 and stream.pending() == 3
    survivor = EngineWorker(system.engine, stream, consumer="survivor")
    claimed = stream.claim_stale("survivor", min_idle_ms=0)
    assert [e for e, _ in claimed] == [e for e, _ in taken]
    survivor.process(claimed)
    assert stream.pending() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 3


def test_every_applied_change_is_published_with_a_gapless_sequence(system, redis_server):
    pubsub = system.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(system.keys.live)
    time.sleep(0.05)
    first = system.engine.apply([_create(system, 0), _create(system, 1)])
    cid = first.results[0].case_id
    system.engine.apply([action_command("accept", {}, case_id=cid)])
    got = []
    deadline = time.time() + 5
    while len(got) < 2 and time.time() < deadline:
        msg = pubsub.get_message(timeout=0.5)
        if msg:
            got.append(parse_live_message(msg["data"]))
    pubsub.close()
    assert [s for s, _ in got] == [first.seq, first.seq + 1]
    assert len(got[0][1]) == 2
    accepted = got[1][1][0]
    assert accepted["id"] == cid and accepted["status"] == "accepted" and accepted["v"] == 2
    assert system.publisher.last_seq() == first.seq + 1


def test_a_second_stream_on_other_keys_is_isolated(system):
    from backend.bus.connection import Keys

    other = CommandStream(system.redis, Keys(system.keys.prefix + "-other"))
    other.ensure_group()
    system.stream.ensure_group()
    other.add(b"{}")
    assert system.stream.backlog() == 0 and other.backlog() == 1
    system.redis.delete(other.keys.commands)


def test_the_engine_loop_survives_a_failure_and_catches_up(system):
    import threading

    stream = system.stream
    stream.ensure_group()
    worker = EngineWorker(system.engine, stream, consumer="w", tick_every=0.1)
    real_tick = worker.tick
    calls = {"n": 0}

    def failing_tick():  # the database "goes away" for the first two ticks
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("database unavailable")
        real_tick()

    worker.tick = failing_tick  # type: ignore[method-assign]
    th = threading.Thread(target=worker.run, daemon=True)
    th.start()
    try:
        stream.add(_create(system).to_json())
        deadline = time.time() + 15
        while time.time() < deadline and (worker.stats.commands < 1 or calls["n"] < 4):
            time.sleep(0.1)
    finally:
        worker.stop()
        th.join(timeout=10)
    assert worker.stats.failures == 2
    assert worker.stats.commands == 1 and stream.pending() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1


def _poisoned(engine, bad_ids):
    """Fault injection: the real engine, failing unexpectedly on the named commands."""
    real_apply = engine.apply

    def apply(cmds):
        if any(c.id in bad_ids for c in cmds):
            raise RuntimeError("boom")
        return real_apply(cmds)

    return apply


def test_a_command_that_breaks_its_batch_is_set_aside_and_the_rest_applied(system):
    stream = system.stream
    stream.ensure_group()
    good1, bad, good2 = _create(system, 0), _create(system, 1), _create(system, 2)
    stream.add_many(c.to_json() for c in (good1, bad, good2))
    worker = EngineWorker(system.engine, stream, consumer="w")
    system.engine.apply = _poisoned(system.engine, {bad.id})  # type: ignore[method-assign]
    _drain(worker, stream)
    dead = stream.dead_letters()
    assert len(dead) == 1 and "boom" in dead[0]["error"] and bad.id in dead[0]["c"]
    assert stream.pending() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 2


def test_when_nothing_applies_the_batch_waits_until_its_deliveries_run_out(system):
    import pytest

    stream = system.stream
    stream.ensure_group()
    bad = _create(system, 0)
    stream.add(bad.to_json())
    worker = EngineWorker(system.engine, stream, consumer="w", max_deliveries=3)
    system.engine.apply = _poisoned(system.engine, {bad.id})  # type: ignore[method-assign]
    entries = stream.read("w", 10, block_ms=50)  # delivery 1
    with pytest.raises(RuntimeError):
        worker.process(entries)  # could be the database: keep it pending
    assert stream.pending() == 1 and stream.dead_letters() == []
    stream.claim_stale("w", min_idle_ms=0)  # delivery 2
    entries = stream.claim_stale("w", min_idle_ms=0)  # delivery 3
    worker.process(entries)
    assert stream.pending() == 0
    assert len(stream.dead_letters()) == 1


def test_malformed_fields_of_valid_json_are_refused_per_field(system):
    stream = system.stream
    stream.ensure_group()
    cmd = _create(system, 0)
    cmd.case["channel"] = ["qr"]
    cmd.case["reporter"] = {"name": "x"}
    stream.add(cmd.to_json())
    stream.add(
        orjson.dumps({"id": "far", "kind": "create", "at": "9999-06-01T00:00:00+00:00", "case": {}})
    )
    worker = EngineWorker(system.engine, stream, consumer="w")
    _drain(worker, stream)
    errors = sorted(d["error"] for d in stream.dead_letters())
    assert len(errors) == 2
    assert "channel" in errors[0] + errors[1] and "reporter" in errors[0] + errors[1]
    assert any("2099" in e for e in errors)
