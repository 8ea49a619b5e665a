"""Text intake for integrations (API key): 12345 hotline orders and WeChat group messages as
free Chinese text, and the staff side of intake: the triage queue and its decisions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import (
    ActingClient,
    ApiClient,
    IntakeDep,
    JsonObject,
    KeyRateLimit,
    Offset,
    ReportingClient,
    RowId,
    ScopeDep,
    SystemDep,
    idempotency_key,
    json_object,
    sees_personal_data,
)
from backend.api.instants import past_instant
from backend.api.responses import outcome_response, shown_report
from backend.api.schemas import TextMessage, TriageDecision, json_body
from backend.core.errors import CommandInvalid
from backend.intake import store
from backend.intake.service import STALE, Report
from backend.intake.textparse import parser_for
from backend.refdata.index import RefIndex

router = APIRouter(prefix="/intake", tags=["intake"])


def check_text_message(
    data: dict[str, Any], ref: RefIndex, now: datetime, skew: timedelta
) -> datetime | None:
    """Every problem of a ``TextMessage`` body at once (CommandInvalid, 422); the time it was
    received, when given (not in the future beyond ``skew``, nor before 2000)."""
    errors: dict[str, str] = {}
    channel = data.get("channel")
    if channel not in ("hotline", "wechat"):
        errors["channel"] = "hotline or wechat"
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "required, the message"
    elif len(text) > 4000:
        errors["text"] = "at most 4000 characters"
    group = data.get("grid")  # the WeChat group's grid (一群一网格), when the sender knows it
    if group is not None and (not isinstance(group, str) or group not in ref.grids):
        errors["grid"] = f"unknown grid code {group!r}"
    received = data.get("received_at")
    at: datetime | None = None
    if received is not None:
        at, why = past_instant(received, now, skew)
        if why:
            errors["received_at"] = why
    for name, limit in (("reporter", 100), ("order_no", 80)):
        v = data.get(name)
        if v is not None and (not isinstance(v, str) or len(v) > limit):
            errors[name] = f"a text of at most {limit} characters"
    unknown = set(data) - set(TextMessage.model_fields)
    errors.update({k: "unknown field" for k in sorted(unknown)})
    if errors:
        raise CommandInvalid(errors)
    return at


@router.post(
    "/text",
    status_code=201,
    dependencies=[Depends(KeyRateLimit("text"))],
    openapi_extra=json_body(TextMessage),
)
async def text_message(
    request: Request,
    client: ReportingClient,
    data: JsonObject,
    system: SystemDep,
    scope: ScopeDep,
    intake: IntakeDep,
) -> Response:
    """A 12345 hotline order or a WeChat group message as free Chinese text: the parser picks
    category, place and urgency; what it is unsure of goes to the triage queue (202)."""
    skew = timedelta(seconds=system.settings.clock_skew_seconds)
    at = check_text_message(data, system.ref, system.clock.now(), skew)
    channel: str = data["channel"]
    text: str = data["text"]
    parsed = parser_for(system.ref).parse(text, data.get("grid"))
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
        idem_key=idempotency_key(request, f"{channel}:{client}")
        or (f"{channel}:{client}|order|{data['order_no']}" if data.get("order_no") else None),
        triage=parsed.triage_reason(system.settings.text_confidence),
    )
    out = await run_in_threadpool(intake.submit, report, f"{channel}:{client}"[:64])
    return outcome_response(system, scope, out, sees_personal_data(request))


@router.get("/triage")
def triage_list(
    request: Request,
    client: ApiClient,
    system: SystemDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Reports waiting for a person: what the parser could not decide, oldest first."""
    with system.db.connect() as conn:
        total, rows = store.triage_queue(conn, limit, offset, system.clock.now() - STALE)
        photos = store.photo_ids(conn, [r["id"] for r in rows])
    personal = sees_personal_data(request)
    items = [shown_report(store.report_json(r, photos[r["id"]]), personal) for r in rows]
    return {"total": total, "items": items}


async def decision_body(report_id: RowId, request: Request) -> dict[str, Any]:
    """The body of a decision, read only once the report id in the path is a number."""
    return await json_object(request)


@router.post("/triage/{report_id}", response_model=None, openapi_extra=json_body(TriageDecision))
async def triage_decide(
    request: Request,
    report_id: RowId,
    client: ActingClient,
    data: Annotated[dict[str, Any], Depends(decision_body)],
    system: SystemDep,
    scope: ScopeDep,
    intake: IntakeDep,
) -> dict[str, Any] | Response:
    """``{"category": …, "grid"?: …, "address"?: …, "severity"?: …}`` opens (or attaches) the
    case; ``{"reject": "reason"}`` closes the report as no case. 409 if decided already."""
    try:
        out = await run_in_threadpool(intake.decide, report_id, data, f"api:{client}"[:64])
    except LookupError:
        raise HTTPException(404, f"no report {report_id}") from None
    if out.case_id is None:
        return {"report": {"id": out.report_id, "state": out.state}}
    return outcome_response(system, scope, out, sees_personal_data(request))
