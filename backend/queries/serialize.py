"""JSON shapes of cases and events, shared by the HTTP API and the screens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.domain.case import case_code

_CASE_OUT = (
    "id",
    "ref",
    "status",
    "tier",
    "category",
    "channel",
    "severity",
    "description",
    "reporter",
    "address",
    "lat",
    "lon",
    "holder",
    "colour",
    "escalations",
    "reopen_count",
    "consultation",
    "rating",
    "duplicate_count",
    "allowance",
    "version",
    "source",
    "source_channel",
    "source_type",
)
_TIMES = (
    "reported_at",
    "stage_started_at",
    "due_at",
    "reminder_at",
    "warning_at",
    "completed_at",
    "closed_at",
    "updated_at",
)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def case_json(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {k: r[k] for k in _CASE_OUT}
    out["code"] = case_code(r["id"], r["reported_at"])
    out["unit"] = r["unit_code"]
    out["grid"] = r["grid_code"]
    out["township"] = r["township_code"]
    out["county"] = r["county_code"]
    out["deadline"] = _iso(r["due_at"])
    out["overdue_tiers"] = [t for t in (r["overdue_tiers"] or "").split(",") if t]
    out["paused"] = r["status"] == "paused"
    for k in _TIMES:
        out[k] = _iso(r[k])
    return out


def event_json(e: Any) -> dict[str, Any]:
    return {
        "seq": e["seq"],
        "at": _iso(e["at"]),
        "type": e["type"],
        "actor": e["actor"],
        "from_status": e["from_status"],
        "to_status": e["to_status"],
        "from_unit": e["from_unit"],
        "to_unit": e["to_unit"],
        "from_tier": e["from_tier"],
        "to_tier": e["to_tier"],
        "reason": e["reason"],
        "data": e["data"],
    }
