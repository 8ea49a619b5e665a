"""Commands: what intake channels ask the engine to do, as they travel on the Redis stream.

Wire form (one JSON object in the stream entry's ``c`` field)::

    {"id": "…", "kind": "create", "at": "2026-11-23T08:00:00+08:00", "actor": "…",
     "ref": "…", "case": {"category": …, "description": …, "channel": …, "grid": …}}
    {"id": "…", "kind": "action", "case_id": 42 | "ref": "…", "action": "accept",
     "actor": "…", "params": {…}}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from backend.core.errors import CommandInvalid


@dataclass(slots=True)
class Command:
    id: str
    kind: str  # "create" | "action"
    actor: str
    at: datetime | None = None
    ref: str | None = None
    case_id: int | None = None
    case: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        body: dict[str, Any] = {"id": self.id, "kind": self.kind, "actor": self.actor}
        if self.at is not None:
            body["at"] = self.at.isoformat()
        if self.ref is not None:
            body["ref"] = self.ref
        if self.case_id is not None:
            body["case_id"] = self.case_id
        if self.kind == "create":
            body["case"] = self.case
        else:
            body["action"] = self.action
            body["params"] = self.params
        return orjson.dumps(body)


def new_id() -> str:
    return uuid.uuid4().hex


def create_command(
    case: dict[str, Any],
    *,
    actor: str = "intake",
    ref: str | None = None,
    at: datetime | None = None,
    command_id: str | None = None,
) -> Command:
    cid = command_id or new_id()
    return Command(id=cid, kind="create", actor=actor, at=at, ref=ref or cid, case=case)


def action_command(
    action: str,
    params: dict[str, Any] | None = None,
    *,
    case_id: int | None = None,
    ref: str | None = None,
    actor: str = "system",
    at: datetime | None = None,
    command_id: str | None = None,
) -> Command:
    return Command(
        id=command_id or new_id(),
        kind="action",
        actor=actor,
        at=at,
        ref=ref,
        case_id=case_id,
        action=action,
        params=params or {},
    )


def parse_command(raw: bytes | str) -> Command:
    """Decode and check one command; raises CommandInvalid naming every bad field."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CommandInvalid({"command": f"not valid JSON: {exc}"}) from None
    if not isinstance(body, dict):
        raise CommandInvalid({"command": "must be a JSON object"})
    errors: dict[str, str] = {}
    cid = body.get("id")
    if not isinstance(cid, str) or not 0 < len(cid) <= 64:
        errors["id"] = "required, a string of at most 64 characters"
    kind = body.get("kind")
    if kind not in ("create", "action"):
        errors["kind"] = "must be 'create' or 'action'"
    actor = body.get("actor", "intake")
    if not isinstance(actor, str) or len(actor) > 64:
        errors["actor"] = "a string of at most 64 characters"
    at: datetime | None = None
    if body.get("at") is not None:
        try:
            at = datetime.fromisoformat(body["at"])
            if at.tzinfo is None:
                errors["at"] = "needs a timezone offset"
            elif not 2000 <= at.year <= 2099:
                errors["at"] = "must be between the years 2000 and 2099"
        except (TypeError, ValueError):
            errors["at"] = "not an ISO 8601 timestamp"
    ref = body.get("ref")
    if ref is not None and (not isinstance(ref, str) or not 0 < len(ref) <= 80):
        errors["ref"] = "a string of at most 80 characters"
    case_id = body.get("case_id")
    if case_id is not None and (isinstance(case_id, bool) or not isinstance(case_id, int)):
        errors["case_id"] = "an integer"
    case = body.get("case") or {}
    params = body.get("params") or {}
    if kind == "create" and not isinstance(case, dict):
        errors["case"] = "an object with the case's fields"
    if kind == "action":
        if not isinstance(body.get("action"), str):
            errors["action"] = "required"
        if not isinstance(params, dict):
            errors["params"] = "an object"
        if case_id is None and ref is None:
            errors["case_id"] = "give case_id or ref"
    if errors:
        raise CommandInvalid(errors)
    assert isinstance(cid, str) and isinstance(kind, str)
    if kind == "create":
        return Command(id=cid, kind=kind, actor=actor, at=at, ref=ref or cid, case=case)
    return Command(
        id=cid,
        kind=kind,
        actor=actor,
        at=at,
        ref=ref,
        case_id=case_id,
        action=body["action"],
        params=params,
    )
