"""The overview's figures and tables, and the stuck-case table's blocks (shared by the risk
screen, which shows the same table sorted by risk)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import Dash, Input, Output, State, no_update
from sqlalchemy import and_, case, func, select

from backend.core.i18n import t
from backend.domain.vocabulary import Status
from backend.queries.filters import DrillFilter
from backend.queries.grid import grid_block
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.queries.stuck import area_clause, where_clauses
from backend.refdata.index import RefIndex
from backend.store.models import cases
from backend.system import System
from dashboard.drill_jobs import DrillJobs
from layouts import ids
from layouts.leader.common import (
    area_name,
    category_name,
    hours,
    local_time,
    pct,
    status_name,
    tier_name,
    unit_name,
)
from layouts.leader.overview import KPI_KEYS, breakdown_table

#: the report window of the figures when the filters give no dates
DEFAULT_DAYS = 30
UNITS_SHOWN = 30

PURGE_JS = """
function (query) {
    try {
        var api = window.dash_ag_grid && window.dash_ag_grid.getApi('stuck-grid');
        if (api) { api.purgeInfiniteCache(); }
    } catch (e) { /* the grid is not there yet: it asks for its first block itself */ }
    return window.dash_clientside.no_update;
}
"""


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


def _overdue_now(now: Any) -> Any:
    return case((and_(cases.c.due_at <= now, cases.c.status != Status.PAUSED.value), 1), else_=0)


def _child_column(f: DrillFilter, ref: RefIndex) -> Any:
    level = ref.area_levels.get(f.area or "", "city")
    return cases.c.township_code if level in ("city", "county") else cases.c.grid_code


def grid_row(item: dict[str, Any], ref: RefIndex, lang: str, tz: Any) -> dict[str, Any]:
    """A stuck row as the table shows it: names and durations as text, keys for the colours."""
    left = item["seconds_left"]
    if item["overdue"]:
        left_text = t("overdue_by", lang, t=hours(left, lang))
    else:
        left_text = hours(left, lang) if left is not None else "—"
    return {
        "id": item["id"],
        "code": item["code"],
        "category": category_name(ref, item["category"], lang),
        "status": status_name(item["status"], lang),
        "tier": tier_name(item["tier"], lang),
        "unit": unit_name(ref, item["unit"]),
        "holder": item["holder"] or "—",
        "township": area_name(ref, item["township"]),
        "in_stage": hours(item["seconds_in_stage"], lang),
        "left": left_text,
        "colour": t(f"colour_{item['colour']}", lang),
        "colour_key": item["colour"],
        "overdue_tiers": "、".join(tier_name(x, lang) for x in item["overdue_tiers"]),
        "risk": pct(item["risk"], 0) if item["risk"] is not None else "—",
        "risk_p": item["risk"],
        "reported_at": local_time(item["reported_at"], tz),
    }


def register(app: Dash, system: System, jobs: DrillJobs) -> None:
    @app.callback(
        *[Output(f"kpi-{k}", "children") for k, _ in KPI_KEYS],
        Output("kpi-window", "children"),
        Output(ids.AREA_TABLE, "children"),
        Output(ids.UNIT_TABLE, "children"),
        Input(ids.FILTERS, "data"),
        State(ids.LEADER_LANG, "data"),
    )
    def figures(query: str | None, lang: str | None) -> tuple[Any, ...]:
        lang = lang or "zh"
        ref, tz, now = system.ref, system.tz, system.clock.now()
        f = DrillFilter.lenient(query, ref)
        sf = f.stuck(ref, tz)
        conds = and_(*where_clauses(sf, Scope.city(), now))
        frm, to = f.window(tz)
        if frm is None:
            frm = (to or now) - timedelta(days=DEFAULT_DAYS)
        if to is None:
            to = now
        with system.db.connect() as conn:
            n_open, n_over = conn.execute(
                select(func.count(), func.sum(_overdue_now(now))).where(conds)
            ).one()
            report = build_report(
                conn, frm, to, now, area_scope(f, ref), report_conditions(f, ref), groups=()
            )
            child = _child_column(f, ref)
            areas = conn.execute(
                select(child, func.count(), func.sum(_overdue_now(now)))
                .where(conds, child.is_not(None))
                .group_by(child)
                .order_by(func.count().desc())
            ).all()
            units = conn.execute(
                select(cases.c.unit_code, func.count(), func.sum(_overdue_now(now)))
                .where(conds, cases.c.unit_code.is_not(None))
                .group_by(cases.c.unit_code)
                .order_by(func.count().desc(), cases.c.unit_code)
                .limit(UNITS_SHOWN)
            ).all()
        values = {
            "open": str(n_open),
            "overdue": str(int(n_over or 0)),
            "cases_total": str(report["cases_total"]),
            "close_rate": pct(report["close_rate"]),
            "on_time_rate": pct(report["on_time_rate"]),
            "satisfaction_rate": pct(report["satisfaction_rate"]),
            "median_hours_to_close": "—"
            if report["median_hours_to_close"] is None
            else t("hours", lang, n=f"{report['median_hours_to_close']:.1f}"),
        }
        window = t(
            "kpi_window",
            lang,
            frm=local_time(frm, tz, "%Y-%m-%d"),
            to=local_time(to - timedelta(seconds=1), tz, "%Y-%m-%d"),
        )
        area_rows = [(a, area_name(ref, a), int(n), int(o or 0)) for a, n, o in areas]
        unit_rows = [(u, unit_name(ref, u), int(n), int(o or 0)) for u, n, o in units]
        return (
            *[values[k] for k, _ in KPI_KEYS],
            window,
            breakdown_table(area_rows, lang, ids.area_row, "col_area"),
            breakdown_table(unit_rows, lang, ids.unit_row, "col_unit"),
        )

    @app.callback(
        Output(ids.STUCK_GRID, "getRowsResponse"),
        Output(ids.STUCK_COUNT, "children"),
        Input(ids.STUCK_GRID, "getRowsRequest"),
        State(ids.FILTERS, "data"),
        State(ids.LEADER_LANG, "data"),
    )
    def rows(
        request: dict[str, Any] | None, query: str | None, lang: str | None
    ) -> tuple[Any, Any]:
        if not request:
            return no_update, no_update
        lang = lang or "zh"
        ref, tz, now = system.ref, system.tz, system.clock.now()
        f = DrillFilter.lenient(query, ref)
        with system.db.connect() as conn:
            block = grid_block(conn, f.stuck(ref, tz), request, ref, Scope.city(), now)
        data = [grid_row(r, ref, lang, tz) for r in block["rows"]]
        total = block["total"]
        return {"rowData": data, "rowCount": total}, t("n_cases", lang, n=total)

    app.clientside_callback(PURGE_JS, Output(ids.GRID_SINK, "children"), Input(ids.FILTERS, "data"))

    @app.callback(
        Output(ids.URL, "pathname"),
        Input(ids.STUCK_GRID, "cellClicked"),
        prevent_initial_call=True,
    )
    def open_case(cell: dict[str, Any] | None) -> Any:
        """A click on a case number opens the case (the number ends in its id)."""
        case_id = (
            case_id_from_code((cell or {}).get("value"))
            if (cell or {}).get("colId") == "code"
            else None
        )
        return f"/leader/case/{case_id}" if case_id is not None else no_update


def case_id_from_code(code: Any) -> int | None:
    """GW + report date + the zero-padded id (``backend.domain.case.case_code``)."""
    if not isinstance(code, str) or len(code) < 18 or not code[-8:].isdigit():
        return None
    return int(code[-8:])


def area_scope(f: DrillFilter, ref: RefIndex) -> Scope:
    """The report's scope for an area filter: a county or township scope; finer areas (a
    community, a grid) are narrowed by the filters' own conditions."""
    level = ref.area_levels.get(f.area or "")
    if level in ("county", "township"):
        return Scope(f.area, level)
    return Scope.city()
