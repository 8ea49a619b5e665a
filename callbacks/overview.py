"""Callbacks of the plain overview page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dash import Dash, Input, Output, State, html

from backend.reports import kpi
from backend.scope import Scope
from backend.stuck import StuckFilter, stuck_cases
from backend.system import System
from dashboard.i18n import t
from layouts import ids
from layouts.overview import kpi_tiles, stuck_table


def register(app: Dash, system: System) -> None:
    @app.callback(
        Output(ids.TITLE, "children"),
        Output(ids.LANG_TOGGLE, "children"),
        Output(ids.REFRESH, "children"),
        Output(ids.STUCK_TITLE, "children"),
        Input(ids.LANG, "data"),
    )
    def labels(lang: str) -> tuple[str, str, str, str]:
        return (
            t("app_title", lang),
            t("language", lang),
            t("refresh", lang),
            t("stuck_title", lang),
        )

    @app.callback(
        Output(ids.LANG, "data"),
        Input(ids.LANG_TOGGLE, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def toggle(_n: int | None, lang: str) -> str:
        return "en" if lang == "zh" else "zh"

    @app.callback(
        Output(ids.KPI_ROW, "children"),
        Output(ids.STUCK_TABLE, "children"),
        Output(ids.AS_OF, "children"),
        Output(ids.NOTICE, "children"),
        Input(ids.REFRESH, "n_clicks"),
        Input(ids.LANG, "data"),
    )
    def refresh(_n: int | None, lang: str) -> tuple[Any, Any, str, Any]:
        now = system.clock.now()
        ref = system.ref
        with system.db.connect() as conn:
            k = kpi(conn, now, system.tz)
            stuck = stuck_cases(conn, StuckFilter(limit=20), Scope.city(), now)["items"]
        for it in stuck:
            cat = ref.categories.get(it["category"])
            unit = ref.units.get(it["unit"] or "")
            it["category_name"] = (cat.name if lang == "zh" else cat.name_en) if cat else "—"
            it["unit_name"] = unit.name if unit else "—"
        notice = calendar_notice(system, now, lang)
        as_of = f"{t('as_of', lang)} {now.astimezone(system.tz):%Y-%m-%d %H:%M}"
        return kpi_tiles(k, lang), stuck_table(stuck, lang), as_of, notice


def calendar_notice(system: System, now: datetime, lang: str) -> Any:
    """Warn about this year's and next year's working-day calendar, weeks before it matters."""
    cal = system.calendar
    year = now.astimezone(system.tz).year
    for y in (year, year + 1):
        cal.is_working_day(date(y, 1, 4))  # records fallback / provisional years
    lines = []
    if cal.fallback_years:
        lines.append(t("calendar_fallback", lang, years=_years(cal.fallback_years)))
    if cal.provisional_years:
        lines.append(t("calendar_provisional", lang, years=_years(cal.provisional_years)))
    return [html.Div(line, className="gw-notice") for line in lines] or None


def _years(years: set[int]) -> str:
    return "、".join(str(y) for y in sorted(years))
