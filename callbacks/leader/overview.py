"""The overview's figures and tables, and the stuck-case table's blocks (shared by the risk
screen, which shows the same table sorted by risk)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import Dash, Input, Output, State, no_update

from backend.core.errors import CommandInvalid
from backend.core.i18n import t
from backend.queries.filters import DrillFilter
from backend.queries.grid import grid_block
from backend.queries.overview import overview
from backend.queries.people import Person, people
from backend.refdata.index import RefIndex
from backend.system import System
from callbacks.viewer import viewer_scope
from dashboard.drill_jobs import DrillJobs
from layouts import ids
from layouts.leader import words
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

PURGE_JS = """
function (query) {
    try {
        var api = window.dash_ag_grid && window.dash_ag_grid.getApi('stuck-grid');
        if (api) { api.purgeInfiniteCache(); }
    } catch (e) { /* the grid is not there yet: it asks for its first block itself */ }
    return window.dash_clientside.no_update;
}
"""


def grid_row(
    item: dict[str, Any], ref: RefIndex, lang: str, tz: Any, staff: dict[str, Person]
) -> dict[str, Any]:
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
        "holder": words.person_name(item["holder"], staff, ref, lang),
        "holder_tip": words.person(item["holder"], staff, ref, lang) + f" · {item['holder'] or ''}",
        "township": area_name(ref, item["township"]),
        "in_stage": hours(item["seconds_in_stage"], lang),
        "left": left_text,
        "colour": t(f"colour_{item['colour']}", lang),
        "colour_key": item["colour"],
        "overdue_tiers": "、".join(tier_name(x, lang) for x in item["overdue_tiers"]),
        "risk": _risk_text(item, lang),
        "risk_p": item["risk"],
        "risk_basis": words.risk_basis(item.get("risk_basis"), item.get("risk_n"), lang),
        "risk_tip": words.risk_tip(item.get("risk_basis"), item.get("risk_n"), lang),
        "reported_at": local_time(item["reported_at"], tz),
    }


def _risk_text(item: dict[str, Any], lang: str) -> str:
    if item["risk"] is not None:
        return pct(item["risk"], 0)
    # a deadline is running but the model has not seen this stage yet
    return t("risk_pending", lang) if item["seconds_left"] is not None else "—"


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
        with system.read_db.connect() as conn:
            ov = overview(conn, f, ref, tz, now, scope=viewer_scope())
        report = ov.report
        values = {
            "open": str(ov.open),
            "overdue": str(ov.overdue),
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
            frm=local_time(ov.frm, tz, "%Y-%m-%d"),
            to=local_time(ov.to - timedelta(seconds=1), tz, "%Y-%m-%d"),
        )
        area_rows = [(a, area_name(ref, a), n, o) for a, n, o in ov.by_area]
        unit_rows = [(u, unit_name(ref, u), n, o) for u, n, o in ov.by_unit]
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
        try:
            with system.read_db.connect() as conn:
                block = grid_block(conn, f.stuck(ref, tz), request, ref, viewer_scope(), now)
                staff = people(conn, (r["holder"] for r in block["rows"]))
        except CommandInvalid:  # a column filter that is not a number, a tampered request
            return {"rowData": [], "rowCount": 0}, t("bad_column_filter", lang)
        data = [grid_row(r, ref, lang, tz, staff) for r in block["rows"]]
        total = block["total"]
        return {"rowData": data, "rowCount": total}, t("n_cases", lang, n=total)

    app.clientside_callback(PURGE_JS, Output(ids.GRID_SINK, "children"), Input(ids.FILTERS, "data"))
