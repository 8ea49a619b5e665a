"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under ``/open311/v2/``: the
international civic-reporting standard, so 311 clients (FixMyStreet and others) can report
and follow cases. JSON and XML; errors as ``[{"code", "description"}]`` / ``<errors>``.

Services are our whistle-list categories; a service request is a case (its id the case id).
POST is form-encoded with ``api_key``, as the specification says; a report repeating an open
case is attached to it and answered with that case's id.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import RowMapping
from starlette.concurrency import run_in_threadpool

from backend.api.bodies import client_ip, field, files, read_form
from backend.api.deps import IntakeDep, ScopeDep, SystemDep, idempotency_key, lookup_key
from backend.api.errors import RETRY_AFTER_SECONDS, UNAVAILABLE
from backend.api.instants import EARLIEST, LATEST, parse_instant
from backend.api.ratelimit import Limit, limit_key, limiter
from backend.api.schemas import Open311Request, form_body
from backend.auth.permissions import KeyPermission
from backend.core.errors import CommandInvalid, GridwatchError
from backend.core.i18n import t
from backend.domain.personal import redact
from backend.domain.vocabulary import OPEN_VALUES, Severity
from backend.intake.photos import check_photos
from backend.intake.service import ATTACHED, Report
from backend.queries.cases import case_row
from backend.queries.reference import category_rows, city_code
from backend.queries.scope import Scope
from backend.queries.service_requests import RequestSearch, find_requests, media_urls
from backend.refdata.model import WHISTLE_CLASSES
from backend.system import System

PREFIX = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00Z"  # when the service list's shape last changed
MAX_FORM = 64 * 1024
MAX_FORM_WITH_MEDIA = 6 * 1024 * 1024
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
_OPEN = frozenset(OPEN_VALUES)
#: XML element names of list items (the Spark convention: JSON arrays are repeated elements)
_ITEM = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str | list[str], fmt: str = "json") -> None:
        self.status = status
        self.descriptions = [description] if isinstance(description, str) else description
        self.fmt = fmt
        self.headers: dict[str, str] = {}


# ----------------------------------------------------------------------------- rendering


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, list):
        for v in value:
            _xml_value(el, _ITEM.get(key, "item"), v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, k, v)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)


def render(fmt: str, root: str, item: str | None, data: Any, status: int = 200) -> Response:
    """JSON as given; XML as ``<root><item>…</item></root>`` (or ``<root>…</root>``)."""
    if fmt == "json":
        import orjson

        return Response(
            orjson.dumps(data), status_code=status, media_type="application/json; charset=utf-8"
        )
    top = ET.Element(root)
    if item is None:
        for k, v in data.items():
            _xml_value(top, k, v)
    else:
        for row in data:
            el = ET.SubElement(top, item)
            for k, v in row.items():
                _xml_value(el, k, v)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
    return Response(body, status_code=status, media_type="text/xml; charset=utf-8")


def _error_response(exc: Open311Error) -> Response:
    rows = [{"code": exc.status, "description": d} for d in exc.descriptions]
    resp = render(exc.fmt, "errors", "error", rows, exc.status)
    resp.headers.update(exc.headers)
    return resp


def _fmt(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"format {fmt!r} is not served: use .json or .xml")
    return fmt


def open311_errors(
    fn: Callable[..., Awaitable[Response]],
) -> Callable[..., Awaitable[Response]]:
    """Every failure of an Open311 route in the specification's error format."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        fmt = kwargs.get("fmt", "json")
        fmt = fmt if fmt in ("json", "xml") else "json"
        try:
            return await fn(*args, **kwargs)
        except Open311Error as exc:
            exc.fmt = fmt
            return _error_response(exc)
        except CommandInvalid as exc:
            e = Open311Error(400, [f"{k}: {v}" for k, v in exc.errors.items()], fmt)
            return _error_response(e)
        except HTTPException as exc:
            e = Open311Error(exc.status_code, str(exc.detail), fmt)
            e.headers = dict(exc.headers or {})
            return _error_response(e)
        except GridwatchError as exc:
            return _error_response(Open311Error(400, str(exc), fmt))
        except UNAVAILABLE:  # the database or Redis is stuck: retry later, as the header says
            e = Open311Error(503, t("dependency_busy", "en"), fmt)
            e.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return _error_response(e)

    return wrapper


# ----------------------------------------------------------------------------- helpers


def jurisdiction(request: Request, system: System) -> str:
    """The jurisdiction_id this server answers for: the setting, else the city's area code
    (read once per app)."""
    if system.settings.jurisdiction_id:
        return str(system.settings.jurisdiction_id)
    cached: str | None = getattr(request.app.state, "open311_jurisdiction", None)
    if cached is None:
        with system.db.connect() as conn:
            cached = city_code(conn) or "gridwatch"
        request.app.state.open311_jurisdiction = cached
    return cached


def _check_jurisdiction(request: Request, system: System, given: str | None) -> None:
    if given and given.strip() and given.strip() != jurisdiction(request, system):
        raise Open311Error(404, f"jurisdiction_id {given!r} provided was not found")


def _w3(dt: datetime | None, tz: ZoneInfo) -> str | None:
    return dt.astimezone(tz).isoformat(timespec="seconds") if dt else None


def _parse_w3(name: str, text: str | None) -> datetime | None:
    """A w3 date-time with its zone, between the years 2000 and 2099 (400 otherwise)."""
    if text is None or not text.strip():
        return None
    dt, why = parse_instant(text)
    if why is not None:
        raise Open311Error(400, f"{name}: {why}, e.g. 2010-01-01T00:00:00Z")
    assert dt is not None
    return dt


def _request_ids(text: str) -> tuple[int, ...]:
    """``service_request_id``: comma-separated ids, each a BIGINT (400 otherwise)."""
    try:
        ids = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise Open311Error(400, "service_request_id: comma-separated ids") from None
    if any(not 0 < i < 2**63 for i in ids):
        raise Open311Error(400, f"service_request_id: {t('id_too_large', 'en')}")
    return ids


#: the reporter a case keeps (name, phone, email), as REST's ``reporter`` field
MAX_REPORTER = 100


def _reporter(parts: dict[str, str | None]) -> str | None:
    """Who reported (name, phone, email), as the case keeps it: refused whole (422, as REST
    refuses a long ``reporter``) rather than cut, since a cut would drop the phone."""
    long = t("text_at_most", "en", n=MAX_REPORTER)
    errors = [f"{n}: {long}" for n, v in parts.items() if v and len(v) > MAX_REPORTER]
    reporter = " ".join(v for v in parts.values() if v)
    if not errors and len(reporter) > MAX_REPORTER:
        errors = [f"reporter: {t('reporter_too_long', 'en', n=MAX_REPORTER)}"]
    if errors:
        raise Open311Error(422, errors)
    return reporter or None


def _services(system: System) -> list[dict[str, Any]]:
    with system.db.connect() as conn:
        rows = category_rows(conn)
    return [
        {
            "service_code": r["code"],
            "service_name": r["name"],
            "description": f"{r['name']} ({r['name_en']})",
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(k for k in (r["keywords"] or "").split(",") if k),
            "group": WHISTLE_CLASSES.get(r["whistle_class"], r["whistle_class"]),
        }
        for r in rows
    ]


def _definition(code: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "severity",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 1,
                "description": "紧急程度 (how urgent)",
                "values": [
                    {"key": Severity.GENERAL.value, "name": "一般 (general)"},
                    {"key": Severity.MAJOR.value, "name": "重大 (major)"},
                    {"key": Severity.URGENT.value, "name": "紧急 (urgent)"},
                ],
            },
            {
                "variable": True,
                "code": "grid",
                "datatype": "string",
                "required": False,
                "datatype_description": "网格编码, e.g. 361102001001G01",
                "order": 2,
                "description": "网格 (the grid code posted in the grid, if known)",
            },
        ],
    }


def _status_notes(row: RowMapping) -> str:
    notes = {
        "received": "已受理，等待分拨",
        "dispatched": "已派遣至承办单位",
        "accepted": "承办单位已签收",
        "in_progress": "正在办理",
        "paused": "等待补充材料",
        "resolved": "已办结",
        "rated": "已办结并评价",
        "closed": "已办结归档",
        "cancelled": "已撤销",
    }
    text = notes.get(row["status"], row["status"])
    if row["duplicate_count"] > 1:
        text += f"（共{row['duplicate_count']}人反映）"
    return text


def _public_text(system: System, text: str | None) -> str | None:
    """Citizens' words on the public feed: without phone, identity card or room numbers, or
    not at all (GRIDWATCH_OPEN311_TEXT)."""
    if system.settings.open311_text == "none":
        return None
    return redact(text)


def _request_json(system: System, row: RowMapping, media: dict[int, str]) -> dict[str, Any]:
    ref = system.ref
    cat = ref.categories.get(row["category"])
    unit = ref.units.get(row["unit_code"] or "")
    grid = ref.grids.get(row["grid_code"] or "")
    address = row["address"]
    if address is None and grid is not None:
        address = "".join(
            ref.area_names.get(c, "") for c in (grid.township_code, grid.community_code)
        ) + grid.name.removeprefix(ref.area_names.get(grid.community_code, ""))
    return {
        "service_request_id": str(row["id"]),
        "status": "open" if row["status"] in _OPEN else "closed",
        "status_notes": _status_notes(row),
        "service_name": cat.name if cat else row["category"],
        "service_code": row["category"],
        "description": _public_text(system, row["description"]),
        "agency_responsible": unit.name if unit else row["unit_code"],
        "service_notice": None,
        "requested_datetime": _w3(row["reported_at"], system.tz),
        "updated_datetime": _w3(row["closed_at"] or row["updated_at"], system.tz),
        "expected_datetime": _w3(row["due_at"], system.tz),
        "address": address,
        "address_id": row["grid_code"],
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": media.get(row["id"]),
    }


def _report_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The specification's window of report times: 90 days at most, the last 90 by default."""
    if start is None and end is None:
        end, start = now, now - MAX_SPAN
    elif start is None:
        assert end is not None
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    assert start is not None and end is not None
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return max(start, EARLIEST), min(end, LATEST)  # one date given: the other in range


def _search(system: System, params: Mapping[str, str | None]) -> RequestSearch:
    """The specification's query parameters as a search (400 for a bad one)."""
    ids_text = params.get("service_request_id")
    if ids_text:
        return RequestSearch(ids=_request_ids(ids_text), limit=MAX_RESULTS)
    start = _parse_w3("start_date", params.get("start_date"))
    end = _parse_w3("end_date", params.get("end_date"))
    # an extension many GeoReport servers share: what changed in (updated_after,
    # updated_before], whenever it was reported (how `gridwatch sync open311` pages)
    after = _parse_w3("updated_after", params.get("updated_after"))
    before = _parse_w3("updated_before", params.get("updated_before"))
    if after is not None and before is not None and before < after:
        raise Open311Error(400, "updated_before is before updated_after")
    if (after is not None or before is not None) and start is None and end is None:
        pass  # the change window alone: no default window of report times
    else:
        start, end = _report_window(start, end, system.clock.now())
    codes = params.get("service_code")
    open_only: bool | None = None
    status = params.get("status")
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status: open, closed (comma-separated)")
        if wanted == {"open"}:
            open_only = True
        elif wanted == {"closed"}:
            open_only = False
    return RequestSearch(
        start=start,
        end=end,
        categories=tuple(c.strip() for c in codes.split(",") if c.strip()) if codes else None,
        open=open_only,
        limit=MAX_RESULTS,
        updated_after=after,
        updated_before=before,
    )


def _requests_query(
    system: System, scope: Scope, params: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    search = _search(system, params)
    with system.db.connect() as conn:
        rows = find_requests(conn, search, scope=scope)
        media = media_urls(conn, [r["id"] for r in rows], scope=scope)
    return [_request_json(system, r, media) for r in rows]


# ----------------------------------------------------------------------------- routes

router = APIRouter(prefix=PREFIX, tags=["open311"])


@router.get("/discovery.{fmt}")
@open311_errors
async def discovery(request: Request, fmt: str) -> Response:
    fmt = _fmt(fmt)
    base = str(request.base_url).rstrip("/")
    data = {
        "changeset": CHANGESET,
        "contact": "网格化社会治理指挥中心 (the city's grid governance operations centre)",
        "key_service": "API keys are issued by the operations centre: gridwatch apikey create NAME",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base + PREFIX,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", None, data)


@router.get("/services.{fmt}")
@open311_errors
async def service_list(
    request: Request, fmt: str, system: SystemDep, jurisdiction_id: str | None = None
) -> Response:
    fmt = _fmt(fmt)
    _check_jurisdiction(request, system, jurisdiction_id)
    return render(fmt, "services", "service", _services(system))


@router.get("/services/{code}.{fmt}")
@open311_errors
async def service_definition(
    request: Request, code: str, fmt: str, system: SystemDep, jurisdiction_id: str | None = None
) -> Response:
    fmt = _fmt(fmt)
    _check_jurisdiction(request, system, jurisdiction_id)
    if code not in system.ref.categories:
        raise Open311Error(404, f"service_code {code!r} was not found")
    return render(fmt, "service_definition", None, _definition(code))


def _limit_feed(request: Request, system: System) -> None:
    """Bulk reads of the public feed are limited per address (GRIDWATCH_RATE_FEED)."""
    try:
        limiter(request).check("feed", client_ip(request), Limit.parse(system.settings.rate_feed))
    except HTTPException as exc:
        raise Open311Error(429, "too many requests: slow down") from exc


@router.get("/requests.{fmt}")
@open311_errors
async def service_requests(
    request: Request, fmt: str, system: SystemDep, scope: ScopeDep
) -> Response:
    fmt = _fmt(fmt)
    _limit_feed(request, system)
    params = dict(request.query_params)
    _check_jurisdiction(request, system, params.get("jurisdiction_id"))
    rows = await run_in_threadpool(_requests_query, system, scope, params)
    return render(fmt, "service_requests", "request", rows)


@router.get("/requests/{request_id}.{fmt}")
@open311_errors
async def service_request(
    request: Request,
    request_id: str,
    fmt: str,
    system: SystemDep,
    scope: ScopeDep,
    jurisdiction_id: str | None = None,
) -> Response:
    fmt = _fmt(fmt)
    _limit_feed(request, system)
    _check_jurisdiction(request, system, jurisdiction_id)
    if not request_id.isdigit() or not 0 < int(request_id) < 2**63:
        raise Open311Error(404, f"service_request_id {request_id!r} was not found")
    rows = await run_in_threadpool(
        _requests_query, system, scope, {"service_request_id": request_id}
    )
    if not rows:
        raise Open311Error(404, f"service_request_id {request_id!r} was not found")
    return render(fmt, "service_requests", "request", rows)


@router.get("/tokens/{token}.{fmt}")
@open311_errors
async def token_lookup(request: Request, token: str, fmt: str) -> Response:
    _fmt(fmt)
    # every service is realtime: a POST answers with the service_request_id, never a token
    raise Open311Error(404, f"token {token!r} not found: requests here get an id at once")


@router.post("/requests.{fmt}", openapi_extra=form_body(Open311Request))
@open311_errors
async def post_request(
    request: Request, fmt: str, system: SystemDep, scope: ScopeDep, intake: IntakeDep
) -> Response:
    """A service request, form encoded (multipart with ``media``); ``api_key`` in the form or
    the query. Answers with the case's id at once (every service is realtime)."""
    fmt = _fmt(fmt)
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/")
    form = await read_form(request, MAX_FORM_WITH_MEDIA if multipart else MAX_FORM, max_files=1)
    key = field(form, "api_key") or request.query_params.get("api_key")
    if not key:
        raise Open311Error(403, "api_key was not provided")
    info = lookup_key(request, key)
    if info is None:
        raise Open311Error(403, "invalid api_key received -- can't proceed with create_request")
    if not info.may(KeyPermission.REPORT):
        raise Open311Error(403, "this api_key may not create requests")
    client = info.name
    limit_key(request, "open311", client)
    _check_jurisdiction(request, system, field(form, "jurisdiction_id"))
    code = field(form, "service_code")
    if code is None:
        raise Open311Error(400, "service_code was not provided")
    if code not in system.ref.categories:
        raise Open311Error(404, f"service_code {code!r} was not found")
    errors: list[str] = []
    lat_s, lon_s = field(form, "lat"), field(form, "long")
    lat = lon = None
    if (lat_s is None) != (lon_s is None):
        errors.append("lat and long both need to be sent")
    elif lat_s is not None and lon_s is not None:
        try:
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            errors.append("lat and long must be numbers")
    address = field(form, "address_string")
    grid = field(form, "address_id") or field(form, "attribute[grid]")
    if grid is not None and grid not in system.ref.grids:
        errors.append(f"address_id {grid!r} is not a grid code of this jurisdiction")
    if lat is None and address is None and grid is None and not errors:
        errors.append("a location is required: lat & long, address_string or address_id")
    severity = field(form, "attribute[severity]")
    description = field(form, "description") or system.ref.categories[code].name
    if len(description) > 4000:
        errors.append("description: at most 4000 characters")
    media_url = field(form, "media_url")
    if media_url is not None and not media_url.lower().startswith(("http://", "https://")):
        errors.append("media_url must be an http(s) URL")
    if errors:
        raise Open311Error(400, errors)
    reporter = _reporter({n: field(form, n) for n in ("last_name", "first_name", "phone", "email")})
    photos = check_photos(await files(form, "media"), "media")
    report = Report(
        channel="open311",
        text=description,
        category=code,
        grid=grid,
        address=address,
        lat=lat,
        lon=lon,
        reporter=reporter,
        severity=severity,
        source_ref=(field(form, "account_id") or field(form, "device_id") or "")[:80] or None,
        photos=photos,
        parse={"media_url": media_url} if media_url else None,
        idem_key=idempotency_key(request, f"open311:{client}"),
    )
    out = await run_in_threadpool(intake.submit, report, f"open311:{client}"[:64])
    assert out.case_id is not None  # Open311 reports name their service: never triaged
    with system.db.connect() as conn:
        row = case_row(conn, out.case_id, scope=scope)
    assert row is not None
    if out.state == ATTACHED:
        notice = f"此问题已有人反映，已并入同一事项办理（共{row['duplicate_count']}人反映）"
    elif row["due_at"] is not None:
        notice = f"已受理，承办时限 {_w3(row['due_at'], system.tz)}"
    else:
        notice = "已受理，等待分拨至所在网格"
    data = [
        {
            "service_request_id": str(out.case_id),
            "service_notice": notice,
            "account_id": field(form, "account_id"),
        }
    ]
    return render(fmt, "service_requests", "request", data)
