"""Where cases get stuck (堵点分析) and overdue risk (超期风险): pure builders of the charts and
panels from the query results of ``backend/drill``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from backend.core.i18n import t
from backend.queries.bottlenecks import (
    INTAKE,
    OUTCOMES,
    REOPENED,
    TIERS,
    Distribution,
    Flows,
    Trend,
)
from layouts import ids
from layouts.leader import words
from layouts.leader.common import card, tier_name
from layouts.leader.overview import stuck_grid

TIER_COLOURS = {
    "grid": "#4c9be8",
    "township": "#20a39e",
    "department": "#f0a202",
    "county": "#d1495b",
}
FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        paper_bgcolor="white",
        plot_bgcolor="white",
        font={"family": FONT, "size": 13},
        # above the plot: below it, it ran into the x axis's title
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    if fig.layout.showlegend is not False and len(fig.data) > 1:
        fig.update_layout(margin={"t": 40})
    return fig


#: ticks of a dwell axis (hours): round durations people say, labelled in words; plotly's own
#: log ticks read "5 2 10 5 2 1"
DWELL_TICKS = (
    (1 / 12, "minutes", 5),
    (0.25, "minutes", 15),
    (0.5, "minutes", 30),
    (1, "hours", 1),
    (2, "hours", 2),
    (4, "hours", 4),
    (8, "hours", 8),
    (24, "days", 1),
    (72, "days", 3),
    (168, "days", 7),
    (336, "days", 14),
    (720, "days", 30),
    (2160, "days", 90),
)


def dwell_axis(dists: list[Distribution], lang: str) -> dict[str, Any]:
    """A log axis over the boxes' whiskers with ticks at round durations, named in ``lang``."""
    values = [v for d in dists for v in (d.quantiles[0.05], d.quantiles[0.95]) if v and v > 0]
    lo, hi = (min(values), max(values)) if values else (0.25, 720.0)
    ticks = [(h, key, n) for h, key, n in DWELL_TICKS if lo / 2 <= h <= hi * 2]
    if len(ticks) < 2:
        ticks = list(DWELL_TICKS)
    return {
        "type": "log",
        "title": t("hours_axis", lang),
        "gridcolor": "#eee",
        "tickvals": [h for h, _k, _n in ticks],
        "ticktext": [t(key, lang, n=n) for _h, key, n in ticks],
    }


def _graph(id_: str, height: int) -> dcc.Graph:
    return dcc.Graph(
        id=id_,
        figure=_layout(go.Figure(), height),
        config={"displayModeBar": False},
        style={"height": f"{height}px"},
    )


def bottlenecks_page(lang: str) -> html.Div:
    return html.Div(
        [
            html.P(
                [html.Span(id=ids.ANALYSIS_WINDOW, className="me-2"), t("dwell_note", lang)],
                className="gw-note",
            ),
            dbc.Row(
                [
                    dbc.Col(card(t("dwell_by_tier", lang), _graph(ids.CHART_TIER, 360)), lg=5),
                    dbc.Col(card(t("dwell_by_unit_top", lang), _graph(ids.CHART_UNIT, 360)), lg=7),
                ],
                className="g-3 gw-row",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            t("tier_flows", lang),
                            [
                                _graph(ids.CHART_SANKEY, 380),
                                html.Div(id=ids.SIDEWAYS, className="gw-note"),
                            ],
                        ),
                        lg=6,
                    ),
                    dbc.Col(card(t("overdue_trend", lang), _graph(ids.CHART_TREND, 410)), lg=6),
                ],
                className="g-3 gw-row",
            ),
        ]
    )


def _box(d: Distribution, name: str, colour: str, horizontal: bool) -> go.Box:
    """A box from the histogram's quantiles: whiskers at the 5th and 95th percentiles."""
    q = d.quantiles
    stats = {
        "q1": [q[0.25]],
        "median": [q[0.5]],
        "q3": [q[0.75]],
        "lowerfence": [q[0.05]],
        "upperfence": [q[0.95]],
        "mean": [d.mean_hours],
    }
    pos = {"y": [name]} if horizontal else {"x": [name]}
    return go.Box(
        name=name,
        marker_color=colour,
        orientation="h" if horizontal else "v",
        hovertemplate=None,
        **pos,
        **stats,
    )


def tier_figure(dists: list[Distribution], lang: str) -> go.Figure:
    fig = go.Figure(
        [
            _box(d, f"{tier_name(d.key, lang)} (n={d.n})", TIER_COLOURS.get(d.key, "#888"), False)
            for d in dists
        ]
    )
    fig.update_yaxes(**dwell_axis(dists, lang))
    fig.update_layout(showlegend=False)
    return _layout(fig, 360)


def unit_figure(dists: list[Distribution], name_of: Callable[[str], str], lang: str) -> go.Figure:
    boxes = [_box(d, f"{name_of(d.key)} (n={d.n})", "#4c9be8", True) for d in reversed(dists)]
    fig = go.Figure(boxes)
    fig.update_xaxes(**dwell_axis(dists, lang))
    fig.update_layout(showlegend=False)
    if not dists:
        fig.add_annotation(
            text=t("no_rows", lang), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    return _layout(fig, 360)


def sankey_figure(flows: Flows, lang: str) -> go.Figure:
    labels_key = {
        INTAKE: "node_intake",
        REOPENED: "node_reopened",
        **{v: f"node_{v}" for v in OUTCOMES.values()},
    }
    nodes = [INTAKE, REOPENED, *TIERS, *OUTCOMES.values()]
    used = {n for pair in flows.links for n in pair}
    nodes = [n for n in nodes if n in used]
    index = {n: i for i, n in enumerate(nodes)}
    label = [tier_name(n, lang) if n in TIERS else t(labels_key[n], lang) for n in nodes]
    colour = [TIER_COLOURS.get(n, "#6c757d") for n in nodes]
    src, dst, val = [], [], []
    for (a, b), n in sorted(flows.links.items()):
        src.append(index[a])
        dst.append(index[b])
        val.append(n)
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": label, "color": colour, "pad": 18, "thickness": 16},
            link={"source": src, "target": dst, "value": val, "color": "rgba(76,155,232,0.25)"},
        )
    )
    return _layout(fig, 380)


def trend_figure(trend: Trend, name_of: Callable[[str], str], lang: str) -> go.Figure:
    # one tick per report week, named as the reader writes a date (a date axis ticked days
    # and read "Nov 8, 2026" under two points)
    x = [t("week_of", lang, day=words.day(w, lang)) for w in trend.weeks]
    fig = go.Figure(
        [
            go.Scatter(x=x, y=trend.overdue[a], name=name_of(a), mode="lines+markers")
            for a in trend.areas
        ]
    )
    fig.update_yaxes(title=t("overdue_count", lang), gridcolor="#eee", rangemode="tozero")
    fig.update_xaxes(title=t("report_week", lang), type="category")
    if not trend.areas:
        fig.add_annotation(
            text=t("no_rows", lang), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    return _layout(fig, 410)


def risk_page(lang: str) -> html.Div:
    return html.Div(
        [
            html.P(t("risk_note", lang), className="gw-note"),
            html.Div(id=ids.RISK_BANDS, className="gw-bands"),
            card(
                t("risk_table", lang),
                stuck_grid(lang, sort_by="risk"),
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


def risk_bands(counts: dict[str, int], lang: str) -> Any:
    """How many open cases are in each risk band: the same colours as the table."""
    tones = {
        "low": "success",
        "mid": "warning",
        "high": "orange",
        "very": "danger",
        "none": "secondary",
    }
    return dbc.Row(
        [
            dbc.Col(
                html.Div(
                    [
                        html.Div(str(counts.get(k, 0)), className="gw-kpi-n"),
                        html.Div(t(f"risk_{k}", lang), className="gw-kpi-l"),
                    ],
                    className=f"gw-l-kpi gw-band-{tones[k]}",
                ),
            )
            for k in ("very", "high", "mid", "low", "none")
        ],
        className="g-2",
    )
