"""The figures ``/metrics`` exposes to Prometheus: open cases by tier, overdue now, all cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from backend.queries import rules
from backend.queries.scope import Scope
from backend.store.models import cases


@dataclass(frozen=True, slots=True)
class CaseGauges:
    open_by_tier: dict[str | None, int]  # None: awaiting triage
    overdue: int
    total: int


def case_gauges(conn: Connection, now: datetime, *, scope: Scope) -> CaseGauges:
    sc = scope.clause(cases)
    rows = conn.execute(
        select(cases.c.tier, func.count()).where(rules.is_open(), sc).group_by(cases.c.tier)
    ).all()
    overdue = conn.execute(
        select(func.count()).select_from(cases).where(rules.overdue_now(now), sc)
    ).scalar_one()
    total = conn.execute(select(func.count()).select_from(cases).where(sc)).scalar_one()
    return CaseGauges({tier: int(n) for tier, n in rows}, int(overdue), int(total))
