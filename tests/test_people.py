"""Signing in, sessions, the web gate, roles, API key permissions and the audit log, against
the real app, SQL and Redis: each refusal is clear, logged where it matters, and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.auth.accounts import MAX_FAILURES, set_active, set_password
from backend.auth.apikeys import create_key, revoke_keys
from backend.auth.permissions import KeyPermission
from backend.auth.sessions import COOKIE, Sessions
from backend.store.models import audit_log, cases
from dashboard.app import create_app
from tests.helpers import grid_category, report
from tests.people import PASSWORD, make_person, session_cookie, sign_in_client

HTML = {"accept": "text/html"}


@pytest.fixture
def site(system):
    app = create_app(system)
    with TestClient(app, follow_redirects=False, base_url="http://gw.test") as client:
        yield client  # as a context: the app's startup registers Dash's page routes
    app.state.bridge.stop()


@pytest.fixture
def api(system):
    return TestClient(create_api(system), follow_redirects=False, base_url="http://gw.test")


def _audit(system, action):
    with system.db.connect() as conn:
        return (
            conn.execute(
                select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
            )
            .mappings()
            .all()
        )


def _login(client, username, password, next_path=""):
    return client.post(
        "/login", data={"username": username, "password": password, "next": next_path}
    )


# ----------------------------------------------------------------------------- signing in


def test_signing_in_sets_a_safe_cookie_and_lands_on_the_roles_home(system, site):
    make_person(system, "duty_officer", username="zhang")
    assert site.get("/", headers=HTML).headers["location"] == "/login?next=%2F"
    page = site.get("/login")
    assert page.status_code == 200 and "工作人员登录" in page.text
    r = _login(site, "zhang", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http here; over TLS it is Secure
    wall = site.get("/", headers=HTML)
    assert wall.status_code == 200
    assert "frame-ancestors 'none'" in wall.headers["content-security-policy"]
    assert wall.headers["x-frame-options"] == "DENY"
    (row,) = _audit(system, "login")
    assert row["actor"] == "user:zhang"
    handler = make_person(system, "handler", username="li", units=[sorted(system.ref.units)[0]])
    assert _login(site, handler.username, PASSWORD).headers["location"] == "/work"


def test_a_wrong_password_and_an_unknown_name_read_the_same(system, site):
    make_person(system, "leader", username="wang")
    wrong = _login(site, "wang", "not the password")
    nobody = _login(site, "nobody", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in nobody.text
    assert COOKIE not in site.cookies
    assert [r["actor"] for r in _audit(system, "login_refused")] == ["user:wang", "user:nobody"]
    empty = _login(site, "", "")
    assert empty.status_code == 422 and "请填写用户名和密码" in empty.text
    hostile = _login(site, "<script>alert(1)</script>", "x' OR '1'='1")
    assert hostile.status_code == 401 and "<script>alert(1)" not in hostile.text


def test_a_run_of_wrong_passwords_locks_the_account_until_an_admin_resets_it(system, site):
    make_person(system, "leader", username="wang")
    for _ in range(MAX_FAILURES):
        last = _login(site, "wang", "guess")
    assert "锁定" in last.text
    locked = _login(site, "wang", PASSWORD)  # even the right password, while locked
    assert locked.status_code == 401 and "锁定" in locked.text
    with system.db.begin() as conn:
        set_password(conn, "wang", "a brand new password", system.clock.now())
    assert _login(site, "wang", "a brand new password").status_code == 303


def test_logins_are_rate_limited_per_address(system, site):
    system.settings.rate_login = "3/60"
    codes = [_login(site, "x", "y").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_next_only_goes_to_a_path_on_this_server(system, site):
    make_person(system, "leader", username="wang")
    for evil in ("//evil.example/x", "https://evil.example/", "/\\\\evil.example"):
        r = _login(site, "wang", PASSWORD, evil)
        assert r.headers["location"] == "/", evil
    assert _login(site, "wang", PASSWORD, "/leader?unit=x").headers["location"] == "/leader?unit=x"


# ----------------------------------------------------------------------------- sessions


def test_logout_ends_the_session_everywhere(system, site):
    make_person(system, "leader", username="wang")
    _login(site, "wang", PASSWORD)
    cookie = site.cookies[COOKIE]
    assert site.get("/leader", headers=HTML).status_code == 200
    out = site.post("/logout", headers={"origin": "http://gw.test"})
    assert out.status_code == 303 and out.headers["location"] == "/login?out=1"
    other = TestClient(site.app, follow_redirects=False, base_url="http://gw.test")
    other.cookies.set(COOKIE, cookie)  # the same cookie, kept by someone: ended
    assert other.get("/leader", headers=HTML).status_code == 303
    assert site.post("/logout", headers={"origin": "http://evil.example"}).status_code == 403


def test_a_forged_or_foreign_cookie_is_no_session(system, site):
    person = make_person(system, "leader")
    good = session_cookie(system, person)
    for forged in (good[:-3] + "abc", "x", "", good + "." + good, "%00%ff", "a" * 5000):
        c = TestClient(site.app, follow_redirects=False, base_url="http://gw.test")
        c.cookies.set(COOKIE, forged)
        assert c.get("/leader", headers=HTML).status_code == 303, forged
    other_key = _sessions(system, timedelta(hours=1), timedelta(hours=2), "another secret")
    c = TestClient(site.app, follow_redirects=False, base_url="http://gw.test")
    c.cookies.set(COOKIE, other_key.create(person))
    assert c.get("/leader", headers=HTML).status_code == 303


def _sessions(system, idle, longest, secret="k"):
    return Sessions(system.redis, system.keys, system.db, system.clock, secret, idle, longest)


def test_sessions_expire_when_idle_and_when_old(system, clock):
    person = make_person(system, "leader")
    s = _sessions(system, timedelta(hours=1), timedelta(hours=8))
    cookie = s.create(person)
    for _ in range(3):  # in use: its idle time starts again each time
        clock.advance(timedelta(minutes=50))
        assert s.resolve(cookie) is not None
    clock.advance(timedelta(minutes=61))
    held = system.redis.keys(system.keys.session("*"))
    system.redis.delete(*held)  # Redis's copy ran out too (its own clock)
    assert s.resolve(cookie) is None
    fresh = s.create(person)
    clock.advance(timedelta(hours=8, minutes=1))
    assert s.resolve(fresh) is None  # signed in more than the longest life ago


def test_a_session_outlives_a_redis_restart_but_not_its_end(system):
    person = make_person(system, "duty_officer")
    s = _sessions(system, timedelta(hours=1), timedelta(hours=8))
    cookie = s.create(person)
    system.redis.flushdb()  # Redis restarted empty: SQL still knows the session
    info = s.resolve(cookie)
    assert info is not None and info.person.username == person.username
    assert system.redis.exists(system.keys.session(info.sid_hash))  # held again
    s.end(info)
    system.redis.flushdb()
    assert s.resolve(cookie) is None  # ended stays ended


def test_disabling_a_person_ends_their_sessions(system, site):
    person = make_person(system, "leader", username="wang")
    sign = session_cookie(system, person)
    site.cookies.set(COOKIE, sign)
    assert site.get("/leader", headers=HTML).status_code == 200
    with system.db.begin() as conn:
        set_active(conn, "wang", False)
    assert system.sessions.end_all(person.id) == 1
    assert site.get("/leader", headers=HTML).status_code == 303
    r = _login(site, "wang", PASSWORD)
    assert r.status_code == 401 and "停用" in r.text


# ----------------------------------------------------------------------------- the gate


def test_each_role_opens_its_own_pages_only(system, site):
    expected = {
        "duty_officer": {"/": 200, "/leader": 200, "/admin": 403, "/work": 403},
        "leader": {"/": 200, "/leader": 200, "/admin": 403, "/work": 403},
        "handler": {"/": 403, "/leader": 403, "/admin": 403},
        "hall_supervisor": {"/": 403, "/leader": 403, "/admin": 403},
    }
    unit = sorted(system.ref.units)[0]
    for role, pages in expected.items():
        c = TestClient(site.app, follow_redirects=False, base_url="http://gw.test")
        sign_in_client(c, system, role, units=[unit] if role == "handler" else None)
        for path, status in pages.items():
            r = c.get(path, headers=HTML)
            assert r.status_code == status, (role, path, r.status_code)
            if status == 403:
                assert "没有权限" in r.text


def test_callbacks_need_a_session_and_our_origin(system, site):
    body = {"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": []}
    anon = site.post("/_dash-update-component", json=body, headers={"origin": "http://gw.test"})
    assert anon.status_code == 401 and anon.json() == {"detail": "signed_out"}
    sign_in_client(site, system, "leader")
    foreign = site.post(
        "/_dash-update-component", json=body, headers={"origin": "http://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.json() == {"detail": "cross_origin"}
    nameless = site.post("/_dash-update-component", json=body)  # neither Origin nor Referer
    assert nameless.status_code == 403
    # a page that hides its origin: the browser's own Sec-Fetch-Site decides
    hidden = {"origin": "null", "sec-fetch-site": "cross-site"}
    assert site.post("/_dash-update-component", json=body, headers=hidden).status_code == 403
    hidden["sec-fetch-site"] = "same-origin"
    assert site.post("/_dash-update-component", json=body, headers=hidden).status_code != 403
    assert site.get("/_dash-layout").status_code == 200


def test_the_websocket_needs_a_session_and_our_origin(system, site):
    from starlette.websockets import WebSocketDisconnect

    ours = "http://testserver"  # the test client's websocket always names this host
    with (
        pytest.raises(WebSocketDisconnect) as anon,
        site.websocket_connect("/_dash-ws-callback", headers={"origin": ours}),
    ):
        pass
    assert anon.value.code == 4401
    cookie = f"{COOKIE}={session_cookie(system, make_person(system, 'duty_officer'))}"
    with (
        pytest.raises(WebSocketDisconnect) as foreign,
        site.websocket_connect(
            "/_dash-ws-callback", headers={"origin": "http://evil.example", "cookie": cookie}
        ),
    ):
        pass
    assert foreign.value.code == 4403
    with site.websocket_connect(
        "/_dash-ws-callback", headers={"origin": ours, "cookie": cookie}
    ) as ws:
        ws.close()  # accepted: signed in, from our own page


def test_citizens_pages_and_the_api_stay_public(system, site):
    grid = sorted(system.ref.grids)[0]
    assert site.get(f"/r/{grid}").status_code == 200
    assert site.get("/t").status_code == 200
    assert site.get("/open311/v2/discovery.json").status_code == 200
    assert site.get("/healthz").status_code in (200, 503)
    assert site.get("/api/v1/kpi").status_code == 401  # the API's own keys


# ----------------------------------------------------------------------------- API keys


def _key(system, name, *perms, area=None):
    with system.db.begin() as conn:
        return create_key(conn, name, system.clock.now(), [KeyPermission(p) for p in perms], area)


def _body(system, grid=None):
    return {
        "category": grid_category(system),
        "description": "路灯不亮",
        "channel": "hotline",
        "grid": grid or sorted(system.ref.grids)[0],
    }


def _count(system):
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(cases)).scalar_one()


def test_a_key_does_only_what_it_is_allowed(system, api):
    reporter = {"Authorization": f"Bearer {_key(system, 'open311-app', 'report', 'public')}"}
    made = api.post("/api/v1/cases", json=_body(system), headers=reporter)
    assert made.status_code == 201
    case_id = made.json()["id"]
    for method, path, body in (
        ("get", f"/api/v1/cases/{case_id}", None),
        ("get", "/api/v1/kpi", None),
        ("post", f"/api/v1/cases/{case_id}/actions", {"action": "accept"}),
    ):
        r = getattr(api, method)(path, headers=reporter, **({"json": body} if body else {}))
        assert r.status_code == 403 and "may not" in r.json()["detail"], path
    assert api.get(f"/api/v1/cases/{case_id}").json()  # noqa: B018  (401 body, not a crash)
    reader = {"Authorization": f"Bearer {_key(system, 'screen', 'read')}"}
    assert api.get(f"/api/v1/cases/{case_id}", headers=reader).status_code == 200
    assert api.post("/api/v1/cases", json=_body(system), headers=reader).status_code == 403
    assert _count(system) == 1


def test_a_key_sees_and_acts_in_its_area_only(system, api):
    grids = sorted(system.ref.grids)
    a, b = (
        grids[0],
        next(
            g
            for g in grids
            if system.ref.grids[g].township_code != system.ref.grids[grids[0]].township_code
        ),
    )
    township = system.ref.grids[a].township_code
    mine = report(system, grid=a)
    theirs = report(system, grid=b)
    key = {"Authorization": f"Bearer {_key(system, 'township-a', 'read', 'act', area=township)}"}
    assert api.get(f"/api/v1/cases/{mine}", headers=key).status_code == 200
    assert api.get(f"/api/v1/cases/{theirs}", headers=key).status_code == 404
    r = api.post(f"/api/v1/cases/{theirs}/actions", json={"action": "accept"}, headers=key)
    assert r.status_code == 404
    with system.db.connect() as conn:
        status = conn.execute(select(cases.c.status).where(cases.c.id == theirs)).scalar_one()
    assert status == "dispatched"  # nothing done outside its area


def test_a_revoked_key_stops_at_once(system, api):
    key = _key(system, "hotline", "read")
    h = {"Authorization": f"Bearer {key}"}
    assert api.get("/api/v1/kpi", headers=h).status_code == 200  # now remembered for 30 s
    with system.db.begin() as conn:
        digests = revoke_keys(conn, "hotline")
    system.redis.sadd(system.keys.revoked_keys, *digests)  # what `gridwatch apikey revoke` does
    assert api.get("/api/v1/kpi", headers=h).status_code == 401


# ----------------------------------------------------------------------------- administration


def test_an_admin_makes_resets_and_disables_people_and_each_change_is_audited(system, site):
    admin = sign_in_client(site, system, "admin", username="root")
    post = {"origin": "http://gw.test"}
    assert site.get("/admin", headers=HTML).status_code == 200
    bad = site.post(
        "/admin/people",
        data={"username": "a b", "role": "mayor", "area": "nowhere", "units": ""},
        headers=post,
    )
    assert bad.status_code == 422
    assert (
        "用户名为2至64位" in bad.text and "角色须为" in bad.text and "没有区域 nowhere" in bad.text
    )
    township = system.ref.grids[sorted(system.ref.grids)[0]].township_code
    made = site.post(
        "/admin/people",
        data={"username": "zhao", "display_name": "<b>赵</b>", "role": "leader", "area": township},
        headers=post,
    )
    assert made.status_code == 201 and "已创建 zhao" in made.text
    assert "<b>赵</b>" not in made.text and "&lt;b&gt;赵&lt;/b&gt;" in made.text
    password = made.text.split("初始密码：")[1].split("<")[0].strip()
    other = TestClient(site.app, follow_redirects=False, base_url="http://gw.test")
    assert _login(other, "zhao", password).status_code == 303
    assert other.get("/leader", headers=HTML).status_code == 200
    reset = site.post("/admin/people/zhao/reset", headers=post)
    assert reset.status_code == 200 and "密码已重置" in reset.text
    assert other.get("/leader", headers=HTML).status_code == 303  # their session ended
    assert site.post("/admin/people/zhao/disable", headers=post).status_code == 200
    assert _login(other, "zhao", password).status_code == 401
    assert site.post("/admin/people/root/disable", headers=post).status_code == 409  # not oneself
    assert site.post("/admin/people/nobody/reset", headers=post).status_code == 404
    assert site.post("/admin/people/zhao/explode", headers=post).status_code == 404
    assert site.post("/admin/people/zhao/enable").status_code == 403  # no Origin: refused
    actions = [r["action"] for r in _audit_all(system) if r["actor"] == admin.actor]
    assert actions == ["user_created", "password_reset", "user_disabled"]
    page = site.get("/admin/audit?action=user_created", headers=HTML)
    assert page.status_code == 200 and "创建账号" in page.text and "zhao" in page.text
    assert site.get("/admin/audit?action=%27;drop%20table", headers=HTML).status_code == 200


def test_only_admins_reach_the_admin_pages(system, site):
    sign_in_client(site, system, "leader")
    assert site.get("/admin", headers=HTML).status_code == 403
    r = site.post(
        "/admin/people",
        data={"username": "x", "role": "admin"},
        headers={"origin": "http://gw.test"},
    )
    assert r.status_code == 403
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 0


def _audit_all(system):
    with system.db.connect() as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings().all()


# ----------------------------------------------------------------------------- personal data


def test_reporters_are_masked_for_keys_that_may_not_read_them(system, api):
    body = {**_body(system), "reporter": "张三 13800138000"}
    full = {"Authorization": f"Bearer {_key(system, 'hotline', 'report', 'read', 'personal')}"}
    made = api.post("/api/v1/cases", json=body, headers=full)
    assert made.status_code == 201 and made.json()["reporter"] == "张三 13800138000"
    case_id = made.json()["id"]
    reader = {"Authorization": f"Bearer {_key(system, 'screen', 'read', 'report')}"}
    case = api.get(f"/api/v1/cases/{case_id}", headers=reader).json()
    assert case["reporter"] == "张* 138****8000"
    reports = api.get(f"/api/v1/cases/{case_id}/reports", headers=reader).json()["reports"]
    assert reports[0]["reporter"] == "张* 138****8000"
    # a repeat of the case answers with the case: someone else's reporter stays masked
    again = api.post("/api/v1/cases", json={**body, "reporter": "李四"}, headers=reader)
    assert again.status_code == 200 and again.json()["reporter"] == "张* 138****8000"
    assert api.get(f"/api/v1/cases/{case_id}", headers=full).json()["reporter"].startswith("张三")


def test_the_public_feed_shows_citizens_words_redacted_or_not_at_all(system, api):
    text = "3栋2单元501室楼上漏水，联系13800138000"
    report(system, description=text)
    feed = api.get("/open311/v2/requests.json").json()
    assert feed[0]["description"] == "[门牌]楼上漏水，联系[电话]"
    system.settings.open311_text = "none"
    assert api.get("/open311/v2/requests.json").json()[0]["description"] is None
    system.settings.rate_feed = "2/60"
    codes = [api.get("/open311/v2/requests.json").status_code for _ in range(3)]
    assert codes[-1] == 429


def _callback_body(site, output, value=None):
    deps = site.get("/_dash-dependencies").json()
    dep = next(d for d in deps if d["output"] == output)

    def spec(items):
        return [{"id": i["id"], "property": i["property"], "value": value} for i in items]

    out_id, prop = output.split(".", 1)
    return {
        "output": output,
        "outputs": {"id": out_id, "property": prop},
        "inputs": spec(dep["inputs"]),
        "state": spec(dep.get("state", [])),
        "changedPropIds": [],
    }


def test_each_callback_answers_only_those_who_may_see_its_screen(system, site):
    post = {"origin": "http://gw.test"}
    sign_in_client(site, system, "leader")
    town = system.ref.area_names[system.ref.grids[sorted(system.ref.grids)[0]].township_code]
    body = _callback_body(site, "f-area.options", town)  # typing a township's name
    allowed = site.post("/_dash-update-component", json=body, headers=post)
    assert allowed.status_code == 200
    labels = [o["label"] for o in allowed.json()["response"]["f-area"]["options"]]
    assert any(town in label for label in labels), labels
    unit = sorted(system.ref.units)[0]
    for role in ("handler", "hall_supervisor"):
        other = TestClient(site.app, follow_redirects=False, base_url="http://gw.test")
        sign_in_client(other, system, role, units=[unit] if role == "handler" else None)
        refused = other.post("/_dash-update-component", json=body, headers=post)
        assert refused.status_code == 204 and refused.content == b"", role


#: what anyone may reach (citizens, integrations with their keys, the API's own documentation);
#: written out here, not read from the gate, so a route the gate opens by mistake fails
OPEN_TO_ANYONE = (
    "/r/",
    "/t",
    "/citizen/",
    "/open311/",
    "/api/",
    "/login",
    "/logout",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/redoc",
)


def _routes(routes, prefix=""):
    """(path, methods) of every HTTP route, into included routers."""
    for r in routes:
        included = getattr(r, "include_context", None)
        if included is not None:
            yield from _routes(r.original_router.routes, prefix + included.prefix)
        elif hasattr(r, "endpoint") and getattr(r, "methods", None):
            yield prefix + r.path, set(r.methods)


def test_every_route_is_either_public_or_behind_the_gate(system, site):
    """A sweep over every HTTP route of the web process, as nobody: each staff route refuses
    (401, or the sign-in page), each public one answers without asking for a session."""
    checked = 0
    for path, methods in _routes(site.app.routes):
        sample = re.sub(r"\{[^}]+\}", "1", path)
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            r = site.request(method, sample, headers={**HTML, "origin": "http://gw.test"})
            refused = (
                r.status_code == 401
                and r.headers.get("content-type", "").startswith("application/json")
                and r.json().get("detail") == "signed_out"
            )
            to_login = r.status_code == 303 and r.headers["location"].startswith("/login?next=")
            public = sample.startswith(OPEN_TO_ANYONE)
            if public:
                assert not (refused or to_login), (method, path)
            else:
                assert refused or to_login, (method, path, r.status_code)
            checked += 1
    assert checked > 40, checked
