"""``gridwatch demo``: the whole system in one process on the embedded default."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from backend.core.clock import ManualClock, ScaledClock, SystemClock
from backend.core.config import load_settings
from backend.halls.run import start_halls
from backend.sim.accounts import demo_accounts
from backend.sim.handover import go_live
from backend.sim.profiles import PROFILES, profile_for, sim_config
from backend.sim.runner import run_fast
from backend.sim.simulator import CitySimulator, SimConfig
from backend.sim.story import DemoStory
from backend.store.db import start_wal_checkpointer
from backend.store.models import cases, settings_kv
from backend.system import System

log = logging.getLogger("gridwatch.demo")


def demo_config(system: System, city: str, rate: float | None) -> SimConfig:
    """The simulator's knobs from the profile of the city in the database (which is the one
    ``--city`` asked for, unless ``./var`` holds another already)."""
    with system.db.connect() as conn:
        kind = conn.execute(
            select(settings_kv.c.value).where(settings_kv.c.key == "city_kind")
        ).scalar()
    profile = profile_for(kind or city) or PROFILES["small"]
    cfg = sim_config(profile, rate=rate)
    log.info(
        "city %s: %.3f cases per grid per day (%s)",
        profile.kind,
        cfg.cases_per_grid_per_day,
        "--rate" if rate is not None else f"its profile: {profile.cases_per_year:,.0f} a year",
    )
    return cfg


def run_demo(
    *,
    port: int,
    speed: float,
    city: str,
    history_days: float,
    rate: float | None,
    serve: Callable[[Any, str, int], None],
    story: bool = True,
) -> None:
    settings = load_settings()
    boot = System(settings, SystemClock())
    start_wal_checkpointer(boot.db)
    boot.init(city)
    cfg = demo_config(boot, city, rate)
    with boot.db.connect() as conn:
        latest = conn.execute(select(func.max(cases.c.updated_at))).scalar()
    now = SystemClock().now()
    if latest is None and history_days > 0:
        # a city with some history, so the screens have something to show at once
        start = now - timedelta(days=history_days)
        clock = ManualClock(start)
        warm = System(settings, clock)
        sim = CitySimulator(warm.ref, warm.tz, cfg)
        log.info("simulating %.1f days of history…", history_days)
        stats = run_fast(warm.engine, sim, start, now, clock=clock)
        log.info(
            "history: %d cases, %d events in %.1fs",
            sim.stats.created,
            stats.events,
            stats.wall_seconds,
        )
        warm.db.dispose()
        latest = now
    boot.db.dispose()
    begin = max(now, latest or now)
    scaled = ScaledClock(begin, speed)
    system = System(settings, scaled)
    sim = CitySimulator(system.ref, system.tz, cfg)
    live = go_live(system, sim, scaled)  # picks up where the history or the last run stopped
    halls = start_halls(system, simulate=True)  # the hall processor and simulated hall days
    opening = DemoStory(
        system.engine,
        system.ref,
        scaled,
        unit_speed=sim.unit_speed,
        hands_off=live.simulation.hands_off,
    )
    if story:  # the core story on screen within the first minute
        opening.start()
    log.info("demo city live at %.0fx, carrying on %d open cases", speed, live.carried)
    log.info("open http://127.0.0.1:%d/", port)
    for username, role, password in demo_accounts(system):
        log.info("sign in as %-8s (%s): password %s", username, role, password)
    first_grid = sorted(system.ref.grids)[0]
    log.info(
        "citizens report by QR code (码上办) at http://127.0.0.1:%d/r/%s (its code: /r/%s/qr.svg);"
        " Open311 at http://127.0.0.1:%d/open311/v2/discovery.json",
        port,
        first_grid,
        first_grid,
        port,
    )
    try:
        serve(system, "127.0.0.1", port)
    finally:
        opening.stop()
        live.stop()
        halls.stop()
