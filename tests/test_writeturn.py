"""SQLite's one writer at a time, handed over through the kernel: across threads and across
real processes; and several engines on one command stream, each command applied once."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from multiprocessing.synchronize import Event

from sqlalchemy import func, select

from backend.domain.commands import create_command
from backend.engine.worker import EngineWorker
from backend.store.db import make_engine
from backend.store.models import case_events, cases
from backend.store.writeturn import WriteTurn
from backend.system import System
from tests.helpers import grid_category


def test_a_second_thread_waits_for_the_turn(tmp_path):
    turn = WriteTurn(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    order: list[str] = []
    turn.take()
    turn.take()  # taking it again within the turn does not block

    def other() -> None:
        turn.take()
        order.append("other has it")
        turn.give_back()

    th = threading.Thread(target=other)
    th.start()
    time.sleep(0.2)
    order.append("first gives back")
    turn.give_back()
    th.join(timeout=5)
    assert order == ["first gives back", "other has it"]


def _hold(path: str, held: Event, release: Event) -> None:
    turn = WriteTurn(make_engine(f"sqlite:///{path}"))
    turn.take()
    held.set()
    release.wait(10)
    turn.give_back()


def test_another_process_waits_for_the_turn(tmp_path):
    path = str(tmp_path / "b.db")
    ctx = mp.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(path, held, release))
    child.start()
    try:
        assert held.wait(30), "the child process never took its turn"
        turn = WriteTurn(make_engine(f"sqlite:///{path}"))
        got = threading.Event()
        waiter = threading.Thread(target=lambda: (turn.take(), got.set()))
        waiter.start()
        assert not got.wait(0.5), "took the turn while another process held it"
        release.set()
        assert got.wait(10), "the turn never came after the other process gave it back"
        waiter.join(5)
    finally:
        release.set()
        child.join(10)


def test_postgresql_and_memory_databases_need_no_turn():
    for url in ("sqlite://", "postgresql://postgres@127.0.0.1:5432/none"):
        turn = WriteTurn(make_engine(url))
        turn.take()
        turn.take()
        turn.give_back()


def test_two_engines_share_one_stream_and_apply_each_command_once(system, settings, clock):
    other = System(settings, clock)
    stream = system.stream
    grids = sorted(system.ref.grids)
    cmds = [
        create_command(
            {
                "category": grid_category(system),
                "description": "路灯不亮",
                "channel": "qr",
                "grid": grids[i % len(grids)],
            }
        )
        for i in range(400)
    ]
    stream.add_many(c.to_json() for c in cmds)
    # the same commands again, as a redelivery would bring them: they must take effect once
    stream.add_many(c.to_json() for c in cmds[:50])
    workers = [
        EngineWorker(s.engine, s.stream, consumer=f"w{i}", batch_size=40)
        for i, s in enumerate((system, other))
    ]

    for w in workers:
        w.start()
    for _ in range(3):  # share the partitions out, as the loops' upkeep does
        for w in workers:
            w.upkeep()
    assert all(len(w.held()) == 8 for w in workers)

    def drain(worker: EngineWorker) -> None:
        while worker.step(block_ms=100):
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert all(w.stats.commands > 0 for w in workers), "one engine did all the work"
    assert sum(w.stats.dead for w in workers) == 0
    assert stream.backlog() == 0
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 400
        assert conn.execute(select(func.count()).select_from(case_events)).scalar_one() == 800
    other.db.dispose()
