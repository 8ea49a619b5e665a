"""Database engine creation with the pragmas each backend needs."""

from __future__ import annotations

import sqlite3
import threading
import time
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
    cur.execute("PRAGMA cache_size=-65536")
    # the WAL is checkpointed by a background thread (start_wal_checkpointer); this is only
    # the safety net for processes that run none
    cur.execute("PRAGMA wal_autocheckpoint=50000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an SQLAlchemy engine for ``url`` (SQLite file/memory or PostgreSQL)."""
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
    return create_engine(url, **kwargs)


_checkpointers: dict[str, threading.Thread] = {}


def start_wal_checkpointer(engine: Engine, every: float = 1.0) -> None:
    """Checkpoint SQLite's write-ahead log from a background thread.

    With ``synchronous=NORMAL`` the only fsync is at a checkpoint; doing it here, on its own
    connection (PASSIVE: it never blocks writers), keeps it off the engine's commit path.
    One thread per database file and process; a no-op on other databases.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    key = str(engine.url)
    if key in _checkpointers and _checkpointers[key].is_alive():
        return
    path = engine.url.database

    def run() -> None:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        try:
            while True:
                time.sleep(every)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or gone: try again next time
                    continue
        finally:  # pragma: no cover - daemon thread ends with the process
            conn.close()

    th = threading.Thread(target=run, name="sqlite-wal-checkpoint", daemon=True)
    th.start()
    _checkpointers[key] = th
