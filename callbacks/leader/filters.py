"""The filters and the URL: a filter set on screen is written to the URL, so the view can be
shared; a click on an area or a unit in the overview's tables narrows the filters the same
way. The other direction, a URL opened or gone back to, is the router's: it draws the page
with the filters the URL names (``callbacks/router.py``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from backend.core.errors import CommandInvalid
from backend.core.i18n import t
from backend.queries.filters import DrillFilter
from backend.system import System
from layouts import ids

WIDGETS = (
    (ids.F_AREA, "area"),
    (ids.F_TIER, "tier"),
    (ids.F_UNIT, "unit"),
    (ids.F_CATEGORY, "category"),
    (ids.F_CHANNEL, "channel"),
    (ids.F_STATUS, "status"),
    (ids.F_COLOUR, "colour"),
)


def _day(v: str | None) -> date | None:
    return date.fromisoformat(v[:10]) if v else None


def widget_values(f: DrillFilter) -> list[Any]:
    return [getattr(f, name) for _, name in WIDGETS] + [
        f.date_from.isoformat() if f.date_from else None,
        f.date_to.isoformat() if f.date_to else None,
    ]


def register(app: Dash, system: System) -> None:
    outputs = [
        Output(ids.FILTERS, "data"),
        Output(ids.URL, "search"),
        Output(ids.F_ERRORS, "children"),
        *[Output(w, "value") for w, _ in WIDGETS],
        Output(ids.F_DATES, "start_date"),
        Output(ids.F_DATES, "end_date"),
    ]
    inputs = [
        *[Input(w, "value") for w, _ in WIDGETS],
        Input(ids.F_DATES, "start_date"),
        Input(ids.F_DATES, "end_date"),
        Input(ids.F_RESET, "n_clicks"),
        Input({"type": "area-row", "code": ALL}, "n_clicks"),
        Input({"type": "unit-row", "code": ALL}, "n_clicks"),
    ]

    @app.callback(*outputs, *inputs, State(ids.URL, "search"), State(ids.LEADER_LANG, "data"))
    def sync(*args: Any) -> tuple[Any, ...]:
        n = len(WIDGETS)
        values, (start, end) = args[:n], args[n : n + 2]
        search, lang = args[-2], args[-1] or "zh"
        trig = ctx.triggered_id
        ref = system.ref
        keep_widgets = True
        error = None
        if trig is None:  # the filter bar was just drawn, from the URL
            try:
                f = DrillFilter.from_query(search, ref)
            except CommandInvalid as exc:
                f = DrillFilter.lenient(search, ref)
                error = t("bad_link", lang, fields=", ".join(sorted(exc.errors)))
            keep_widgets = False
        elif trig == ids.F_RESET:
            f = DrillFilter()
            keep_widgets = False
        else:
            fields = {name: v or None for (_, name), v in zip(WIDGETS, values, strict=True)}
            f = DrillFilter(**fields, date_from=_day(start), date_to=_day(end))
            if isinstance(trig, dict):
                clicked = ctx.triggered[0]["value"] if ctx.triggered else None
                if not clicked:
                    return (no_update,) * (3 + n + 2)  # a table was redrawn, nobody clicked
                key = "area" if trig.get("type") == "area-row" else "unit"
                f = f.with_(**{key: trig["code"]})
                keep_widgets = False
            problems = f.problems(ref)
            if problems:  # e.g. the last day before the first: say so, keep the last good view
                return (no_update, no_update, _errors(problems, lang)) + (no_update,) * (n + 2)
        query = f.to_query()
        new_search = query if (search or "") != query else no_update
        widgets = [no_update] * (n + 2) if keep_widgets else widget_values(f)
        return (query, new_search, error, *widgets)


def _errors(problems: dict[str, str], lang: str) -> str:
    return t("bad_filters", lang) + "：" + "；".join(f"{k}: {v}" for k, v in problems.items())
