"""The big screen's tiles as JSON (API key): today so far, open and overdue now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend.api.deps import ApiClient, ScopeDep, SystemDep
from backend.queries.reports import kpi

router = APIRouter(prefix="/kpi", tags=["reports"])


@router.get("")
def get_kpi(client: ApiClient, system: SystemDep, scope: ScopeDep) -> dict[str, Any]:
    with system.db.connect() as conn:
        out = kpi(conn, system.clock.now(), system.tz, scope=scope)
    out["calendar_notice"] = system.calendar.fallback_notice()
    return out
