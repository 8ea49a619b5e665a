"""The HTTP contract of DESIGN.md: REST intake, actions, stuck, KPI, health and metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.store.models import cases
from tests.helpers import grid_category


@pytest.fixture
def client(system):
    with system.db.begin() as conn:
        key = create_key(conn, "hotline-12345", system.clock.now())
    c = TestClient(create_api(system))
    c.headers["Authorization"] = f"Bearer {key}"
    return c


def _body(system, **kw):
    body = {
        "category": grid_category(system),
        "description": "楼上装修噪音扰民 <b>夜间</b>",
        "channel": "hotline",
        "grid": sorted(system.ref.grids)[0],
    }
    body.update(kw)
    return body


def test_a_key_is_required(system, client):
    anon = TestClient(create_api(system))
    assert anon.post("/api/v1/cases", json=_body(system)).status_code == 401
    r = anon.post(
        "/api/v1/cases", json=_body(system), headers={"Authorization": "Bearer gwk_wrong"}
    )
    assert r.status_code == 401 and "unknown" in r.json()["detail"]


def test_create_returns_the_stored_case(system, client):
    r = client.post("/api/v1/cases", json=_body(system))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "dispatched" and case["tier"] == "grid"
    assert case["code"].startswith("GW20261123")
    assert case["deadline"] and case["unit"]
    # citizen text is stored as given; screens escape it when they show it
    assert case["description"] == "楼上装修噪音扰民 <b>夜间</b>"


def test_bad_input_gets_per_field_errors_and_nothing_is_stored(system, client):
    r = client.post(
        "/api/v1/cases",
        json={"category": "x", "channel": "pigeon", "lat": 91, "lon": 10, "colour": "red"},
    )
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {"category", "description", "channel", "lat", "colour"} <= set(errors)
    r = client.post("/api/v1/cases", content=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "body" in r.json()["errors"]
    r = client.post("/api/v1/cases", json=[1, 2])
    assert r.status_code == 422
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 0


def test_oversized_bodies_are_refused(system, client):
    r = client.post(
        "/api/v1/cases",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_actions_and_the_timeline(system, client):
    cid = client.post("/api/v1/cases", json=_body(system)).json()["id"]
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "resolve", "reason": "x"})
    assert r.status_code == 409
    assert "accept" in r.json()["reason"]
    assert client.post(f"/api/v1/cases/{cid}/actions", json={"action": "accept"}).status_code == 200
    r = client.post(
        f"/api/v1/cases/{cid}/actions",
        json={"action": "pause", "params": {"reason": "等待群众补充材料"}},
    )
    assert r.status_code == 200 and r.json()["status"] == "paused"
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "fly"})
    assert r.status_code == 422 and "action" in r.json()["errors"]
    r = client.get(f"/api/v1/cases/{cid}")
    assert r.status_code == 200
    assert [e["type"] for e in r.json()["events"]] == [
        "reported",
        "dispatched",
        "accepted",
        "paused",
    ]
    assert client.get("/api/v1/cases/424242").status_code == 404
    assert client.post("/api/v1/cases/424242/actions", json={"action": "accept"}).status_code == 404


def test_stuck_and_kpi(system, client, clock):
    ids = [
        client.post("/api/v1/cases", json=_body(system, grid=g)).json()["id"]
        for g in sorted(system.ref.grids)[:4]
    ]
    client.post(f"/api/v1/cases/{ids[0]}/actions", json={"action": "accept"})
    client.post(f"/api/v1/cases/{ids[0]}/actions", json={"action": "resolve", "reason": "ok"})
    clock.advance(timedelta(days=1, hours=16))  # past the grid deadline (Tue 23:59:59)
    r = client.get("/api/v1/stuck", params={"overdue": "true"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3
    assert all(it["overdue"] and it["seconds_left"] < 0 for it in body["items"])
    assert client.get("/api/v1/stuck", params={"tier": "moon"}).status_code == 422
    k = client.get("/api/v1/kpi").json()
    assert k["open"] == 3 and k["by_tier"]["grid"]["overdue"] == 3
    system.engine.tick()
    k = client.get("/api/v1/kpi").json()
    assert k["by_tier"]["township"]["open"] == 3 and k["overdue"] == 0


def test_health_and_metrics(system, client):
    client.post("/api/v1/cases", json=_body(system))
    assert client.get("/healthz").json() == {"status": "ok"}
    h = client.get("/readyz")
    assert h.status_code == 200 and h.json()["checks"] == {"database": "ok", "redis": "ok"}
    m = client.get("/metrics")
    assert m.status_code == 200
    assert 'gridwatch_cases_open{tier="grid"} 1' in m.text
    assert "gridwatch_cases_total 1" in m.text


def test_an_integration_names_its_operator_but_not_someone_else(system, client):
    cid = client.post("/api/v1/cases", json=_body(system)).json()["id"]
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "accept", "actor": "王五"})
    assert r.status_code == 200
    events = client.get(f"/api/v1/cases/{cid}").json()["events"]
    assert events[-1]["actor"] == "api:hotline-12345:王五"
    assert events[0]["actor"] == "api:hotline-12345"
    r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": "start", "actor": ["x"]})
    assert r.status_code == 422 and "actor" in r.json()["errors"]


def test_a_paused_case_is_stuck_but_not_overdue(system, client, clock):
    cid = client.post("/api/v1/cases", json=_body(system)).json()["id"]
    client.post(f"/api/v1/cases/{cid}/actions", json={"action": "accept"})
    client.post(
        f"/api/v1/cases/{cid}/actions", json={"action": "pause", "reason": "等待群众补充材料"}
    )
    clock.advance(timedelta(days=5))
    items = client.get("/api/v1/stuck").json()["items"]
    assert [(i["id"], i["status"], i["overdue"]) for i in items] == [(cid, "paused", False)]
    assert items[0]["seconds_left"] > 0  # the clock stopped with time still on it
    assert client.get("/api/v1/stuck", params={"overdue": "true"}).json()["total"] == 0
