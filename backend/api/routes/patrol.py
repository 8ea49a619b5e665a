"""A grid worker's patrol report (巡查上报) from the field, and "my record": what I did and my
units' figures (/work/patrol, /work/me).

The report goes through the one intake pipeline (channel ``grid_worker``, signed by the
person); the place is a grid of the worker's units, with the phone's location beside it when
the browser gave one (checked: numbers, on the earth, and in this city).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.api.bodies import files, read_form
from backend.api.citizen_pages import grid_path, lang_of
from backend.api.deps import IntakeDep, SystemDep, idempotency_key
from backend.api.work_pages import (
    MAX_TEXT,
    clean_text,
    frame,
    local,
    person_of,
    scope_of,
    written_reason,
)
from backend.auth.accounts import Person
from backend.core.errors import CommandInvalid
from backend.core.i18n import t
from backend.domain.events import spec_of
from backend.intake.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, check_photos
from backend.intake.service import Report
from backend.queries.cases import case_row
from backend.queries.workbench import my_history, unit_figures
from backend.system import System

router = APIRouter(tags=["workbench"], include_in_schema=False)
MAX_PATROL_FORM = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024


def my_grids(system: System, person: Person) -> list[str]:
    """The grids a handler's units cover: a grid unit's grid, a township centre's grids."""
    ref = system.ref
    out: list[str] = []
    for code in person.units:
        u = ref.units.get(code)
        if u is None:
            continue
        if u.area_code in ref.grids:
            out.append(u.area_code)
        else:
            out.extend(
                sorted(g for g, info in ref.grids.items() if info.township_code == u.area_code)
            )
    return list(dict.fromkeys(out))


def _form(
    request: Request,
    system: System,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    lang = lang_of(request)
    cats = sorted(
        (c.code, c.name_en if lang == "en" else c.name) for c in system.ref.categories.values()
    )
    grids = [(g, grid_path(system.ref, g)) for g in my_grids(system, person_of(request))]
    return frame(
        request,
        "work_patrol.html",
        status,
        heading=t("wb_patrol_title", lang),
        categories=cats,
        grids=grids,
        values=values,
        errors=errors,
        max_text=MAX_TEXT,
    )


@router.get("/work/patrol", response_class=HTMLResponse)
def patrol_form(request: Request, system: SystemDep) -> Response:
    values = {"category": "", "description": "", "grid": "", "lat": "", "lon": ""}
    return _form(request, system, values, {})


def _coordinate(raw: str | None, lo: float, hi: float) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise CommandInvalid({"where": "number"}) from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise CommandInvalid({"where": "range"})
    return value


@router.post("/work/patrol", response_class=HTMLResponse)
async def patrol_submit(request: Request, system: SystemDep, intake: IntakeDep) -> Response:
    lang = lang_of(request)
    person = person_of(request)
    form = await read_form(request, MAX_PATROL_FORM, max_files=MAX_PHOTOS + 1)
    values = {
        k: (clean_text(form, k) or "") for k in ("category", "description", "grid", "lat", "lon")
    }
    errors: dict[str, str] = {}
    if not values["description"] or len(values["description"]) > MAX_TEXT:
        errors["description"] = t("wb_error_description", lang, n=MAX_TEXT)
    if values["category"] not in system.ref.categories:
        errors["category"] = t("qr_error_category", lang)
    if values["grid"] not in my_grids(system, person):
        errors["grid"] = t("wb_error_grid", lang)
    lat = lon = None
    try:
        lat = _coordinate(values["lat"] or None, -90, 90)
        lon = _coordinate(values["lon"] or None, -180, 180)
        if (lat is None) != (lon is None):
            raise CommandInvalid({"where": "pair"})
        if lat is not None and system.ref.locate(lat, lon, None) is None:
            raise CommandInvalid({"where": "city"})
    except CommandInvalid:
        errors["where"] = t("wb_error_where", lang)
    try:
        photos = check_photos(await files(form, "photo"))
    except CommandInvalid:
        photos = []
        errors["photo"] = t("qr_error_photo", lang)
    if errors:
        return _form(request, system, values, errors, 422)
    report = Report(
        channel="grid_worker",
        text=values["description"],
        category=values["category"],
        grid=values["grid"],
        lat=lat,
        lon=lon,
        reporter=person.display_name,
        photos=photos,
        idem_key=idempotency_key(request, person.actor),
    )
    out = await run_in_threadpool(intake.submit, report, person.actor)
    q = "&lang=en" if lang == "en" else ""
    if out.case_id is not None:
        with system.db.connect() as conn:
            mine = case_row(conn, out.case_id, scope=scope_of(request, system))
        if mine is not None and out.state == "case":
            return RedirectResponse(f"/work/cases/{out.case_id}?done=patrol{q}", status_code=303)
    return RedirectResponse(f"/work?done=patrol{q}", status_code=303)


@router.get("/work/me", response_class=HTMLResponse)
def my_record(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    person = person_of(request)
    now = system.clock.now()
    with system.db.connect() as conn:
        history = my_history(conn, person.actor, system.tz)
        figures = unit_figures(conn, scope_of(request, system), now, system.tz)
    units = system.ref.units
    rows: list[dict[str, Any]] = [
        {
            "unit": units[f["unit"]].name if f["unit"] in units else f["unit"],
            "open": f["open"],
            "overdue": f["overdue"],
            "closed": f["closed"],
            "on_time": f"{f['on_time_rate']:.0%}" if f["on_time_rate"] is not None else "—",
        }
        for f in figures
    ]
    done = [
        {
            "case_id": h["case_id"],
            "code": h["code"],
            "what": t(spec_of(h["type"]).label_key, lang),
            "at": local(h["at"], system.tz),
            "reason": written_reason(h["type"], person.actor, h["reason"]),
        }
        for h in history
    ]
    return frame(
        request, "work_me.html", heading=t("wb_me_title", lang), figures=rows, history=done
    )
