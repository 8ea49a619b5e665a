"""The plain overview page (until the big screen lands): KPI tiles and the stuck ranking.

Pure functions: data in, component trees out. Citizen text goes in as plain strings, which
Dash renders as text (escaped), never as HTML.
"""

from __future__ import annotations

from typing import Any, cast

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.i18n import duration, t
from layouts import ids

COLOUR_CLASS = {"green": "success", "yellow": "warning", "orange": "orange", "red": "danger"}


def page() -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ids.LANG, data="zh", storage_type="local"),
            html.Div(
                [
                    html.H1(id=ids.TITLE, className="gw-title"),
                    html.Div(
                        [
                            html.Span(id=ids.AS_OF, className="gw-asof"),
                            dbc.Button(
                                id=ids.REFRESH, color="secondary", size="sm", className="ms-3"
                            ),
                            dbc.Button(id=ids.LANG_TOGGLE, color="link", size="sm"),
                        ],
                        className="d-flex align-items-center",
                    ),
                ],
                className="d-flex justify-content-between align-items-center gw-header",
            ),
            html.Div(id=ids.NOTICE),
            html.Div(id=ids.KPI_ROW, className="gw-kpis"),
            html.H2(id=ids.STUCK_TITLE, className="gw-section"),
            html.Div(id=ids.STUCK_TABLE),
        ],
        className="gw-page",
    )


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def kpi_tiles(k: dict[str, Any], lang: str) -> list[Any]:
    tiles = [
        ("received_today", str(k["received_today"]), ""),
        ("open", str(k["open"]), ""),
        ("closed_today", str(k["closed_today"]), ""),
        ("close_rate", _pct(k["close_rate_today"]), ""),
        ("on_time_rate", _pct(k["on_time_rate_today"]), ""),
        ("satisfaction_rate", _pct(k["satisfaction_rate_today"]), ""),
    ]
    for tier, v in k["by_tier"].items():
        tiles.append((f"tier_{tier}", str(v["overdue"]), "danger" if v["overdue"] else ""))
    out = []
    for key, value, tone in tiles:
        label = t(key, lang) + (" · " + t("overdue", lang) if key.startswith("tier_") else "")
        out.append(
            html.Div(
                [
                    html.Div(value, className="gw-kpi-value"),
                    html.Div(label, className="gw-kpi-label"),
                ],
                className=f"gw-kpi {('gw-' + tone) if tone else ''}",
                **cast(Any, {"data-kpi": key}),
            )
        )
    return out


def stuck_table(items: list[dict[str, Any]], lang: str) -> html.Table:
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k, lang))
                for k in (
                    "col_code",
                    "col_category",
                    "col_unit",
                    "col_tier",
                    "col_in_stage",
                    "col_left",
                    "col_colour",
                )
            ]
        )
    )
    rows = []
    for it in items:
        left = it["seconds_left"]
        left_text = (
            "—"
            if left is None
            else (
                t("overdue_by", lang, t=duration(left, lang)) if left < 0 else duration(left, lang)
            )
        )
        rows.append(
            html.Tr(
                [
                    html.Td(it["code"]),
                    html.Td(it["category_name"]),
                    html.Td(it["unit_name"]),
                    html.Td(t(f"tier_{it['tier']}", lang) if it["tier"] else "—"),
                    html.Td(duration(it["seconds_in_stage"], lang)),
                    html.Td(left_text),
                    html.Td(
                        dbc.Badge(
                            t(f"colour_{it['colour']}", lang),
                            color=COLOUR_CLASS.get(it["colour"], "secondary"),
                        )
                    ),
                ]
            )
        )
    return dbc.Table(
        [head, html.Tbody(rows)],
        bordered=False,
        hover=True,
        size="sm",
        color="dark",
        className="gw-table",
    )
