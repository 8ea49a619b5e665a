"""The leader's screens in the web process: their callbacks, the projections' refresher and
the case watcher, registered on the one Dash app, with Bootstrap's stylesheet served locally
(the command centre may be offline) and loaded by the leader's pages only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from dash import Dash
from fastapi import HTTPException
from fastapi.responses import FileResponse, Response

from backend.api.deps import BigIntId
from backend.api.responses import photo_response
from backend.core.i18n import t
from backend.queries.timeline import photo_of_case
from backend.system import System
from callbacks import router
from callbacks.leader import analysis, case, filters, options, overview, periodic, replica
from callbacks.viewer import viewer_scope
from dashboard.case_watch import CaseWatcher
from dashboard.drill_jobs import DrillJobs
from layouts.leader.common import PHOTO_URL

BOOTSTRAP_URL = "/static/vendor/bootstrap.min.css"


def bootstrap_css() -> str:
    """Bootstrap's CSS from its Python package (installed, not copied into this repository)."""
    return str(resources.files("bootstrap") / "static" / "bootstrap" / "css" / "bootstrap.min.css")


@dataclass
class Leader:
    jobs: DrillJobs
    watcher: CaseWatcher

    def stop(self) -> None:
        self.jobs.stop()
        self.watcher.stop()


def register_leader(app: Dash, system: System, wall: Callable[[str], Any]) -> Leader:
    jobs = DrillJobs(system)
    watcher = CaseWatcher(system)
    router.register(app, system, wall, jobs)
    filters.register(app, system)
    options.register(app, system)
    overview.register(app, system, jobs)
    case.register(app, system, watcher)
    analysis.register(app, system, jobs)
    periodic.register(app, system, jobs)
    replica.register(app, system)
    css = bootstrap_css()
    server: Any = app.server

    @server.get(PHOTO_URL + "{photo_id}", include_in_schema=False)
    def _photo(photo_id: BigIntId) -> Response:
        """A citizen's photo on the case page, for a viewer whose scope holds the case."""
        with system.db.connect() as conn:
            p = photo_of_case(conn, photo_id, scope=viewer_scope())
        if p is None:
            raise HTTPException(404, t("photo_not_found"))
        return photo_response(p)

    @server.get(BOOTSTRAP_URL, include_in_schema=False)
    def _bootstrap() -> FileResponse:
        return FileResponse(css, media_type="text/css", headers={"Cache-Control": "max-age=86400"})

    # Dash (FastAPI backend) walks its assets on the first request to "/" or "/_dash-…"; a
    # leader's link opened first (/leader?area=…) would get a page without stylesheets.
    app._setup_server()
    return Leader(jobs, watcher)
