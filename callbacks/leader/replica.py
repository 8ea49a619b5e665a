"""The read replica's lag badge in the leader's bar, asked again every two seconds (the
measurement itself is cached, backend/store/replica.py: many screens, one query)."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update

from backend.system import System
from layouts import ids
from layouts.leader.replica import lag_update


def register(app: Dash, system: System) -> None:
    @app.callback(
        Output(ids.REPLICA_LAG, "children"),
        Output(ids.REPLICA_LAG, "className"),
        Input(ids.REPLICA_TICK, "n_intervals"),
        State(ids.LEADER_LANG, "data"),
        prevent_initial_call=True,
    )
    def lag(_n: int | None, lang: str | None) -> tuple[Any, Any]:
        meter = system.replica_lag
        if meter is None:  # no replica: the badge is not drawn, nothing to say
            return no_update, no_update
        shown = lag_update(
            meter.current().seconds, system.settings.replica_lag_warn_s, lang or "zh"
        )
        return shown["children"], shown["className"]
