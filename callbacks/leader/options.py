"""Dropdowns over thousands of areas and units (Shangrao has 12,000 grids): the page gets the
upper levels, and what a leader types is searched here."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update

from backend.system import System
from layouts import ids
from layouts.leader.common import search_areas, search_units

UNIT_DROPDOWNS = (
    (ids.F_UNIT, False),
    (ids.ACT_UNIT, True),
    (ids.ACT_LEAD, True),
    (ids.ACT_CO, True),
)


def register(app: Dash, system: System) -> None:
    @app.callback(
        Output(ids.F_AREA, "options"),
        Input(ids.F_AREA, "search_value"),
        State(ids.F_AREA, "value"),
        prevent_initial_call=True,
    )
    def areas(text: str | None, value: str | None) -> Any:
        if not text:
            return no_update
        return search_areas(system.ref, text.strip(), value)

    for dropdown, with_tier in UNIT_DROPDOWNS:

        @app.callback(
            Output(dropdown, "options"),
            Input(dropdown, "search_value"),
            State(dropdown, "value"),
            State(ids.LEADER_LANG, "data"),
            prevent_initial_call=True,
        )
        def units(text: str | None, value: Any, lang: str | None, _tier: bool = with_tier) -> Any:
            if not text:
                return no_update
            return search_units(system.ref, text.strip(), lang or "zh", value, with_tier=_tier)
