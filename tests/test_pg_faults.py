"""PostgreSQL killed with SIGKILL mid-batch (issue 14): a private cluster (``initdb``,
``pg_ctl``) on a loopback port, an engine applying commands from a durable Redis as fast as
two producers put them on the stream, the web process taking reports. The server and all its
processes are killed and started again: the engine and the web process reconnect by
themselves, the web answers 503 (never a 500 or a hang) while it is down, nothing is
half-applied, and every acknowledged command takes effect exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.bus.stream import CommandStream
from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.domain.commands import create_command
from backend.engine.worker import EngineWorker
from backend.store.models import cases
from backend.system import System
from tests.helpers import applied_by_ref, first_grid, grid_category
from tests.pgproc import PrivatePostgres, pg_bin
from tests.redisproc import PrivateRedis

pytestmark = pytest.mark.skipif(pg_bin("initdb") is None, reason="no PostgreSQL server here")


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    r = PrivateRedis(folder)
    r.start()
    yield r
    r.stop()


def _produce(stream: CommandStream, body: dict, tag: str, acked: list[str], stop) -> None:  # noqa: ANN001
    i = 0
    while not stop.is_set():
        ref = f"{tag}-{i}"
        stream.add(create_command(body, ref=ref, command_id=ref).to_json())
        acked.append(ref)  # Redis acknowledged it: it must take effect, once
        i += 1
        time.sleep(0.002)


def test_sigkill_of_postgresql_mid_batch_loses_nothing_and_applies_once(
    cluster, durable_redis, tmp_path
):
    settings = Settings(
        DATABASE_URL=cluster.url,
        REDIS_URL=durable_redis.url,
        GRIDWATCH_VAR=tmp_path,
        GRIDWATCH_REDIS_PREFIX=f"gwpg{uuid.uuid4().hex[:6]}",
        GRIDWATCH_PARTITIONS=4,
    )
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    system = System(settings, clock)
    system.init("small")
    with system.db.begin() as conn:
        key = create_key(conn, "during-the-crash", clock.now())
    web = TestClient(create_api(system), raise_server_exceptions=False)
    web.headers["Authorization"] = f"Bearer {key}"
    body = {
        "category": grid_category(system),
        "description": "路灯不亮",
        "channel": "hotline",
        "grid": first_grid(system),
    }
    worker = EngineWorker(system.engine, system.stream, consumer="e1", batch_size=100)
    engine = threading.Thread(target=worker.run, daemon=True)
    engine.start()
    acked: list[str] = []
    stop = threading.Event()
    producers = [
        threading.Thread(
            target=_produce, args=(system.stream, body, f"p{n}", acked, stop), daemon=True
        )
        for n in range(2)
    ]
    for th in producers:
        th.start()
    try:
        time.sleep(1.5)
        applied_before = _count(system)
        cluster.kill()  # mid-batch: the engine commits a batch every few milliseconds
        t0 = time.monotonic()
        r = web.post("/api/v1/cases", json={**body, "description": "停电时的报告"})
        down_took = time.monotonic() - t0
        live = web.get("/healthz")
        ready = web.get("/readyz")
        time.sleep(1.0)
        cluster.start()
        time.sleep(1.0)
    finally:
        stop.set()
        for th in producers:
            th.join(timeout=10)
    try:
        assert system.stream.wait_drained(90) is not None, "the engine did not drain"
    finally:
        worker.stop()
        engine.join(timeout=20)
    assert applied_before > 0 and len(acked) > applied_before
    assert r.status_code == 503 and "retry-after" in r.headers, r.text[:300]
    assert down_took < 8.0, down_took
    assert live.status_code == 200
    assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
    assert worker.stats.failures > 0  # the engine did see the server go
    made, reported = applied_by_ref(system, acked)
    assert set(made) == set(acked), f"{len(set(acked) - set(made))} acknowledged not applied"
    assert all(n == 1 for n in made.values())
    assert reported == []  # no case half-applied, none reported twice
    after = web.post("/api/v1/cases", json={**body, "description": "恢复后的报告"})
    assert after.status_code == 201, after.text[:300]  # the web process reconnected
    system.db.dispose()


def _count(system: System) -> int:
    with system.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cases)).scalar_one())
