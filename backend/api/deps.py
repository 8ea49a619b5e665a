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
from fastapi import Depends, Header, HTTPException, Path, Query, Request

from backend.api.bodies import capped_body, nul_fields
from backend.api.ratelimit import limit_key
from backend.api.responses import shown_case
from backend.auth.apikeys import ApiKeyInfo, check_key
from backend.auth.permissions import KeyPermission
from backend.core.errors import CommandInvalid
from backend.core.i18n import t
from backend.intake.service import Intake
from backend.queries.cases import case_by_id
from backend.queries.scope import Scope, scope_of_area
from backend.system import System

#: the largest JSON body a route reads (a chunked body is cut off at the cap too)
MAX_JSON_BODY = 64 * 1024
#: how long a known API key is remembered, so a busy integration costs no query per request
KEY_CACHE_SECONDS = 30


def get_system(request: Request) -> System:
    return request.app.state.system  # type: ignore[no-any-return]


SystemDep = Annotated[System, Depends(get_system)]

#: an id in a path: a positive number that fits a BIGINT (a larger one is a 422, not a crash
#: in the database driver)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: an id in a path where a page answers "no such" for zero or less: any BIGINT (past one, 422)
BigIntId = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]
#: how far a list may be paged: past any table, and past what SQL's OFFSET takes, is a 422
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def get_scope(request: Request) -> Scope:
    """What the caller may see: the area of its API key, else the whole city (the citizen's
    pages need no more; staff screens take the signed-in person's area)."""
    info = getattr(request.state, "api_key", None)
    if info is None:
        header = request.headers.get("authorization") or ""
        if header.lower().startswith("bearer "):
            info = lookup_key(request, header.split(None, 1)[1].strip())
    if info is None or info.area_code is None:
        return Scope.city()
    return scope_of_area(get_system(request).ref, info.area_code)


ScopeDep = Annotated[Scope, Depends(get_scope)]


# ----------------------------------------------------------------------------- API keys


def lookup_key(request: Request, key: str) -> ApiKeyInfo | None:
    """The key's holder and permissions (None: unknown or revoked). A known key is remembered
    for ``KEY_CACHE_SECONDS``, but a revocation listed in Redis counts at once."""
    cache: dict[str, tuple[ApiKeyInfo, float]] = request.app.state.key_cache
    system = get_system(request)
    hit = cache.get(key)
    if hit and hit[1] > time.monotonic():
        if system.redis.sismember(system.keys.revoked_keys, hit[0].digest):
            cache.pop(key, None)
            return None
        return hit[0]
    with system.db.connect() as conn:
        info = check_key(conn, key)
    if info is not None:
        cache[key] = (info, time.monotonic() + KEY_CACHE_SECONDS)
    return info


def known_key(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> ApiKeyInfo:
    """Integrations authenticate with ``Authorization: Bearer <api key>``: the key, or 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(
            401, "missing 'Authorization: Bearer <api key>'", headers={"WWW-Authenticate": "Bearer"}
        )
    info = lookup_key(request, authorization.split(None, 1)[1].strip())
    if info is None:
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    request.state.api_key = info
    return info


KnownKey = Annotated[ApiKeyInfo, Depends(known_key)]


class KeyFor:
    """A route's need, as a dependency: a key that may ``permission`` (403 otherwise); gives
    the integration's name, which signs what it does."""

    def __init__(self, permission: KeyPermission) -> None:
        self.permission = permission

    def __call__(self, key: KnownKey) -> str:
        if not key.may(self.permission):
            raise HTTPException(403, f"this API key may not {self.permission.value}")
        return key.name


ApiClient = Annotated[str, Depends(KeyFor(KeyPermission.READ))]
ReportingClient = Annotated[str, Depends(KeyFor(KeyPermission.REPORT))]
ActingClient = Annotated[str, Depends(KeyFor(KeyPermission.ACT))]
HallsClient = Annotated[str, Depends(KeyFor(KeyPermission.HALLS))]


def sees_personal_data(request: Request) -> bool:
    """Whether the calling key may read reporters unmasked."""
    info = getattr(request.state, "api_key", None)
    return info is not None and info.may(KeyPermission.PERSONAL)


class KeyRateLimit:
    """A route's budget per API key (``GRIDWATCH_RATE_KEY``), as a route dependency: checked
    after the key and before the body is read (``dependencies=[Depends(KeyRateLimit(…))]``)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def __call__(self, request: Request, key: KnownKey) -> None:
        limit_key(request, self.bucket, key.name)


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
    if bad := nul_fields(data):
        raise CommandInvalid(bad)
    return data


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


# ----------------------------------------------------------------------------- cases, intake

#: the longest ``Idempotency-Key`` header taken (a UUID is 36)
MAX_IDEMPOTENCY_KEY = 200


def idempotency_key(request: Request, sender: str) -> str | None:
    """The ``Idempotency-Key`` header, as the key of this sender's retries (422 when it is
    empty or longer than ``MAX_IDEMPOTENCY_KEY``)."""
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_IDEMPOTENCY_KEY:
        raise CommandInvalid({"Idempotency-Key": t("text_at_most", "en", n=MAX_IDEMPOTENCY_KEY)})
    return f"{sender}|key|{value}"


def get_case(
    case_id: RowId, request: Request, system: SystemDep, scope: ScopeDep
) -> dict[str, Any]:
    """The case the path names, as JSON, its reporter masked unless the key may read it;
    CaseNotFound (404) when there is none in scope."""
    with system.db.connect() as conn:
        return shown_case(case_by_id(conn, case_id, scope=scope), sees_personal_data(request))


FoundCase = Annotated[dict[str, Any], Depends(get_case)]


def get_intake(request: Request, system: SystemDep) -> Intake:
    """The one intake pipeline of this app (made on first use)."""
    state = request.app.state
    if getattr(state, "intake", None) is None:
        state.intake = Intake(system)
    return state.intake  # type: ignore[no-any-return]


IntakeDep = Annotated[Intake, Depends(get_intake)]
