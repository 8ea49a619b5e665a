"""Answers more than one route gives: what became of a report, and a stored photo."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response
from sqlalchemy import RowMapping

from backend.domain.personal import mask_reporter
from backend.intake.service import ATTACHED, TRIAGE, Outcome
from backend.queries.cases import case_by_id
from backend.queries.scope import Scope
from backend.system import System


def outcome_response(system: System, scope: Scope, out: Outcome, personal: bool) -> Response:
    """The case a report opened (201) or was attached to (200), or the report waiting in the
    triage queue (202); a retry of an earlier report gets what that one became (200). With
    ``report``: its id, state and similarity. Without ``personal``, the reporter is masked
    (an attached report answers with someone else's case)."""
    body: dict[str, Any] = {}
    if out.case_id is not None:
        with system.db.connect() as conn:
            body = shown_case(case_by_id(conn, out.case_id, scope=scope), personal)
    body["report"] = {"id": out.report_id, "state": out.state, "similarity": out.similarity}
    status = 200 if out.replay else {ATTACHED: 200, TRIAGE: 202}.get(out.state, 201)
    return JSONResponse(body, status_code=status)


def shown_case(case: dict[str, Any], personal: bool) -> dict[str, Any]:
    """A case's JSON as the caller may see it: the reporter masked unless ``personal``."""
    if not personal and case.get("reporter"):
        case = {**case, "reporter": mask_reporter(case["reporter"])}
    return case


def shown_report(report: dict[str, Any], personal: bool) -> dict[str, Any]:
    """A report's JSON as the caller may see it: the reporter masked unless ``personal``."""
    return shown_case(report, personal)


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
