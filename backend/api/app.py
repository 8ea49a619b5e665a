"""The HTTP API, assembled: REST intake and queries under /api/v1, Open311 under
/open311/v2, the citizen's QR pages, health and metrics.

Each resource's routes are in ``backend/api/routes/<resource>.py`` with their own router;
what they need (the System, the caller's scope, the API key, the capped JSON body, the case)
comes from ``backend/api/deps.py``; the engine's errors become HTTP answers in
``backend/api/errors.py``; the request bodies are documented by ``backend/api/schemas.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from backend.api.errors import install_error_handlers
from backend.api.gate import StaffGate
from backend.api.nul_guard import NulGuard
from backend.api.routes import (
    admin,
    cases,
    halls,
    intake,
    kpi,
    live,
    login,
    open311,
    ops,
    patrol,
    photos,
    qr,
    qrcodes,
    stuck,
    track_find,
    work,
)
from backend.queries.scope import scope_of_area
from backend.system import System

#: the resources of the versioned REST API for integrations (API key), under /api/v1
API_V1 = (cases, intake, photos, stuck, kpi, live, halls)


def api_404(request: Request) -> JSONResponse:
    """An unknown API path answers JSON 404 (not the dashboard's HTML page)."""
    return JSONResponse({"detail": f"no API route {request.url.path}"}, status_code=404)


api_not_found = APIRouter()
api_not_found.add_api_route(
    "/api/{rest:path}",
    api_404,
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)


def create_api(system: System) -> FastAPI:
    api_v1 = APIRouter(prefix="/api/v1")
    for resource in API_V1:
        api_v1.include_router(resource.router)
    app = FastAPI(title="gridwatch", version="0.1.0")
    app.state.system = system
    app.state.key_cache = {}  # API key → (integration, expiry): see deps.key_name
    install_error_handlers(app)
    app.include_router(api_v1)
    app.include_router(api_not_found)  # after every API route: an unknown one is JSON 404
    app.include_router(open311.router)  # Open311 GeoReport v2
    app.include_router(qr.router)  # 码上办: the QR form and the tracking page
    app.include_router(qrcodes.router)  # 一格一码: QR codes and their printable posters
    app.include_router(track_find.router)  # a case found again by its code and phone
    app.include_router(ops.router)  # /healthz, /metrics
    app.include_router(login.router)  # /login, /logout
    app.include_router(admin.router)  # /admin: people and the audit log
    app.include_router(work.router)  # /work: the handler's workbench
    app.include_router(patrol.router)  # /work/patrol, /work/me
    app.add_middleware(
        StaffGate,
        sessions=lambda: system.sessions,
        scope_of=lambda area: scope_of_area(system.ref, area),
    )
    app.add_middleware(NulGuard)  # outermost: a NUL in the address goes no further
    return app
