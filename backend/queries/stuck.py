"""Stuck tracking: where every open case is, since when, and how much time it has left.

All queries go to SQL with indexed filters; a scope is applied here for every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select

from backend.core.errors import CommandInvalid
from backend.domain.case import case_code
from backend.domain.vocabulary import OPEN_VALUES, TIER_ORDER, Channel, Colour, Status
from backend.queries import rules
from backend.queries.scope import Scope
from backend.store.models import cases


@dataclass(frozen=True, slots=True)
class StuckFilter:
    area: str | None = None  # any area code: county, township, community or grid
    tier: str | None = None
    unit: str | None = None
    category: str | None = None
    colour: str | None = None
    overdue: bool | None = None
    limit: int = 100
    offset: int = 0
    order: str = "stage"  # "stage" (longest in stage first) | "due" (soonest due first)
    channel: str | None = None
    status: str | None = None  # one of the open statuses
    reported_from: datetime | None = None  # reported in [reported_from, reported_to)
    reported_to: datetime | None = None
    #: the level of ``area`` when the caller knows it: one indexed column instead of three
    area_level: str | None = None

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if self.tier is not None and self.tier not in {t.value for t in TIER_ORDER}:
            errors["tier"] = "must be one of " + ", ".join(t.value for t in TIER_ORDER)
        if self.colour is not None and self.colour not in {c.value for c in Colour}:
            errors["colour"] = "must be one of " + ", ".join(c.value for c in Colour)
        if not 1 <= self.limit <= 1000:
            errors["limit"] = "between 1 and 1000"
        if self.offset < 0:
            errors["offset"] = "not negative"
        if self.channel is not None and self.channel not in {c.value for c in Channel}:
            errors["channel"] = "must be one of " + ", ".join(c.value for c in Channel)
        if self.status is not None and self.status not in OPEN_VALUES:
            errors["status"] = "must be one of the open statuses: " + ", ".join(OPEN_VALUES)
        if self.order not in ("stage", "due"):
            errors["order"] = "'stage' or 'due'"
        if errors:
            raise CommandInvalid(errors)


#: how an area of each level is matched against a table's location columns
AREA_COLUMNS = {
    "county": "county_code",
    "township": "township_code",
    "community": "grid_code",
    "grid": "grid_code",
}


def area_clause(table: Any, area: str, level: str) -> Any:
    """Cases (or stages) inside ``area``: grid codes begin with their community's code."""
    if level == "community":
        return table.c.grid_code.startswith(area, autoescape=True)
    return table.c[AREA_COLUMNS[level]] == area


def where_clauses(f: StuckFilter, scope: Scope, now: datetime) -> list[Any]:
    conds: list[Any] = [rules.is_open(), scope.clause(cases)]
    if f.area and f.area_level in AREA_COLUMNS:
        conds.append(area_clause(cases, f.area, f.area_level))
    elif f.area:
        conds.append(
            or_(
                cases.c.county_code == f.area,
                cases.c.township_code == f.area,
                cases.c.grid_code.startswith(f.area, autoescape=True),
            )
        )
    if f.tier:
        conds.append(cases.c.tier == f.tier)
    if f.unit:
        conds.append(cases.c.unit_code == f.unit)
    if f.category:
        conds.append(cases.c.category == f.category)
    if f.colour:
        conds.append(cases.c.colour == f.colour)
    if f.channel:
        conds.append(cases.c.channel == f.channel)
    if f.status:
        conds.append(cases.c.status == f.status)
    if f.reported_from is not None:
        conds.append(cases.c.reported_at >= f.reported_from)
    if f.reported_to is not None:
        conds.append(cases.c.reported_at < f.reported_to)
    if f.overdue is True:
        conds.append(rules.overdue_now(now))
    elif f.overdue is False:
        conds.append(rules.not_overdue_now(now))
    return conds


def stuck_query(f: StuckFilter, scope: Scope, now: datetime) -> Select[Any]:
    q = select(cases).where(*where_clauses(f, scope, now))
    if f.order == "due":
        q = q.order_by(cases.c.due_at.asc(), cases.c.id)
    else:
        q = q.order_by(*rules.stuck_order())
    return q.limit(f.limit).offset(f.offset)


def stuck_cases(conn: Connection, f: StuckFilter, scope: Scope, now: datetime) -> dict[str, Any]:
    """One page of stuck cases plus the total that match."""
    f.validate()
    total = conn.execute(
        select(func.count()).select_from(cases).where(*where_clauses(f, scope, now))
    ).scalar_one()
    rows = conn.execute(stuck_query(f, scope, now)).mappings().all()
    return {"total": total, "items": [stuck_row(r, now) for r in rows]}


def stuck_row(r: Any, now: datetime) -> dict[str, Any]:
    """Where a case is, since when, how long in this stage and in all, time left or overdue."""
    stage_start = r["stage_started_at"] or r["reported_at"]
    if r["status"] == Status.PAUSED.value and r["budget_seconds"] is not None:
        left = r["budget_seconds"] - r["used_seconds"]  # the clock is stopped
    elif r["due_at"] is not None:
        left = (r["due_at"] - now).total_seconds()
    else:
        left = None
    return {
        "id": r["id"],
        "code": case_code(r["id"], r["reported_at"]),
        "category": r["category"],
        "status": r["status"],
        "tier": r["tier"],
        "unit": r["unit_code"],
        "holder": r["holder"],
        "grid": r["grid_code"],
        "township": r["township_code"],
        "since": stage_start.isoformat(),
        "seconds_in_stage": max(0.0, (now - stage_start).total_seconds()),
        "seconds_total": max(0.0, (now - r["reported_at"]).total_seconds()),
        "due_at": r["due_at"].isoformat() if r["due_at"] else None,
        "seconds_left": left,
        "overdue": rules.overdue_now_row(r["status"], r["due_at"], now),
        "colour": r["colour"],
        "overdue_tiers": [t for t in (r["overdue_tiers"] or "").split(",") if t],
        "escalations": r["escalations"],
    }
