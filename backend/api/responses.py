"""Answers more than one route gives: what became of a report, and a stored photo."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response
from sqlalchemy import RowMapping

from backend.intake.service import ATTACHED, TRIAGE, Outcome
from backend.queries.cases import case_by_id
from backend.queries.scope import Scope
from backend.system import System


def outcome_response(system: System, scope: Scope, out: Outcome) -> Response:
    """The case a report opened (201) or was attached to (200), or the report waiting in the
    triage queue (202), with ``report``: its id, state and similarity."""
    body: dict[str, Any] = {}
    if out.case_id is not None:
        with system.db.connect() as conn:
            body = case_by_id(conn, out.case_id, scope=scope)
    body["report"] = {"id": out.report_id, "state": out.state, "similarity": out.similarity}
    status = {ATTACHED: 200, TRIAGE: 202}.get(out.state, 201)
    return JSONResponse(body, status_code=status)


def photo_response(p: RowMapping) -> Response:
    """A stored photo, never sniffed or run as anything else."""
    return Response(
        p["data"],
        media_type=p["content_type"],
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "private, max-age=86400",
        },
    )
