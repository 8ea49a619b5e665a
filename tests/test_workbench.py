"""The handler's workbench (/work) against the real app, SQL and Redis: the scope is the
handler's units, every action an engine command signed by the person, every refusal clear and
in Chinese, every hostile input a 4xx with nothing stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.auth.sessions import COOKIE
from backend.queries.scope import Scope
from backend.store.models import audit_log, case_events, case_reports, cases, resolution_photos
from tests.helpers import act, case_row, events_of, first_grid, grid_category, report
from tests.images import png
from tests.people import session_cookie, sign_in_client

ORIGIN = "http://gw.test"
SQLI = "'; DROP TABLE cases; --"
SCRIPT = "<script>alert('x')</script>"


def _client(system):
    return TestClient(
        create_api(system),
        follow_redirects=False,
        base_url=ORIGIN,
        headers={"origin": ORIGIN},
    )


def _grid_unit(system, grid=None):
    return system.ref.grid_unit[grid or first_grid(system)]


def _other_grid(system):
    first = system.ref.grids[first_grid(system)]
    return next(g for g in sorted(system.ref.grids) if g != first.code)


@pytest.fixture
def handler(system):
    client = _client(system)
    person = sign_in_client(client, system, "handler", units=[_grid_unit(system)])
    return client, person


def _count(system, table):
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _snapshot(system, case_id):
    row = case_row(system, case_id)
    return (row["status"], row["unit_code"], row["version"], len(events_of(system, case_id)))


# ----------------------------------------------------------------------------- my cases


def test_my_cases_are_my_units_open_cases_soonest_deadline_first(system, clock, handler):
    client, _ = handler
    early = report(system, reporter="张三 13800138000")
    clock.advance(timedelta(hours=3))
    late = report(system)
    elsewhere = report(system, grid=_other_grid(system))
    done = report(system)
    act(system, done, "accept")
    act(system, done, "resolve", reason="已处理")
    page = client.get("/work")
    assert page.status_code == 200
    html = page.text
    assert f'data-case="{early}"' in html and f'data-case="{late}"' in html
    assert f'data-case="{elsewhere}"' not in html and f'data-case="{done}"' not in html
    assert html.index(f'data-case="{early}"') < html.index(f'data-case="{late}"')
    assert "c-green" in html and "剩余" in html and "我的事项" in html


def test_the_case_page_shows_the_reporter_only_to_the_cases_handlers(system, handler):
    client, person = handler
    cid = report(system, reporter="张三 13800138000")
    page = client.get(f"/work/cases/{cid}")
    assert page.status_code == 200
    assert "张三 13800138000" in page.text and "办理经过" in page.text
    with system.db.connect() as conn:
        seen = (
            conn.execute(select(audit_log).where(audit_log.c.action == "personal_view"))
            .mappings()
            .all()
        )
    assert [(r["actor"], r["detail"]) for r in seen] == [(person.actor, {"case": cid})]
    other = _client(system)
    sign_in_client(other, system, "handler", units=[_grid_unit(system, _other_grid(system))])
    assert other.get(f"/work/cases/{cid}").status_code == 404
    assert "13800138000" not in other.get("/work").text


def test_the_scope_narrows_to_units_in_sql_and_in_live_deltas(system):
    scope = Scope.city().held_by(("U1",))
    assert scope.admits({"unit_code": "U1", "township_code": "T"})
    assert not scope.admits({"unit_code": "U2", "township_code": "T"})
    township = Scope("T1", "township").held_by(("U1",))
    assert not township.admits({"unit_code": "U1", "township_code": "T2"})
    assert Scope.city().held_by(()).admits({"unit_code": "U1"}) is False


# ----------------------------------------------------------------------------- actions


def test_accept_start_resolve_with_a_photo_each_signed_by_the_person(system, handler):
    client, person = handler
    cid = report(system)
    r = client.post(f"/work/cases/{cid}/accept")
    assert r.status_code == 303 and r.headers["location"] == f"/work/cases/{cid}?done=accept"
    assert case_row(system, cid)["status"] == "accepted"
    assert client.post(f"/work/cases/{cid}/start").status_code == 303
    r = client.post(
        f"/work/cases/{cid}/resolve",
        data={"text": "已清理楼道杂物"},
        files=[("photo", ("after.png", png(), "image/png"))],
    )
    assert r.status_code == 303 and r.headers["location"] == "/work?done=resolve"
    row = case_row(system, cid)
    assert row["status"] == "resolved"
    evs = events_of(system, cid)
    assert [e["type"] for e in evs][-3:] == ["accepted", "started", "resolved"]
    assert {e["actor"] for e in evs[-3:]} == {person.actor}
    assert evs[-1]["reason"] == "已清理楼道杂物"
    assert f'data-case="{cid}"' not in client.get("/work").text  # left my list
    page = client.get(f"/work/cases/{cid}")
    assert "/work/photos/result/" in page.text
    src = page.text.split("/work/photos/result/")[1].split('"')[0]
    photo = client.get(f"/work/photos/result/{src}")
    assert photo.status_code == 200 and photo.content == png()
    stranger = _client(system)
    sign_in_client(stranger, system, "handler", units=[_grid_unit(system, _other_grid(system))])
    assert stranger.get(f"/work/photos/result/{src}").status_code == 404


def test_pause_for_the_citizen_needs_a_reason_then_resumes(system, handler):
    client, _ = handler
    cid = report(system)
    client.post(f"/work/cases/{cid}/accept")
    before = _snapshot(system, cid)
    r = client.post(f"/work/cases/{cid}/pause", data={"text": "  "})
    assert r.status_code == 422 and "请填写内容" in r.text
    assert _snapshot(system, cid) == before
    assert (
        client.post(f"/work/cases/{cid}/pause", data={"text": "等群众补充照片"}).status_code == 303
    )
    assert case_row(system, cid)["status"] == "paused"
    assert "暂停计时" in client.get("/work").text
    assert client.post(f"/work/cases/{cid}/resume").status_code == 303
    assert case_row(system, cid)["status"] == "accepted"


def test_a_refused_transition_is_said_in_chinese_and_changes_nothing(system, handler):
    client, _ = handler
    cid = report(system)  # dispatched: not yet accepted
    before = _snapshot(system, cid)
    r = client.post(f"/work/cases/{cid}/resolve", data={"text": "已办"})
    assert r.status_code == 409
    assert "此事项现为「待签收」，不能办结。" in r.text
    assert _snapshot(system, cid) == before
    assert _count(system, resolution_photos) == 0


def test_return_escalation_and_consultation_hand_the_case_on(system, handler):
    client, person = handler
    ref = system.ref
    back = report(system)
    r = client.post(f"/work/cases/{back}/return", data={"text": "属城管职责，非本网格事项"})
    assert r.status_code == 303 and r.headers["location"] == "/work?done=return"
    row = case_row(system, back)
    assert row["unit_code"] == ref.township_unit[row["township_code"]]
    assert events_of(system, back)[-1]["actor"] == person.actor
    assert client.get(f"/work/cases/{back}").status_code == 404  # no longer mine

    up = report(system)
    client.post(f"/work/cases/{up}/accept")
    r = client.post(f"/work/cases/{up}/request_escalation", data={"text": "需乡镇协调"})
    assert r.status_code == 303
    assert case_row(system, up)["tier"] == "township"

    both = report(system)
    dept = sorted(u for u, i in ref.units.items() if i.kind == "department")[0]
    r = client.post(f"/work/cases/{both}/consult", data={"text": "涉及多部门", "co_unit": dept})
    assert r.status_code == 303, r.text
    row = case_row(system, both)
    assert row["mode"] == "consultation" and row["consultation"]["co_units"] == [dept]
    assert row["unit_code"] == _grid_unit(system)  # still ours, as the lead


def test_acting_outside_my_units_is_404_and_changes_nothing(system, handler):
    client, _ = handler
    theirs = report(system, grid=_other_grid(system))
    before = _snapshot(system, theirs)
    for action in ("accept", "resolve", "return"):
        r = client.post(f"/work/cases/{theirs}/{action}", data={"text": "x"})
        assert r.status_code == 404
    assert client.post("/work/cases/999999/accept").status_code == 404
    assert _snapshot(system, theirs) == before


def test_only_handlers_enter_and_only_from_this_origin(system, handler):
    client, _ = handler
    cid = report(system)
    before = _snapshot(system, cid)
    duty = _client(system)
    sign_in_client(duty, system, "duty_officer")
    assert duty.get("/work").status_code == 403
    assert duty.post(f"/work/cases/{cid}/accept").status_code == 403
    nobody = _client(system)
    assert nobody.post(f"/work/cases/{cid}/accept").status_code == 401
    forged = client.post(f"/work/cases/{cid}/accept", headers={"origin": "http://evil.test"})
    assert forged.status_code == 403
    assert _snapshot(system, cid) == before


# ----------------------------------------------------------------------------- hostile input


def test_hostile_text_is_stored_as_text_and_shown_escaped(system, handler):
    client, _ = handler
    cid = report(system, description=SCRIPT + SQLI, reporter=SCRIPT)
    client.post(f"/work/cases/{cid}/accept")
    r = client.post(f"/work/cases/{cid}/pause", data={"text": SCRIPT + SQLI})
    assert r.status_code == 303
    assert events_of(system, cid)[-1]["reason"] == SCRIPT + SQLI
    for path in (f"/work/cases/{cid}", "/work/me", "/work"):
        html = client.get(path).text
        assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in client.get(f"/work/cases/{cid}").text
    assert _count(system, cases) >= 1  # the table is still there


def test_bad_bodies_are_4xx_with_a_reason_and_nothing_stored(system, handler):
    client, _ = handler
    cid = report(system)
    client.post(f"/work/cases/{cid}/accept")
    before = _snapshot(system, cid)
    too_long = client.post(f"/work/cases/{cid}/pause", data={"text": "长" * 1001})
    assert too_long.status_code == 422
    huge = client.post(
        f"/work/cases/{cid}/resolve",
        content=b"x" * (16 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    bad_utf8 = client.post(
        f"/work/cases/{cid}/pause",
        content=b"text=%FF%FE%FD",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert bad_utf8.status_code == 400 and "UTF-8" in bad_utf8.json()["detail"]
    control = client.post(f"/work/cases/{cid}/pause", data={"text": "a\x00b"})
    assert control.status_code == 400
    malformed = client.post(
        f"/work/cases/{cid}/resolve",
        content=b"--xx\r\nContent-Disposition: form-data; name=text\r\n\r\nunterminated",
        headers={"content-type": "multipart/form-data; boundary=xx"},
    )
    assert malformed.status_code in (400, 422)  # malformed, or the text it lost is missing
    json_body = client.post(f"/work/cases/{cid}/pause", json={"text": "x"})
    assert json_body.status_code == 415
    not_image = client.post(
        f"/work/cases/{cid}/resolve",
        data={"text": "已办"},
        files=[("photo", ("x.png", b"<svg onload=alert(1)>", "image/png"))],
    )
    assert not_image.status_code == 422 and "照片" in not_image.text
    four = client.post(
        f"/work/cases/{cid}/resolve",
        data={"text": "已办"},
        files=[("photo", (f"{i}.png", png(), "image/png")) for i in range(4)],
    )
    assert four.status_code in (400, 422)
    assert client.post(f"/work/cases/{cid}/fly", data={"text": "x"}).status_code == 404
    assert client.post("/work/cases/1%20OR%201=1/accept").status_code == 422
    assert (
        client.post(f"/work/cases/{cid}/consult", data={"text": "x", "co_unit": SQLI}).status_code
        == 422
    )
    assert _snapshot(system, cid) == before
    assert _count(system, resolution_photos) == 0


# ----------------------------------------------------------------------------- patrol report


def _patrol(client, system, **fields):
    data = {
        "category": grid_category(system),
        "description": "巡查发现井盖缺失",
        "grid": first_grid(system),
    }
    data.update(fields)
    return client.post("/work/patrol", data=data, files=fields.pop("files", None))


def test_a_patrol_report_becomes_a_case_in_my_list(system, handler):
    client, person = handler
    form = client.get("/work/patrol")
    assert form.status_code == 200 and "获取当前位置" in form.text
    g = system.ref.grids[first_grid(system)]
    r = client.post(
        "/work/patrol",
        data={
            "category": grid_category(system),
            "description": "巡查发现井盖缺失",
            "grid": g.code,
            "lat": str(g.lat),
            "lon": str(g.lon),
        },
        files=[("photo", ("well.png", png(), "image/png"))],
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/work/cases/")
    cid = int(r.headers["location"].split("/")[3].split("?")[0])
    row = case_row(system, cid)
    assert (row["channel"], row["grid_code"], row["unit_code"]) == (
        "grid_worker",
        g.code,
        _grid_unit(system),
    )
    assert abs(row["lat"] - g.lat) < 1e-6
    assert events_of(system, cid)[0]["actor"] == person.actor
    assert f'data-case="{cid}"' in client.get("/work").text
    page = client.get(r.headers["location"])
    assert "巡查上报已提交" in page.text and "/work/photos/report/" in page.text


@pytest.mark.parametrize(
    "fields",
    [
        {"lat": "91", "lon": "120"},
        {"lat": "nan", "lon": "120"},
        {"lat": "1e308", "lon": "1e308"},
        {"lat": "28.4", "lon": ""},
        {"lat": "0", "lon": "0"},  # on the earth, not in this city
        {"lat": SQLI, "lon": SCRIPT},
        {"description": ""},
        {"description": "长" * 1001},
        {"category": SQLI},
        {"grid": "not-my-grid"},
    ],
)
def test_bad_patrol_reports_are_422_and_nothing_stored(system, handler, fields):
    client, _ = handler
    before = (_count(system, cases), _count(system, case_reports))
    if fields.get("grid") == "not-my-grid":
        fields = {"grid": _other_grid(system)}
    r = _patrol(client, system, **fields)
    assert r.status_code == 422
    assert "请修改标出的内容" in r.text
    assert "<script>alert" not in r.text
    assert (_count(system, cases), _count(system, case_reports)) == before


# ----------------------------------------------------------------------------- my record


def test_my_record_shows_what_i_did_and_my_units_figures(system, clock, handler):
    client, person = handler
    a = report(system)
    b = report(system)
    client.post(f"/work/cases/{a}/accept")
    client.post(f"/work/cases/{a}/resolve", data={"text": "已处理完毕"})
    clock.advance(timedelta(days=3))  # b went overdue at the grid and moved up
    system.engine.tick()
    client.cookies.set(COOKIE, session_cookie(system, person))  # the old one expired meanwhile
    page = client.get("/work/me")
    assert page.status_code == 200
    assert "已处理完毕" in page.text and "签收" in page.text and "办结" in page.text
    with system.db.connect() as conn:
        mine = conn.execute(
            select(func.count()).select_from(case_events).where(case_events.c.actor == person.actor)
        ).scalar_one()
    assert mine == 2
    figures = page.text.split('id="figures"')[1].split('id="history"')[0]
    assert "100%" in figures  # the one resolved in time
    assert b  # b left my grid by auto-escalation; it is no longer counted as mine


def test_the_demo_handler_works_the_first_grid_and_its_township_centre(system):
    from backend.sim.accounts import demo_accounts

    password = {u: p for u, _r, p in demo_accounts(system)}["handler"]
    client = _client(system)
    signed = client.post("/login", data={"username": "handler", "password": password, "next": ""})
    assert signed.headers["location"] == "/work"
    at_grid = report(system)
    at_township = report(system)
    act(system, at_township, "return", reason="需街道统筹")
    html = client.get("/work").text
    assert f'data-case="{at_grid}"' in html and f'data-case="{at_township}"' in html


def test_a_patrol_report_with_script_and_sql_is_kept_as_text_and_oversize_is_413(system, handler):
    client, _ = handler
    r = _patrol(client, system, description=SCRIPT + SQLI)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<script>alert" not in client.get("/work/me").text
    before = _count(system, case_reports)
    huge = client.post(
        "/work/patrol",
        content=b"description=" + b"x" * (16 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    assert _count(system, case_reports) == before


def test_the_workbench_speaks_english_on_request(system, handler):
    client, _ = handler
    cid = report(system)
    assert "My cases" in client.get("/work?lang=en").text
    r = client.post(f"/work/cases/{cid}/accept?lang=en")
    assert r.headers["location"] == f"/work/cases/{cid}?done=accept&lang=en"
    assert "Accepted." in client.get(r.headers["location"]).text
