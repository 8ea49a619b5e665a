"""Small helpers the tests share: making cases and reading them back from SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from backend.domain.commands import action_command, create_command
from backend.engine.case_engine import BatchResult
from backend.store.models import case_events, cases
from backend.system import System


def first_grid(system: System, category: str | None = None) -> str:
    return sorted(system.ref.grids)[0]


def grid_category(system: System) -> str:
    """A category handled at grid tier and not major: the common, simple path."""
    for code, c in sorted(system.ref.categories.items()):
        if c.default_tier.value == "grid" and not c.major:
            return code
    raise AssertionError("the demo city has no grid-tier category")


def report(system: System, **fields: Any) -> int:
    body = {
        "category": grid_category(system),
        "description": "小区楼道堆放杂物，存在消防隐患",
        "channel": "grid_worker",
        "grid": first_grid(system),
    }
    body.update(fields)
    res = system.engine.apply([create_command(body)])
    r = res.results[0]
    assert r.ok, r.error
    assert r.case_id is not None
    return r.case_id


def act(system: System, case_id: int, action: str, **params: Any) -> BatchResult:
    return system.engine.apply([action_command(action, params, case_id=case_id, actor="t")])


def case_row(system: System, case_id: int) -> Any:
    with system.db.connect() as conn:
        return conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one()


def events_of(system: System, case_id: int) -> list[Any]:
    with system.db.connect() as conn:
        return list(
            conn.execute(
                select(case_events)
                .where(case_events.c.case_id == case_id)
                .order_by(case_events.c.seq)
            ).mappings()
        )


def applied_by_ref(system: System, refs: Iterable[str]) -> tuple[dict[str, int], list[Any]]:
    """After a fault: how many cases each ref made, and the cases reported other than once
    (half-applied or applied twice), for the tests that kill a server under load."""
    with system.db.connect() as conn:
        made = dict(
            conn.execute(
                select(cases.c.ref, func.count())
                .where(cases.c.ref.in_(list(refs)))
                .group_by(cases.c.ref)
            ).all()
        )
        reported = conn.execute(
            select(case_events.c.case_id, func.count())
            .where(case_events.c.type == "reported")
            .group_by(case_events.c.case_id)
            .having(func.count() != 1)
        ).all()
    return made, list(reported)
