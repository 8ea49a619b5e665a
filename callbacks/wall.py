"""Callbacks of the live wall: the push stream, the language switch, the link indicator."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import orjson
from dash import Dash, Input, Output, State, ctx, html, no_update, set_props
from dash.exceptions import WebsocketDisconnected

from backend.core.i18n import t
from backend.system import System
from callbacks.viewer import viewer_scope
from callbacks.wall_area import AreaProblem, wall_area_for
from dashboard import live_trace
from dashboard.live_bridge import Frame
from dashboard.walls import Walls
from layouts import ids
from layouts.wall import area_error

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

#: Draws the map inline from its image, so each area is a link with a tooltip.
MAP_JS = """
function (src) {
    if (window.gwLive) { window.gwLive.map(src); }
    return window.dash_clientside.no_update;
}
"""

#: Paints the areas whose colour or tooltip changed into the map drawn inline (live.js).
PAINT_JS = """
function (data) {
    if (window.gwLive && data) { window.gwLive.paint(data); }
    return window.dash_clientside.no_update;
}
"""


def wall_screen(walls: Walls, system: System) -> Callable[[str], Any]:
    """What the router draws at ``/``: the wall of the area the URL asks for, or why not."""

    def draw(search: str) -> Any:
        where = wall_area_for(search, system.ref, viewer_scope())
        if isinstance(where, AreaProblem):
            return area_error(where.zh, where.en)
        return walls.page(where.scope, where.name)

    return draw


def register(app: Dash, system: System, walls: Walls) -> None:
    @app.callback(persistent=True, websocket=True, hidden=True)
    async def stream_wall() -> None:
        """Runs for as long as a screen is connected: its area's frames, as they come."""
        ws = ctx.websocket
        if ws is None:  # no websocket (an old browser): nothing to stream to
            return
        try:
            if not await wall_shown(ws):
                return  # another screen of the app (the leader's): no wall frames for it
            search = await ws.get_prop(ids.URL, "search", timeout=ACK_WAIT)
            where = wall_area_for(search, system.ref, viewer_scope())
        except (WebsocketDisconnected, TimeoutError):
            return  # gone, or not answering: a screen that reconnects starts this again
        if isinstance(where, AreaProblem):
            return  # the page says what is wrong; there is nothing to stream
        bridge = walls.bridge(where.scope)
        screen = bridge.connect()
        try:
            while not ws.is_shutdown:
                frame = await screen.next(IDLE_CHECK)
                if screen.behind or (frame is not None and screen.queue):
                    # the browser is behind: the present state, not the backlog
                    frame = bridge.catch_up(screen)
                if frame is None:
                    continue
                ack = send_frame(ws, frame)
                screen.sent = frame.number
                if live_trace.ON:
                    live_trace.note("sent", where.scope.area, screen.number, frame.number)
                # Backpressure: the browser answers once it has taken the frame in, so a
                # busy screen is sent fewer, fuller frames instead of a growing queue. After
                # every frame: asked only every 0.1 s (two 50 ms frames a round trip), a
                # starved Chromium was handed frames faster than it drew them and its DOM
                # fell behind (WALL16_NOTES.md); paced by its answers it takes what it can.
                with contextlib.suppress(TimeoutError):
                    if ack is not None:
                        await frame_taken(ws, ack, ACK_WAIT)
                    else:
                        await ws.get_prop(ids.WALL_PULSE, "modified_timestamp", timeout=ACK_WAIT)
        finally:
            bridge.disconnect(screen)

    app.clientside_callback(
        PULSE_JS, Output(ids.WALL_SINK, "children"), Input(ids.WALL_PULSE, "data")
    )
    app.clientside_callback(
        MAP_JS, Output(ids.WALL_MAP_SINK, "children"), Input(ids.WALL_MAP, "src")
    )
    app.clientside_callback(
        PAINT_JS, Output(ids.WALL_MAP_PAINT_SINK, "children"), Input(ids.WALL_MAP_PAINT, "data")
    )

    @app.callback(
        Output(ids.LANG, "data"),
        Input(ids.LANG_TOGGLE, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    def toggle(n: int | None, lang: str) -> Any:
        if not n:  # the router just drew the wall: Dash calls with the button's first n_clicks
            return no_update
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


Ack = tuple[str, "asyncio.Future[Any]"]
#: the acknowledgement a frame asks for: when the page's pulse last changed (it has the frame)
_ACK_PAYLOAD = orjson.dumps(
    {"componentId": ids.WALL_PULSE, "properties": ["modified_timestamp"]}
).decode()
_ack_numbers = itertools.count(1)


def send_frame(ws: Any, frame: Frame) -> Ack | None:
    """Hand a frame to the screen's websocket as one message: Dash's own ``set_props``
    messages, each payload encoded once per frame (``Frame.payloads``) rather than once per
    screen, and after them the request for the page's acknowledgement, in one array (the
    page's worker applies the props as one batch, then answers). Queued on the connection's
    own loop, without waking it through its self-pipe. Returns the acknowledgement to await
    (``frame_taken``); ``None`` when it fell back to ``set_props`` because Dash's websocket
    no longer looks as this expects (the caller then asks with ``get_prop``)."""
    queue = getattr(ws, "_get_outbound_queue", None)
    pending_of = getattr(ws, "_get_pending_get_props", None)
    renderer = getattr(ws, "_renderer_id", None)
    outbound = queue() if queue is not None else None
    pending = pending_of() if pending_of is not None else None
    if outbound is None or pending is None or not isinstance(renderer, str):
        for component_id, props in frame.props.items():
            set_props(component_id, props)
        return None
    if ws.is_shutdown:
        return None
    rid = orjson.dumps(renderer).decode()
    head = '{"type":"set_props","rendererId":' + rid + ',"payload":'
    texts = [head + payload + "}" for payload in frame.payloads()]
    # Dash's get_prop, without a UUID, a JSON encoding and a thread-safe wake-up per frame
    request_id = f"gw-ack-{next(_ack_numbers)}"
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pending[request_id] = future
    texts.append(
        '{"type":"get_props_request","rendererId":'
        + rid
        + ',"requestId":"'
        + request_id
        + '","payload":'
        + _ACK_PAYLOAD
        + "}"
    )
    outbound.async_q.put_nowait("[" + ",".join(texts) + "]")
    return request_id, future


async def frame_taken(ws: Any, ack: Ack, timeout: float) -> None:
    """Wait until the page has taken the frame in (its answer to the frame's request), at
    most ``timeout`` seconds (``TimeoutError``)."""
    request_id, future = ack
    try:
        async with asyncio.timeout(timeout):
            await future
    finally:
        pending = ws._get_pending_get_props()
        if pending is not None:
            pending.pop(request_id, None)


async def wall_shown(ws: Any, wait: float = 15.0) -> bool:
    """Whether this browser shows the wall. Every page of the app starts the persistent
    callbacks, so the stream asks the page first: its path, and then that the router has put
    the wall there (its pulse store exists), so the first full frame is not sent to nothing."""
    loop = asyncio.get_running_loop()
    until = loop.time() + wait
    while not ws.is_shutdown and loop.time() < until:
        path = await ws.get_prop(ids.URL, "pathname", timeout=ACK_WAIT)
        if path is not None and path != "/":
            return False
        if path == "/" and await ws.get_prop(ids.WALL_PULSE, "id", timeout=ACK_WAIT):
            return True
        await asyncio.sleep(0.02)
    return False


def calendar_notice(system: System, now: datetime, lang: str) -> Any:
    """Warn about this year's and next year's working-day calendar, weeks before it matters."""
    cal = system.calendar
    year = now.astimezone(system.tz).year
    for y in (year, year + 1):
        cal.is_working_day(date(y, 1, 4))  # records fallback / provisional years
    badges = []
    if cal.fallback_years:
        years = _years(cal.fallback_years)
        badges.append(
            (
                t("calendar_badge_fallback", lang, years=years),
                t("calendar_fallback", lang, years=years),
            )
        )
    if cal.provisional_years:
        years = _years(cal.provisional_years)
        badges.append(
            (
                t("calendar_badge_provisional", lang, years=years),
                t("calendar_provisional", lang, years=years),
            )
        )
    # a compact badge in the header, its whole sentence a hover away
    return [html.Span(short, title=full, className="gw-notice") for short, full in badges] or None


def _years(years: set[int]) -> str:
    return "、".join(str(y) for y in sorted(years))
