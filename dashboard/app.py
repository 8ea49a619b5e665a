"""The web process: one FastAPI server carrying the HTTP API and the Dash screens."""

from __future__ import annotations

from pathlib import Path

from dash import Dash
from fastapi import FastAPI

from backend.api.app import create_api
from backend.system import System
from callbacks import overview as overview_callbacks
from dashboard.i18n import t
from layouts.overview import page


def create_app(system: System) -> FastAPI:
    """Build the server. Nothing is loaded at import time; the layout is a function."""
    server = create_api(system)
    dash_app = Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash accepts a FastAPI app
        title=t("app_title"),
        # no CDN: the command centre may be offline; our own stylesheet is in assets/
        serve_locally=True,
        assets_folder=str(Path(__file__).parent / "assets"),
        suppress_callback_exceptions=True,
    )
    dash_app.layout = page
    overview_callbacks.register(dash_app, system)
    server.state.dash = dash_app
    return server
