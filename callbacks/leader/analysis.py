"""Where cases get stuck and overdue risk: each chart follows the filters in its own callback,
so they are fetched side by side."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dash import Dash, Input, Output, State
from sqlalchemy import and_, case, func, select

from backend.core.i18n import t
from backend.queries import bottlenecks as bn
from backend.queries.filters import DrillFilter
from backend.queries.scope import Scope
from backend.queries.stuck import where_clauses
from backend.store.models import cases, drill_case_risk
from backend.system import System
from dashboard.drill_jobs import DrillJobs
from layouts import ids
from layouts.leader import analysis as view
from layouts.leader.common import area_name, unit_name

#: risk bands of the risk screen, the same steps as the table's colours
BANDS = (("very", 0.8, 1.01), ("high", 0.5, 0.8), ("mid", 0.2, 0.5), ("low", 0.0, 0.2))


#: the history analysed when the filters give no dates: the last 30 days
DEFAULT_DAYS = 30


def with_window(f: DrillFilter, today: date) -> DrillFilter:
    """History is analysed over a window: the filters' dates, or the last ``DEFAULT_DAYS``."""
    if f.date_from is None and f.date_to is None:
        return f.with_(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
    return f


def register(app: Dash, system: System, jobs: DrillJobs) -> None:
    def setup(query: str | None, lang: str | None) -> tuple[DrillFilter, str]:
        jobs.ensure_fresh()
        today = system.clock.now().astimezone(system.tz).date()
        return with_window(DrillFilter.lenient(query, system.ref), today), lang or "zh"

    state = State(ids.LEADER_LANG, "data")

    @app.callback(
        Output(ids.CHART_TIER, "figure"),
        Output(ids.ANALYSIS_WINDOW, "children"),
        Input(ids.FILTERS, "data"),
        state,
    )
    def tier_chart(query: str | None, lang: str | None) -> tuple[Any, str]:
        f, lang = setup(query, lang)
        with system.db.connect() as conn:
            fig = view.tier_figure(bn.dwell_by_tier(conn, f, system.ref), lang)
        assert f.date_from is not None and f.date_to is not None
        return fig, t(
            "analysis_window", lang, frm=f.date_from.isoformat(), to=f.date_to.isoformat()
        )

    @app.callback(Output(ids.CHART_UNIT, "figure"), Input(ids.FILTERS, "data"), state)
    def unit_chart(query: str | None, lang: str | None) -> Any:
        f, lang = setup(query, lang)
        with system.db.connect() as conn:
            dists = bn.dwell_by_unit(conn, f, system.ref)
        return view.unit_figure(dists, lambda u: unit_name(system.ref, u), lang)

    @app.callback(
        Output(ids.CHART_SANKEY, "figure"),
        Output(ids.SIDEWAYS, "children"),
        Input(ids.FILTERS, "data"),
        state,
    )
    def sankey(query: str | None, lang: str | None) -> tuple[Any, str]:
        f, lang = setup(query, lang)
        with system.db.connect() as conn:
            flows = bn.tier_flows(conn, f, system.ref)
        return view.sankey_figure(flows, lang), t("sideways_note", lang, n=flows.sideways)

    @app.callback(Output(ids.CHART_TREND, "figure"), Input(ids.FILTERS, "data"), state)
    def trend(query: str | None, lang: str | None) -> Any:
        f, lang = setup(query, lang)
        with system.db.connect() as conn:
            tr = bn.overdue_trend(conn, f, system.ref)
        return view.trend_figure(tr, lambda a: area_name(system.ref, a), lang)

    @app.callback(Output(ids.RISK_BANDS, "children"), Input(ids.FILTERS, "data"), state)
    def bands(query: str | None, lang: str | None) -> Any:
        f, lang = setup(query, lang)
        now = system.clock.now()
        conds = where_clauses(f.stuck(system.ref, system.tz), Scope.city(), now)
        p = drill_case_risk.c.p_miss
        cols = [
            func.sum(case((and_(p >= lo, p < hi), 1), else_=0)).label(name)
            for name, lo, hi in BANDS
        ]
        cols.append(func.sum(case((p.is_(None), 1), else_=0)).label("none"))
        joined = cases.outerjoin(drill_case_risk, drill_case_risk.c.case_id == cases.c.id)
        with system.db.connect() as conn:
            row = conn.execute(select(*cols).select_from(joined).where(*conds)).mappings().one()
        return view.risk_bands({k: int(v or 0) for k, v in row.items()}, lang)
