"""Shared parts of the handler's workbench pages (/work): who is signed in, their scope, the
page frame, and how a refused engine command is said to a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from backend.api.bodies import read_form
from backend.api.citizen_pages import lang_of, page
from backend.auth.accounts import Person
from backend.core.errors import CommandInvalid, GridwatchError, TransitionRefused
from backend.core.i18n import duration, t
from backend.queries.scope import Scope
from backend.queries.workbench import handler_scope
from backend.system import System

#: the longest text a handler may write (a result, a reason, a patrol report)
MAX_TEXT = 1000
#: English reasons of the state machine that deserve their own sentence
_WHY = {
    "the township centre reassigns the case instead": "wb_why_return_self",
    "the case is already at the county tier": "wb_why_top_tier",
    "the case has no grid: nobody to return to": "wb_why_no_grid",
}


def person_of(request: Request) -> Person:
    person: Person = request.scope["state"]["person"]  # the gate put it there
    return person


def scope_of(request: Request, system: System) -> Scope:
    return handler_scope(system.ref, person_of(request))


def frame(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    nav = [
        ("/work", t("wb_nav_cases", lang)),
        ("/work/patrol", t("wb_nav_patrol", lang)),
        ("/work/me", t("wb_nav_me", lang)),
    ]
    ctx.setdefault("heading", t("wb_title", lang))
    response = page(
        request,
        template,
        status,
        nav=nav,
        here=request.url.path,
        person_name=person_of(request).display_name,
        **ctx,
    )
    # the citizen pages' "no-referrer" makes a browser send "Origin: null" with a form post,
    # which the gate refuses as cross-origin: staff pages name their own origin
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def local(dt: datetime | None, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%m-%d %H:%M") if dt else ""


def time_left(seconds: float | None, lang: str, *, paused: bool = False) -> str:
    """Time left or overdue; a paused case's clock is stopped, which is said first."""
    if seconds is None:
        return t("wb_no_deadline", lang)
    if seconds < 0:
        left = t("overdue_by", lang, t=duration(seconds, lang))
    else:
        left = t("wb_left", lang, t=duration(seconds, lang))
    return f"{t('wb_no_deadline', lang)} · {left}" if paused else left


def refusal(exc: GridwatchError, lang: str) -> str:
    """An engine refusal in the person's language."""
    if isinstance(exc, TransitionRefused):
        why = _WHY.get(exc.reason)
        if why:
            return t(why, lang)
        return t(
            "wb_refused",
            lang,
            status=t(f"status_{exc.status}", lang),
            action=t(f"wb_act_{exc.action}", lang),
        )
    if isinstance(exc, CommandInvalid):
        return t("wb_invalid", lang, fields=", ".join(sorted(exc.errors)))
    return t("wb_conflict", lang)


def clean_text(form: FormData, name: str) -> str | None:
    """A text field of at most MAX_TEXT characters with no control characters; a text that
    is not proper UTF-8 (U+FFFD from the decoder) is a 400, never stored."""
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    if "\ufffd" in value:
        raise HTTPException(400, t("wb_bad_encoding"))
    value = value.strip()
    if any(ord(c) < 32 and c not in "\r\n\t" for c in value):
        raise HTTPException(400, t("wb_bad_characters"))
    return value or None


async def action_form(request: Request, limit: int, max_files: int) -> FormData:
    """The form of an action; a button with no fields may send no body at all."""
    if not request.headers.get("content-type") and request.headers.get("content-length") in (
        None,
        "0",
    ):
        return FormData()
    return await read_form(request, limit, max_files=max_files)


#: event types whose reason a person wrote (the others carry the engine's own words)
_WRITTEN = frozenset(
    {
        "paused",
        "resumed",
        "resolved",
        "escalated",
        "consultation",
        "reassigned",
        "returned",
        "cancelled",
        "instructed",
        "rated",
        "revisited",
        "duplicate_attached",
    }
)


def written_reason(event_type: str, actor: str, reason: str | None) -> str:
    """The reason as a person wrote it; the engine's own notes (triage, the clock) stay out."""
    if not reason or event_type not in _WRITTEN or actor in ("clock", "intake"):
        return ""
    return reason
