"""Wiring: build the database, Redis, calendar, policy, reference index and engine from
settings, in one place, for the CLI, the web server, the simulator and the tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from backend.auth.sessions import Sessions
from backend.bus.connection import Keys, connect
from backend.bus.live import LivePublisher
from backend.bus.stream import CommandStream
from backend.core.clock import Clock, SystemClock
from backend.core.config import Settings
from backend.deadlines.policy import PolicyPack, policy_from_setting
from backend.deadlines.sla import DeadlineClock
from backend.deadlines.workcalendar import BUILTIN_CALENDAR_FILE, WorkCalendar
from backend.engine.case_engine import CaseEngine
from backend.halls.files import load_halls
from backend.halls.generator import generate_halls
from backend.halls.model import HallData
from backend.halls.store import halls_loaded, load_halls_into, read_halls, stored_city_kind
from backend.refdata.files import load_city
from backend.refdata.generator import CITY_KINDS, generate_city
from backend.refdata.index import RefIndex
from backend.store.db import DbLimits, make_engine
from backend.store.migrate import upgrade
from backend.store.models import settings_kv
from backend.store.refload import city_loaded, load_city_into
from backend.store.replica import LagMeter

log = logging.getLogger("gridwatch")


def init_database(
    db: Engine, city_kind: str = "small", *, replace: bool = False, data_dir: Path | None = None
) -> str:
    """Migrate the schema and load reference data unless a city is there already.

    ``data_dir`` holds a real city's own files (see backend/refdata/files.py); without it a demo
    city is generated. Returns the city's name.
    """
    upgrade(db)
    city = load_city(data_dir) if data_dir is not None else None  # errors before any write
    hall_files = load_halls(data_dir) if data_dir is not None else None
    with db.begin() as conn:
        existing = city_loaded(conn)
        if existing and not replace:
            stored = stored_city_kind(conn)
            if stored in CITY_KINDS and not halls_loaded(conn):  # a city from before the halls
                load_halls_into(conn, generate_halls(generate_city(stored), stored))
            return existing
        if city is None:
            city = generate_city(city_kind)
        kind = f"files:{data_dir.name}" if data_dir is not None else city_kind
        load_city_into(conn, city, kind)
        if data_dir is None:
            hall_files = generate_halls(city, city_kind)
        if hall_files is not None:
            load_halls_into(conn, hall_files)
        log.info("loaded city %s (%d areas, %d units)", city.name, len(city.areas), len(city.units))
        return city.name


@dataclass
class System:
    """Everything a gridwatch process needs, built lazily from settings."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def db_limits(self) -> DbLimits:
        s = self.settings
        return DbLimits(
            statement_ms=s.db_statement_timeout_ms,
            lock_ms=s.db_lock_timeout_ms,
            pool_s=s.db_pool_timeout_s,
        )

    @cached_property
    def db(self) -> Engine:
        """The primary: every write, and every read that must see a write just made."""
        return make_engine(self.settings.effective_database_url, self.db_limits)

    @property
    def has_replica(self) -> bool:
        return bool(self.settings.database_read_url)

    @cached_property
    def read_db(self) -> Engine:
        """The leader desk's reads: the streaming replica of ``DATABASE_READ_URL`` (read-only,
        as old as its replay lag, ``replica_lag``), else the primary itself."""
        url = self.settings.database_read_url
        return make_engine(url, self.db_limits) if url else self.db

    @cached_property
    def replica_lag(self) -> LagMeter | None:
        """The replica's lag, measured at most every two seconds; None with no replica."""
        return LagMeter(self.read_db, self.clock) if self.has_replica else None

    def dispose(self) -> None:
        """Close the pools of the primary and of the replica."""
        if "read_db" in self.__dict__ and self.read_db is not self.db:
            self.read_db.dispose()
        if "db" in self.__dict__:
            self.db.dispose()

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.tz)

    @cached_property
    def redis(self) -> redis.Redis:
        s = self.settings
        return connect(
            s.redis_url,
            s.var_dir,
            wait_replicas=s.effective_redis_wait_replicas,
            wait_ms=s.redis_wait_ms,
        )

    @cached_property
    def keys(self) -> Keys:
        return Keys(self.settings.key_prefix)

    @cached_property
    def sessions(self) -> Sessions:
        """Signed-in sessions (Redis), signed with the settings' key."""
        s = self.settings
        return Sessions(
            self.redis,
            self.keys,
            self.db,
            self.clock,
            s.effective_secret_key,
            idle=timedelta(minutes=s.session_idle_minutes),
            longest=timedelta(hours=s.session_max_hours),
        )

    @cached_property
    def calendar(self) -> WorkCalendar:
        override = self.settings.calendar_override or (
            BUILTIN_CALENDAR_FILE if BUILTIN_CALENDAR_FILE.exists() else None
        )
        return WorkCalendar(tz=self.settings.tz, override_file=override)

    @cached_property
    def policy(self) -> PolicyPack:
        """``GRIDWATCH_POLICY`` when it is set; else the demo city's own pack (Jizhou's QR
        matters are due in 5 working days), else the default."""
        setting = self.settings.policy
        if "policy" not in self.settings.model_fields_set:
            setting = self._city_policy() or setting
        return policy_from_setting(setting)

    def _city_policy(self) -> str | None:
        from backend.sim.profiles import profile_for

        try:
            with self.db.connect() as conn:
                kind = conn.execute(
                    select(settings_kv.c.value).where(settings_kv.c.key == "city_kind")
                ).scalar()
        except SQLAlchemyError:  # no schema yet: nothing loaded, nothing to say
            return None
        profile = profile_for(kind) if kind else None
        return profile.policy if profile else None

    @cached_property
    def ref(self) -> RefIndex:
        with self.db.connect() as conn:
            return RefIndex.load(conn)

    @cached_property
    def halls(self) -> HallData:
        with self.db.connect() as conn:
            return read_halls(conn)

    @cached_property
    def deadlines(self) -> DeadlineClock:
        return DeadlineClock(self.calendar, self.policy)

    @cached_property
    def publisher(self) -> LivePublisher:
        return LivePublisher(self.redis, self.keys)

    @cached_property
    def stream(self) -> CommandStream:
        return CommandStream(self.redis, self.keys, self.settings.partitions)

    @cached_property
    def engine(self) -> CaseEngine:
        return CaseEngine(self.db, self.ref, self.deadlines, self.clock, self.publisher)

    def init(
        self, city_kind: str = "small", replace: bool = False, data_dir: Path | None = None
    ) -> str:
        name = init_database(self.db, city_kind, replace=replace, data_dir=data_dir)
        for built in ("ref", "policy", "deadlines", "halls"):  # they depend on the city loaded
            self.__dict__.pop(built, None)
        return name
