"""Finding one's case again without the link: its code and the last four digits of the phone.

- ``GET /t``: the form
- ``POST /t``: the code and the four digits → a fresh tracking link for that report

The tracking link is the citizen's key and only its digest is kept, so a lost link cannot be
shown again: a new one is made and the old one stops working. Every failure reads the same
(wrong code, wrong digits, no phone left) so the form tells nothing about other people's
cases, and attempts are rate-limited per address like the other public forms.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend.api.bodies import client_ip, field, read_form
from backend.api.citizen_pages import lang_of, lang_query, page
from backend.api.deps import SystemDep
from backend.api.ratelimit import limit_public
from backend.api.schemas import TrackFind, form_body
from backend.core.i18n import t
from backend.domain.case import case_code
from backend.intake import store
from backend.store.models import cases
from backend.system import System

_CODE = re.compile(r"^GW(\d{8})(\d{8})$")
_PHONE4 = re.compile(r"^\d{4}$")

router = APIRouter(tags=["qr"])


def _form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200, **kw: Any
) -> HTMLResponse:
    lang = lang_of(request)
    return page(
        request,
        "find.html",
        status,
        heading=t("qr_title", lang),
        subheading=t("find_title", lang),
        action=f"/t{lang_query(request)}",
        values=values,
        errors=errors,
        **kw,
    )


@router.get("/t", response_class=HTMLResponse)
def find_form(request: Request) -> Response:
    return _form(request, {"code": "", "phone4": ""}, {})


@router.post("/t", response_class=HTMLResponse, openapi_extra=form_body(TrackFind))
async def find(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    try:
        limit_public(request, "find", client_ip(request))
    except HTTPException as exc:  # 429, the only thing the limiter raises
        out = _form(
            request, {"code": "", "phone4": ""}, {}, exc.status_code, error=t("qr_too_many", lang)
        )
        out.headers.update(exc.headers or {})
        return out
    form = await read_form(request, 4 * 1024, max_files=0)
    values = {
        "code": re.sub(r"\s+", "", field(form, "code") or "").upper()[:40],
        "phone4": (field(form, "phone4") or "").strip()[:8],
    }
    errors: dict[str, str] = {}
    match = _CODE.match(values["code"])
    if match is None:
        errors["code"] = t("find_error_code", lang)
    if not _PHONE4.match(values["phone4"]):
        errors["phone4"] = t("find_error_phone4", lang)
    if errors or match is None:
        return _form(request, values, errors, 422)
    token = _new_link(system, int(match.group(2)), values["code"], values["phone4"])
    if token is None:
        return _form(request, values, {}, 404, error=t("find_not_found", lang))
    sep = "&" if lang_query(request) else "?"
    return RedirectResponse(f"/t/{token}{lang_query(request)}{sep}found=1", status_code=303)


def _new_link(system: System, case_id: int, code: str, phone4: str) -> str | None:
    """A fresh token for the report of ``case_id`` whose phone ends in ``phone4``, or None."""
    with system.db.begin() as conn:
        reported_at = conn.execute(
            select(cases.c.reported_at).where(cases.c.id == case_id)
        ).scalar_one_or_none()
        if reported_at is None or case_code(case_id, reported_at, system.tz) != code:
            return None
        for rpt in store.reports_of_case(conn, case_id):
            digits = re.sub(r"\D", "", rpt["reporter"] or "")
            if rpt["token_hash"] and len(digits) >= 7 and digits.endswith(phone4):
                token = secrets.token_urlsafe(18)
                store.set_state(conn, rpt["id"], token_hash=store.token_digest(token))
                return token
    return None
