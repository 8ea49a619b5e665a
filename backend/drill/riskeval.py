"""How well the overdue risk predicts, on history held back from it.

Train on the stages that started before ``cutoff`` (what was known then: a stage still running
at the cutoff counts as censored there), test on the stages that started after it and whose
deadline had passed by ``until``, so that the outcome of each is known: completed in time (met)
or overdue (missed). Choosing test stages by outcome instead (the completed and the overdue
ones) would leave out the slow stages still running and make every stage look faster.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from backend.domain.events import StageEnd
from backend.drill.risk import Duration, RiskModel, TestStage, score, tables_from_durations
from backend.store.models import drill_stages

_COLS = (
    drill_stages.c.unit_code,
    drill_stages.c.tier,
    drill_stages.c.category,
    drill_stages.c.started_at,
    drill_stages.c.ended_at,
    drill_stages.c.end_kind,
    drill_stages.c.overdue_at,
    drill_stages.c.due_seconds,
)


def split(
    conn: Connection,
    cutoff: datetime,
    until: datetime,
    *,
    max_tests: int | None = None,
    seed: int = 7,
) -> tuple[list[Duration], list[TestStage]]:
    """Training shares (as known at ``cutoff``) and test stages (outcome known by ``until``)."""
    train: list[Duration] = []
    tests: list[TestStage] = []
    for r in conn.execute(select(*_COLS).where(drill_stages.c.due_seconds > 0)):
        due = float(r.due_seconds)
        if r.started_at < cutoff:
            end = r.ended_at if r.ended_at is not None and r.ended_at <= cutoff else None
            done = end is not None and r.end_kind == StageEnd.COMPLETED
            seconds = ((end or cutoff) - r.started_at).total_seconds()
            train.append((r.unit_code, r.tier, r.category, max(0.0, seconds) / due, done))
            continue
        if r.started_at.timestamp() + due > until.timestamp():
            continue  # its deadline is still to come: no outcome yet
        if r.overdue_at is not None:
            tests.append(TestStage(r.unit_code, r.tier, r.category, due, due, True))
        elif r.end_kind == StageEnd.COMPLETED and r.ended_at is not None:
            took = (r.ended_at - r.started_at).total_seconds()
            # completed and never overdue: in time (a pause may have moved the deadline on)
            tests.append(TestStage(r.unit_code, r.tier, r.category, max(due, took), took, False))
        # else it left the unit (reassigned, cancelled) before the deadline: no outcome
    if max_tests is not None and len(tests) > max_tests:
        tests = random.Random(seed).sample(tests, max_tests)
    return train, tests


def evaluate(
    conn: Connection,
    cutoff: datetime,
    until: datetime,
    *,
    max_tests: int | None = None,
) -> dict[str, Any]:
    train_rows, tests = split(conn, cutoff, until, max_tests=max_tests)
    model = RiskModel.from_tables(tables_from_durations(train_rows))
    out = score(model, tests)
    out.update(
        {
            "cutoff": cutoff.isoformat(),
            "until": until.isoformat(),
            "train_stages": len(train_rows),
            "test_stages": len(tests),
        }
    )
    return out
