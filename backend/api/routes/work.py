"""The handler's workbench (/work, 承办人工作台): my cases by deadline, one case with its
timeline and the actions a handler may take on it, and the photos of a case.

Server-rendered for weak phones. The gate lets only people with Permission.WORK in and refuses
posts from other origins; every query takes the handler's scope (their units, through
``backend/queries/scope.py``), so a case outside it is not found (404), and every action is an
engine command signed by the person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.api.bodies import client_ip, files
from backend.api.citizen_pages import grid_path, lang_of
from backend.api.deps import BigIntId, SystemDep
from backend.api.responses import photo_response
from backend.api.work_pages import (
    MAX_TEXT,
    action_form,
    clean_text,
    frame,
    local,
    person_of,
    refusal,
    scope_of,
    time_left,
    written_reason,
)
from backend.auth import audit
from backend.core.errors import CaseNotFound, CommandInvalid, GridwatchError
from backend.core.i18n import t
from backend.domain.commands import action_command
from backend.domain.events import spec_of
from backend.intake import store
from backend.intake.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, check_photos
from backend.intake.resolution_photos import (
    insert_resolution_photos,
    resolution_photo,
    resolution_photo_ids,
)
from backend.queries.cases import case_row
from backend.queries.stuck import stuck_row
from backend.queries.timeline import load_timeline
from backend.queries.workbench import my_cases
from backend.system import System

router = APIRouter(tags=["workbench"], include_in_schema=False)

#: what a handler may do, by the case's status (the state machine has the last word)
ACTIONS_BY_STATUS = {
    "dispatched": ("accept", "pause", "request_escalation", "consult", "return"),
    "accepted": ("start", "resolve", "pause", "request_escalation", "consult", "return"),
    "in_progress": ("resolve", "pause", "request_escalation", "consult", "return"),
    "paused": ("resume",),
}
HANDLER_ACTIONS = frozenset(a for acts in ACTIONS_BY_STATUS.values() for a in acts)
#: actions whose form carries a text (the result of a resolution, else the reason)
NEEDS_TEXT = frozenset({"resolve", "pause", "request_escalation", "consult", "return"})
MAX_ACTION_FORM = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024


def _place(system: System, grid: str | None) -> str:
    return grid_path(system.ref, grid) if grid and grid in system.ref.grids else ""


def _category(system: System, code: str | None, lang: str) -> str:
    cat = system.ref.categories.get(code or "")
    if cat is None:
        return code or ""
    return cat.name_en if lang == "en" else cat.name


def _unit(system: System, code: str | None) -> str:
    u = system.ref.units.get(code or "")
    return u.name if u else (code or "")


@router.get("/work", response_class=HTMLResponse)
def my_list(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    now = system.clock.now()
    with system.db.connect() as conn:
        found = my_cases(conn, scope_of(request, system), now)
    items = [
        {
            "id": r["id"],
            "code": r["code"],
            "colour": r["colour"] or "green",
            "colour_text": t(f"colour_{r['colour'] or 'green'}", lang),
            "category": _category(system, r["category"], lang),
            "place": _place(system, r["grid"]),
            "status": t(f"status_{r['status']}", lang),
            "left": time_left(r["seconds_left"], lang, paused=r["status"] == "paused"),
            "unit": _unit(system, r["unit"]),
        }
        for r in found["items"]
    ]
    done = request.query_params.get("done")
    notice = t(f"wb_done_{done}", lang) if done in HANDLER_ACTIONS or done == "patrol" else None
    return frame(
        request,
        "work_list.html",
        items=items,
        total=found["total"],
        notice=notice,
        units=[_unit(system, u) for u in person_of(request).units],
    )


def _case_page(
    request: Request,
    system: System,
    case_id: int,
    status: int = 200,
    *,
    error: str | None = None,
    text: str = "",
) -> HTMLResponse:
    lang = lang_of(request)
    now = system.clock.now()
    scope = scope_of(request, system)
    with system.db.connect() as conn:
        tl = load_timeline(conn, case_id, now, scope=scope)  # CaseNotFound outside the units
        row = case_row(conn, case_id, scope=scope)
        reports = store.reports_of_case(conn, case_id)
        photos = store.photo_ids(conn, [r["id"] for r in reports])
        done_photos = resolution_photo_ids(conn, case_id)
    assert row is not None
    if row["reporter"]:  # shown in full below: who saw whose name and phone is on record
        with system.db.begin() as conn:
            audit.record(
                conn,
                now,
                person_of(request).actor,
                "personal_view",
                tl.case["code"],
                client_ip(request),
                case=case_id,
            )
    left = stuck_row(row, now)["seconds_left"] if row["status"] in ACTIONS_BY_STATUS else None
    timeline = [
        {
            "at": local(e["at_dt"], system.tz),
            "what": t(spec_of(e["type"]).label_key, lang),
            "who": _unit(system, e["to_unit"]) if e["to_unit"] != e["from_unit"] else "",
            "actor": e["actor"],
            "reason": written_reason(e["type"], e["actor"], e["reason"]),
        }
        for e in reversed(tl.events)
    ]
    c = tl.case
    depts = sorted(
        (u.name, u.code)
        for u in system.ref.units.values()
        if u.kind == "department" and u.code != row["unit_code"]
    )
    return frame(
        request,
        "work_case.html",
        status,
        case_id=case_id,
        code=c["code"],
        colour=c["colour"] or "green",
        status_text=t(f"status_{c['status']}", lang),
        category=_category(system, c["category"], lang),
        place=_place(system, c["grid"]) or (c["address"] or ""),
        unit=_unit(system, c["unit"]),
        left=time_left(left, lang) if left is not None or row["due_at"] else "",
        due=local(row["due_at"], system.tz),
        description=c["description"],
        reporter=c["reporter"] or "",  # in full: only the case's own handlers reach this page
        reports=[
            {"text": r["text"], "photos": [f"/work/photos/report/{p}" for p in photos[r["id"]]]}
            for r in reports
        ],
        done_photos=[f"/work/photos/result/{p}" for p in done_photos],
        timeline=timeline,
        actions=ACTIONS_BY_STATUS.get(c["status"], ()),
        departments=depts,
        error=error,
        text=text,
        max_text=MAX_TEXT,
        done=request.query_params.get("done"),
    )


@router.get("/work/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: BigIntId, request: Request, system: SystemDep) -> Response:
    return _case_page(request, system, case_id)


def _params(action: str, text: str | None, form: Any, system: System, lead: str) -> dict[str, Any]:
    """The engine command's parameters from the form; a missing text is a CommandInvalid."""
    if action in NEEDS_TEXT and not text:
        raise CommandInvalid({"text": "required"})
    if text is not None and len(text) > MAX_TEXT:
        raise CommandInvalid({"text": f"at most {MAX_TEXT} characters"})
    if action == "consult":
        co = form.get("co_unit")
        if not isinstance(co, str) or co not in system.ref.units or co == lead:
            raise CommandInvalid({"co_unit": "a unit"})
        return {"lead": lead, "co_units": [co], "reason": text}
    return {"reason": text} if action in NEEDS_TEXT else {}


@router.post("/work/cases/{case_id}/{action}", response_class=HTMLResponse)
async def act(case_id: BigIntId, action: str, request: Request, system: SystemDep) -> Response:
    """One action on one case of my units: 303 back to the case (or to my list once it left
    it); 404 outside my units; 409 when the state machine refuses; 422 for bad input."""
    lang = lang_of(request)
    person = person_of(request)
    scope = scope_of(request, system)
    with system.db.connect() as conn:
        row = case_row(conn, case_id, scope=scope)
    if row is None:
        raise CaseNotFound(case_id)  # before the body is read: nothing about it is said
    if action not in HANDLER_ACTIONS:
        raise HTTPException(404, t("wb_no_such_action", lang))
    form = await action_form(request, MAX_ACTION_FORM, MAX_PHOTOS + 1)
    text = clean_text(form, "text")
    try:
        params = _params(action, text, form, system, row["unit_code"] or "")
        photos = check_photos(await files(form, "photo")) if action == "resolve" else []
    except CommandInvalid as exc:
        why = t("wb_need_text", lang) if "text" in exc.errors else refusal(exc, lang)
        if "photo" in exc.errors:
            why = t("qr_error_photo", lang)
        return _case_page(request, system, case_id, 422, error=why, text=(text or "")[:MAX_TEXT])
    if action == "accept":
        params["holder"] = person.display_name[:32]
    cmd = action_command(action, params, case_id=case_id, actor=person.actor)
    result = await run_in_threadpool(system.engine.apply, [cmd])
    r = result.results[0]
    if not r.ok:
        assert r.error is not None
        err: GridwatchError = r.error
        return _case_page(request, system, case_id, 409, error=refusal(err, lang), text=text or "")
    if photos:
        with system.db.begin() as conn:
            insert_resolution_photos(conn, case_id, person.actor, photos, system.clock.now())
    with system.db.connect() as conn:
        still_mine = case_row(conn, case_id, scope=scope)
    q = "&lang=en" if lang == "en" else ""
    if still_mine is None or still_mine["status"] not in ACTIONS_BY_STATUS:
        return RedirectResponse(f"/work?done={action}{q}", status_code=303)
    return RedirectResponse(f"/work/cases/{case_id}?done={action}{q}", status_code=303)


@router.get("/work/photos/{kind}/{photo_id}")
def case_photo(kind: str, photo_id: BigIntId, request: Request, system: SystemDep) -> Response:
    """A report's or a resolution's photo, for the handlers of its case only."""
    scope = scope_of(request, system)
    with system.db.connect() as conn:
        if kind == "report":
            p = store.photo(conn, photo_id)
            rpt = store.report_by_id(conn, p["report_id"]) if p else None
            case_id = rpt["case_id"] if rpt else None
        elif kind == "result":
            p = resolution_photo(conn, photo_id)
            case_id = p["case_id"] if p else None
        else:
            p, case_id = None, None
        mine = case_id is not None and case_row(conn, case_id, scope=scope) is not None
    if p is None or not mine:
        raise HTTPException(404, t("wb_no_photo", lang_of(request)))
    return photo_response(p)


@router.get("/work/static/work.js")
def work_script() -> FileResponse:
    """The patrol form's location button: the workbench's only script."""
    return FileResponse(
        Path(__file__).parent.parent / "static" / "work.js",
        media_type="text/javascript",
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
