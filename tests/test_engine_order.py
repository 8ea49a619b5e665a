"""Each case's commands take effect in the order they were sent, with 2 and 4 engine processes
(``gridwatch engine``, real processes on the test's database and Redis), one of them killed
with SIGKILL midway; and no command is dead-lettered (README, "Engines and the order of
commands")."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.bus.connection import embedded_socket
from backend.domain.commands import Command, action_command, create_command
from backend.store.models import case_events, cases, processed_commands
from backend.system import System
from tests.helpers import grid_category

CASES = 1500


def _life(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """One case's actions after its report: a random but legal life cycle."""
    steps: list[tuple[str, dict[str, Any]]] = [("accept", {}), ("start", {})]
    if rng.random() < 0.3:
        steps += [("pause", {"reason": "等待群众补充材料"}), ("resume", {})]
    steps.append(("resolve", {"reason": "已处置"}))
    if rng.random() < 0.25:  # unsatisfied: reopened, handled again
        steps += [("rate", {"rating": "unsatisfied"}), ("accept", {}), ("start", {})]
        steps.append(("resolve", {"reason": "再次处置"}))
    if rng.random() < 0.8:
        steps.append(("rate", {"rating": "satisfied"}))
    if rng.random() < 0.7:
        steps.append(("close", {}))
    return steps


def _workload(system: System, seed: int, start: datetime) -> tuple[list[Command], dict[str, int]]:
    """Every case's commands, interleaved at random across cases, each case's in its order,
    named by ref throughout; and how many commands each case has."""
    rng = random.Random(seed)
    grids = sorted(system.ref.grids)
    category = grid_category(system)
    queues: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for i in range(CASES):
        ref = f"ord-{seed}-{i}"
        queues[ref] = [("create", {"grid": grids[i % len(grids)]}), *_life(rng)]
    counts = {ref: len(q) for ref, q in queues.items()}
    cursor = {ref: 0 for ref in queues}
    live = list(queues)
    out: list[Command] = []
    while live:
        k = rng.randrange(len(live))
        ref = live[k]
        kind, params = queues[ref][cursor[ref]]
        cursor[ref] += 1
        at = start + timedelta(milliseconds=len(out))  # the order sent, in each command's time
        if kind == "create":
            body = {"category": category, "description": "楼道堆物", "channel": "qr", **params}
            out.append(create_command(body, ref=ref, at=at, actor="order-test"))
        else:
            out.append(action_command(kind, params, ref=ref, at=at, actor="order-test"))
        if cursor[ref] == len(queues[ref]):
            live[k] = live[-1]
            live.pop()
    return out, counts


def _engine(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "engine", "--consumer", name, "--batch", "200"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _holders(system: System) -> dict[int, str]:
    out = {}
    for p in range(system.stream.partitions):
        v = system.redis.get(system.keys.lease(p))
        if v is not None:
            out[p] = v.decode().split(":")[0]
    return out


def _wait(what: str, ok: Any, timeout: float) -> float:
    t0 = time.monotonic()
    while not ok():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - t0


def _applied(system: System) -> int:
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(processed_commands)).scalar_one()


@pytest.mark.parametrize("engines", [2, 4])
def test_every_cases_commands_apply_in_order_through_engines_one_killed_midway(
    system: System, settings: Any, redis_var: Path, engines: int
) -> None:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.effective_database_url,
        REDIS_URL=settings.redis_url or f"unix://{embedded_socket(redis_var)}",
        GRIDWATCH_REDIS_PREFIX=settings.key_prefix,
        GRIDWATCH_LEASE_MS="1000",
        GRIDWATCH_VAR=str(redis_var),
    )
    start = datetime.now().astimezone() - timedelta(minutes=1)  # the engines' own clocks
    commands, counts = _workload(system, seed=engines, start=start)
    names = [f"e{i}" for i in range(engines)]
    procs = {name: _engine(env, name) for name in names}
    try:
        _wait(
            "every engine to hold partitions",
            lambda: set(_holders(system).values()) == set(names),
            60,
        )
        system.stream.add_many(c.to_json() for c in commands)
        _wait("a third of the commands", lambda: _applied(system) >= len(commands) // 3, 120)
        victim = procs.pop("e0")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = time.monotonic()
        handover = _wait(
            "the killed engine's partitions to be taken over",
            lambda: (
                len(_holders(system)) == system.stream.partitions
                and "e0" not in _holders(system).values()
            ),
            30,
        )
        _wait("every command applied", lambda: system.stream.backlog() == 0, 180)
        done = time.monotonic() - killed_at
        print(f"{engines} engines: handover {handover:.2f} s, all applied {done:.1f} s after")
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    assert system.stream.dead_letters(10) == []
    assert _applied(system) == len(commands)
    sent_at: dict[str, list[datetime]] = defaultdict(list)
    for c in commands:
        assert c.ref is not None and c.at is not None
        sent_at[c.ref].append(c.at)
    with system.db.connect() as conn:
        ids = dict(conn.execute(select(cases.c.ref, cases.c.id)).all())
        rows = conn.execute(
            select(case_events.c.case_id, case_events.c.at, case_events.c.actor).order_by(
                case_events.c.case_id, case_events.c.seq
            )
        ).all()
    assert set(ids) == set(counts)
    logged: dict[int, list[datetime]] = defaultdict(list)
    for case_id, at, actor in rows:
        if actor == "order-test":
            logged[case_id].append(at)
    for ref, times in sent_at.items():
        log = logged[ids[ref]]
        assert log == sorted(log), f"{ref}: events out of the order sent"
        assert sorted(set(log)) == sorted(t.astimezone(log[0].tzinfo) for t in times), ref
