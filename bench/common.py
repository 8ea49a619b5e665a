"""Shared set-up for the benchmarks: a fresh database with the small city, and Redis."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.domain.commands import create_command
from backend.store.db import make_engine, start_wal_checkpointer
from backend.system import System

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def seconds(x: float | None) -> float | None:
    """A duration for a benchmark's JSON line: to the tenth, None when it never came."""
    return None if x is None else round(x, 1)


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """End the gridwatch processes a benchmark started: asked first, killed if they linger."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def fresh_system(
    backend: str, city: str = "small", start: datetime | None = None, pg_url: str | None = None
) -> System:
    """A System on an empty database ('sqlite' or 'postgres': ``pg_url``, else BENCH_PG_URL)
    with ``city`` loaded."""
    start = start or datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    var = Path(tempfile.mkdtemp(prefix="gwbench-"))
    if backend == "postgres":
        url = pg_url or os.environ.get("BENCH_PG_URL", PG_URL)
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        eng.dispose()
    else:
        url = f"sqlite:///{var / 'bench.db'}"
    settings = Settings(
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        GRIDWATCH_VAR=var,
        GRIDWATCH_REDIS_PREFIX=f"gwbench-{uuid.uuid4().hex[:8]}",
    )
    system = open_system(settings, start, warm=False)
    system.init(city)
    return system


def open_system(settings: Settings, start: datetime, warm: bool = True) -> System:
    """A System on an existing database, on a clock standing at ``start``, as gridwatch's
    engine, simulate and demo processes run it (the SQLite log checkpointed in the background);
    ``warm``: its reference data and engine made now, before anything is timed."""
    system = System(settings, ManualClock(start))
    start_wal_checkpointer(system.db)
    if warm:
        _ = system.engine, system.ref
    return system


def template_case(system: System) -> Any:
    """Report one real case through the engine: the model row for rows a benchmark writes."""
    grids = sorted(system.ref.grids)
    cats = sorted(c for c, i in system.ref.categories.items() if not i.major)
    probe = system.engine.apply(
        [
            create_command(
                {"category": cats[0], "description": "模板", "channel": "hotline", "grid": grids[0]}
            )
        ]
    )
    return probe.cases[0]
