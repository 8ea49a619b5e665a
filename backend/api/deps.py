"""What the HTTP routes need, declared in their signatures (``system: SystemDep``,
``client: ApiClient``, ``body: JsonObject``, ``case: FoundCase``, …) and built here, once.

- the System the app was made for, and the scope of what the caller may see;
- the integration calling, authenticated by ``Authorization: Bearer <api key>``;
- a JSON object body, read with a cap before it is parsed (413, then 422 for bad JSON);
- the case a path names (404 when there is none), the intake pipeline, per-key rate limits.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, HTTPException, Request

from backend.api.bodies import capped_body
from backend.api.ratelimit import limit_key
from backend.auth.apikeys import check_key
from backend.core.errors import CommandInvalid
from backend.intake.service import Intake
from backend.queries.cases import case_by_id
from backend.queries.scope import Scope
from backend.system import System

#: the largest JSON body a route reads (a chunked body is cut off at the cap too)
MAX_JSON_BODY = 64 * 1024
#: how long a known API key is remembered, so a busy integration costs no query per request
KEY_CACHE_SECONDS = 30


def get_system(request: Request) -> System:
    return request.app.state.system  # type: ignore[no-any-return]


SystemDep = Annotated[System, Depends(get_system)]


def get_scope() -> Scope:
    """What the caller may see: the whole city until people and API keys carry an area (the
    accounts issue fills this in; every query already takes the scope it returns)."""
    return Scope.city()


ScopeDep = Annotated[Scope, Depends(get_scope)]


# ----------------------------------------------------------------------------- API keys


def key_name(request: Request, key: str) -> str | None:
    """The integration an API key belongs to (None: unknown or revoked); a known key is
    remembered for ``KEY_CACHE_SECONDS``."""
    cache: dict[str, tuple[str, float]] = request.app.state.key_cache
    hit = cache.get(key)
    if hit and hit[1] > time.monotonic():
        return hit[0]
    with get_system(request).db.connect() as conn:
        name = check_key(conn, key)
    if name is not None:
        cache[key] = (name, time.monotonic() + KEY_CACHE_SECONDS)
    return name


def require_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """Integrations authenticate with ``Authorization: Bearer <api key>``: the integration's
    name, or 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(
            401, "missing 'Authorization: Bearer <api key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    name = key_name(request, authorization.split(None, 1)[1].strip())
    if name is None:
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return name


ApiClient = Annotated[str, Depends(require_key)]


class KeyRateLimit:
    """A route's budget per API key (``GRIDWATCH_RATE_KEY``), as a route dependency: checked
    after the key and before the body is read (``dependencies=[Depends(KeyRateLimit(…))]``)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def __call__(self, request: Request, client: ApiClient) -> None:
        limit_key(request, self.bucket, client)


# ----------------------------------------------------------------------------- bodies


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 413 when larger than ``MAX_JSON_BODY`` (before reading it
    when the length is declared), 422 ``{"body": …}`` when it is not a JSON object."""
    body = await capped_body(request, MAX_JSON_BODY)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CommandInvalid({"body": f"not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise CommandInvalid({"body": "must be a JSON object"})
    return data


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


# ----------------------------------------------------------------------------- cases, intake


def get_case(case_id: int, system: SystemDep, scope: ScopeDep) -> dict[str, Any]:
    """The case the path names, as JSON; CaseNotFound (404) when there is none in scope."""
    with system.db.connect() as conn:
        return case_by_id(conn, case_id, scope=scope)


FoundCase = Annotated[dict[str, Any], Depends(get_case)]


def get_intake(request: Request, system: SystemDep) -> Intake:
    """The one intake pipeline of this app (made on first use)."""
    state = request.app.state
    if getattr(state, "intake", None) is None:
        state.intake = Intake(system)
    return state.intake  # type: ignore[no-any-return]


IntakeDep = Annotated[Intake, Depends(get_intake)]
