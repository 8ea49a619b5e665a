"""The leader overview's figures: what is open and overdue now under the filters, the report
figures of the filters' window, and the open load by area and by unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select

from backend.queries import rules
from backend.queries.filters import DrillFilter
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.queries.stuck import area_clause, where_clauses
from backend.refdata.index import RefIndex
from backend.store.models import cases

#: the history a screen covers when the filters give no dates
DEFAULT_DAYS = 30
#: units listed in the overview's by-unit table (the most open cases first)
UNITS_SHOWN = 30


@dataclass(frozen=True, slots=True)
class Overview:
    frm: datetime
    to: datetime
    open: int
    overdue: int
    #: ``build_report``'s figures (no breakdowns) for the cases reported in ``[frm, to)``
    report: dict[str, Any]
    #: (area code, open, overdue) for the areas one level below the filter's, busiest first
    by_area: list[tuple[str, int, int]]
    #: (unit code, open, overdue), busiest first, at most ``UNITS_SHOWN``
    by_unit: list[tuple[str, int, int]]


def history_window(f: DrillFilter, today: date) -> DrillFilter:
    """History is analysed over a window: the filters' dates, or the last ``DEFAULT_DAYS``."""
    if f.date_from is None and f.date_to is None:
        return f.with_(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
    return f


def area_scope(f: DrillFilter, ref: RefIndex, scope: Scope) -> Scope:
    """The report's scope for an area filter: a county or township narrows ``scope``; finer
    areas (a community, a grid) are narrowed by ``report_conditions``."""
    level = ref.area_levels.get(f.area or "")
    if level in ("county", "township") and scope.area is None:
        return Scope(f.area, level)
    return scope


def report_conditions(f: DrillFilter, ref: RefIndex) -> list[Any]:
    """The filters that apply to reported cases (status and colour describe open ones); a
    community or grid is a condition here, a county or township is the report's scope."""
    out = []
    level = ref.area_levels.get(f.area or "")
    if f.area and level in ("community", "grid"):
        out.append(area_clause(cases, f.area, level))
    for name, col in (
        ("tier", cases.c.tier),
        ("unit", cases.c.unit_code),
        ("category", cases.c.category),
        ("channel", cases.c.channel),
    ):
        v = getattr(f, name)
        if v:
            out.append(col == v)
    return out


def _child_column(f: DrillFilter, ref: RefIndex) -> Any:
    level = ref.area_levels.get(f.area or "", "city")
    return cases.c.township_code if level in ("city", "county") else cases.c.grid_code


def overview(
    conn: Connection,
    f: DrillFilter,
    ref: RefIndex,
    tz: ZoneInfo,
    now: datetime,
    *,
    scope: Scope,
) -> Overview:
    conds = and_(*where_clauses(f.stuck(ref, tz), scope, now))
    frm, to = f.window(tz)
    if to is None:
        to = now
    if frm is None:
        frm = to - timedelta(days=DEFAULT_DAYS)
    overdue = rules.count_where(rules.overdue_now(now))
    n_open, n_over = conn.execute(select(func.count(), overdue).where(conds)).one()
    report = build_report(
        conn,
        frm,
        to,
        now,
        scope=area_scope(f, ref, scope),
        where=report_conditions(f, ref),
        groups=(),
    )
    child = _child_column(f, ref)
    areas = conn.execute(
        select(child, func.count(), overdue)
        .where(conds, child.is_not(None))
        .group_by(child)
        .order_by(func.count().desc())
    ).all()
    units = conn.execute(
        select(cases.c.unit_code, func.count(), overdue)
        .where(conds, cases.c.unit_code.is_not(None))
        .group_by(cases.c.unit_code)
        .order_by(func.count().desc(), cases.c.unit_code)
        .limit(UNITS_SHOWN)
    ).all()
    return Overview(
        frm=frm,
        to=to,
        open=int(n_open),
        overdue=int(n_over or 0),
        report=report,
        by_area=[(a, int(n), int(o or 0)) for a, n, o in areas],
        by_unit=[(u, int(n), int(o or 0)) for u, n, o in units],
    )
