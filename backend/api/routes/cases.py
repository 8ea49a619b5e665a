"""Cases over REST (integrations, API key): report one, read it with its timeline, act on it,
list the reports it gathered.

Writes go through the same CaseEngine as the stream, synchronously, so ``POST /cases`` can
answer 201 with the stored case; bad input is a 422 with one message per field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import (
    ActingClient,
    ApiClient,
    FoundCase,
    IntakeDep,
    JsonObject,
    KeyRateLimit,
    ReportingClient,
    RowId,
    ScopeDep,
    SystemDep,
    idempotency_key,
    json_object,
    sees_personal_data,
)
from backend.api.responses import outcome_response, shown_case, shown_report
from backend.api.schemas import CaseAction, NewCase, json_body
from backend.core.errors import CommandInvalid
from backend.core.i18n import t
from backend.domain.commands import action_command
from backend.domain.transitions import validate_new_case
from backend.intake import store
from backend.intake.service import CASE_FIELDS_OF_REPORT, Report
from backend.queries.cases import case_by_id, case_events_json

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post(
    "",
    status_code=201,
    dependencies=[Depends(KeyRateLimit("cases"))],
    openapi_extra=json_body(NewCase),
)
async def create_case(
    request: Request,
    client: ReportingClient,
    data: JsonObject,
    system: SystemDep,
    scope: ScopeDep,
    intake: IntakeDep,
) -> Response:
    """DESIGN.md's REST intake. A report repeating an open case is attached to it: 200 with
    that case (``report.state`` = attached) instead of 201 with a new one."""
    ref = data.pop("ref", None)
    if ref is not None and (not isinstance(ref, str) or not 0 < len(ref) <= 80):
        raise CommandInvalid({"ref": "a string of at most 80 characters"})
    dedupe = data.pop("dedupe", True)
    if not isinstance(dedupe, bool):
        raise CommandInvalid({"dedupe": "true or false"})
    validate_new_case(data, system.ref)  # every field's problem at once, before any write
    unit = data.get("unit")
    if unit is not None and unit not in system.ref.units:  # a case goes to a unit that exists
        raise CommandInvalid({"unit": t("unit_unknown", "en", unit=repr(unit))})
    report = Report(
        channel=data["channel"],
        text=data["description"],
        category=data["category"],
        ref=ref,
        dedupe=dedupe,
        idem_key=idempotency_key(request, f"api:{client}") or (f"ref|{ref}" if ref else None),
        **{k: data[k] for k in CASE_FIELDS_OF_REPORT if data.get(k) is not None},
        extra={
            k: v
            for k, v in data.items()
            if k not in (*CASE_FIELDS_OF_REPORT, "channel", "description", "category")
        },
    )
    out = await run_in_threadpool(intake.submit, report, f"api:{client}"[:64])
    return outcome_response(system, scope, out, sees_personal_data(request))


@router.get("/{case_id}")
def get_case(
    case_id: RowId, client: ApiClient, case: FoundCase, system: SystemDep, scope: ScopeDep
) -> dict[str, Any]:
    """The case with its full event timeline."""
    with system.db.connect() as conn:
        case["events"] = case_events_json(conn, case_id, scope=scope)
    return case


def action_of(data: dict[str, Any], client: str) -> tuple[str, dict[str, Any], str]:
    """The action, its parameters and the actor to record, from a ``CaseAction`` body."""
    action = data.pop("action", None)
    if not isinstance(action, str):
        raise CommandInvalid({"action": "required"})
    # the integration may name its own operator, but never hide which integration it is
    named = data.pop("actor", None)
    if named is not None and (not isinstance(named, str) or len(named) > 32):
        raise CommandInvalid({"actor": "a text of at most 32 characters"})
    actor = f"api:{client}:{named}" if named else f"api:{client}"
    params = data.pop("params", None)
    if params is None:
        params = data
    elif not isinstance(params, dict):
        raise CommandInvalid({"params": "an object"})
    return action, params, actor[:64]


async def action_body(case_id: RowId, request: Request) -> dict[str, Any]:
    """The body of an action, read only once the case id in the path is a number (else
    FastAPI's 422 for the path, as for any route)."""
    return await json_object(request)


@router.post("/{case_id}/actions", openapi_extra=json_body(CaseAction))
async def case_action(
    request: Request,
    case_id: RowId,
    client: ActingClient,
    in_scope: FoundCase,  # 404 for a case outside the key's area, before anything is done
    data: Annotated[dict[str, Any], Depends(action_body)],
    system: SystemDep,
    scope: ScopeDep,
) -> dict[str, Any]:
    """200 with the case as it is now; 409 for a transition the state machine forbids."""
    action, params, actor = action_of(data, client)
    cmd = action_command(action, params, case_id=case_id, actor=actor)
    result = await run_in_threadpool(system.engine.apply, [cmd])
    r = result.results[0]
    if not r.ok:
        assert r.error is not None
        raise r.error
    with system.db.connect() as conn:
        return shown_case(case_by_id(conn, case_id, scope=scope), sees_personal_data(request))


@router.get("/{case_id}/reports")
def case_reports_of(
    case_id: RowId, request: Request, client: ApiClient, case: FoundCase, system: SystemDep
) -> dict[str, Any]:
    """Every report of a case: the first, and each duplicate attached to it."""
    with system.db.connect() as conn:
        rows = store.reports_of_case(conn, case_id)
        photos = store.photo_ids(conn, [r["id"] for r in rows])
    return {
        "case_id": case_id,
        "duplicate_count": case["duplicate_count"],
        "reports": [
            shown_report(store.report_json(r, photos[r["id"]]), sees_personal_data(request))
            for r in rows
        ],
    }
