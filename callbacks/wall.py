"""Callbacks of the live wall: the push stream, the language switch, the link indicator."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import Any

from dash import Dash, Input, Output, State, ctx, html, set_props

from backend.system import System
from dashboard.i18n import t
from dashboard.live_bridge import LiveBridge
from layouts import ids

#: Seconds a stream callback waits for a frame before it looks at its connection again.
IDLE_CHECK = 1.0
#: Seconds to wait for a browser to take in a frame before sending the next one anyway.
ACK_WAIT = 5.0

#: Records when a pulse arrived; ``assets/live.js`` turns that into the live indicator.
PULSE_JS = """
function (pulse) {
    if (window.gwLive) { window.gwLive.pulse(pulse); }
    return window.dash_clientside.no_update;
}
"""


def register(app: Dash, system: System, bridge: LiveBridge) -> None:
    @app.callback(persistent=True, websocket=True, hidden=True)
    async def stream_wall() -> None:
        """Runs for as long as a screen is connected: the bridge's frames, as they come."""
        ws = ctx.websocket
        if ws is None:  # no websocket (an old browser): nothing to stream to
            return
        screen = bridge.connect()
        try:
            while not ws.is_shutdown:
                frame = await screen.next(IDLE_CHECK)
                if screen.behind or (frame is not None and screen.queue):
                    # the browser is behind: the present state, not the backlog
                    frame = bridge.catch_up(screen)
                if frame is None:
                    continue
                for component_id, props in frame.props.items():
                    set_props(component_id, props)
                screen.sent = frame.number
                # Backpressure: the browser answers once it has taken the frame in, so a
                # busy screen is sent fewer, fuller frames instead of a growing queue.
                with contextlib.suppress(TimeoutError):
                    await ws.get_prop(ids.WALL_PULSE, "modified_timestamp", timeout=ACK_WAIT)
        finally:
            bridge.disconnect(screen)

    app.clientside_callback(
        PULSE_JS, Output(ids.WALL_SINK, "children"), Input(ids.WALL_PULSE, "data")
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
        Output(ids.WALL, "className"),
        Output(ids.NOTICE, "children"),
        Input(ids.LANG, "data"),
    )
    def language(lang: str | None) -> tuple[str, Any]:
        lang = "en" if lang == "en" else "zh"
        notice = calendar_notice(system, system.clock.now(), lang)
        return f"gw-wall lang-{lang}", notice


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
