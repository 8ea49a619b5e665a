"""Signing in and out (``/login``, ``/logout``): local accounts, a session cookie.

A wrong name and a wrong password read the same; a run of wrong passwords locks the account
(backend/auth/accounts.py) and every address is rate-limited. Every outcome is in the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from backend.api.bodies import client_ip, field, read_form
from backend.api.citizen_pages import lang_of, page
from backend.api.deps import SystemDep
from backend.api.gate import same_origin
from backend.api.ratelimit import Limit, limiter
from backend.api.schemas import LoginForm, form_body
from backend.auth import audit
from backend.auth.accounts import LoginRefused, Person, authenticate, person_by_subject
from backend.auth.oidc import OidcClient, Pending, SsoRefused
from backend.auth.permissions import Permission
from backend.auth.sessions import COOKIE, Sessions
from backend.core.i18n import t
from backend.system import System

router = APIRouter(tags=["login"])


def sessions_of(request: Request) -> Sessions:
    return request.app.state.system.sessions  # type: ignore[no-any-return]


def safe_next(target: str | None) -> str | None:
    """Only a path on this server: no open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target[:500]


def home_of(person: Person) -> str:
    """Where a person lands after signing in, by what their role may see."""
    for permission, path in (
        (Permission.WALL, "/"),
        (Permission.WORK, "/work"),
        (Permission.HALLS, "/halls"),
        (Permission.ADMIN, "/admin"),
    ):
        if person.may(permission):
            return path
    return "/"


def _form(
    request: Request,
    status: int = 200,
    *,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    next_path: str = "",
) -> HTMLResponse:
    query = "?lang=en" if lang_of(request) == "en" else ""
    system: System = request.app.state.system
    sso = system.settings.oidc_issuer is not None
    nxt = f"?next={quote(next_path, safe='')}" if next_path else ""
    return page(
        request,
        "login.html",
        status,
        heading=t("login_title", lang_of(request)),
        sso_url=f"/login/sso{nxt}" if sso else None,
        action=f"/login{query}",
        error=error,
        notice=notice,
        username=username,
        next=next_path,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    notice = t("login_signed_out", lang_of(request)) if request.query_params.get("out") else None
    return _form(
        request, notice=notice, next_path=safe_next(request.query_params.get("next")) or ""
    )


@router.post("/login", response_class=HTMLResponse, openapi_extra=form_body(LoginForm))
async def login(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    ip = client_ip(request)
    try:
        limiter(request).check("login", ip, Limit.parse(system.settings.rate_login))
    except HTTPException as exc:
        out = _form(request, exc.status_code, error=t("login_too_many", lang))
        out.headers.update(exc.headers or {})
        return out
    form = await read_form(request, 8 * 1024, max_files=0)
    username = (field(form, "username") or "").strip()[:64]
    password = field(form, "password") or ""
    next_path = safe_next(field(form, "next")) or ""
    if not username or not password:
        return _form(
            request, 422, error=t("login_missing", lang), username=username, next_path=next_path
        )
    try:
        person = await run_in_threadpool(_check, system, username, password, ip)
    except LoginRefused as refused:
        key = {"locked": "login_locked", "inactive": "login_inactive"}.get(
            refused.reason, "login_bad"
        )
        return _form(request, 401, error=t(key, lang), username=username, next_path=next_path)
    return signed_in(request, system, person, next_path)


def signed_in(request: Request, system: System, person: Person, next_path: str) -> Response:
    """A new session for ``person``, in a cookie only this server's pages send back (HttpOnly,
    SameSite=Lax, Secure over TLS), and on to where they were going or their home page."""
    cookie = sessions_of(request).create(person)
    done = RedirectResponse(next_path or home_of(person), status_code=303)
    done.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=system.settings.session_max_hours * 3600,
        path="/",
    )
    done.headers["Cache-Control"] = "no-store"
    return done


def _check(system: System, username: str, password: str, ip: str) -> Person:
    """The person, or LoginRefused; the failure count and the audit row are committed either
    way (a refusal must not roll back what counts it)."""
    now = system.clock.now()
    refused: LoginRefused | None = None
    with system.db.begin() as conn:
        try:
            person = authenticate(conn, username, password, now)
        except LoginRefused as exc:
            refused = exc
            audit.record(conn, now, f"user:{username}", "login_refused", ip=ip, why=exc.reason)
        else:
            audit.record(conn, now, person.actor, "login", ip=ip)
    if refused is not None:
        raise refused
    return person


# ----------------------------------------------------------------------------- single sign-on

SSO_COOKIE = "gw_sso"
SSO_MAX_AGE = 600  # seconds a person may spend at the provider


def _oidc(request: Request, system: System) -> OidcClient | None:
    s = system.settings
    if not (s.oidc_issuer and s.oidc_client_id and s.oidc_client_secret):
        return None
    client = getattr(request.app.state, "oidc", None)
    if client is None or client.issuer != s.oidc_issuer.rstrip("/"):
        client = OidcClient(s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret)
        request.app.state.oidc = client
    return client


def _signer(system: System) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(system.settings.effective_secret_key, salt="gridwatch-sso")


def _redirect_uri(request: Request, system: System) -> str:
    base = system.settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/login/sso/callback"


@router.get("/login/sso")
def sso_begin(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    client = _oidc(request, system)
    if client is None:
        return _form(request, 404, error=t("sso_off", lang))
    next_path = safe_next(request.query_params.get("next")) or ""
    try:
        url, pending = client.begin(_redirect_uri(request, system), next_path)
    except SsoRefused as refused:
        return _form(request, 502, error=t(refused.key, lang))
    out = RedirectResponse(url, status_code=303)
    out.set_cookie(
        SSO_COOKIE,
        _signer(system).dumps(pending.as_dict()),
        max_age=SSO_MAX_AGE,
        httponly=True,
        samesite="lax",  # it must come back with the provider's top-level redirect
        secure=request.url.scheme == "https",
        path="/login/sso",
    )
    return out


@router.get("/login/sso/callback")
async def sso_callback(request: Request, system: SystemDep) -> Response:
    lang = lang_of(request)
    client = _oidc(request, system)
    if client is None:
        return _form(request, 404, error=t("sso_off", lang))
    q = request.query_params
    ip = client_ip(request)
    try:
        if q.get("error"):
            raise SsoRefused("sso_denied", q.get("error", "")[:100])
        try:
            raw = _signer(system).loads(request.cookies.get(SSO_COOKIE, ""), max_age=SSO_MAX_AGE)
        except BadSignature:
            raise SsoRefused("sso_state") from None
        pending = Pending.of(raw)
        code, state = q.get("code"), q.get("state")
        if not code or not state or len(code) > 2000 or len(state) > 200:
            raise SsoRefused("sso_state")
        claims = await run_in_threadpool(
            client.finish, code, state, pending, _redirect_uri(request, system)
        )
        person = await run_in_threadpool(_sso_person, system, str(claims["sub"]), ip)
    except SsoRefused as refused:
        out = _form(request, 401, error=t(refused.key, lang))
        out.delete_cookie(SSO_COOKIE, path="/login/sso")
        return out
    done = signed_in(request, system, person, pending.next_path)
    done.delete_cookie(SSO_COOKIE, path="/login/sso")
    return done


def _sso_person(system: System, subject: str, ip: str) -> Person:
    """The linked, active person, with the sign-in (or its refusal) in the audit log."""
    now = system.clock.now()
    with system.db.begin() as conn:
        person = person_by_subject(conn, subject)
        if person is None:
            audit.record(conn, now, f"sso:{subject}"[:64], "login_refused", ip=ip, why="unlinked")
        else:
            audit.record(conn, now, person.actor, "login", ip=ip, via="sso")
    if person is None:
        raise SsoRefused("sso_unlinked")
    return person


@router.post("/logout")
def logout(request: Request, system: SystemDep) -> Response:
    if not same_origin(request.scope):  # another site may not sign anyone out
        raise HTTPException(403, "cross-origin request")
    sessions = sessions_of(request)
    info = sessions.resolve(request.cookies.get(COOKIE))
    if info is not None:
        sessions.end(info)
        with system.db.begin() as conn:
            audit.record(
                conn, system.clock.now(), info.person.actor, "logout", ip=client_ip(request)
            )
    out = RedirectResponse("/login?out=1", status_code=303)
    out.delete_cookie(COOKIE, path="/")
    return out
