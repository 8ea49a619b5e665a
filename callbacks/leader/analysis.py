"""Where cases get stuck and overdue risk: each chart follows the filters in its own callback,
so they are fetched side by side."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State

from backend.core.i18n import t
from backend.queries import bottlenecks as bn
from backend.queries.filters import DrillFilter
from backend.queries.overview import history_window
from backend.queries.risk_bands import risk_bands
from backend.system import System
from callbacks.viewer import viewer_scope
from dashboard.drill_jobs import DrillJobs
from layouts import ids
from layouts.leader import analysis as view
from layouts.leader.common import area_name, unit_name


def register(app: Dash, system: System, jobs: DrillJobs) -> None:
    def setup(query: str | None, lang: str | None) -> tuple[DrillFilter, str]:
        jobs.ensure_fresh()
        today = system.clock.now().astimezone(system.tz).date()
        return history_window(DrillFilter.lenient(query, system.ref), today), lang or "zh"

    state = State(ids.LEADER_LANG, "data")

    @app.callback(
        Output(ids.CHART_TIER, "figure"),
        Output(ids.ANALYSIS_WINDOW, "children"),
        Input(ids.FILTERS, "data"),
        state,
    )
    def tier_chart(query: str | None, lang: str | None) -> tuple[Any, str]:
        f, lang = setup(query, lang)
        with system.read_db.connect() as conn:
            fig = view.tier_figure(
                bn.dwell_by_tier(conn, f, system.ref, scope=viewer_scope()), lang
            )
        assert f.date_from is not None and f.date_to is not None
        return fig, t(
            "analysis_window", lang, frm=f.date_from.isoformat(), to=f.date_to.isoformat()
        )

    @app.callback(Output(ids.CHART_UNIT, "figure"), Input(ids.FILTERS, "data"), state)
    def unit_chart(query: str | None, lang: str | None) -> Any:
        f, lang = setup(query, lang)
        with system.read_db.connect() as conn:
            dists = bn.dwell_by_unit(conn, f, system.ref, scope=viewer_scope())
        return view.unit_figure(dists, lambda u: unit_name(system.ref, u), lang)

    @app.callback(
        Output(ids.CHART_SANKEY, "figure"),
        Output(ids.SIDEWAYS, "children"),
        Input(ids.FILTERS, "data"),
        state,
    )
    def sankey(query: str | None, lang: str | None) -> tuple[Any, str]:
        f, lang = setup(query, lang)
        with system.read_db.connect() as conn:
            flows = bn.tier_flows(conn, f, system.ref, scope=viewer_scope())
        return view.sankey_figure(flows, lang), t("sideways_note", lang, n=flows.sideways)

    @app.callback(Output(ids.CHART_TREND, "figure"), Input(ids.FILTERS, "data"), state)
    def trend(query: str | None, lang: str | None) -> Any:
        f, lang = setup(query, lang)
        with system.read_db.connect() as conn:
            tr = bn.overdue_trend(conn, f, system.ref, scope=viewer_scope())
        return view.trend_figure(tr, lambda a: area_name(system.ref, a), lang)

    @app.callback(Output(ids.RISK_BANDS, "children"), Input(ids.FILTERS, "data"), state)
    def bands(query: str | None, lang: str | None) -> Any:
        f, lang = setup(query, lang)
        stuck = f.stuck(system.ref, system.tz)
        with system.read_db.connect() as conn:
            counts = risk_bands(conn, stuck, system.clock.now(), scope=viewer_scope())
        return view.risk_bands(counts, lang)
