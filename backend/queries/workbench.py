"""The handler's workbench (/work): my cases by deadline, what I did, my units' figures.

The cases come from the stuck tracker with the handler's scope (their area narrowed to the
units they belong to, ``Scope.held_by``), so the list, the case page and the figures share the
one scope rule; the figures are counted by ``rules``, as every other screen counts them.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from backend.auth.accounts import Person
from backend.domain.case import case_code
from backend.queries import rules
from backend.queries.scope import Scope, scope_of_area
from backend.queries.stuck import StuckFilter, stuck_cases
from backend.refdata.index import RefIndex
from backend.store.models import case_events, cases

#: a handler's list: the open cases of their units, soonest deadline first
MY_CASES_LIMIT = 200


def handler_scope(ref: RefIndex, person: Person) -> Scope:
    """What a handler may see and act on: their area's cases now held by their units."""
    return scope_of_area(ref, person.area_code).held_by(person.units)


def my_cases(conn: Connection, scope: Scope, now: datetime) -> dict[str, Any]:
    """The open cases of the scope's units, ordered by deadline (paused ones last)."""
    return stuck_cases(conn, StuckFilter(order="due", limit=MY_CASES_LIMIT), scope, now)


def my_history(conn: Connection, actor: str, tz: ZoneInfo, limit: int = 50) -> list[dict[str, Any]]:
    """The events signed by this person, newest first, with the case's code. A case that has
    since left their units still shows here: it is their own record, not the case's."""
    rows = conn.execute(
        select(
            case_events.c.case_id,
            case_events.c.type,
            case_events.c.at,
            case_events.c.reason,
            cases.c.reported_at,
        )
        .join_from(case_events, cases, cases.c.id == case_events.c.case_id)
        .where(case_events.c.actor == actor)
        .order_by(case_events.c.at.desc(), case_events.c.seq.desc())
        .limit(limit)
    ).mappings()
    return [
        {
            "case_id": r["case_id"],
            "code": case_code(r["case_id"], r["reported_at"], tz),
            "type": r["type"],
            "at": r["at"],
            "reason": r["reason"],
        }
        for r in rows
    ]


def month_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date().replace(day=1), time(0), tz)


def unit_figures(
    conn: Connection, scope: Scope, now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Per unit in scope: open now, overdue now, completed this month and how many of those
    on time (``rules.on_time``), in one grouped scan."""
    start = month_start(now, tz)
    done_this_month = rules.is_completed() & (cases.c.completed_at >= start)
    rows = conn.execute(
        select(
            cases.c.unit_code,
            rules.count_where(rules.is_open()).label("open"),
            rules.count_where(rules.overdue_now(now)).label("overdue"),
            rules.count_where(done_this_month).label("closed"),
            rules.count_where(done_this_month & rules.on_time()).label("on_time"),
        )
        .where(scope.clause(cases), rules.is_open() | done_this_month)
        .group_by(cases.c.unit_code)
    ).mappings()
    found = {r["unit_code"]: r for r in rows}
    out = []
    for unit in scope.units or sorted(u for u in found if u):
        r = found.get(unit)
        closed = int(r["closed"] or 0) if r else 0
        on_time = int(r["on_time"] or 0) if r else 0
        out.append(
            {
                "unit": unit,
                "open": int(r["open"] or 0) if r else 0,
                "overdue": int(r["overdue"] or 0) if r else 0,
                "closed": closed,
                "on_time_rate": on_time / closed if closed else None,
            }
        )
    return out


def count_open(conn: Connection, scope: Scope) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(cases).where(rules.is_open(), scope.clause(cases))
        ).scalar_one()
    )
