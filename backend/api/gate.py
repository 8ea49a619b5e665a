"""The web gate: every staff page, Dash callback and websocket needs a signed-in person.

Pure ASGI middleware, so the same rule covers HTTP and the websocket, and the person it finds
is bound (backend/auth/context.py) for the callbacks that run inside the request. Citizens'
pages, Open311 and the API (which has its own keys) are public here. The gate also refuses
state-changing requests and websockets from another origin, and sends the security headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from backend.auth.context import bind_person, unbind_person
from backend.auth.permissions import Permission
from backend.auth.sessions import COOKIE, Sessions
from backend.queries.scope import Scope as QueryScope

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: open to anyone (citizens), or authenticated otherwise (API keys)
PUBLIC_PREFIXES = (
    "/r/",
    "/t/",
    "/citizen/",
    "/open311/",
    "/api/",
    "/login",
    "/logout",
    "/healthz",
    "/readyz",
    "/metrics",
    "/favicon.ico",
    "/openapi.json",  # the API's own documentation, for integrators
    "/docs",
    "/redoc",
)
PUBLIC_EXACT = frozenset({"/t"})
#: pages and what they need; the first prefix that matches wins ("/" last)
PAGE_PERMISSIONS: tuple[tuple[str, Permission | None], ...] = (
    ("/admin", Permission.ADMIN),
    ("/leader", Permission.DESK),
    ("/posters", Permission.POSTERS),
    ("/halls", Permission.HALLS),
    ("/work", Permission.WORK),
    # Dash's own routes: any signed-in person; each page's callbacks check their permission
    ("/_dash-", None),
    ("/_reload-hash", None),
    ("/_favicon", None),
    ("/assets/", None),
)
STAFF_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
        b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' data:; "
        b"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
        b"form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def page_permission(path: str) -> Permission | None:
    """What a staff path needs (None: only to be signed in); the wall at ``/`` needs WALL."""
    for prefix, permission in PAGE_PERMISSIONS:
        if path.startswith(prefix):
            return permission
    return Permission.WALL


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return str(v.decode("latin-1"))
    return None


def same_origin(scope: Scope) -> bool:
    """The request comes from a page of this server: its Origin (else Referer) names our host,
    or, where a page's referrer policy made the browser send ``Origin: null``, the browser's
    own ``Sec-Fetch-Site: same-origin`` (a header no page script can set)."""
    host = _header(scope, b"host")
    source = _header(scope, b"origin") or _header(scope, b"referer")
    if host and source and source != "null":
        return urlsplit(source).netloc == host
    return _header(scope, b"sec-fetch-site") == "same-origin"


class StaffGate:
    def __init__(
        self,
        app: ASGIApp,
        sessions: Callable[[], Sessions],
        scope_of: Callable[[str | None], QueryScope],
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.scope_of = scope_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "/")
        if is_public(path):
            await self.app(scope, receive, send)
            return
        websocket = scope["type"] == "websocket"
        method = scope.get("method", "GET")
        if (websocket or method in UNSAFE_METHODS) and not same_origin(scope):
            await self._refuse(scope, receive, send, 403, "cross_origin")
            return
        info = self.sessions().resolve(_cookie(scope))
        if info is None:
            await self._refuse(scope, receive, send, 401, "signed_out")
            return
        needed = page_permission(path)
        if needed is not None and not info.person.may(needed):
            await self._refuse(scope, receive, send, 403, "forbidden")
            return
        scope.setdefault("state", {})["person"] = info.person
        token = bind_person(info.person, self.scope_of(info.person.area_code))
        try:
            await self.app(scope, receive, _with_headers(send))
        finally:
            unbind_person(token)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, why: str
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401 if status == 401 else 4403})
            return
        path = scope.get("path", "/")
        accept = _header(scope, b"accept") or ""
        if status == 401 and scope.get("method") == "GET" and "text/html" in accept:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            location = f"/login?next={quote(target, safe='')}"
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode()), (b"cache-control", b"no-store")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if status == 403 and scope.get("method") == "GET" and "text/html" in accept:
            body = _forbidden_page()
            headers = [(b"content-type", b"text/html; charset=utf-8")]
        else:
            body = orjson.dumps({"detail": why})
            headers = [(b"content-type", b"application/json")]
        await send(
            {"type": "http.response.start", "status": status, "headers": [*headers, *STAFF_HEADERS]}
        )
        await send({"type": "http.response.body", "body": body})


def _forbidden_page() -> bytes:
    from backend.core.i18n import t

    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{t('gate_forbidden_title')}</title></head><body style='font-family:sans-serif;"
        f"padding:40px'><h1>{t('gate_forbidden_title')}</h1><p>{t('gate_forbidden')}</p>"
        f"<p><a href='/login'>{t('gate_switch_user')}</a></p></body></html>"
    ).encode()


def _cookie(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed cookie header: no session
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def _with_headers(send: Send) -> Send:
    async def wrapped(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", ())}
            extra = [(k, v) for k, v in STAFF_HEADERS if k not in names]
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return wrapped
