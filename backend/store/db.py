"""Database engine creation with the pragmas each backend needs."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the dashboard read while the engine writes; NORMAL sync is safe under WAL.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # a year of a large city is gigabytes: keep the hot B-tree pages in memory and map the
    # file, so updates of scattered case rows do not turn into read system calls
    cur.execute("PRAGMA cache_size=-1048576")  # up to 1 GiB per connection, used as needed
    cur.execute("PRAGMA mmap_size=8589934592")  # 8 GiB address space, shared page cache
    cur.execute("PRAGMA temp_store=MEMORY")
    # checkpoint the WAL in larger, rarer steps than SQLite's default of 1000 pages: each
    # checkpoint syncs the file, and under write bursts the default does it every few batches
    cur.execute("PRAGMA wal_autocheckpoint=20000")
    cur.close()


@dataclass(frozen=True, slots=True)
class DbLimits:
    """How long anything waits on PostgreSQL, so a stuck database is a fast, clear failure
    (503 with Retry-After) instead of a hang: a statement, a lock, a pooled connection, a new
    connection. 0 ms means no limit (a background job's long report)."""

    statement_ms: int = 30_000
    lock_ms: int = 3_000
    pool_s: float = 3.0
    connect_s: int = 5
    idle_in_transaction_ms: int = 60_000

    def options(self) -> str:
        return (
            f"-c statement_timeout={self.statement_ms} -c lock_timeout={self.lock_ms} "
            f"-c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


DEFAULT_LIMITS = DbLimits()


def make_engine(url: str, limits: DbLimits = DEFAULT_LIMITS, **kwargs: Any) -> Engine:
    """Create an SQLAlchemy engine for ``url`` (SQLite file/memory or PostgreSQL); on
    PostgreSQL every wait is bounded by ``limits``."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_timeout", limits.pool_s)
    pg_args: dict[str, Any] = {"connect_timeout": limits.connect_s, "options": limits.options()}
    pg_args.update(kwargs.pop("connect_args", {}))
    return create_engine(url, connect_args=pg_args, **kwargs)


_checkpointers: dict[str, threading.Thread] = {}


def sqlite_file(engine: Engine) -> str | None:
    """The file of an SQLite database (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return str(engine.url.database)


def start_wal_checkpointer(engine: Engine, every: float = 0.5) -> None:
    """Checkpoint SQLite's write-ahead log from a background thread, off the commit path.

    In WAL mode a commit that crosses the auto-checkpoint size copies the log into the
    database file and syncs it, inside the committing transaction; on a multi-gigabyte
    database that is tens of milliseconds per batch. Here a thread with its own connection
    does it instead (PASSIVE: it never blocks writers), and the engine's own auto-checkpoint
    is pushed far out as a safety net. For long-running processes; a no-op on PostgreSQL.
    """
    path = sqlite_file(engine)
    if path is None:
        return
    if path in _checkpointers and _checkpointers[path].is_alive():
        return
    event.listen(engine, "connect", _far_autocheckpoint)
    engine.dispose()  # connections made from now on carry the new setting

    def run() -> None:
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        except sqlite3.Error:
            return
        with closing(conn):
            while os.path.exists(path):
                time.sleep(every)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy: next time
                    continue

    th = threading.Thread(target=run, name="sqlite-wal-checkpoint", daemon=True)
    th.start()
    _checkpointers[path] = th


def _far_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=200000")
