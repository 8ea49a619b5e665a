"""Two-way assessment (双向考核) and the periodic reports (日报 / 旬报 / 月报): a period picker,
then the ranking or the report on screen, printable, and downloadable as CSV and XLSX."""

from __future__ import annotations

from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from backend.core.i18n import t
from backend.drill.assessment import MIN_CASES, PRIOR_CASES, WEIGHTS, UnitScore, shown
from backend.drill.periods import KINDS, Period
from backend.queries.hall_report import HALL_COLUMNS
from backend.queries.reports import FIGURES
from layouts import ids
from layouts.leader.analysis import FONT
from layouts.leader.common import card, pct, tier_name
from layouts.plain import el


def period_picker(kind: str, day: date, lang: str, extra: list[Any] | None = None) -> html.Div:
    return html.Div(
        [
            dbc.RadioItems(
                id=ids.PERIOD_KIND,
                options=[{"label": t(f"period_{k}", lang), "value": k} for k in KINDS],
                value=kind,
                inline=True,
                className="gw-kind",
                inputClassName="btn-check",
                labelClassName="btn btn-outline-primary btn-sm",
                labelCheckedClassName="active",
            ),
            dcc.DatePickerSingle(
                id=ids.PERIOD_DAY,
                date=day.isoformat(),
                display_format="YYYY-MM-DD",
                placeholder=t("pick_day", lang),
                className="gw-day",
            ),
            *(extra or []),
        ],
        className="gw-period no-print",
    )


def period_title(p: Period, lang: str) -> str:
    if p.kind == "daily":
        return t("title_daily", lang, day=p.start.isoformat())
    if p.kind == "dekad":
        return t(
            "title_dekad", lang, y=p.start.year, m=p.start.month, part=t(f"dekad_{p.dekad}", lang)
        )
    return t("title_monthly", lang, y=p.start.year, m=p.start.month)


# ----------------------------------------------------------------------------- assessment


def assessment_page(kind: str, day: date, lang: str) -> html.Div:
    formula = " + ".join(f"{int(w * 100)}·{t('w_' + k, lang)}" for k, w in WEIGHTS.items())
    return html.Div(
        [
            period_picker(kind, day, lang),
            html.H3(id=ids.ASSESS_TITLE, className="gw-report-title"),
            html.P(t("assess_formula", lang, formula=formula), className="gw-note"),
            html.P(
                t("assess_rules", lang, min=MIN_CASES, k=PRIOR_CASES),
                className="gw-note",
                id="assess-rules",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            t("assess_ranking", lang),
                            html.Div(id=ids.ASSESS_TABLE, className="gw-scroll-tall"),
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        card(
                            t("assess_change", lang),
                            dcc.Graph(
                                id=ids.ASSESS_CHART,
                                config={"displayModeBar": False},
                                style={"height": "560px"},
                            ),
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 gw-row",
            ),
            card(t("hrep_assess", lang), dcc.Loading(html.Div(id=ids.ASSESS_HALLS))),
        ]
    )


def _change(n: int | None) -> dict[str, Any]:
    if n is None:
        return el("Span", "—", className="gw-muted")
    if n > 0:
        return el("Span", f"▲{n}", className="gw-up")
    if n < 0:
        return el("Span", f"▼{-n}", className="gw-down")
    return el("Span", "＝", className="gw-muted")


def assessment_table(
    scores: list[UnitScore], name_of: Any, tier_of: Any, lang: str
) -> dict[str, Any]:
    """The ranking's rows the screen shows (``assessment.shown``), as plain data
    (``layouts.plain.el``)."""
    head = [
        "col_rank",
        "col_change",
        "col_unit",
        "col_tier",
        "col_score",
        "col_score_change",
        "kpi_reported",
        "close_rate",
        "on_time_rate",
        "satisfaction_rate",
        "col_escalation_rate",
    ]
    rows = []
    too_few = t("too_few", lang)
    for u in shown(scores, lambda u: u.rank):
        ranked = u.rank is not None
        rows.append(
            el(
                "Tr",
                [
                    el("Td", str(u.rank) if ranked else "—", className="num"),
                    el("Td", _change(u.rank_change), className="num"),
                    el("Td", name_of(u.unit)),
                    el("Td", tier_name(tier_of(u.unit), lang)),
                    el(
                        "Td",
                        f"{u.score:.1f}" if u.score is not None else too_few,
                        className="num gw-score",
                    ),
                    el(
                        "Td",
                        f"{u.score_change:+.1f}" if u.score_change is not None else "—",
                        className="num",
                    ),
                    el("Td", str(u.cases_total), className="num"),
                    el("Td", pct(u.close_rate), className="num"),
                    el("Td", pct(u.on_time_rate), className="num"),
                    el("Td", pct(u.satisfaction_rate), className="num"),
                    el("Td", pct(u.escalation_rate), className="num"),
                ],
                className="" if ranked else "gw-muted",
                **{"data-unit": u.unit},
            )
        )
    return el(
        "Table",
        [
            el(
                "Thead",
                el(
                    "Tr",
                    [
                        el("Th", t(k, lang), className="num" if i in (0, 1, 4, 5) or i > 5 else "")
                        for i, k in enumerate(head)
                    ],
                ),
            ),
            el("Tbody", rows),
        ],
        className="table table-sm table-striped gw-assess",
        id="assess-rows",
    )


def assessment_chart(scores: list[UnitScore], name_of: Any, lang: str, top: int = 12) -> go.Figure:
    ranked = [u for u in scores if u.rank is not None][:top]
    names = [name_of(u.unit) for u in reversed(ranked)]
    # the layout given whole, not by update_layout (a batch update of the made figure, a
    # third of the chart's time): the same figure
    return go.Figure(
        [
            go.Bar(
                y=names,
                x=[u.prev_score for u in reversed(ranked)],
                name=t("prev_period", lang),
                orientation="h",
                marker_color="#ced4da",
            ),
            go.Bar(
                y=names,
                x=[u.score for u in reversed(ranked)],
                name=t("this_period", lang),
                orientation="h",
                marker_color="#0d6efd",
            ),
        ],
        layout={
            "barmode": "group",
            "height": 560,
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"family": FONT, "size": 12},
            "legend": {"orientation": "h", "y": -0.08},
            "xaxis": {"range": [0, 100], "gridcolor": "#eee"},
        },
    )


# ----------------------------------------------------------------------------- reports


def reports_page(kind: str, day: date, lang: str) -> html.Div:
    buttons = [
        dbc.Button(
            t("print", lang), id=ids.REPORT_PRINT, color="secondary", outline=True, size="sm"
        ),
        dbc.Button("CSV", id=ids.REPORT_CSV, color="primary", outline=True, size="sm"),
        dbc.Button("XLSX", id=ids.REPORT_XLSX, color="primary", outline=True, size="sm"),
        dcc.Download(id=ids.DOWNLOAD),
        html.Div(id=ids.PRINT_SINK, hidden=True),
    ]
    return html.Div(
        [
            period_picker(kind, day, lang, [html.Div(buttons, className="gw-report-buttons")]),
            html.Div(
                [
                    html.H3(id=ids.REPORT_TITLE, className="gw-report-title"),
                    html.Div(id=ids.REPORT_BODY),
                    dcc.Loading(html.Div(id=ids.REPORT_HALLS, className="gw-report-sec")),
                ],
                className="gw-report",
            ),
        ]
    )


SECTION_KEYS = {
    "by_tier": "sec_by_tier",
    "by_channel": "sec_by_channel",
    "by_category": "sec_by_category",
    "by_unit": "sec_by_unit",
}


def halls_table(rows: list[dict[str, Any]], frm: str, to: str, lang: str) -> html.Div:
    """The halls' attendance and discipline over the period (``hall_report.hall_rows``), the
    lowest on-post rate first: who to phone. Names are the halls' own, shown escaped."""
    if not rows:
        return html.Div([html.H5(t("hrep_title", lang)), html.P(t("hrep_none", lang))])
    cols = [c for c in HALL_COLUMNS if c != "key"]
    head = html.Thead(
        html.Tr(
            [html.Th(t(f"hcol_{c}", lang), className=None if c == "name" else "num") for c in cols]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(_hall_cell(c, r[c]), className=None if c == "name" else "num")
                    for c in cols
                ],
                **{"data-key": r["key"]},  # type: ignore[arg-type]
            )
            for r in rows
        ]
    )
    return html.Div(
        [
            html.H5(t("hrep_title", lang)),
            html.P(t("hrep_note", lang, frm=frm, to=to), className="gw-note"),
            html.Table(
                [head, body],
                className="table table-sm table-striped gw-report-table",
                id="report-halls-table",
            ),
        ]
    )


def _hall_cell(k: str, v: Any) -> str:
    if v is None:
        return "—"
    if k.endswith("_rate"):
        return pct(v)
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def _fig(k: str, v: Any) -> str:
    if v is None:
        return "—"
    if k.endswith("_rate"):
        return pct(v)
    if k == "median_hours_to_close":
        return f"{v:.1f}"
    return str(v)


#: units shown on screen, most cases first; the files carry every unit
UNITS_SHOWN = 30


def shown_rows(rows: list[dict[str, Any]], section: str) -> list[dict[str, Any]]:
    part = [r for r in rows if r["section"] == section]
    if section == "by_unit":
        part = sorted(part, key=lambda r: (-r["cases_total"], r["key"]))[:UNITS_SHOWN]
    return part


def report_table(rows: list[dict[str, Any]], section: str, lang: str) -> html.Table:
    head = html.Thead(
        html.Tr(
            [html.Th(t("col_group", lang))]
            + [html.Th(t(f"fig_{k}", lang), className="num") for k in FIGURES]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(r["name"])]
                + [html.Td(_fig(k, r[k]), className="num", **{"data-fig": k}) for k in FIGURES],  # type: ignore[arg-type]
                **{"data-key": r["key"]},  # type: ignore[arg-type]
            )
            for r in shown_rows(rows, section)
        ]
    )
    return html.Table(
        [head, body],
        className="table table-sm table-striped gw-report-table",
        id=f"report-{section}",
    )


def report_body(rows: list[dict[str, Any]], meta: dict[str, Any], lang: str) -> html.Div:
    total = next(r for r in rows if r["section"] == "total")
    tiles = dbc.Row(
        [
            dbc.Col(
                html.Div(
                    [
                        html.Div(_fig(k, total[k]), className="gw-kpi-n", id=f"rep-{k}"),
                        html.Div(t(f"fig_{k}", lang), className="gw-kpi-l"),
                    ],
                    className="gw-l-kpi",
                )
            )
            for k in FIGURES
        ],
        className="g-2 mb-3",
    )
    # the rows may hold only the units shown; the report's own count is in the meta
    n_units = meta.get("units", sum(1 for r in rows if r["section"] == "by_unit"))
    sections = [
        html.Div(
            [html.H5(t(SECTION_KEYS[s], lang)), report_table(rows, s, lang)]
            + (
                [html.P(t("units_more", lang, shown=UNITS_SHOWN, n=n_units), className="gw-note")]
                if s == "by_unit" and n_units > UNITS_SHOWN
                else []
            ),
            className="gw-report-sec",
        )
        for s in SECTION_KEYS
    ]
    return html.Div(
        [
            html.P(
                t(
                    "report_meta",
                    lang,
                    frm=meta["from_local"],
                    to=meta["to_local"],
                    as_of=meta["as_of_local"],
                ),
                className="gw-note",
            ),
            tiles,
            *sections,
        ]
    )
