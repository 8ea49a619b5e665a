"""The Redis side on a real server: the command stream, dead letters, claiming, live pub/sub."""

from __future__ import annotations

import time

import orjson
import pytest
from sqlalchemy import func, select

from backend.bus.live import parse_live_message
from backend.bus.stream import CommandStream
from backend.domain.commands import action_command, create_command
from backend.engine.worker import EngineWorker
from backend.store.models import cases
from backend.system import System
from tests.helpers import case_row, events_of, grid_category


def _create(system, grid_index=0, **extra):
    body = {
        "category": grid_category(system),
        "description": "垃圾清运不及时",
        "channel": "wechat",
        "grid": sorted(system.ref.grids)[grid_index],
    }
    body.update(extra)
    return create_command(body)


def _drain(worker):
    """Apply everything on the stream, as the engine loop would."""
    if worker.leases is None:
        worker.start()
    for _ in range(50):
        if not worker.step(block_ms=50):
            return


def _worker(system, name="w", **kw):
    kw.setdefault("lease_ms", 300)
    return EngineWorker(system.engine, system.stream, consumer=name, **kw)


def _count_cases(system):
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(cases)).scalar_one()


def test_stream_commands_are_applied_and_deleted_once_committed(system):
    stream = system.stream
    cmds = [_create(system, i) for i in range(5)]
    stream.add_many(c.to_json() for c in cmds)
    assert stream.backlog() == 5
    worker = _worker(system)
    _drain(worker)
    assert worker.stats.commands == 5 and worker.stats.dead == 0
    assert stream.backlog() == 0
    assert _count_cases(system) == 5


def test_bad_commands_go_to_dead_letters_and_the_engine_carries_on(system):
    stream = system.stream
    good = _create(system)
    stream.add(b"{not json")
    stream.add(orjson.dumps({"id": "x1", "kind": "create", "case": {"category": "nope"}}))
    stream.add(action_command("resolve", {}, case_id=999_999).to_json())
    stream.add(good.to_json())
    worker = _worker(system)
    _drain(worker)
    dead = stream.dead_letters()
    assert len(dead) == 3
    errors = " | ".join(d["error"] for d in dead)
    assert "not valid JSON" in errors
    assert "category" in errors
    assert "CaseNotFound" in errors
    assert worker.stats.commands == 3 and stream.backlog() == 0
    assert _count_cases(system) == 1


def test_a_read_of_bad_entries_only_still_moves_the_position(system):
    from backend.store.offsets import positions

    stream = system.stream
    stream.add(b"{not json")
    worker = _worker(system)
    _drain(worker)
    assert stream.backlog() == 0 and len(stream.dead_letters()) == 1
    p = stream.partition_for(b"{not json")
    with system.db.connect() as conn:
        assert positions(conn)[p] == worker.positions[p] != "0-0"
    _drain(worker)  # read again from the position: nothing more is dead-lettered
    assert len(stream.dead_letters()) == 1


def test_dead_letters_can_be_replayed_once_fixed(system):
    stream = system.stream
    cid = system.engine.apply([_create(system)]).results[0].case_id
    early = action_command("start", {}, case_id=cid)  # refused: not accepted yet
    stream.add(early.to_json())
    worker = _worker(system)
    _drain(worker)
    assert len(stream.dead_letters()) == 1
    system.engine.apply([action_command("accept", {}, case_id=cid)])
    assert stream.replay_dead() == 1
    _drain(worker)
    assert stream.dead_letters() == []
    assert case_row(system, cid)["status"] == "in_progress"


def test_a_cases_commands_share_a_partition_by_its_ref_or_else_its_id(system):
    stream = system.stream
    create = create_command({"category": "x"}, ref="R-17")
    by_ref = action_command("accept", {}, ref="R-17")
    by_both = action_command("start", {}, ref="R-17", case_id=4)
    assert stream.partition_for(create.to_json()) == stream.partition_for(by_ref.to_json())
    assert stream.partition_for(by_both.to_json()) == stream.partition_for(by_ref.to_json())
    ids = {
        stream.partition_for(action_command("accept", {}, case_id=i).to_json()) for i in range(64)
    }
    assert len(ids) > 8, "case ids are spread over the partitions"
    assert all(0 <= p < stream.partitions for p in ids)


def test_the_partition_count_is_fixed_by_the_first_process_and_kept_while_commands_wait(
    system,
):
    from backend.bus.stream import CommandStream, PartitionCountMismatch

    assert system.stream.partitions == 16
    other = CommandStream(system.redis, system.keys, partitions=4)
    assert other.partitions == 16, "a producer configured otherwise still follows the stream"
    system.stream.add(_create(system).to_json())
    with pytest.raises(PartitionCountMismatch, match="16 partitions"):
        other.settle_partitions()
    _drain(_worker(system))
    assert other.settle_partitions() == 4  # the stream is empty: the count may change
    assert CommandStream(system.redis, system.keys).partitions == 4


def test_commands_left_on_the_unpartitioned_stream_are_adopted_in_order(system):
    cmd = _create(system)
    accept = action_command("accept", {}, ref=cmd.ref)
    system.redis.xadd(system.keys.commands, {"c": cmd.to_json()})
    system.redis.xadd(system.keys.commands, {"c": accept.to_json()})
    worker = _worker(system)
    _drain(worker)
    assert system.redis.xlen(system.keys.commands) == 0
    assert worker.stats.commands == 2 and worker.stats.dead == 0


def test_engines_share_the_partitions_fairly_and_take_all_when_one_stops(system, settings, clock):
    other = System(settings, clock)
    a, b = _worker(system, "a"), _worker(other, "b")
    a.start()
    assert len(a.held()) == 16  # alone
    b.start()
    for _ in range(3):  # a few rounds of upkeep, as the loops do every second
        a.upkeep()
        b.upkeep()
    assert len(a.held()) == len(b.held()) == 8
    assert not set(a.held()) & set(b.held())
    a.close()  # a clean stop hands over at once
    b.upkeep()
    b.upkeep()
    assert len(b.held()) == 16
    other.db.dispose()


def test_a_killed_engines_partitions_go_on_in_order_and_its_late_commit_is_refused(
    system, settings, clock
):
    """The dead engine read a batch and never committed it; its leases lapse; the successor
    starts after the last committed entry. When the 'dead' one wakes (it was only paused),
    its commit is refused by the epoch in SQL."""
    stream = system.stream
    first = _create(system)
    stream.add(first.to_json())
    crashed = _worker(system, "crashed")
    _drain(crashed)
    accept = action_command("accept", {}, ref=first.ref)
    start = action_command("start", {}, ref=first.ref)
    stream.add_many([accept.to_json(), start.to_json()])
    p = stream.partition_for(accept.to_json())
    taken = stream.read({p: crashed.positions[p]}, 10, block_ms=None)  # read, not committed
    assert [len(v) for v in taken.values()] == [2]
    time.sleep(0.4)  # the crashed engine renews nothing: its leases lapse
    other = System(settings, clock)
    survivor = _worker(other, "survivor")
    _drain(survivor)
    assert p in survivor.held() and survivor.stats.commands == 2
    crashed.process(taken)  # wakes up with its stale read: refused, not applied twice
    assert p not in crashed.held() and crashed.stats.commands == 1
    cid = case_row_by_ref(system, first.ref)
    assert [e["type"] for e in events_of(system, cid)][-2:] == ["accepted", "started"]
    assert stream.backlog() == 0 and stream.dead_letters() == []
    other.db.dispose()


def test_a_partition_taken_after_redis_lost_its_epochs_still_fences_the_old_reader(system):
    stream = system.stream
    stream.add(_create(system).to_json())
    old = _worker(system, "old")
    _drain(old)
    held_epochs = dict(old.leases.held)
    system.redis.delete(*[system.keys.epoch(p) for p in range(16)])  # a Redis restart
    system.redis.delete(*[system.keys.lease(p) for p in range(16)], system.keys.engines)
    new = _worker(system, "new")
    new.start()
    assert len(new.held()) == 16
    assert all(new.leases.held[p] > held_epochs[p] for p in new.held())
    stream.add(_create(system).to_json())
    taken = stream.read(dict(old.positions), 10, block_ms=None)
    old.process(taken)
    assert old.held() == [] and old.stats.commands == 1
    _drain(new)
    assert new.stats.commands == 1 and _count_cases(system) == 2


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
    other.add(b"{}")
    assert system.stream.backlog() == 0 and other.backlog() == 1
    system.redis.delete(*system.redis.keys(other.keys.prefix + ":*"))


def test_the_engine_loop_survives_a_failure_and_catches_up(system):
    import threading

    stream = system.stream
    worker = _worker(system, tick_every=0.1)
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
    assert worker.stats.commands == 1 and stream.backlog() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1


def _poisoned(engine, bad_ids):
    """Fault injection: the real engine, failing unexpectedly on the named commands."""
    real_apply = engine.apply

    def apply(cmds, checkpoint=None):
        if any(c.id in bad_ids for c in cmds):
            raise RuntimeError("boom")
        return real_apply(cmds, checkpoint)

    return apply


def test_a_command_that_breaks_its_batch_is_set_aside_and_the_rest_applied(system):
    stream = system.stream
    good1, bad, good2 = _create(system, 0), _create(system, 1), _create(system, 2)
    stream.add_many(c.to_json() for c in (good1, bad, good2))
    worker = _worker(system)
    system.engine.apply = _poisoned(system.engine, {bad.id})  # type: ignore[method-assign]
    _drain(worker)
    dead = stream.dead_letters()
    assert len(dead) == 1 and "boom" in dead[0]["error"] and bad.id in dead[0]["c"]
    assert stream.backlog() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 2


def test_when_nothing_applies_the_batch_waits_until_its_deliveries_run_out(system):
    stream = system.stream
    bad = _create(system, 0)
    stream.add(bad.to_json())
    worker = _worker(system, max_deliveries=3)
    worker.start()
    system.engine.apply = _poisoned(system.engine, {bad.id})  # type: ignore[method-assign]
    for _delivery in (1, 2):
        with pytest.raises(RuntimeError):
            worker.step(block_ms=None)  # could be the database: keep it on the stream
        assert stream.backlog() == 1 and stream.dead_letters() == []
    worker.step(block_ms=None)  # delivery 3: set aside
    assert stream.backlog() == 0
    assert len(stream.dead_letters()) == 1


def test_malformed_fields_of_valid_json_are_refused_per_field(system):
    stream = system.stream
    cmd = _create(system, 0)
    cmd.case["channel"] = ["qr"]
    cmd.case["reporter"] = {"name": "x"}
    stream.add(cmd.to_json())
    stream.add(
        orjson.dumps({"id": "far", "kind": "create", "at": "9999-06-01T00:00:00+00:00", "case": {}})
    )
    worker = _worker(system)
    _drain(worker)
    errors = sorted(d["error"] for d in stream.dead_letters())
    assert len(errors) == 2
    assert "channel" in errors[0] + errors[1] and "reporter" in errors[0] + errors[1]
    assert any("2099" in e for e in errors)


def case_row_by_ref(system, ref):
    with system.db.connect() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.ref == ref)).scalar_one()
