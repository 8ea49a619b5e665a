"""The polling baseline for ``bench.wall_latency``: the same wall, its panels refreshed by a
2-second ``dcc.Interval`` that recomputes them from SQL, instead of being pushed.

    python -m bench.polling_wall --port 8060     (configured by the same environment as serve)

Not part of the product: it exists so the push path has a same-run baseline to be compared to.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from dash import Dash, Input, Output, dcc, html
from fastapi import FastAPI

from backend.core.clock import SystemClock
from backend.core.config import Settings
from backend.queries.reports import kpi
from backend.queries.scope import Scope
from backend.store.refload import city_map
from backend.system import System
from layouts import ids
from layouts.svg import data_uri, map_svg, project_city
from layouts.wall import MAP_EMPTY, TIERS, funnel_values, intake_chart, kpi_values, page

POLL_MS = 2000


def create_polling_app(system: System) -> FastAPI:
    server = FastAPI()
    with system.db.connect() as conn:
        city, geojson = city_map(conn)
    grids_per_area = {c: len(g) for c, g in system.ref.grids_by_area.items()}
    shapes = project_city(geojson, grids_per_area)
    blank_map = data_uri(map_svg(shapes, [MAP_EMPTY] * len(shapes.shapes)))
    blank_chart = intake_chart([], {}, system.tz)
    app = Dash(__name__, server=server, serve_locally=True)  # type: ignore[arg-type]

    def layout() -> html.Div:
        wall = page(city, blank_map, blank_chart)
        wall.children.append(dcc.Interval(id="poll", interval=POLL_MS))
        return wall

    app.layout = layout
    tile_ids = list(kpi_values(_empty_kpi()))

    @app.callback(
        [Output(i, "children") for i in tile_ids]
        + [Output(ids.funnel(t, "open"), "children") for t in TIERS]
        + [Output(ids.funnel(t, "overdue"), "children") for t in TIERS],
        Input("poll", "n_intervals"),
    )
    def poll(_n: int | None) -> list[Any]:
        """The panels' numbers from SQL aggregates, as a screen without push would ask."""
        with system.db.connect() as conn:
            k = kpi(conn, system.clock.now(), system.tz, scope=Scope.city())
        tiles = kpi_values(k)
        funnel = funnel_values(k["by_tier"])
        return (
            [tiles[i] for i in tile_ids]
            + [funnel[ids.funnel(t, "open")]["children"] for t in TIERS]
            + [funnel[ids.funnel(t, "overdue")]["children"] for t in TIERS]
        )

    return server


def _empty_kpi() -> dict[str, Any]:
    return {
        "received_today": 0,
        "open": 0,
        "closed_today": 0,
        "close_rate_today": None,
        "on_time_rate_today": None,
        "satisfaction_rate_today": None,
        "by_tier": {t: {"open": 0, "overdue": 0} for t in TIERS},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8060)
    args = ap.parse_args()
    system = System(Settings(), SystemClock())
    uvicorn.run(create_polling_app(system), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
