"""The administrator's pages: people (make, reset, disable) and the audit log.

Server-rendered like the sign-in page; the gate lets only administrators in (``/admin``) and
refuses posts from other origins. Every change is in the audit log, signed by the admin.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backend.api.bodies import client_ip, field, read_form
from backend.api.citizen_pages import STAFF_REFERRER, lang_of, page
from backend.api.deps import SystemDep
from backend.api.schemas import NewPerson, form_body
from backend.auth import audit
from backend.auth.accounts import (
    AccountError,
    Person,
    create_user,
    find_user,
    list_users,
    set_active,
    set_password,
)
from backend.auth.permissions import Role
from backend.core.i18n import t
from backend.system import System

router = APIRouter(tags=["admin"], include_in_schema=False)


def _admin(request: Request) -> Person:
    person: Person = request.scope["state"]["person"]  # the gate put it there
    return person


def _frame(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    nav = [
        ("/admin", t("admin_people", lang)),
        ("/admin/audit", t("admin_audit", lang)),
        ("/", t("admin_to_wall", lang)),
    ]
    return page(
        request,
        template,
        status,
        STAFF_REFERRER,
        nav=nav,
        person_name=_admin(request).display_name,
        **ctx,
    )


def _people_page(
    request: Request,
    system: System,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    names = system.ref.area_names
    with system.db.connect() as conn:
        rows = list_users(conn)
    people = [
        {
            "username": r["username"],
            "display_name": r["display_name"],
            "role": t(f"role_{r['role']}", lang),
            "area": names.get(r["area_code"], r["area_code"])
            if r["area_code"]
            else t("admin_city", lang),
            "units": "、".join(
                system.ref.units[u].name if u in system.ref.units else u for u in r["units"] or []
            ),
            "state": t("admin_active" if r["active"] else "admin_disabled", lang),
            "disabled": not r["active"],
        }
        for r in rows
    ]
    return _frame(
        request,
        "admin_people.html",
        status,
        heading=t("admin_people", lang),
        people=people,
        roles=[(r.value, t(f"role_{r.value}", lang)) for r in Role],
        values=values
        or {"username": "", "display_name": "", "role": "duty_officer", "area": "", "units": ""},
        errors=errors or {},
        notice=notice,
    )


@router.get("/admin", response_class=HTMLResponse)
def people(request: Request, system: SystemDep) -> Response:
    return _people_page(request, system)


@router.post("/admin/people", response_class=HTMLResponse, openapi_extra=form_body(NewPerson))
async def make_person(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    form = await read_form(request, 8 * 1024, max_files=0)
    values = {
        k: (field(form, k) or "").strip()[:300]
        for k in ("username", "display_name", "role", "area", "units")
    }
    units = [u.strip() for u in values["units"].replace("，", ",").split(",") if u.strip()]
    password = secrets.token_urlsafe(12)
    admin = _admin(request)
    now = system.clock.now()
    try:
        with system.db.begin() as conn:
            person = create_user(
                conn,
                username=values["username"],
                password=password,
                role=values["role"],
                now=now,
                display_name=values["display_name"] or None,
                area_code=values["area"] or None,
                units=units,
                known_areas=set(system.ref.area_levels),
                known_units=set(system.ref.units),
            )
            audit.record(
                conn,
                now,
                admin.actor,
                "user_created",
                person.username,
                client_ip(request),
                role=person.role.value,
                area=person.area_code,
            )
    except AccountError as exc:
        return _people_page(request, system, 422, values=values, errors=exc.said(lang))
    notice = t("admin_created", lang, name=person.username, password=password)
    return _people_page(request, system, 201, notice=notice)


@router.post("/admin/people/{username}/{change}", response_class=HTMLResponse)
def change_person(username: str, change: str, request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    if change not in ("reset", "disable", "enable"):
        return _people_page(request, system, 404, notice=t("page_not_found", lang))
    admin = _admin(request)
    now = system.clock.now()
    password = secrets.token_urlsafe(12)
    try:
        with system.db.begin() as conn:
            row = find_user(conn, username)
            if row is None:
                raise AccountError({"username": ("acct_no_user", {"name": username})})
            if change == "reset":
                set_password(conn, username, password, now)
            elif username == admin.username:
                raise AccountError({"username": ("admin_not_self", {})})
            else:
                set_active(conn, username, change == "enable")
            action = {
                "reset": "password_reset",
                "disable": "user_disabled",
                "enable": "user_enabled",
            }
            audit.record(conn, now, admin.actor, action[change], username, client_ip(request))
    except AccountError as exc:
        return _people_page(
            request, system, 404 if row is None else 409, notice=" ".join(exc.said(lang).values())
        )
    if change != "enable":
        system.sessions.end_all(int(row["id"]))
    key = {
        "reset": "admin_was_reset",
        "disable": "admin_was_disabled",
        "enable": "admin_was_enabled",
    }
    notice = t(key[change], lang, name=username, password=password)
    return _people_page(request, system, notice=notice)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    actor = (request.query_params.get("actor") or "").strip()[:64]
    action = request.query_params.get("action") or ""
    if action not in audit.ACTIONS:
        action = ""
    with system.db.connect() as conn:
        rows = audit.recent(conn, 200, actor or None, action or None)
    shown = [
        {
            "at": r["at"].astimezone(system.tz).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": r["actor"],
            "action": t(f"audit_{r['action']}", lang),
            "target": r["target"] or "",
            "ip": r["ip"] or "",
            "detail": ", ".join(f"{k}={v}" for k, v in (r["detail"] or {}).items()),
        }
        for r in rows
    ]
    return _frame(
        request,
        "admin_audit.html",
        heading=t("admin_audit", lang),
        rows=shown,
        actor=actor,
        action=action,
        actions=[(a, t(f"audit_{a}", lang)) for a in audit.ACTIONS],
    )
