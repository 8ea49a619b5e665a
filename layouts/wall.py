"""The duty officer's wall (值班大屏): pure functions from data to component trees.

Every label is written in both languages and the page shows one of them by a class on its root
(``lang-zh`` / ``lang-en``), so switching language changes no data and live updates need not
know which language a screen shows. Citizen text never appears here; names and codes go in as
plain strings, which Dash renders as text, escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import plotly.graph_objects as go
from dash import Patch, dcc, html

from backend.wall import TIERS, TickerItem
from dashboard.i18n import duration, t
from layouts import ids

#: The tiles across the top, in reading order.
KPI_KEYS = (
    "received_today",
    "open",
    "closed_today",
    "close_rate",
    "on_time_rate",
    "satisfaction_rate",
)
#: Map fill by load: no open cases, then rising open load, then overdue.
MAP_EMPTY = "#17233b"
MAP_OPEN = ("#1d4a73", "#2a6fa8", "#3a93d6", "#5cb6ff")
MAP_OVERDUE = ("#c8553d", "#ff3b3b")
CHANNEL_COLOURS = {
    "grid_worker": "#5cb6ff",
    "hotline": "#ffb347",
    "qr": "#7ee081",
    "wechat": "#4fd1c5",
    "walk_in": "#c792ea",
    "app": "#f78fb3",
    "open311": "#a0aec0",
}
TICKER_SHOWN = 14
STUCK_SHOWN = 8


def bi(key: str, **kw: object) -> list[html.Span]:
    """A label in both languages; the page's root class shows one."""
    return [
        html.Span(t(key, "zh", **kw), className="zh"),
        html.Span(t(key, "en", **kw), className="en"),
    ]


def bi_text(zh: str, en: str) -> list[html.Span]:
    return [html.Span(zh, className="zh"), html.Span(en, className="en")]


@dataclass(frozen=True, slots=True)
class MapShape:
    """One polygon of the map: the area it is and how many grids it covers."""

    code: str
    name: str
    level: str
    grids: int


# --------------------------------------------------------------------------- the page


def page(city: str, map_figure: go.Figure, lang: str = "zh") -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ids.LANG, data=lang, storage_type="local"),
            dcc.Store(id=ids.WALL_PULSE),
            dcc.Store(id=ids.WALL_CHANNEL_NAMES, data=channel_names()),
            html.Div(id=ids.WALL_SINK, hidden=True),
            _header(city),
            html.Div(id=ids.NOTICE, className="gw-notices"),
            html.Div([_kpi_tile(k) for k in KPI_KEYS] + [_overdue_tile()], className="gw-kpis"),
            html.Div(
                [
                    html.Section(
                        [
                            _panel_title("funnel_title"),
                            html.Div([_funnel_row(tier) for tier in TIERS], className="gw-funnel"),
                            _panel_title("intake_title"),
                            dcc.Graph(
                                id=ids.WALL_INTAKE,
                                figure=intake_figure([], {}),
                                config={"displayModeBar": False, "staticPlot": True},
                                className="gw-intake",
                            ),
                        ],
                        className="gw-col gw-col-left",
                    ),
                    html.Section(
                        [
                            _panel_title("map_title"),
                            dcc.Graph(
                                id=ids.WALL_MAP,
                                figure=map_figure,
                                config={"displayModeBar": False, "scrollZoom": False},
                                className="gw-map",
                            ),
                            _map_legend(),
                        ],
                        className="gw-col gw-col-mid",
                    ),
                    html.Section(
                        [
                            _panel_title("stuck_units_title"),
                            html.Table(
                                [
                                    html.Thead(
                                        html.Tr(
                                            [
                                                html.Th(bi("col_unit")),
                                                html.Th(bi("open"), className="num"),
                                                html.Th(bi("overdue"), className="num"),
                                                html.Th(bi("col_mean_wait"), className="num"),
                                            ]
                                        )
                                    ),
                                    html.Tbody(id=ids.WALL_STUCK),
                                ],
                                className="gw-stuck",
                            ),
                            _panel_title("ticker_title"),
                            html.Ul(id=ids.WALL_TICKER, className="gw-ticker", children=[]),
                        ],
                        className="gw-col gw-col-right",
                    ),
                ],
                className="gw-main",
            ),
        ],
        id=ids.WALL,
        className=f"gw-wall lang-{lang}",
    )


def _header(city: str) -> html.Header:
    return html.Header(
        [
            html.H1(
                [html.Span(city, id=ids.WALL_CITY, className="gw-city"), *bi("wall_title")],
                className="gw-title",
            ),
            html.Div(
                [
                    html.Span(id=ids.WALL_CLOCK, className="gw-clock"),
                    html.Span(
                        [
                            html.Span(className="gw-dot"),
                            html.Span(bi("live"), className="gw-when-live"),
                            html.Span(
                                [
                                    " · ",
                                    html.Span("0", className="gw-age"),
                                    " ",
                                    *bi("seconds_ago"),
                                ],
                                className="gw-when-live",
                            ),
                            html.Span(bi("reconnecting"), className="gw-when-stale"),
                        ],
                        id=ids.WALL_LIVE,
                        className="gw-live is-stale",
                    ),
                    html.Button(bi_text("English", "中文"), id=ids.LANG_TOGGLE, className="btn"),
                ],
                className="gw-header-right",
            ),
        ],
        className="gw-header",
    )


def _panel_title(key: str) -> html.H2:
    return html.H2(bi(key), className="gw-panel-title")


def _kpi_tile(key: str) -> html.Div:
    return html.Div(
        [
            html.Div("—", id=ids.kpi_value(key), className="gw-kpi-value"),
            html.Div(bi(key), className="gw-kpi-label"),
        ],
        className="gw-kpi",
        **cast(Any, {"data-kpi": key}),
    )


def _overdue_tile() -> html.Div:
    parts = []
    for tier in TIERS:
        key = f"overdue_{tier}"
        parts.append(
            html.Div(
                [
                    html.Div("—", id=ids.kpi_value(key), className="gw-kpi-value"),
                    html.Div(bi(f"tier_{tier}"), className="gw-kpi-label"),
                ],
                className="gw-kpi-part",
                **cast(Any, {"data-kpi": key}),
            )
        )
    return html.Div(
        [html.Div(bi("overdue_now"), className="gw-kpi-group-label"), html.Div(parts)],
        className="gw-kpi gw-kpi-overdue",
    )


def _funnel_row(tier: str) -> html.Div:
    return html.Div(
        [
            html.Div(bi(f"tier_{tier}"), className="gw-funnel-label"),
            html.Div(
                html.Div(id=ids.funnel(tier, "bar"), className="gw-funnel-bar"),
                className="gw-funnel-track",
            ),
            html.Div("0", id=ids.funnel(tier, "open"), className="gw-funnel-open"),
            html.Div("0", id=ids.funnel(tier, "overdue"), className="gw-funnel-overdue"),
        ],
        className="gw-funnel-row",
        **cast(Any, {"data-tier": tier}),
    )


def _map_legend() -> html.Div:
    items = [
        (MAP_EMPTY, "legend_none"),
        (MAP_OPEN[1], "legend_open"),
        (MAP_OPEN[3], "legend_busy"),
        (MAP_OVERDUE[1], "legend_overdue"),
    ]
    return html.Div(
        [
            html.Span(
                [html.I(style={"background": c}), *bi(k)],
                className="gw-legend-item",
            )
            for c, k in items
        ],
        className="gw-legend",
    )


# --------------------------------------------------------------------------- live pieces


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def kpi_values(k: dict[str, Any]) -> dict[str, str]:
    """Tile id → the text it shows."""
    out = {
        ids.kpi_value("received_today"): str(k["received_today"]),
        ids.kpi_value("open"): str(k["open"]),
        ids.kpi_value("closed_today"): str(k["closed_today"]),
        ids.kpi_value("close_rate"): pct(k["close_rate_today"]),
        ids.kpi_value("on_time_rate"): pct(k["on_time_rate_today"]),
        ids.kpi_value("satisfaction_rate"): pct(k["satisfaction_rate_today"]),
    }
    for tier, v in k["by_tier"].items():
        out[ids.kpi_value(f"overdue_{tier}")] = str(v["overdue"])
    return out


def funnel_values(by_tier: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    """Component id → props for the tier funnel."""
    top = max([v["open"] for v in by_tier.values()] + [1])
    out: dict[str, dict[str, Any]] = {}
    for tier, v in by_tier.items():
        out[ids.funnel(tier, "bar")] = {"style": {"width": f"{100 * v['open'] / top:.1f}%"}}
        out[ids.funnel(tier, "open")] = {"children": str(v["open"])}
        out[ids.funnel(tier, "overdue")] = {
            "children": str(v["overdue"]),
            "className": "gw-funnel-overdue" + (" is-hot" if v["overdue"] else ""),
        }
    return out


def ticker_item(item: TickerItem, category: tuple[str, str], unit: str, tz: Any) -> html.Li:
    """One line of the ticker; the key keeps React from re-creating the lines below it."""
    return html.Li(
        [
            html.Span(f"{item.at.astimezone(tz):%H:%M:%S}", className="gw-t-time"),
            html.Span(bi(f"event_{item.kind}"), className=f"gw-t-kind gw-k-{item.kind}"),
            html.Span(item.code, className="gw-t-code"),
            html.Span(bi_text(*category), className="gw-t-cat"),
            html.Span(unit, className="gw-t-unit"),
        ],
        key=str(item.seq),
        className=f"gw-t gw-t-{item.kind}",
        **cast(Any, {"data-case": str(item.case_id), "data-kind": item.kind}),
    )


def stuck_rows(rows: list[tuple[str, int, int, float]]) -> list[html.Tr]:
    """(unit name, open, overdue, mean seconds in stage) → table rows."""
    return [
        html.Tr(
            [
                html.Td(name, className="gw-s-unit"),
                html.Td(str(n_open), className="num"),
                html.Td(str(n_over), className="num" + (" is-hot" if n_over else "")),
                html.Td(bi_text(duration(mean, "zh"), duration(mean, "en")), className="num"),
            ]
        )
        for name, n_open, n_over, mean in rows
    ]


def intake_figure(
    hours: list[datetime], by_channel: dict[str, list[int]], lang: str = "zh"
) -> go.Figure:
    """Reports per hour over the last 24 hours, stacked by channel.

    Every channel has its trace, in a fixed order, so live updates and the language switch can
    patch one trace by its index.
    """
    labels = [f"{h:%H}" for h in hours]
    fig = go.Figure(
        [
            go.Bar(
                x=labels,
                y=by_channel.get(ch, [0] * len(labels)),
                name=t(f"channel_{ch}", lang),
                marker_color=colour,
            )
            for ch, colour in CHANNEL_COLOURS.items()
        ]
    )
    fig.update_layout(
        barmode="stack",
        margin={"l": 36, "r": 8, "t": 8, "b": 28},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": "#9fb3d1", "size": 14},
        legend={"orientation": "h", "y": 1.18, "x": 0, "font": {"size": 13}},
        xaxis={"showgrid": False, "type": "category"},
        yaxis={"gridcolor": "#1e2b45", "rangemode": "tozero"},
        bargap=0.15,
        autosize=True,
    )
    return fig


def intake_patch(hours: list[datetime], by_channel: dict[str, list[int]], tz: Any) -> Patch:
    """The new counts for the intake chart, trace by trace."""
    labels = [f"{h.astimezone(tz):%H}" for h in hours]
    p = Patch()
    for i, ch in enumerate(CHANNEL_COLOURS):
        p["data"][i]["x"] = labels
        p["data"][i]["y"] = by_channel.get(ch, [0] * len(labels))
    return p


def channel_names() -> dict[str, list[str]]:
    """The intake chart's trace names, in trace order, in both languages."""
    return {lang: [t(f"channel_{ch}", lang) for ch in CHANNEL_COLOURS] for lang in ("zh", "en")}


def map_figure(
    geojson: dict[str, Any], grids_per_area: dict[str, int]
) -> tuple[go.Figure, list[MapShape]]:
    """The city's own polygons, drawn without any tile server so the wall works offline.

    Grids are filled when there are few enough to see; otherwise townships are. Township
    borders are drawn on top. Returns the figure and the shape behind each filled trace, in
    trace order, so live updates can patch one trace's colour.
    """
    features = geojson.get("features", [])
    grid_count = sum(1 for f in features if f["properties"].get("level") == "grid")
    fill_level = "grid" if 0 < grid_count <= 3000 else "township"
    traces: list[go.Scatter] = []
    shapes: list[MapShape] = []
    for f in features:
        p = f["properties"]
        if p.get("level") != fill_level or f["geometry"]["type"] != "Polygon":
            continue
        ring = f["geometry"]["coordinates"][0]
        traces.append(
            go.Scatter(
                x=[round(c[0], 5) for c in ring],
                y=[round(c[1], 5) for c in ring],
                fill="toself",
                fillcolor=MAP_EMPTY,
                mode="lines",
                line={"color": "#0b1220", "width": 0.6},
                hoveron="fills",
                name=p.get("name", p["code"]),
                text=p.get("name", p["code"]),
                hoverinfo="text",
                showlegend=False,
            )
        )
        shapes.append(
            MapShape(p["code"], p.get("name", ""), fill_level, grids_per_area.get(p["code"], 1))
        )
    if fill_level == "grid":
        xs: list[float | None] = []
        ys: list[float | None] = []
        for f in features:
            if f["properties"].get("level") == "township" and f["geometry"]["type"] == "Polygon":
                ring = f["geometry"]["coordinates"][0]
                xs += [round(c[0], 5) for c in ring] + [None]
                ys += [round(c[1], 5) for c in ring] + [None]
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": "#9fb3d1", "width": 1.6},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"visible": False, "fixedrange": True},
        yaxis={"visible": False, "fixedrange": True, "scaleanchor": "x", "scaleratio": 1.15},
        autosize=True,
        hoverlabel={"font": {"size": 16}},
        dragmode=False,
    )
    return fig, shapes


def map_colour(n_open: int, n_overdue: int, grids: int) -> str:
    """The fill for an area's load; thresholds scale with the grids the area covers."""
    if n_overdue:
        return MAP_OVERDUE[1] if n_overdue >= 2 * max(1, grids // 4) else MAP_OVERDUE[0]
    if not n_open:
        return MAP_EMPTY
    per_grid = n_open / max(1, grids)
    for limit, colour in zip((1.5, 3.5, 6.5), MAP_OPEN, strict=False):
        if per_grid <= limit:
            return colour
    return MAP_OPEN[3]
