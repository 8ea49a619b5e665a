"""Service halls over HTTP (API key of the hall system): events in, halls and alerts out, and
the supervisor's answers to alerts.

``POST /halls/events`` checks a batch whole and puts it on the halls' own stream for the hall
processor; a bad batch is 422 with a reason per field and nothing goes on the stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend.api.bodies import capped_body, nul_fields
from backend.api.deps import (
    ApiClient,
    BigIntId,
    HallsClient,
    JsonObject,
    KeyRateLimit,
    ScopeDep,
    SystemDep,
)
from backend.api.hall_schemas import AlertAction, HallEventBatch, NewSilence
from backend.api.schemas import json_body
from backend.core.errors import CommandInvalid
from backend.halls import alerts
from backend.halls.events import check_batch
from backend.halls.rules import RULE_DEFAULTS, load_rules
from backend.halls.stream import HallStream
from backend.queries.halls import STATES, alert_rows, halls_view, one_alert
from backend.store.models import hall_events

router = APIRouter(tags=["halls"])

#: A batch of 500 events is about 100 KB.
MAX_EVENTS_BODY = 512 * 1024


@router.post(
    "/halls/events",
    status_code=202,
    dependencies=[Depends(KeyRateLimit("halls"))],
    openapi_extra=json_body(HallEventBatch),
)
async def post_events(client: HallsClient, request: Request, system: SystemDep) -> JSONResponse:
    """A batch of hall events: 202 once on the stream; the same ids again are counted as
    repeats and skipped."""
    raw = await capped_body(request, MAX_EVENTS_BODY)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CommandInvalid({"body": f"not valid JSON: {exc}"}) from None
    if bad := nul_fields(body):
        raise CommandInvalid(bad)
    events = check_batch(body, system.halls, system.clock.now())
    unique = list({e.id: e for e in events}.values())
    with system.db.connect() as conn:
        known = set(
            conn.execute(
                select(hall_events.c.id).where(hall_events.c.id.in_([e.id for e in unique]))
            ).scalars()
        )
    fresh = [e for e in unique if e.id not in known]
    HallStream(system.redis, system.keys).add_many(e.to_json() for e in fresh)
    return JSONResponse(
        {"accepted": len(fresh), "repeated": len(events) - len(fresh)}, status_code=202
    )


@router.get("/halls")
def get_halls(client: ApiClient, system: SystemDep, scope: ScopeDep) -> dict[str, Any]:
    """Every hall with its windows and their live state (staffed / vacant / break, queue,
    wait), and how many alerts stand open."""
    with system.db.connect() as conn:
        rows = halls_view(
            conn, system.halls, system.clock.now(), system.calendar, system.tz, scope=scope
        )
    return {"halls": rows}


@router.get("/halls/{code}")
def get_hall(code: str, client: ApiClient, system: SystemDep, scope: ScopeDep) -> dict[str, Any]:
    with system.db.connect() as conn:
        rows = halls_view(
            conn,
            system.halls,
            system.clock.now(),
            system.calendar,
            system.tz,
            scope=scope,
            only=code,
        )
    if not rows:
        raise HTTPException(404, f"no hall {code!r}")
    return rows[0]


@router.get("/alerts")
def get_alerts(
    client: ApiClient,
    system: SystemDep,
    scope: ScopeDep,
    hall: Annotated[str | None, Query(max_length=32)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """Alerts newest first; filters: ``hall``, ``state`` (open, acknowledged, resolved)."""
    if state is not None and state not in STATES:
        raise CommandInvalid({"state": "one of " + ", ".join(STATES)})
    with system.db.connect() as conn:
        return {"alerts": alert_rows(conn, system.clock.now(), scope=scope, hall=hall, state=state)}


@router.get("/alerts/{alert_id}")
def get_alert(
    alert_id: BigIntId, client: ApiClient, system: SystemDep, scope: ScopeDep
) -> dict[str, Any]:
    """One alert with its whole log (every change: who, when, what)."""
    with system.db.connect() as conn:
        try:
            return one_alert(conn, alert_id, system.clock.now(), scope=scope)
        except KeyError:
            raise HTTPException(404, f"no alert {alert_id}") from None


def _action(data: dict[str, Any]) -> tuple[str, str | None]:
    errors: dict[str, str] = {}
    note, by = data.get("note"), data.get("by")
    if not isinstance(note, str) or not note.strip() or len(note) > 500:
        errors["note"] = "required, at most 500 characters (whom you phoned, what was done)"
    if by is not None and (not isinstance(by, str) or not by.strip() or len(by) > 64):
        errors["by"] = "a name of at most 64 characters"
    for name in sorted(set(data) - set(AlertAction.model_fields)):
        errors[name] = "unknown field"
    if errors:
        raise CommandInvalid(errors)
    assert isinstance(note, str)
    return note.strip(), by.strip() if isinstance(by, str) else None


@router.post("/alerts/{alert_id}/ack", openapi_extra=json_body(AlertAction))
def ack_alert(
    alert_id: BigIntId, client: HallsClient, data: JsonObject, system: SystemDep, scope: ScopeDep
) -> dict[str, Any]:
    """Acknowledge an open alert: 200 with the alert; 409 when it is not open."""
    note, by = _action(data)
    now = system.clock.now()
    with system.db.begin() as conn:
        _in_scope(conn, alert_id, now, scope)
        alerts.acknowledge(conn, alert_id, by or f"api:{client}", note, now)
        return one_alert(conn, alert_id, now, scope=scope)


@router.post("/alerts/{alert_id}/resolve", openapi_extra=json_body(AlertAction))
def resolve_alert(
    alert_id: BigIntId, client: HallsClient, data: JsonObject, system: SystemDep, scope: ScopeDep
) -> dict[str, Any]:
    """Resolve an alert by hand: 200 with the alert; 409 when it is resolved already."""
    note, by = _action(data)
    now = system.clock.now()
    with system.db.begin() as conn:
        _in_scope(conn, alert_id, now, scope)
        alerts.resolve(conn, alert_id, by or f"api:{client}", note, now, load_rules())
        return one_alert(conn, alert_id, now, scope=scope)


def _in_scope(conn: Any, alert_id: int, now: datetime, scope: Any) -> None:
    try:
        one_alert(conn, alert_id, now, scope=scope)
    except KeyError:
        raise HTTPException(404, f"no alert {alert_id}") from None


@router.post("/halls/silences", status_code=201, openapi_extra=json_body(NewSilence))
def post_silence(client: HallsClient, data: JsonObject, system: SystemDep) -> dict[str, Any]:
    """A planned closure (training, a system upgrade): its alerts stay quiet."""
    errors: dict[str, str] = {}
    hall, window, rule = data.get("hall"), data.get("window"), data.get("rule")
    if not isinstance(hall, str) or system.halls.hall(hall) is None:
        errors["hall"] = f"unknown hall {hall!r}"
    elif window is not None and (
        not isinstance(window, str) or system.halls.window(hall, window) is None
    ):
        errors["window"] = f"hall {hall} has no window {window!r}"
    if rule is not None and rule not in RULE_DEFAULTS:
        errors["rule"] = "one of " + ", ".join(RULE_DEFAULTS)
    times: dict[str, datetime] = {}
    for name in ("starts", "ends"):
        try:
            times[name] = datetime.fromisoformat(data[name])
            if times[name].tzinfo is None:
                errors[name] = "needs a timezone offset"
        except (KeyError, TypeError, ValueError):
            errors[name] = "required, an ISO 8601 time with offset"
    if not errors and times["ends"] <= times["starts"]:
        errors["ends"] = "must be after starts"
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        errors["reason"] = "required, at most 500 characters"
    for name in sorted(set(data) - set(NewSilence.model_fields)):
        errors[name] = "unknown field"
    if errors:
        raise CommandInvalid(errors)
    with system.db.begin() as conn:
        sid = alerts.add_silence(
            conn,
            hall=str(hall),
            window=window,
            rule=rule,
            starts=times["starts"],
            ends=times["ends"],
            reason=str(reason),
            who=f"api:{client}",
        )
    return {"id": sid}
