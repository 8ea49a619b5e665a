"""Two web processes behind a proxy each keep the leader's stage projection fresh (their own
``DrillJobs``): their refreshes of the same cases must not collide."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from backend.drill.projection import _rederive
from backend.store.models import drill_stages
from tests.helpers import report


def test_two_refreshes_of_the_same_cases_at_once_both_commit(system):
    """The first re-derives three cases and holds its transaction open; the second, meanwhile,
    re-derives the same cases. Without one waiting for the other, the second deleted the old
    rows under its old snapshot and inserted over the first's new ones: a duplicate key."""
    if system.db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one writer at a time")
    case_ids = [report(system, grid=g) for g in sorted(system.ref.grids)[:3]]
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with system.db.begin() as conn:
            _rederive(conn, case_ids, system.tz, system.deadlines)
            inside.set()
            release.wait(10)

    def second() -> None:
        try:
            with system.db.begin() as conn:
                _rederive(conn, case_ids, system.tz, system.deadlines)
        except Exception as exc:  # the collision, reported below
            errors.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    time.sleep(0.5)  # the second is at its first write, waiting for the first
    release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    with system.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(drill_stages)).scalar_one()
    assert n == len(case_ids)  # one open stage per new case, once
