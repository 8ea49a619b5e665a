"""Dash's callback requests checked before Dash reads them: a body that is not the object the
renderer sends (an output this app has, lists of inputs and states with an id and a property
each) is a 400 here, where Dash itself would fail with a 500 on the first missing key.

Pure ASGI, like the gate, and inside it: it checks the body Dash's own middleware parsed
(``scope["state"]["json_body"]``), or else reads it (with a cap) and hands the same bytes on."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import orjson

from backend.api.gate import ASGIApp, Receive, Scope, Send

CALLBACK_PATH = "/_dash-update-component"
#: the largest callback body read (the leader's forms and the grid's requests are small)
MAX_BODY = 2 * 1024 * 1024


def _prop(item: Any) -> bool:
    """One input or state as the renderer sends it: an id (text, or a pattern-matching dict)
    and a property name; a pattern-matching ALL input is a list of these."""
    if isinstance(item, list):
        return all(_prop(i) for i in item)
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )


def payload_problem(body: Any, outputs: Callable[[], Any]) -> str | None:
    """Why a callback body is not one this app answers (None: it is)."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in outputs():
        return "no such callback output"
    shown = body.get("outputs")
    if not (_prop(shown) if isinstance(shown, list | dict) else False):
        return "outputs: an object or a list of objects with id and property"
    for name in ("inputs", "state"):
        items = body.get(name, [])
        if not isinstance(items, list) or not all(_prop(i) for i in items):
            return f"{name}: a list of objects with id and property"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds: a list of texts"
    return None


class CallbackPayloadCheck:
    def __init__(self, app: ASGIApp, outputs: Callable[[], Any]) -> None:
        self.app = app
        self.outputs = outputs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not scope.get("path", "").endswith(CALLBACK_PATH)
        ):
            await self.app(scope, receive, send)
            return
        state = scope.get("state") or {}
        if "json_body" in state:  # Dash's own middleware, outside, has read it already
            parsed = state["json_body"]
            problem = "the body is not JSON" if parsed is None else None
            too_big, body = False, None
        else:
            body, too_big = await _read(receive)
            problem = "the body is too large" if too_big else None
            if problem is None:
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError:
                    problem = "the body is not JSON"
        if problem is None:
            problem = payload_problem(parsed, self.outputs)
        if problem is not None:
            await _answer(send, 413 if too_big else 400, problem)
            return
        await self.app(scope, receive if body is None else _replay(body), send)


async def _read(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _answer(send: Send, status: int, why: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": orjson.dumps({"detail": why})})
