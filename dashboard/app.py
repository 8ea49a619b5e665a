"""The web process: one FastAPI server carrying the HTTP API and the Dash screens."""

from __future__ import annotations

from pathlib import Path

import plotly.io as pio
from dash import Dash
from fastapi import FastAPI
from starlette.middleware import Middleware

from backend.api.app import create_api
from backend.core.i18n import t
from backend.store.refload import city_map
from backend.system import System
from callbacks import halls as hall_callbacks
from callbacks import wall as wall_callbacks
from dashboard.guard import guard_callbacks
from dashboard.hall_watch import HallWatcher
from dashboard.leader import register_leader
from dashboard.payload import CallbackPayloadCheck
from dashboard.walls import Walls
from layouts.router import root


def create_app(system: System, *, frame_interval: float | None = None) -> FastAPI:
    """Build the server. Nothing is loaded at import time; the layout is a function.
    ``frame_interval`` (seconds): the wall's, else the setting's (``GRIDWATCH_WALL_FRAME_MS``)."""
    if frame_interval is None:
        frame_interval = system.settings.wall_frame_ms / 1000
    # Dash encodes every websocket frame once per screen. Its default JSON engine first walks
    # each value in Python (plotly's clean_to_json_compatible); the standard library encoder
    # with plotly's hook takes half the time for the wall's components (bench/RESULTS.md).
    pio.json.config.default_engine = "json"
    server = create_api(system)
    with system.db.connect() as conn:
        city, geojson = city_map(conn)
    walls = Walls(system, city, geojson, frame_interval=frame_interval)
    dash_app = Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash accepts a FastAPI app
        title=t("app_title"),
        # no CDN: the command centre may be offline; our own stylesheet is in assets/
        serve_locally=True,
        assets_folder=str(Path(__file__).parent / "assets"),
        suppress_callback_exceptions=True,
        update_title=None,  # type: ignore[arg-type]  # None: the title never flickers
        # each message goes out at once: the wall sends a frame as one message already
        # (callbacks/wall.py send_frame), and Dash's batching held every message 5 ms for
        # company, on a timer per message and screen (bench/RESULTS.md, the wall's CPU)
        websocket_batch_delay=0,
    )
    dash_app.layout = root
    wall_callbacks.register(dash_app, system, walls)
    leader = register_leader(dash_app, system, wall_callbacks.wall_screen(walls, system))
    hall_watch = HallWatcher(system)
    hall_callbacks.register(dash_app, system, hall_watch)
    server.state.hall_watch = hall_watch
    guard_callbacks(dash_app)  # last: every callback asks for its screen's permission
    # a callback body that is not what the renderer sends is a 400 before Dash reads it;
    # innermost (last in the list), so the gate has refused a stranger first
    server.user_middleware.append(
        Middleware(CallbackPayloadCheck, outputs=lambda: dash_app.callback_map)
    )
    server.state.dash = dash_app
    server.state.bridge = walls.city  # the city wall's (tests and benchmarks read it)
    server.state.walls = walls
    server.state.leader = leader
    return server
