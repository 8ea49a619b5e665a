"""A NUL character in a request's address (path or query) is refused at the door, 400.

No address a client means holds one, PostgreSQL refuses it in any text it compares, and a
filter passed on to SQL would fail there with a 500 (the hostile suite found it on
PostgreSQL: ``/api/v1/stuck?unit=%00``). Bodies are checked where they are read
(backend/api/bodies.py)."""

from __future__ import annotations

import orjson

from backend.api.gate import ASGIApp, Receive, Scope, Send
from backend.core.i18n import t


def has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_nul(scope):
            await self.app(scope, receive, send)
            return
        body = orjson.dumps({"detail": t("address_nul", "en")})
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
