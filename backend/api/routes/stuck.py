"""Where cases are stuck (API key): the open cases, longest in their stage first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from backend.api.deps import ApiClient, Offset, ScopeDep, SystemDep
from backend.queries.stuck import StuckFilter, stuck_cases

router = APIRouter(prefix="/stuck", tags=["cases"])


@router.get("")
def get_stuck(
    client: ApiClient,
    system: SystemDep,
    scope: ScopeDep,
    area: str | None = None,
    tier: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    colour: str | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query()] = 100,
    offset: Offset = 0,
    order: str = "stage",
) -> dict[str, Any]:
    """One page of stuck cases and how many match (filters: area, tier, unit, category,
    colour, overdue; order ``stage`` or ``due``)."""
    f = StuckFilter(area, tier, unit, category, colour, overdue, limit, offset, order)
    with system.db.connect() as conn:
        return stuck_cases(conn, f, scope, system.clock.now())
