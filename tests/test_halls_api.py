"""The halls' HTTP API with real Redis and SQL: batches in (whole or not at all), halls and
alerts out, alerts answered; hostile input gets a 4xx with reasons, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.halls.processor import HallProcessor
from backend.halls.rules import load_rules
from dashboard.app import create_app
from tests.hallsdata import ev, load_halls, wire
from tests.people import sign_in_client
from tests.test_halls_processor import HALL, only


@pytest.fixture
def client(system, small_city) -> TestClient:
    load_halls(system, small_city)
    with system.db.begin() as conn:
        key = create_key(conn, "hall-system", system.clock.now())
    c = TestClient(create_api(system))
    c.headers["Authorization"] = f"Bearer {key}"
    return c


@pytest.fixture
def proc(system, client) -> HallProcessor:
    p = HallProcessor(system, only(load_rules(), "window_vacant"))
    p.start()
    return p


def batch(*events) -> dict:
    return {"events": [wire(e) for e in events]}


def test_a_batch_goes_on_the_stream_once(system, client, proc, clock) -> None:
    now = clock.now()
    body = batch(
        ev(HALL, "staff_arrived", now, "01", staff="s1", id="k1"),
        ev(HALL, "ticket_taken", now, "01", ticket="A1", id="k2"),
    )
    r = client.post("/api/v1/halls/events", json=body)
    assert r.status_code == 202 and r.json() == {"accepted": 2, "repeated": 0}
    assert proc.step(block_ms=None) == 2
    r = client.post("/api/v1/halls/events", json=body)  # sent again after it was applied
    assert r.status_code == 202 and r.json() == {"accepted": 0, "repeated": 2}
    assert proc.step(block_ms=None) == 0
    halls = client.get("/api/v1/halls").json()["halls"]
    hall = next(h for h in halls if h["code"] == HALL)
    w1 = hall["windows"][0]
    assert (w1["code"], w1["status"], w1["staff"], w1["queue"]) == ("01", "staffed", ["s1"], 1)
    assert client.get(f"/api/v1/halls/{HALL}").json()["staffed"] == 1
    assert client.get("/api/v1/halls/H000").status_code == 404


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"hall": "H-nowhere"}, "hall"),
        ({"window": "99"}, "window"),
        ({"window": None}, "window"),
        ({"at": "2099-01-01T00:00:00+08:00"}, "at"),
        ({"at": "2026-11-23T09:00:00"}, "at"),
        ({"at": "yesterday"}, "at"),
        ({"type": "party"}, "type"),
        ({"id": ""}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"staff": 7}, "staff"),
        ({"snapshot": "javascript:alert(1)"}, "snapshot"),
        ({"mood": "happy"}, "mood"),
    ],
)
def test_one_bad_event_refuses_the_batch(system, client, clock, event, field) -> None:
    good = wire(ev(HALL, "staff_arrived", clock.now(), "01", staff="s1"))
    bad = {**wire(ev(HALL, "staff_arrived", clock.now(), "01", staff="s1")), **event}
    r = client.post("/api/v1/halls/events", json={"events": [good, bad]})
    assert r.status_code == 422, r.text
    assert f"events[1].{field}" in r.json()["errors"]
    assert system.redis.xlen(system.keys.hall_events) == 0  # nothing applied


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"events": []}',
        b'{"events": "x"}',
        b'{"events": [1]}',
        b'{"events": [], "extra": 1}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies(client, body) -> None:
    r = client.post(
        "/api/v1/halls/events", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["errors"]


def test_too_large_and_unauthenticated(system, client, clock) -> None:
    e = wire(ev(HALL, "zone_count", clock.now(), count=3))
    r = client.post("/api/v1/halls/events", json={"events": [e] * 501})
    assert r.status_code == 422 and "events" in r.json()["errors"]
    r = client.post("/api/v1/halls/events", content=b"x" * (600 * 1024))
    assert r.status_code == 413
    anon = TestClient(create_api(system))
    assert anon.post("/api/v1/halls/events", json={"events": [e]}).status_code == 401
    assert anon.get("/api/v1/halls").status_code == 401


def test_alerts_listed_and_answered(system, client, proc, clock) -> None:
    now = clock.now()
    proc.apply(
        [
            ev(HALL, "ticket_taken", now, "01", ticket="A1"),
            ev(HALL, "staff_left", now, "01", staff="s1"),
        ]
    )
    clock.advance(timedelta(minutes=6))
    proc.tick()
    clock.advance(timedelta(minutes=3))
    (alert,) = client.get("/api/v1/alerts", params={"state": "open"}).json()["alerts"]
    assert alert["rule"] == "window_vacant" and alert["age_minutes"] == 3
    url = f"/api/v1/alerts/{alert['id']}"
    r = client.post(url + "/ack", json={"note": "已电话联系窗口负责人", "by": "李督查"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert r.json()["acked_by"] == "李督查"
    assert client.post(url + "/ack", json={"note": "again"}).status_code == 409
    assert client.post(url + "/ack", json={}).json()["errors"]["note"]
    assert client.post(url + "/ack", json={"note": "x", "who": 1}).status_code == 422
    assert client.post("/api/v1/alerts/999/ack", json={"note": "x"}).status_code == 404
    assert client.post("/api/v1/alerts/abc/ack", json={"note": "x"}).status_code == 422
    r = client.post(url + "/resolve", json={"note": "已到岗"})
    assert r.status_code == 200 and r.json()["resolved_by"] == "api:hall-system"
    assert [e["type"] for e in client.get(url).json()["log"]] == [
        "opened",
        "acknowledged",
        "resolved",
    ]
    assert client.get("/api/v1/alerts", params={"state": "bogus"}).status_code == 422
    assert client.get("/api/v1/alerts", params={"hall": HALL}).json()["alerts"]


def test_silences(client, clock) -> None:
    start = clock.now()
    good = {
        "hall": HALL,
        "window": "02",
        "starts": start.isoformat(),
        "ends": (start + timedelta(hours=2)).isoformat(),
        "reason": "窗口培训",
    }
    assert client.post("/api/v1/halls/silences", json=good).status_code == 201
    for bad, field in (
        ({"hall": "H0"}, "hall"),
        ({"window": "77"}, "window"),
        ({"rule": "x"}, "rule"),
        ({"ends": start.isoformat()}, "ends"),
        ({"starts": "soon"}, "starts"),
        ({"reason": ""}, "reason"),
    ):
        r = client.post("/api/v1/halls/silences", json={**good, **bad})
        assert r.status_code == 422 and field in r.json()["errors"], (bad, r.text)


def test_unknown_api_paths_answer_json_404(system) -> None:
    app = create_app(system)
    with TestClient(app) as c:  # with: Dash adds its page routes at start-up
        for path in ("/api/v1/nothing", "/api/v2/halls", "/api/"):
            r = c.get(path)
            assert r.status_code == 404, path
            assert r.headers["content-type"].startswith("application/json")
        sign_in_client(c, system, "duty_officer")  # the screens are staff pages
        assert c.get("/leader").headers["content-type"].startswith("text/html")
        assert c.get("/halls").headers["content-type"].startswith("text/html")
    app.state.bridge.stop()
    app.state.leader.stop()
