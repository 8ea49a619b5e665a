"""The leader's overview (总览): the figures for the filters, where the open cases are (by area
and by unit: a click narrows the filters), and the stuck-case table."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from backend.core.i18n import t
from backend.refdata.index import RefIndex
from layouts import ids
from layouts.leader.common import card, pct
from layouts.plain import el

KPI_KEYS = (
    ("open", "kpi_open"),
    ("overdue", "kpi_overdue"),
    ("cases_total", "kpi_reported"),
    ("close_rate", "close_rate"),
    ("on_time_rate", "on_time_rate"),
    ("satisfaction_rate", "satisfaction_rate"),
    ("median_hours_to_close", "kpi_median_close"),
)

#: the risk column's colours: the same four steps as every deadline colour
RISK_STYLE = {
    "styleConditions": [
        {
            "condition": "params.data && params.data.risk_p >= 0.8",
            "style": {"backgroundColor": "#f8d7da", "color": "#842029"},
        },
        {
            "condition": "params.data && params.data.risk_p >= 0.5",
            "style": {"backgroundColor": "#ffe5d0", "color": "#8a3b00"},
        },
        {
            "condition": "params.data && params.data.risk_p >= 0.2",
            "style": {"backgroundColor": "#fff3cd", "color": "#664d03"},
        },
        {
            "condition": "params.data && params.data.risk_p != null",
            "style": {"backgroundColor": "#d1e7dd", "color": "#0f5132"},
        },
    ]
}
COLOUR_STYLE = {
    "styleConditions": [
        {"condition": f"params.data && params.data.colour_key == '{k}'", "style": s}
        for k, s in (
            ("red", {"color": "#b02a37", "fontWeight": "600"}),
            ("orange", {"color": "#c45500", "fontWeight": "600"}),
            ("yellow", {"color": "#997404", "fontWeight": "600"}),
            ("green", {"color": "#146c43"}),
        )
    ]
}


def stuck_grid(
    lang: str, *, sort_by: str = "in_stage", grid_id: str = ids.STUCK_GRID
) -> dag.AgGrid:
    """The stuck-case table: rows come a block at a time from SQL (infinite row model)."""
    text_filter = {
        "filter": "agTextColumnFilter",
        "filterParams": {"filterOptions": ["contains"], "maxNumConditions": 1},
    }
    num_filter = {
        "filter": "agNumberColumnFilter",
        "filterParams": {"filterOptions": ["greaterThan", "lessThan"], "maxNumConditions": 1},
    }
    cols: list[dict[str, Any]] = [
        {
            "field": "code",
            "headerName": t("col_code", lang),
            "width": 190,
            "pinned": "left",
            "cellRenderer": "CaseLink",  # dashboard/assets/leader_grid.js: opens a new tab
            **text_filter,
        },
        {"field": "category", "headerName": t("col_category", lang), "width": 130, **text_filter},
        {"field": "status", "headerName": t("col_status", lang), "width": 96},
        {"field": "tier", "headerName": t("col_tier", lang), "width": 84},
        {
            "field": "unit",
            "headerName": t("col_unit", lang),
            "flex": 1,
            "minWidth": 180,
            **text_filter,
        },
        {
            "field": "holder",
            "headerName": t("col_holder", lang),
            "width": 150,
            "tooltipField": "holder_tip",
            **text_filter,
        },
        {"field": "township", "headerName": t("col_township", lang), "width": 130, **text_filter},
        {
            "field": "in_stage",
            "headerName": t("col_in_stage", lang),
            "width": 130,
            "type": "rightAligned",
            **num_filter,
        },
        {
            "field": "left",
            "headerName": t("col_left", lang),
            "width": 136,
            "type": "rightAligned",
            "cellStyle": COLOUR_STYLE,
            **num_filter,
        },
        {
            "field": "colour",
            "headerName": t("col_deadline_state", lang),
            "width": 110,
            "cellStyle": COLOUR_STYLE,
        },
        {
            "field": "overdue_tiers",
            "headerName": t("col_overdue_tiers", lang),
            "width": 150,
            "sortable": False,
        },
        {
            "field": "risk",
            "headerName": t("col_risk", lang),
            "width": 110,
            "type": "rightAligned",
            "cellStyle": RISK_STYLE,
            "tooltipField": "risk_tip",
            **num_filter,
        },
        {
            "field": "risk_basis",
            "headerName": t("col_risk_basis", lang),
            "width": 150,
            "sortable": False,
            "tooltipField": "risk_tip",
        },
        {"field": "reported_at", "headerName": t("col_reported", lang), "width": 140},
    ]
    for c in cols:
        c.setdefault("sortable", True)
    if sort_by == "risk":  # the risk screen: the probability and its basis beside the case
        front = [c for c in cols if c["field"] in ("code", "risk", "risk_basis")]
        cols = front + [c for c in cols if c not in front]
    sort_col = next(c for c in cols if c["field"] == sort_by)
    sort_col["sort"] = "desc"
    return dag.AgGrid(
        id=grid_id,
        columnDefs=cols,
        rowModelType="infinite",
        # headers wrap instead of being cut off ("本环节用…")
        defaultColDef={
            "resizable": True,
            "suppressHeaderMenuButton": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "rowHeight": 34,
            "headerHeight": 38,
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1,
            "rowBuffer": 10,
            "suppressCellFocus": True,
            "tooltipShowDelay": 300,
            "localeText": {"loadingOoo": t("loading", lang), "noRowsToShow": t("no_rows", lang)},
        },
        className="ag-theme-quartz gw-stuck-grid",
        style={"height": "560px", "width": "100%"},
    )


def page(lang: str, ref: RefIndex) -> html.Div:
    kpis = dbc.Row(
        [
            dbc.Col(
                html.Div(
                    [
                        html.Div("—", id=f"kpi-{key}", className="gw-kpi-n"),
                        html.Div(t(label, lang), className="gw-kpi-l"),
                    ],
                    className="gw-l-kpi" + (" is-hot" if key == "overdue" else ""),
                ),
                className="gw-kpi-col",
            )
            for key, label in KPI_KEYS
        ],
        className="g-2 gw-kpis-row",
        id=ids.KPIS,
    )
    return html.Div(
        [
            html.Div(id="kpi-window", className="gw-window"),
            kpis,
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            t("by_area", lang), html.Div(id=ids.AREA_TABLE, className="gw-scroll")
                        ),
                        md=5,
                    ),
                    dbc.Col(
                        card(
                            t("by_unit", lang), html.Div(id=ids.UNIT_TABLE, className="gw-scroll")
                        ),
                        md=7,
                    ),
                ],
                className="g-3 gw-row",
            ),
            card(
                t("stuck_table", lang),
                stuck_grid(lang),
                right=html.Span(
                    [
                        html.Span(id=ids.STUCK_COUNT, className="gw-count"),
                        html.Div(id=ids.GRID_SINK, hidden=True),
                    ]
                ),
                className="gw-row",
            ),
        ]
    )


def breakdown_table(
    rows: list[tuple[str, str, int, int]], lang: str, row_id: Any, first_col: str
) -> dict[str, Any]:
    """(code, name, open, overdue) rows; each row is a button that narrows the filters. Plain
    data (``layouts.plain.el``): every township of the city is a row."""
    top = max([r[2] for r in rows] + [1])
    tip = t("click_to_filter", lang)
    body = [
        el(
            "Tr",
            [
                el("Td", name, className="gw-b-name"),
                el(
                    "Td",
                    el(
                        "Div",
                        el("Div", className="gw-b-fill", style={"width": f"{100 * n / top:.0f}%"}),
                        className="gw-b-bar",
                    ),
                ),
                el("Td", str(n), className="num"),
                el("Td", str(o), className="num" + (" is-hot" if o else "")),
                el("Td", pct(o / n if n else None, 0), className="num gw-muted"),
            ],
            id=row_id(code),
            n_clicks=0,
            className="gw-b-row",
            title=tip,
        )
        for code, name, n, o in rows
    ]
    head = el(
        "Thead",
        el(
            "Tr",
            [
                el("Th", t(first_col, lang)),
                el("Th", ""),
                el("Th", t("open", lang), className="num"),
                el("Th", t("overdue", lang), className="num"),
                el("Th", t("overdue_share", lang), className="num"),
            ],
        ),
    )
    if not rows:
        body = [el("Tr", el("Td", t("no_rows", lang), colSpan=5, className="gw-muted"))]
    return el("Table", [head, el("Tbody", body)], className="table table-sm table-hover gw-b-table")
