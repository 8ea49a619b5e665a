"""Intake through REST and as hotline / WeChat text: duplicates become one case with every
report attached, what the parser cannot tell waits for a person, limits per client."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.intake import store
from backend.intake.service import Intake, Report
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import case_reports, cases
from backend.system import System
from tests.helpers import events_of


@pytest.fixture
def client(system):
    with system.db.begin() as conn:
        key = create_key(conn, "hotline-12345", system.clock.now())
    c = TestClient(create_api(system))
    c.headers["Authorization"] = f"Bearer {key}"
    return c


GRID = "361102001001G02"  # 杨店街道 新潭社区 第2网格 of the small demo city


def _garbage(**kw):
    body = {
        "category": "garbage_collection",
        "description": "新潭社区5栋楼下的垃圾桶满了两天没人清运，臭味很大",
        "channel": "hotline",
        "grid": GRID,
    }
    body.update(kw)
    return body


def _count(system, table=cases):
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_same_matter_reported_again_is_attached_to_the_open_case(system, client, clock):
    first = client.post("/api/v1/cases", json=_garbage())
    assert first.status_code == 201, first.text
    case_id = first.json()["id"]
    assert first.json()["report"]["state"] == "case"
    clock.advance(timedelta(hours=3))
    again = client.post(
        "/api/v1/cases",
        json=_garbage(description="5栋楼下垃圾桶已经满了，两天都没人来清运", channel="wechat"),
    )
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["id"] == case_id and body["duplicate_count"] == 2
    assert body["report"]["state"] == "attached" and body["report"]["similarity"] >= 0.3
    assert _count(system) == 1
    # the engine recorded it: the event log shows the second report
    types = [e["type"] for e in events_of(system, case_id)]
    assert types[-1] == "duplicate_attached"
    # every report is kept, and the case shows the count
    reports = client.get(f"/api/v1/cases/{case_id}/reports").json()
    assert reports["duplicate_count"] == 2
    assert [r["channel"] for r in reports["reports"]] == ["hotline", "wechat"]
    assert [r["state"] for r in reports["reports"]] == ["case", "attached"]
    # merged duplicates count once in the report figures
    with system.db.connect() as conn:
        rep = build_report(
            conn, clock.now() - timedelta(days=1), clock.now(), clock.now(), scope=Scope.city()
        )
    assert rep["cases_total"] == 1


def test_other_matters_open_their_own_cases(system, client, clock):
    assert client.post("/api/v1/cases", json=_garbage()).status_code == 201
    # same grid and category, different matter
    other = _garbage(description="青园路口新装的分类垃圾箱被人撬开，里面的垃圾散了一地")
    assert client.post("/api/v1/cases", json=other).status_code == 201
    # same text in another grid
    assert client.post("/api/v1/cases", json=_garbage(grid="361102001001G03")).status_code == 201
    # the integration says it is not a duplicate
    assert client.post("/api/v1/cases", json=_garbage(dedupe=False)).status_code == 201
    # outside the window: a new case
    clock.advance(timedelta(hours=system.settings.duplicate_window_hours + 1))
    assert client.post("/api/v1/cases", json=_garbage()).status_code == 201
    assert _count(system) == 5


def test_a_closed_case_is_not_reopened_by_a_new_report(system, client):
    cid = client.post("/api/v1/cases", json=_garbage()).json()["id"]
    for action in ("accept", "resolve"):
        r = client.post(f"/api/v1/cases/{cid}/actions", json={"action": action, "reason": "已清运"})
        assert r.status_code == 200, r.text
    again = client.post("/api/v1/cases", json=_garbage())
    assert again.status_code == 201 and again.json()["id"] != cid


def test_bad_rest_input_is_still_per_field_and_stores_nothing(system, client):
    r = client.post("/api/v1/cases", json={"category": "x", "channel": "pigeon", "dedupe": "no"})
    assert r.status_code == 422 and "dedupe" in r.json()["errors"]
    r = client.post("/api/v1/cases", json={"category": "x", "channel": "pigeon", "colour": "red"})
    assert r.status_code == 422 and {"category", "channel", "colour"} <= set(r.json()["errors"])
    assert _count(system) == 0 and _count(system, case_reports) == 0


def test_two_web_processes_reporting_the_same_matter_at_once_make_one_case(system, settings):
    """Each thread has its own System (own engine, own connections), like two web processes;
    the intake lock in Redis serialises them per grid and category."""
    systems = [System(settings, system.clock) for _ in range(4)]
    barrier = threading.Barrier(len(systems))
    outcomes = []

    def send(s: System) -> None:
        barrier.wait()
        report = Report(
            channel="qr",
            text="新潭社区5栋楼下的垃圾桶满了两天没人清运",
            category="garbage_collection",
            grid=GRID,
        )
        outcomes.append(Intake(s).submit(report, "test"))

    threads = [threading.Thread(target=send, args=(s,)) for s in systems]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(o.state for o in outcomes) == ["attached", "attached", "attached", "case"]
    assert len({o.case_id for o in outcomes}) == 1
    with system.db.connect() as conn:
        row = conn.execute(select(cases.c.duplicate_count)).one()
    assert row.duplicate_count == 4 and _count(system) == 1
    for s in systems:
        s.db.dispose()


# ----------------------------------------------------------------------------- text


def test_a_hotline_order_naming_category_and_grid_becomes_a_routed_case(system, client):
    r = client.post(
        "/api/v1/intake/text",
        json={
            "channel": "hotline",
            "text": "市民来电反映：杨店街道新潭社区第2网格，楼下有人私搭乱建铁皮房，请尽快处理。",
            "order_no": "12345-20261123-0001",
        },
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["category"] == "illegal_building" and case["grid"] == GRID
    assert case["status"] == "dispatched" and case["channel"] == "hotline"
    reports = client.get(f"/api/v1/cases/{case['id']}/reports").json()["reports"]
    assert reports[0]["source_ref"] == "12345-20261123-0001"
    assert reports[0]["parse"]["category"] == "illegal_building"


def test_urgent_words_send_the_case_straight_up(system, client):
    r = client.post(
        "/api/v1/intake/text",
        json={
            "channel": "hotline",
            "text": "紧急！新潭社区第2网格楼道里有很重的煤气味，有人晕倒了",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["category"] == "gas_leak" and r.json()["severity"] == "urgent"
    assert r.json()["tier"] == "department"


def test_a_wechat_message_takes_its_groups_grid(system, client):
    r = client.post(
        "/api/v1/intake/text",
        json={
            "channel": "wechat",
            "text": "对面邻居每天一大早就开始装修，电钻声吵得没法休息",
            "grid": GRID,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["grid"] == GRID and r.json()["category"] == "decoration_noise"


def test_a_community_without_a_grid_waits_for_dispatch_instead_of_a_guess(system, client):
    r = client.post(
        "/api/v1/intake/text",
        json={"channel": "hotline", "text": "新潭社区菜市场门口的路灯坏了一个星期，晚上一片漆黑"},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["category"] == "streetlight_out"
    assert case["grid"] is None and case["status"] == "received" and case["tier"] is None
    assert "新潭社区" in case["address"]


def test_what_the_parser_cannot_tell_goes_to_a_person(system, client):
    r = client.post(
        "/api/v1/intake/text",
        json={"channel": "wechat", "text": "这个事情你们到底管不管？都说了好几次了", "grid": GRID},
    )
    assert r.status_code == 202, r.text
    assert r.json()["report"]["state"] == "triage" and "id" not in r.json()
    assert _count(system) == 0
    queue = client.get("/api/v1/intake/triage").json()
    assert queue["total"] == 1
    item = queue["items"][0]
    assert item["reason"].startswith("category uncertain") and item["grid"] == GRID
    bad = client.post(f"/api/v1/intake/triage/{item['id']}", json={"category": "nope"})
    assert bad.status_code == 422
    ok = client.post(f"/api/v1/intake/triage/{item['id']}", json={"category": "sanitation"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["grid"] == GRID and ok.json()["category"] == "sanitation"
    assert (
        client.post(f"/api/v1/intake/triage/{item['id']}", json={"reject": "x"}).status_code == 409
    )
    assert client.get("/api/v1/intake/triage").json()["total"] == 0
    assert client.post("/api/v1/intake/triage/999", json={"reject": "x"}).status_code == 404


def test_a_person_can_reject_a_message(system, client):
    client.post("/api/v1/intake/text", json={"channel": "hotline", "text": "喂喂，听得到吗"})
    item = client.get("/api/v1/intake/triage").json()["items"][0]
    r = client.post(f"/api/v1/intake/triage/{item['id']}", json={"reject": "无效来电"})
    assert r.status_code == 200 and r.json()["report"]["state"] == "rejected"
    assert _count(system) == 0


def test_bad_text_input_is_refused_per_field(system, client):
    r = client.post(
        "/api/v1/intake/text",
        json={"channel": "fax", "text": "", "grid": "nowhere", "received_at": "yesterday", "x": 1},
    )
    assert r.status_code == 422
    assert {"channel", "text", "grid", "received_at", "x"} <= set(r.json()["errors"])
    r = client.post(
        "/api/v1/intake/text", content=b"[", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    big = client.post(
        "/api/v1/intake/text",
        content=b'{"text": "' + b"x" * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413


def test_intake_is_rate_limited_per_key(system, client):
    system.settings.rate_key = "3/60"
    codes = [
        client.post("/api/v1/cases", json=_garbage(dedupe=False)).status_code for _ in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    r = client.post("/api/v1/cases", json=_garbage(dedupe=False))
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 60
    # another integration has its own allowance
    with system.db.begin() as conn:
        other = create_key(conn, "wechat-bridge", system.clock.now())
    r = client.post(
        "/api/v1/cases", json=_garbage(dedupe=False), headers={"Authorization": f"Bearer {other}"}
    )
    assert r.status_code == 201


def test_an_intake_interrupted_after_its_case_loses_nothing(system, client, clock):
    """The report is stored before its case is opened. A process that dies in between leaves
    a report that comes back to the triage queue; deciding it finds the case, not a second."""
    intake = Intake(system)
    # the interruption: the report and its case are stored, the report never hears of it
    with system.db.begin() as conn:
        rid = store.insert_report(
            conn,
            {
                "received_at": clock.now(),
                "channel": "hotline",
                "state": "receiving",
                "text": _garbage()["description"],
                "grid_code": GRID,
            },
        )
    case_id = intake._create(Report(**_report_fields()), "api:test", rid)
    assert client.get("/api/v1/intake/triage").json()["total"] == 0  # still on its way
    clock.advance(timedelta(minutes=10))
    queue = client.get("/api/v1/intake/triage").json()
    assert [r["id"] for r in queue["items"]] == [rid]
    decided = client.post(f"/api/v1/intake/triage/{rid}", json={"category": "garbage_collection"})
    assert decided.status_code in (200, 201), decided.text
    assert decided.json()["id"] == case_id
    assert _count(system) == 1
    # doing the same intake again takes effect once
    assert intake._create(Report(**_report_fields()), "api:test", rid) == case_id
    assert _count(system) == 1


def test_a_ref_sent_again_answers_the_case_and_stores_no_second_report(system, client):
    """Retrying is safe (issue 14): the same ref is the same report, not a refusal."""
    before = _count(system, case_reports)
    res = client.post("/api/v1/cases", json=_garbage(ref="x" * 80))
    assert res.status_code == 201
    again = client.post("/api/v1/cases", json=_garbage(ref="x" * 80, dedupe=False))
    assert again.status_code == 200, again.text
    assert again.json()["id"] == res.json()["id"]
    assert _count(system, case_reports) == before + 1
    assert _count(system) == 1


def _report_fields():
    g = _garbage()
    return {
        "channel": g["channel"],
        "text": g["description"],
        "category": g["category"],
        "grid": g["grid"],
    }
