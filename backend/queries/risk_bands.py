"""How many open cases fall in each overdue-risk band (the risk screen's tiles)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from backend.queries import rules
from backend.queries.scope import Scope
from backend.queries.stuck import StuckFilter, where_clauses
from backend.store.models import cases, drill_case_risk

#: risk bands, the same steps as the stuck table's colours: (name, from, below)
BANDS = (("very", 0.8, 1.01), ("high", 0.5, 0.8), ("mid", 0.2, 0.5), ("low", 0.0, 0.2))


def with_risk() -> Any:
    """Open cases joined with the risk of their *present* stage: a risk computed before the
    stage began (the case moved on since the last refresh, e.g. overdue and moved up by the
    clock) belongs to the stage before, and is not shown as this one's."""
    r = drill_case_risk.c
    return cases.outerjoin(
        drill_case_risk, and_(r.case_id == cases.c.id, r.computed_at >= cases.c.stage_started_at)
    )


def risk_bands(conn: Connection, f: StuckFilter, now: datetime, *, scope: Scope) -> dict[str, int]:
    """Open cases under ``f`` per band, and ``none``: those the model has not scored (yet:
    a stage newer than the last refresh, or no deadline running)."""
    p = drill_case_risk.c.p_miss
    cols = [rules.count_where(and_(p >= lo, p < hi)).label(name) for name, lo, hi in BANDS]
    cols.append(rules.count_where(p.is_(None)).label("none"))
    joined = with_risk()
    row = (
        conn.execute(select(*cols).select_from(joined).where(*where_clauses(f, scope, now)))
        .mappings()
        .one()
    )
    return {k: int(v or 0) for k, v in row.items()}
