"""SQLite settings for long-running processes: the background WAL checkpointer."""

from __future__ import annotations

import os
import time

import pytest
from alembic import command
from sqlalchemy import inspect, text

from backend.store.db import make_engine, start_wal_checkpointer
from backend.store.migrate import alembic_config, upgrade


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


def test_dropping_the_event_logs_foreign_key_keeps_the_log_and_its_guard(db_url_and_engine):
    """Migration 0003 on a database with a case in it: the rows stay, the log no longer
    names cases by constraint, and the database still refuses to change the log."""
    _, engine = db_url_and_engine  # at head already: go back to before 0003, with data
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002d")
    assert inspect(engine).get_foreign_keys("case_events")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cases (id, ref, reported_at, channel, category, severity, "
                "complexity, mode, description, status, status_changed_at, used_seconds, "
                "colour, overdue_tiers, escalations, reopen_count, duplicate_count, "
                "event_count, version, updated_at) VALUES (1, 'r1', '2026-11-23 01:00:00', "
                "'qr', 'sanitation', 'general', 'simple', 'normal', 'x', 'received', "
                "'2026-11-23 01:00:00', 0, 'green', '', 0, 0, 1, 1, 1, '2026-11-23 01:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO case_events (case_id, seq, at, type, actor) "
                "VALUES (1, 1, '2026-11-23 01:00:00', 'reported', 't')"
            )
        )
    upgrade(engine)
    assert inspect(engine).get_foreign_keys("case_events") == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_events")).scalar_one() == 1
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM case_events"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE case_events SET actor = 'x'"))


def test_migration_r001_adds_the_risk_basis_size_and_keeps_the_rows(db_url_and_engine):
    """Down to just below r001 and up again with a scored case in the table: the row stays
    (its size unknown until the next refresh), and back down again."""
    _, engine = db_url_and_engine
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "u001")
    assert "n_similar" not in {c["name"] for c in inspect(engine).get_columns("drill_case_risk")}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO drill_case_risk (case_id, p_miss, basis, computed_at) "
                "VALUES (7, 0.25, 'tier', '2026-11-23 01:00:00')"
            )
        )
    upgrade(engine)
    assert "n_similar" in {c["name"] for c in inspect(engine).get_columns("drill_case_risk")}
    with engine.connect() as conn:
        row = conn.execute(text("SELECT p_miss, n_similar FROM drill_case_risk")).one()
    assert tuple(row) == (0.25, None)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "u001")
    assert "n_similar" not in {c["name"] for c in inspect(engine).get_columns("drill_case_risk")}
    upgrade(engine)
