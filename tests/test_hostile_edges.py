"""The hostile-input suite, second part (issue 14): ids past a BIGINT, years 1 and 9999,
times in the future, filters and grid parameters that are not numbers, malformed Dash
callback payloads, unknown report kinds, units and categories that do not exist, an Open311
name too long. Each gets a 4xx or a clear message, never a 500, and nothing is stored wrong.

tests/test_hostile.py is the first part (every field of every writing route with the usual
attacks); together they pass 300 inputs, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.auth.apikeys import create_key
from backend.store.models import case_events, case_reports, cases
from dashboard.app import create_app
from tests.dashcalls import callback_body
from tests.helpers import grid_category, report
from tests.people import sign_in_client

OURS = "http://gw.test"
BIG = (2**63, 2**64, 10**30)
YEARS = ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-14:00")


@pytest.fixture
def web(system) -> Iterator[tuple[TestClient, Any]]:
    """The whole web process (API, pages and Dash), a leader signed in, an API key that may
    do everything."""
    system.settings.rate_public = system.settings.rate_key = "100000/60"
    system.settings.rate_feed = system.settings.rate_login = "100000/60"
    with system.db.begin() as conn:
        key = create_key(conn, "hostile", system.clock.now())
    app = create_app(system)
    client = TestClient(app, follow_redirects=False, base_url=OURS, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {key}"
    client.headers["Origin"] = OURS
    sign_in_client(client, system, "leader")
    client.key = key  # type: ignore[attr-defined]
    yield client, app
    app.state.bridge.stop()
    app.state.leader.stop()


def _counts(system) -> dict[str, int]:
    with system.db.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (cases, case_events, case_reports)
        }


def _clear(r) -> None:  # noqa: ANN001
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])


# ----------------------------------------------------------------------------- ids


ID_PATHS = (
    ("GET", "/api/v1/cases/{}"),
    ("GET", "/api/v1/cases/{}/reports"),
    ("POST", "/api/v1/cases/{}/actions"),
    ("GET", "/api/v1/photos/{}"),
    ("GET", "/api/v1/alerts/{}"),
    ("POST", "/api/v1/alerts/{}/ack"),
    ("POST", "/api/v1/alerts/{}/resolve"),
    ("POST", "/api/v1/intake/triage/{}"),
    ("GET", "/work/cases/{}"),
    ("POST", "/work/cases/{}/accept"),
    ("GET", "/work/photos/report/{}"),
    ("GET", "/work/photos/result/{}"),
    ("GET", "/leader/photos/{}"),
    ("GET", "/t/sometoken/photo/{}"),
    ("GET", "/open311/v2/requests/{}.json"),
    ("GET", "/open311/v2/requests.json?service_request_id={}"),
    ("GET", "/open311/v2/requests.json?service_request_id=1,{}"),
)


@pytest.mark.parametrize(("method", "path"), ID_PATHS, ids=lambda v: str(v))
def test_ids_past_a_bigint_are_refused_not_a_500(system, web, method, path):
    client, _ = web
    if path.startswith("/work"):  # the handler's workbench: a handler signed in
        sign_in_client(client, system, "handler", units=[sorted(system.ref.units)[0]])
    for n in (*BIG, -(2**63) - 1):
        url = path.format(n)
        body = {"action": "accept", "note": "x"} if method == "POST" else None
        r = client.request(method, url, json=body)
        assert r.status_code < 500, (url, r.status_code, r.text[:300])
        assert r.status_code in (400, 404, 422), (url, r.status_code)


# ----------------------------------------------------------------------------- times


@pytest.mark.parametrize("at", YEARS)
def test_received_at_in_year_1_or_9999_is_refused_per_field(system, web, at):
    client, _ = web
    before = _counts(system)
    r = client.post(
        "/api/v1/intake/text",
        json={"channel": "hotline", "text": "杨店街道路灯不亮", "received_at": at},
    )
    assert r.status_code == 422, r.text[:300]
    assert "received_at" in r.json()["errors"]
    assert _counts(system) == before


@pytest.mark.parametrize(
    ("ahead", "ok"),
    [(timedelta(days=365), False), (timedelta(hours=1), False), (timedelta(seconds=30), True)],
)
def test_received_at_in_the_future_beyond_the_clock_skew_is_refused(system, web, ahead, ok):
    client, _ = web
    at = (system.clock.now() + ahead).isoformat()
    before = _counts(system)
    r = client.post(
        "/api/v1/intake/text",
        json={"channel": "hotline", "text": "杨店街道路灯不亮", "received_at": at},
    )
    if ok:
        assert r.status_code in (201, 202), r.text[:300]
        return
    assert r.status_code == 422, r.text[:300]
    assert "received_at" in r.json()["errors"]
    assert _counts(system) == before


DATE_QUERIES = [
    f"/open311/v2/requests.json?{name}={value}"
    for name in ("start_date", "end_date")
    for value in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00")
] + [
    "/open311/v2/requests.json?start_date=0001-01-01T00:00:00Z&end_date=0001-01-02T00:00:00Z",
    "/open311/v2/requests.json?start_date=9999-12-30T00:00:00Z&end_date=9999-12-31T00:00:00Z",
    "/open311/v2/requests.xml?end_date=0001-01-01T00:00:00%2B14:00",
]


@pytest.mark.parametrize("path", DATE_QUERIES)
def test_absurd_dates_in_filters_are_a_clear_answer(web, path):
    client, _ = web
    r = client.get(path)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])


# ----------------------------------------------------------------------------- filters

FILTERS = [
    "/api/v1/stuck?limit=abc",
    "/api/v1/stuck?offset=abc",
    "/api/v1/stuck?limit=1.5",
    "/api/v1/stuck?offset=99999999999999999999",
    "/api/v1/stuck?offset=-1",
    "/api/v1/stuck?limit=0",
    "/api/v1/stuck?overdue=2",
    "/api/v1/stuck?tier=nowhere",
    "/api/v1/stuck?colour=purple",
    "/api/v1/stuck?area=" + "x" * 5000,
    "/api/v1/stuck?unit=%00",
    "/api/v1/stuck?category=%00",
    "/api/v1/alerts?hall=%00",
    "/api/v1/alerts?state=%00",
    "/api/v1/intake/triage?limit=abc",
    "/api/v1/intake/triage?offset=99999999999999999999",
    "/api/v1/halls/%00",
    "/open311/v2/requests.json?service_code=%00",
    "/open311/v2/requests.json?status=%00",
    "/open311/v2/requests.json?jurisdiction_id=%00",
    "/open311/v2/requests.json?lat=abc&long=def",
    "/open311/v2/services/%00.json",
    "/leader/photos/abc",
    "/work/photos/nothing/1",
    "/work/photos/%00/1",
    "/admin/audit?page=abc",
    "/admin/audit?page=99999999999999999999",
    "/admin/audit?page=-1",
    "/work?done=%00",
    "/r/%00",
    "/posters/%00",
    "/r/361102001001G02/qr.svg?size=abc",
]


@pytest.mark.parametrize("path", FILTERS)
def test_filters_that_are_not_what_they_should_be_get_a_clear_answer(system, web, path):
    client, _ = web
    sign_in_client(client, system, "admin")
    r = client.get(path)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])


# ----------------------------------------------------------------------------- intake rules


def test_unit_and_source_must_name_a_unit_that_exists(system, web):
    client, _ = web
    before = _counts(system)
    body = {
        "category": grid_category(system),
        "description": "路灯不亮",
        "channel": "hotline",
        "grid": sorted(system.ref.grids)[0],
        "source": "la311",
        "unit": "NO-SUCH-UNIT",
    }
    r = client.post("/api/v1/cases", json=body)
    assert r.status_code == 422, r.text[:300]
    assert "unit" in r.json()["errors"]
    assert _counts(system) == before
    body["unit"] = sorted(system.ref.units)[0]
    assert client.post("/api/v1/cases", json=body).status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/intake/triage/1"])
def test_a_category_that_does_not_exist_is_refused(system, web, path):
    client, _ = web
    before = _counts(system)
    body: dict[str, Any] = {"category": "NO-SUCH", "grid": sorted(system.ref.grids)[0]}
    if path == "/api/v1/cases":
        body.update(description="路灯不亮", channel="hotline")
    r = client.post(path, json=body)
    _clear(r)
    assert _counts(system) == before


@pytest.mark.parametrize(
    ("name", "field"),
    [("first_name", "x" * 200), ("last_name", "张" * 200), ("phone", "1" * 120)],
)
def test_open311_refuses_an_over_long_name_like_rest(system, web, name, field):
    client, _ = web
    before = _counts(system)
    form = {
        "api_key": client.key,  # type: ignore[attr-defined]
        "service_code": grid_category(system),
        "lat": "28.45",
        "long": "117.94",
        "description": "路灯不亮",
        "phone": "13800138000",
        name: field,
    }
    r = client.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 422, r.text[:300]
    assert _counts(system) == before
    r = client.post("/open311/v2/requests.json", data={**form, name: "13800138000"[:11]})
    assert r.status_code == 200, r.text[:300]
    case_id = int(r.json()[0]["service_request_id"])
    with system.db.connect() as conn:
        reporter = conn.execute(select(cases.c.reporter).where(cases.c.id == case_id)).scalar()
    assert "13800138000"[-4:] in str(reporter)


# ----------------------------------------------------------------------------- Dash


GARBAGE_BODIES: list[Any] = [
    {},
    [],
    "x",
    None,
    42,
    {"output": 1},
    {"output": "no-such.children"},
    {"output": "no-such.children", "outputs": {}, "inputs": [], "changedPropIds": []},
    {"output": "report-body.children", "inputs": "x"},
    {"output": "report-body.children", "outputs": [], "inputs": [1, 2], "state": "x"},
    {"output": "report-body.children", "outputs": {"id": 1}, "inputs": [{}]},
    {"output": "report-body.children", "outputs": None, "inputs": None, "changedPropIds": 3},
    {"output": "..a.b...c.d..", "outputs": [{"x": 1}], "inputs": [{"id": {"$gt": 1}}]},
]


@pytest.mark.parametrize("body", GARBAGE_BODIES, ids=lambda b: repr(b)[:30])
def test_malformed_dash_callback_payloads_are_refused(web, body):
    client, _ = web
    r = client.post("/_dash-update-component", json=body)
    _clear(r)


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"\xff\xfe", b"[" * 5000, b"null"], ids=lambda b: repr(b)[:20]
)
def test_dash_callback_bodies_that_are_no_json_are_refused(web, raw):
    client, _ = web
    r = client.post(
        "/_dash-update-component", content=raw, headers={"content-type": "application/json"}
    )
    _clear(r)


PERIOD_VALUES = [
    {"period-kind.value": "weekly", "period-day.date": "2026-11-23"},
    {"period-kind.value": ["daily"], "period-day.date": "2026-11-23"},
    {"period-kind.value": "daily", "period-day.date": "9999-12-31"},
    {"period-kind.value": "monthly", "period-day.date": "9999-12-31"},
    {"period-kind.value": "dekad", "period-day.date": "0001-01-01"},
    {"period-kind.value": "daily", "period-day.date": "not a date"},
    {"period-kind.value": "daily", "period-day.date": 20261123},
    {"period-kind.value": {"a": 1}, "period-day.date": ["x"]},
]


@pytest.mark.parametrize(
    "output",
    [
        "report-body.children",
        "assess-table.children",
        "report-halls.children",
        "assess-halls.children",
    ],
)
@pytest.mark.parametrize("values", PERIOD_VALUES, ids=lambda v: repr(v)[:40])
def test_an_unknown_report_kind_or_day_is_no_500(web, output, values):
    client, app = web
    ids_ = app.state.dash.callback_map
    if not any(output in k for k in ids_):
        pytest.skip(f"no callback for {output}")
    r = client.post("/_dash-update-component", json=callback_body(app, output, values))
    assert r.status_code in (200, 204, 400), (r.status_code, r.text[:300])


@pytest.mark.parametrize(
    "request_",
    [
        {"startRow": "1e400", "endRow": "abc"},
        {"startRow": 2**70, "endRow": 2**71},
        {"startRow": -5, "endRow": -1},
        {"startRow": 0, "endRow": 10**9},
        {"startRow": 1.5, "endRow": 2.5},
        {"startRow": None, "endRow": None},
        {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "x", "sort": "sideways"}]},
        {"startRow": 0, "endRow": 100, "sortModel": [{"colId": 1}]},
        {"startRow": 0, "endRow": 100, "filterModel": {"risk": {"filter": 2**70}}},
        {"startRow": 0, "endRow": 100, "filterModel": {"age_hours": {"filter": "NaN"}}},
        {"startRow": 0, "endRow": 100, "filterModel": {"reported": {"dateFrom": "9999-99-99"}}},
        "garbage",
        [1, 2, 3],
    ],
    ids=lambda v: repr(v)[:40],
)
def test_stuck_grid_parameters_that_are_no_numbers_are_no_500(web, request_):
    client, app = web
    body = callback_body(app, "stuck-grid.getRowsResponse", {"stuck-grid.getRowsRequest": request_})
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code in (200, 204, 400), (r.status_code, r.text[:300])


def test_a_case_exists_before_and_after_the_hostile_calls(system, web):
    """The suite's own check that its client can still do the right thing."""
    client, _ = web
    case_id = report(system)
    assert client.get(f"/api/v1/cases/{case_id}").status_code == 200
