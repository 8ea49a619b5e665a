"""SQLite settings for long-running processes: the background WAL checkpointer."""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from backend.store.db import make_engine, start_wal_checkpointer


def test_the_checkpointer_moves_the_wal_into_the_database_off_the_commit_path(tmp_path):
    path = tmp_path / "cp.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    start_wal_checkpointer(engine, every=0.2)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 200000
    before = os.path.getsize(path)
    with engine.begin() as conn:  # ~4 MB: past the default auto-checkpoint of 1000 pages
        conn.execute(text("INSERT INTO t (body) VALUES (:b)"), [{"b": "x" * 4000}] * 1000)
    # the commit itself did not checkpoint (the main file has not grown yet) …
    assert os.path.getsize(path) == before
    # … the background thread does, soon after
    deadline = time.time() + 10
    while os.path.getsize(path) <= before + 3_000_000 and time.time() < deadline:
        time.sleep(0.1)
    assert os.path.getsize(path) > before + 3_000_000
    engine.dispose()
