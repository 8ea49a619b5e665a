"""HTTP intake for integrations (API key): REST cases, hotline and WeChat text, and the
staff side of intake: the triage queue, the reports of a case, their photos."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.api.app import Client, _case_or_404, _json_object, _sys
from backend.api.ratelimit import limit_key
from backend.core.errors import CommandInvalid
from backend.domain.transitions import validate_new_case
from backend.intake import store
from backend.intake.service import (
    ATTACHED,
    CASE_FIELDS_OF_REPORT,
    STALE,
    TRIAGE,
    Intake,
    Outcome,
    Report,
)
from backend.intake.textparse import parser_for

router = APIRouter(prefix="/api/v1")


def intake(request: Request) -> Intake:
    state = request.app.state
    if getattr(state, "intake", None) is None:
        state.intake = Intake(_sys(request))
    return state.intake  # type: ignore[no-any-return]


@router.post("/cases", status_code=201)
async def create_case(request: Request, client: Client) -> Any:
    """DESIGN.md's REST intake. A report repeating an open case is attached to it: 200 with
    that case (``report.state`` = attached) instead of 201 with a new one."""
    limit_key(request, "cases", client)
    data = await _json_object(request)
    ref = data.pop("ref", None)
    if ref is not None and (not isinstance(ref, str) or not 0 < len(ref) <= 80):
        raise CommandInvalid({"ref": "a string of at most 80 characters"})
    dedupe = data.pop("dedupe", True)
    if not isinstance(dedupe, bool):
        raise CommandInvalid({"dedupe": "true or false"})
    system = _sys(request)
    validate_new_case(data, system.ref)  # every field's problem at once, before any write
    report = Report(
        channel=data["channel"],
        text=data["description"],
        category=data["category"],
        ref=ref,
        dedupe=dedupe,
        **{k: data[k] for k in CASE_FIELDS_OF_REPORT if data.get(k) is not None},
        extra={
            k: v
            for k, v in data.items()
            if k not in (*CASE_FIELDS_OF_REPORT, "channel", "description", "category")
        },
    )
    out = await run_in_threadpool(intake(request).submit, report, f"api:{client}"[:64])
    return _answer(system, out)


def _answer(system: Any, out: Outcome) -> Response:
    body: dict[str, Any] = {}
    if out.case_id is not None:
        body = _case_or_404(system, out.case_id)
    body["report"] = {"id": out.report_id, "state": out.state, "similarity": out.similarity}
    status = {ATTACHED: 200, TRIAGE: 202}.get(out.state, 201)
    return JSONResponse(body, status_code=status)


@router.post("/intake/text", status_code=201)
async def text_message(request: Request, client: Client) -> Any:
    """A 12345 hotline order or a WeChat group message as free Chinese text: the parser picks
    category, place and urgency; what it is unsure of goes to the triage queue (202)."""
    limit_key(request, "text", client)
    data = await _json_object(request)
    errors: dict[str, str] = {}
    channel = data.get("channel")
    if channel not in ("hotline", "wechat"):
        errors["channel"] = "hotline or wechat"
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "required, the message"
    elif len(text) > 4000:
        errors["text"] = "at most 4000 characters"
    system = _sys(request)
    group = data.get("grid")  # the WeChat group's grid (一群一网格), when the sender knows it
    if group is not None and (not isinstance(group, str) or group not in system.ref.grids):
        errors["grid"] = f"unknown grid code {group!r}"
    received = data.get("received_at")
    at: datetime | None = None
    if received is not None:
        try:
            at = datetime.fromisoformat(received)
            if at.tzinfo is None:
                errors["received_at"] = "needs a timezone offset"
        except (TypeError, ValueError):
            errors["received_at"] = "an ISO 8601 time"
    for name, limit in (("reporter", 100), ("order_no", 80)):
        v = data.get(name)
        if v is not None and (not isinstance(v, str) or len(v) > limit):
            errors[name] = f"a text of at most {limit} characters"
    unknown = set(data) - {"channel", "text", "grid", "received_at", "reporter", "order_no"}
    errors.update({k: "unknown field" for k in sorted(unknown)})
    if errors:
        raise CommandInvalid(errors)
    assert isinstance(text, str) and isinstance(channel, str)
    parsed = parser_for(system).parse(text, group)
    report = Report(
        channel=channel,
        text=text.strip(),
        category=parsed.category,
        grid=parsed.grid,
        address=parsed.address,
        reporter=data.get("reporter"),
        severity=parsed.severity,
        source_ref=data.get("order_no"),
        received_at=at,
        parse=parsed.as_json(),
        triage=parsed.triage_reason(system.settings.text_confidence),
    )
    out = await run_in_threadpool(intake(request).submit, report, f"{channel}:{client}"[:64])
    resp = _answer(system, out)
    return resp


@router.get("/intake/triage")
def triage_list(
    request: Request,
    client: Client,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """Reports waiting for a person: what the parser could not decide, oldest first."""
    system = _sys(request)
    with system.db.connect() as conn:
        total, rows = store.triage_queue(conn, limit, offset, system.clock.now() - STALE)
        photos = store.photo_ids(conn, [r["id"] for r in rows])
    return {"total": total, "items": [store.report_json(r, photos[r["id"]]) for r in rows]}


@router.post("/intake/triage/{report_id}")
async def triage_decide(report_id: int, request: Request, client: Client) -> Any:
    """``{"category": …, "grid"?: …, "address"?: …, "severity"?: …}`` opens (or attaches) the
    case; ``{"reject": "reason"}`` closes the report as no case. 409 if decided already."""
    data = await _json_object(request)
    system = _sys(request)
    try:
        out = await run_in_threadpool(intake(request).decide, report_id, data, f"api:{client}"[:64])
    except LookupError:
        raise HTTPException(404, f"no report {report_id}") from None
    if out.case_id is None:
        return {"report": {"id": out.report_id, "state": out.state}}
    return _answer(system, out)


@router.get("/cases/{case_id}/reports")
def case_reports_of(case_id: int, request: Request, client: Client) -> Any:
    """Every report of a case: the first, and each duplicate attached to it."""
    system = _sys(request)
    case = _case_or_404(system, case_id)
    with system.db.connect() as conn:
        rows = store.reports_of_case(conn, case_id)
        photos = store.photo_ids(conn, [r["id"] for r in rows])
    return {
        "case_id": case_id,
        "duplicate_count": case["duplicate_count"],
        "reports": [store.report_json(r, photos[r["id"]]) for r in rows],
    }


@router.get("/photos/{photo_id}")
def get_photo(photo_id: int, request: Request, client: Client) -> Response:
    with _sys(request).db.connect() as conn:
        p = store.photo(conn, photo_id)
    if p is None:
        raise HTTPException(404, f"no photo {photo_id}")
    return photo_response(p)


def photo_response(p: Any) -> Response:
    return Response(
        p["data"],
        media_type=p["content_type"],
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=86400",
        },
    )
