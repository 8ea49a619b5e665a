"""码上办: the citizen's QR page and tracking page, server-rendered HTML for phones.

- ``GET /r/<grid code>``: the form a QR code posted in the grid opens, with the grid filled in
- ``POST /r/<grid code>``: a report (text, up to three photos) → the tracking page
- ``GET /t/<token>``: status and timeline for the citizen (no staff internals); rating once
  resolved (``POST /t/<token>/rate`` goes through the engine as ``rate``)

The QR codes and their posters are in ``qrcodes.py``, finding a case again in ``track_find.py``.
Every text is escaped by Jinja2's autoescape; the only script is our copy button.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.api.bodies import client_ip, field, files, read_form
from backend.api.citizen_pages import (
    grid_path,
    lang_of,
    lang_query,
    message,
    not_found,
    page,
)
from backend.api.deps import IntakeDep, RowId, ScopeDep, SystemDep, idempotency_key
from backend.api.ratelimit import limit_public
from backend.api.responses import photo_response
from backend.api.schemas import QrRating, QrReport, form_body
from backend.core.errors import CommandInvalid
from backend.core.i18n import t
from backend.domain.case import case_code
from backend.domain.commands import action_command
from backend.domain.events import rating_of, spec_of
from backend.domain.vocabulary import OPEN_VALUES
from backend.intake import store
from backend.intake.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, check_photos
from backend.intake.service import REJECTED, Report
from backend.intake.textparse import parser_for
from backend.queries.cases import case_row, event_rows
from backend.queries.reference import category_rows
from backend.refdata.model import WHISTLE_CLASSES
from backend.system import System

MAX_FORM = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")


def _grid_path(system: System, grid: str) -> str:
    return grid_path(system.ref, grid)


def _category_groups(system: System, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    with system.db.connect() as conn:
        rows = category_rows(conn)
    for r in rows:
        label = WHISTLE_CLASSES.get(r["whistle_class"], r["whistle_class"])
        groups.setdefault(label, []).append(
            (r["code"], r["name_en"] if lang == "en" else r["name"])
        )
    return list(groups.items())


def _form(
    request: Request,
    system: System,
    grid: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    lang = lang_of(request)
    return page(
        request,
        "report.html",
        status,
        heading=t("qr_title", lang),
        subheading=system.ref.area_names.get(system.ref.grids[grid].county_code, ""),
        grid_path=_grid_path(system, grid),
        categories=_category_groups(system, lang),
        values=values,
        errors=errors,
        action=f"/r/{grid}{lang_query(request)}",
        find_url=f"/t{lang_query(request)}",
    )


router = APIRouter(tags=["qr"])


@router.get("/r/{grid}", response_class=HTMLResponse)
def report_form(grid: str, request: Request, system: SystemDep) -> Response:
    if grid not in system.ref.grids:
        return not_found(request, "qr_grid_not_found")
    return _form(
        request,
        system,
        grid,
        {"category": "", "description": "", "reporter": "", "phone": ""},
        {},
    )


@router.post("/r/{grid}", response_class=HTMLResponse, openapi_extra=form_body(QrReport))
async def report_submit(
    grid: str, request: Request, system: SystemDep, intake: IntakeDep
) -> Response:
    if grid not in system.ref.grids:
        return not_found(request, "qr_grid_not_found")
    lang = lang_of(request)
    try:
        limit_public(request, "qr", client_ip(request))
    except HTTPException as exc:  # 429, the only thing the limiter raises
        page = message(request, exc.status_code, "qr_title", "qr_too_many")
        page.headers.update(exc.headers or {})
        return page
    form = await read_form(request, MAX_FORM, max_files=MAX_PHOTOS + 1)
    values = {k: field(form, k) or "" for k in ("category", "description", "reporter", "phone")}
    errors: dict[str, str] = {}
    if not values["description"] or len(values["description"]) > 1000:
        errors["description"] = t("qr_error_description", lang)
    if values["phone"] and not _PHONE.match(values["phone"]):
        errors["phone"] = t("qr_error_phone", lang)
    category = values["category"] or None
    if category is not None and category not in system.ref.categories:
        errors["category"] = t("qr_error_category", lang)
    try:
        photos = check_photos(await files(form, "photo"))
    except CommandInvalid:
        photos = []
        errors["photo"] = t("qr_error_photo", lang)
    if errors:
        return _form(request, system, grid, values, errors, 422)
    parse = None
    triage = None
    if category is None:  # the citizen was not sure: the parser may tell, else a person
        parsed = parser_for(system.ref).parse(values["description"], grid)
        parse = parsed.as_json()
        triage = parsed.triage_reason(system.settings.text_confidence)
        category = parsed.category if triage is None else None
    reporter = " ".join(x for x in (values["reporter"], values["phone"]) if x) or None
    report = Report(
        channel="qr",
        text=values["description"],
        category=category,
        grid=grid,
        reporter=reporter,
        photos=photos,
        parse=parse,
        triage=triage,
        tracking=True,
        idem_key=idempotency_key(request, f"qr:{grid}"),
    )
    out = await run_in_threadpool(intake.submit, report, "citizen:qr")
    sep = "&" if lang_query(request) else "?"
    return RedirectResponse(f"/t/{out.token}{lang_query(request)}{sep}sent=1", status_code=303)


@router.get("/t/{token}", response_class=HTMLResponse)
def track(token: str, request: Request, system: SystemDep, scope: ScopeDep) -> Response:
    lang = lang_of(request)
    with system.db.connect() as conn:
        rpt = store.report_by_token(conn, token)
        if rpt is None:
            return not_found(request, "qr_track_not_found")
        photo_list = store.photo_ids(conn, [rpt["id"]])[rpt["id"]]
        case = None
        events: list[Any] = []
        if rpt["case_id"] is not None:
            case = case_row(conn, rpt["case_id"], scope=scope)
            events = list(event_rows(conn, rpt["case_id"], scope=scope))
    ref = system.ref
    ctx: dict[str, Any] = {
        "heading": t("qr_title", lang),
        "subheading": t("qr_progress", lang),
        "just_sent": request.query_params.get("sent") == "1",
        "found": request.query_params.get("found") == "1",
        "here": str(request.url.replace(query="")),
        "text": rpt["text"],
        "photos": [f"/t/{token}/photo/{pid}" for pid in photo_list],
        "code": None,
        "category": None,
        "place": _grid_path(system, rpt["grid_code"]) if rpt["grid_code"] in ref.grids else None,
        "unit": None,
        "deadline": None,
        "reports": 1,
        "rating": None,
        "can_rate": False,
        "result": None,
        "rate_action": f"/t/{token}/rate{lang_query(request)}",
        "timeline": [],
        "note": None,
        "badge": "wait",
    }
    if case is None:
        state = rpt["state"]
        ctx["status_text"] = t(f"qs_{state}", lang)
        if state == REJECTED:
            ctx["note"] = t("qr_rejected_note", lang, reason=rpt["reason"] or "")
            ctx["badge"] = "no"
        else:
            ctx["note"] = t("qr_triage_note", lang)
        return page(request, "track.html", **ctx)
    status = case["status"]
    cat = ref.categories.get(case["category"])
    unit = ref.units.get(case["unit_code"] or "")
    ctx.update(
        code=case_code(case["id"], case["reported_at"], system.tz),
        status_text=t(f"qs_{status}", lang),
        category=(cat.name_en if lang == "en" else cat.name) if cat else case["category"],
        unit=unit.name if unit else None,
        deadline=_local(case["due_at"], system.tz) if status in OPEN_VALUES else None,
        reports=case["duplicate_count"],
        rating=t(f"rating_{case['rating']}", lang) if case["rating"] else None,
        can_rate=status == "resolved",
        badge="done"
        if status in ("resolved", "rated", "closed")
        else (
            "no" if status == "cancelled" else ("wait" if status in ("received", "paused") else "")
        ),
        timeline=_timeline(system, events, lang),
        result=_result(system, events, unit.name if unit else ""),
    )
    if case["grid_code"] in ref.grids:
        ctx["place"] = _grid_path(system, case["grid_code"])
    if status == "received":
        ctx["note"] = t("qr_awaiting_note", lang)
    return page(request, "track.html", **ctx)


def _local(dt: datetime | None, tz: ZoneInfo) -> str | None:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else None


def _result(system: System, events: list[Any], unit: str) -> tuple[str, str, str] | None:
    """What was done, as the handler wrote it when resolving: shown before the rating."""
    for e in reversed(events):
        if e["type"] == "resolved" and e["reason"]:
            return (_local(e["at"], system.tz) or "", unit, e["reason"])
    return None


def _timeline(system: System, events: list[Any], lang: str) -> list[tuple[str, str, str | None]]:
    """The citizen's lines: the events whose spec shows them to citizens, newest first."""
    out = []
    for e in events:
        spec = spec_of(e["type"])
        if spec.citizen is None or spec.citizen_key is None:
            continue
        code = e["to_unit"] if spec.citizen.unit else None
        u = system.ref.units.get(code) if code else None
        unit_name = u.name if u else (code or "")
        rating = rating_of(e)
        text = t(
            spec.citizen_key,
            lang,
            unit=unit_name,
            rating=t(f"rating_{rating}", lang) if rating else "",
        )
        detail = e["reason"] if spec.citizen.reason else None  # what was done, for the citizen
        out.append((_local(e["at"], system.tz) or "", text, detail))
    return list(reversed(out))  # newest first


@router.post("/t/{token}/rate", response_class=HTMLResponse, openapi_extra=form_body(QrRating))
async def rate(token: str, request: Request, system: SystemDep) -> Response:
    limit_public(request, "rate", client_ip(request))
    form = await read_form(request, 16 * 1024, max_files=0)
    with system.db.connect() as conn:
        rpt = store.report_by_token(conn, token)
    if rpt is None:
        return not_found(request, "qr_track_not_found")
    rating = field(form, "rating")
    comment = (field(form, "comment") or "")[:500] or None
    refused = rpt["case_id"] is None or rating not in ("satisfied", "basic", "unsatisfied")
    if not refused:
        cmd = action_command(
            "rate",
            {"rating": rating, "comment": comment},
            case_id=rpt["case_id"],
            actor="citizen:qr",
        )
        result = await run_in_threadpool(system.engine.apply, [cmd])
        refused = not result.results[0].ok
    if refused:
        return message(request, 409, "qr_rate_title", "qr_rate_refused")
    return RedirectResponse(f"/t/{token}{lang_query(request)}", status_code=303)


@router.get("/t/{token}/photo/{photo_id}")
def own_photo(token: str, photo_id: RowId, system: SystemDep) -> Response:
    """The citizen sees the photos of their own report, nobody else's."""
    with system.db.connect() as conn:
        rpt = store.report_by_token(conn, token)
        p = store.photo(conn, photo_id)
    if rpt is None or p is None or p["report_id"] != rpt["id"]:
        raise HTTPException(404, "no such photo")
    return photo_response(p)
