"""一格一码: the QR code of each grid and a printable A4 sheet of posters for a township's grids.

- ``GET /r/<grid code>/qr.svg``: the code alone, a standalone SVG document
- ``GET /posters/<township or community code>``: A4 pages of posters (grid name, code, QR),
  six to a page, ready to print, cut and post

The code opens ``/r/<grid>`` at GRIDWATCH_PUBLIC_URL, or at the address of the request.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from backend.api.citizen_pages import grid_path, lang_of, not_found, page
from backend.api.deps import SystemDep
from backend.core.i18n import t
from backend.system import System

STATIC = Path(__file__).parent.parent / "static"
POSTERS_PER_PAGE = 6
#: Areas whose grids fit on a few sheets; a county would be hundreds of pages.
POSTER_LEVELS = ("township", "community")

router = APIRouter(tags=["qr"])


def _public_base(system: System, request: Request) -> str:
    return (system.settings.public_url or str(request.base_url)).rstrip("/")


@lru_cache(maxsize=4096)
def qr_svg_text(url: str, title: str) -> str:
    """A standalone SVG (with its namespace, so a browser draws it and a printer prints it)."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(
        buf, kind="svg", scale=8, border=2, xmldecl=True, svgns=True, title=title, nl=False
    )
    return buf.getvalue().decode()


@router.get("/r/{grid}/qr.svg")
def qr_svg(grid: str, request: Request, system: SystemDep) -> Response:
    """The code to print and post in the grid: it opens this grid's form."""
    if grid not in system.ref.grids:
        return not_found(request, "qr_grid_not_found")
    svg = qr_svg_text(f"{_public_base(system, request)}/r/{grid}", grid)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/posters/{area}", response_class=HTMLResponse)
def posters(area: str, request: Request, system: SystemDep) -> Response:
    """The posters of every grid in a township (or a community), six to an A4 page."""
    lang = lang_of(request)
    ref = system.ref
    level = ref.area_levels.get(area)
    if level is None:
        return not_found(request, "poster_area_not_found")
    if level not in POSTER_LEVELS:
        return page(
            request,
            "message.html",
            422,
            heading=t("poster_title", lang),
            subheading=None,
            message_title=t("poster_title", lang),
            message=t("poster_wrong_level", lang, name=ref.area_names.get(area, area)),
        )
    base = _public_base(system, request)
    codes = ref.grids_by_area.get(area, [])
    items = [
        {
            "code": g,
            "place": grid_path(ref, g),
            "url": f"{base}/r/{g}",
            "svg": f"/r/{g}/qr.svg",
        }
        for g in codes
    ]
    sheets = [items[i : i + POSTERS_PER_PAGE] for i in range(0, len(items), POSTERS_PER_PAGE)]
    return page(
        request,
        "posters.html",
        heading=t("poster_title", lang),
        subheading=ref.area_names.get(area, area),
        area_name=ref.area_names.get(area, area),
        sheets=sheets,
        count=len(items),
    )


@router.get("/citizen/app.js", include_in_schema=False)
def citizen_script() -> FileResponse:
    """The copy and print buttons: the only script on the citizen pages."""
    return FileResponse(
        STATIC / "citizen.js",
        media_type="text/javascript",
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
