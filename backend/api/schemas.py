"""The request bodies of the HTTP API as pydantic models, for the OpenAPI description
(``/openapi.json``, ``/docs``).

The models document; they do not validate. A route reads its body itself (with a cap, so an
oversized body is 413 before it is read) and checks it with the domain's validators, which
stay the one authority on what is accepted and say what is wrong per field (422
``{"detail": "invalid input", "errors": {field: message}}``). ``json_body`` and ``form_body``
publish a model as a route's request body through ``openapi_extra``;
tests/test_api_schemas.py pins each model's fields to the fields its validator accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from backend.domain.transitions import ACTIONS
from backend.domain.vocabulary import Channel, Rating, Severity
from backend.intake.photos import MAX_PHOTOS


def _enum(values: list[str]) -> Any:
    """A text field that takes one of ``values`` (where no enum of the domain lists them)."""
    enum: list[JsonValue] = list(values)
    return Field(json_schema_extra={"enum": enum})


def _text(limit: int, description: str) -> Any:
    return Field(default=None, max_length=limit, description=description)


# ----------------------------------------------------------------------------- JSON bodies


class NewCase(BaseModel):
    """A report that becomes a case (``POST /api/v1/cases``): at least one of ``grid``,
    ``address`` or ``lat``/``lon``. A report repeating an open case is attached to it."""

    model_config = ConfigDict(extra="forbid", title="NewCase")

    category: str = Field(description="a whistle-list category code (Open311 services.json)")
    description: str = Field(min_length=1, max_length=4000, description="what is wrong")
    channel: Channel = Field(description="where the report came from")
    grid: str | None = Field(default=None, description="the grid code (一格一码)")
    address: str | None = _text(300, "the address, when the grid is not known")
    lat: float | None = Field(default=None, ge=-90, le=90, description="latitude, with lon")
    lon: float | None = Field(default=None, ge=-180, le=180, description="longitude, with lat")
    reporter: str | None = _text(100, "who reported (name, phone)")
    severity: Severity | None = Field(default=None, description="how urgent; general if not given")
    unit: str | None = Field(
        default=None,
        max_length=48,
        description="the unit that handled it, for records imported from another system "
        "(needs source)",
    )
    source: str | None = _text(16, "the system an imported record comes from")
    source_channel: str | None = _text(64, "the source system's own channel")
    source_type: str | None = _text(100, "the source system's own request type")
    ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        description="your id for this report: sending the same ref again answers 200 with "
        "the case made the first time",
    )
    dedupe: bool = Field(
        default=True, description="attach a report repeating an open case to that case"
    )


class CaseAction(BaseModel):
    """An action on a case (``POST /api/v1/cases/{id}/actions``). The action's parameters go
    under ``params``, or beside ``action`` when there is no ``params``."""

    model_config = ConfigDict(extra="allow", title="CaseAction")

    action: Annotated[str, _enum(sorted(ACTIONS))] = Field(description="what to do")
    actor: str | None = Field(
        default=None,
        max_length=32,
        description="the integration's own operator; recorded as api:<key name>:<actor>",
    )
    params: dict[str, Any] | None = Field(
        default=None, description="the action's parameters (reason, rating, unit, …)"
    )


class TextMessage(BaseModel):
    """A 12345 hotline order or a WeChat group message (``POST /api/v1/intake/text``)."""

    model_config = ConfigDict(extra="forbid", title="TextMessage")

    channel: Annotated[str, _enum(["hotline", "wechat"])] = Field(description="the source")
    text: str = Field(min_length=1, max_length=4000, description="the message, in Chinese")
    grid: str | None = Field(
        default=None, description="the WeChat group's grid code (一群一网格), when known"
    )
    received_at: datetime | None = Field(
        default=None, description="when it was received, ISO 8601 with a timezone offset"
    )
    reporter: str | None = _text(100, "who sent it")
    order_no: str | None = _text(80, "the hotline's own order number")


class TriageDecision(BaseModel):
    """A person's decision on a report waiting in the triage queue
    (``POST /api/v1/intake/triage/{id}``): a category (and place) opens or attaches the case;
    ``reject`` alone closes the report as no case."""

    model_config = ConfigDict(extra="forbid", title="TriageDecision")

    category: str | None = Field(default=None, description="a whistle-list category code")
    grid: str | None = Field(default=None, description="the grid code")
    address: str | None = Field(default=None, description="the address")
    severity: Severity | None = None
    reject: str | None = Field(default=None, min_length=1, description="why it is no case")


# ----------------------------------------------------------------------------- form bodies


class Open311Request(BaseModel):
    """An Open311 GeoReport v2 service request (``POST /open311/v2/requests.{fmt}``), form
    encoded as the specification says; ``media`` needs multipart. Other fields are ignored."""

    model_config = ConfigDict(title="Open311Request", populate_by_name=True)

    api_key: str = Field(description="issued by the operations centre (or in the query)")
    jurisdiction_id: str | None = None
    service_code: str = Field(description="from services.json")
    lat: float | None = Field(default=None, description="with long")
    long: float | None = Field(default=None, description="with lat")
    address_string: str | None = None
    address_id: str | None = Field(default=None, description="a grid code")
    attribute_grid: str | None = Field(
        default=None, alias="attribute[grid]", description="a grid code"
    )
    attribute_severity: Severity | None = Field(default=None, alias="attribute[severity]")
    description: str | None = Field(default=None, max_length=4000)
    media_url: str | None = Field(default=None, description="an http(s) URL")
    media: bytes | None = Field(default=None, description="a photo (multipart only)")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    account_id: str | None = None
    device_id: str | None = None


class QrReport(BaseModel):
    """The citizen's QR form (``POST /r/{grid}``); the grid is in the path."""

    model_config = ConfigDict(title="QrReport")

    category: str | None = Field(default=None, description="empty: the text parser decides")
    description: str = Field(min_length=1, max_length=1000)
    reporter: str | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")
    photo: list[bytes] = Field(
        default_factory=list, max_length=MAX_PHOTOS, description="up to three photos"
    )


class QrRating(BaseModel):
    """The citizen's rating of a resolved case (``POST /t/{token}/rate``)."""

    model_config = ConfigDict(title="QrRating")

    rating: Rating
    comment: str | None = Field(default=None, description="at most 500 characters are kept")


class LoginForm(BaseModel):
    """Signing in (``POST /login``)."""

    model_config = ConfigDict(title="LoginForm")

    username: str
    password: str
    next: str | None = Field(default=None, description="a path on this server to go back to")


class NewPerson(BaseModel):
    """An administrator making an account (``POST /admin/people``); the password is made."""

    model_config = ConfigDict(title="NewPerson")

    username: str
    display_name: str | None = None
    role: str = Field(description="duty_officer | leader | handler | hall_supervisor | admin")
    area: str | None = Field(default=None, description="an area code; empty: the whole city")
    units: str | None = Field(default=None, description="a handler's unit codes, comma-separated")


class TrackFind(BaseModel):
    """A citizen finding a case again without its link (``POST /t``)."""

    model_config = ConfigDict(title="TrackFind")

    code: str = Field(description="the case number, e.g. GW2026112300000042")
    phone4: str = Field(description="the last four digits of the phone left with the report")


# ----------------------------------------------------------------------------- OpenAPI


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with any ``$defs`` written in place, so it can stand inside an
    operation's ``requestBody``."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)  # type: ignore[no-any-return]


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the route's JSON request body."""
    content = {"application/json": {"schema": schema_of(model)}}
    return {"requestBody": {"required": True, "content": content}}


def form_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the route's form body (urlencoded or
    multipart)."""
    schema = schema_of(model)
    content = {
        "application/x-www-form-urlencoded": {"schema": schema},
        "multipart/form-data": {"schema": schema},
    }
    return {"requestBody": {"required": True, "content": content}}
