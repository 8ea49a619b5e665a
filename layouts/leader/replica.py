"""The read replica's lag in the leader's bar: the leader desk reads a streaming replica
(``DATABASE_READ_URL``), so its figures are as old as the replica's replay, and the bar says
how old. Warned over a threshold; absent when the desk reads the primary."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from backend.core.i18n import t
from layouts import ids

#: how often the badge asks again (the lag itself is measured at most every two seconds)
TICK_MS = 2000


def lag_text(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return t("replica_lag_unknown", lang)
    return t("replica_lag", lang, s=f"{seconds:.1f}")


def lag_class(seconds: float | None, warn_s: float) -> str:
    """Bootstrap badge colours: quiet when close behind, warning over ``warn_s`` or unknown."""
    warn = seconds is None or seconds > warn_s
    return "badge gw-l-replica " + ("text-bg-warning" if warn else "text-bg-light")


def lag_badge(seconds: float | None, warn_s: float, lang: str) -> html.Span:
    """The badge, its first figure, and the timer that keeps it current."""
    return html.Span(
        [
            html.Span(
                lag_text(seconds, lang),
                id=ids.REPLICA_LAG,
                className=lag_class(seconds, warn_s),
                title=t("replica_lag_tip", lang, warn=f"{warn_s:g}"),
            ),
            dcc.Interval(id=ids.REPLICA_TICK, interval=TICK_MS),
        ],
        className="gw-l-replica-wrap",
    )


def lag_update(seconds: float | None, warn_s: float, lang: str) -> dict[str, Any]:
    """What the timer's callback sets on the badge."""
    return {"children": lag_text(seconds, lang), "className": lag_class(seconds, warn_s)}
