"""码上办: the QR page per grid, photo upload, the tracking link and the citizen's rating."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.store.models import case_reports, cases, report_photos
from tests.helpers import act, case_row
from tests.images import png

GRID = "361102001001G02"


@pytest.fixture
def web(system):
    return TestClient(create_api(system), follow_redirects=False)


def _send(web, grid=GRID, files=None, **data):
    body = {"category": "garbage_collection", "description": "5栋楼下垃圾桶满了两天没人清运"}
    body.update(data)
    return web.post(
        f"/r/{grid}", data=body, files=files or {"photo": ("", b"", "application/octet-stream")}
    )


def _token(resp) -> str:
    assert resp.status_code == 303, resp.text
    m = re.match(r"/t/([A-Za-z0-9_-]+)", resp.headers["location"])
    assert m, resp.headers["location"]
    return m.group(1)


def _count(system, table):
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_form_has_the_grid_filled_in(web):
    r = web.get(f"/r/{GRID}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "新潭社区" in r.text and "第2网格" in r.text and 'name="photo"' in r.text
    assert "garbage_collection" in r.text and 'name="viewport"' in r.text
    assert "<script" not in r.text  # no script on the page
    assert web.get("/r/361102001001G99").status_code == 404
    en = web.get(f"/r/{GRID}?lang=en")
    assert "Type of problem" in en.text and "Garbage collection" in en.text


def test_a_report_with_a_photo_becomes_a_case_the_citizen_can_follow(system, web):
    image = png()
    token = _token(_send(web, files={"photo": ("p.png", image, "image/png")}, reporter="李女士"))
    case = None
    with system.db.connect() as conn:
        case = conn.execute(select(cases)).mappings().one()
    assert case["channel"] == "qr" and case["grid_code"] == GRID and case["status"] == "dispatched"
    page = web.get(f"/t/{token}?sent=1")
    assert page.status_code == 200
    assert "已提交" in page.text and "已派遣" in page.text and "GW20261123" in page.text
    assert "新潭社区第2网格" in page.text  # the unit, by name
    assert "triage:" not in page.text and "citizen:qr" not in page.text  # no staff internals
    src = re.search(r'<img src="([^"]+)"', page.text).group(1)
    photo = web.get(src)
    assert photo.status_code == 200 and photo.content == image
    assert photo.headers["content-type"] == "image/png"
    assert photo.headers["x-content-type-options"] == "nosniff"
    # another citizen's link does not open this photo
    other = _token(_send(web, grid="361102001001G03"))
    pid = src.rsplit("/", 1)[1]
    assert web.get(f"/t/{other}/photo/{pid}").status_code == 404
    assert web.get("/t/not-a-token").status_code == 404


def test_citizen_text_is_escaped(web):
    token = _token(_send(web, description='<script>alert("x")</script>垃圾没人收'))
    page = web.get(f"/t/{token}").text
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_bad_uploads_and_fields_are_refused_with_the_form_again(system, web):
    r = _send(web, files={"photo": ("x.png", b"MZ\x90\x00 not an image", "image/png")})
    assert r.status_code == 422 and "JPEG" in r.text
    r = _send(web, description="", phone="abc")
    assert r.status_code == 422 and "请填写问题描述" in r.text and "电话号码" in r.text
    r = _send(web, category="ufo")
    assert r.status_code == 422
    assert _count(system, case_reports) == 0 and _count(system, cases) == 0
    too_big = web.post(
        f"/r/{GRID}",
        content=b"x" * (16 * 1024 * 1024),
        headers={"Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert too_big.status_code == 413
    broken = web.post(
        f"/r/{GRID}", content=b"--zz\r\nnonsense", headers={"Content-Type": "multipart/form-data"}
    )
    assert broken.status_code == 400
    assert _count(system, report_photos) == 0


def test_not_sure_of_the_type_the_text_decides_or_a_person_does(system, web):
    token = _token(_send(web, category="", description="楼道里有人飞线给电动车充电，太危险了"))
    with system.db.connect() as conn:
        assert conn.execute(select(cases.c.category)).scalar_one() == "ebike_charging"
    unclear = _token(_send(web, category="", description="麻烦你们过来看一下"))
    page = web.get(f"/t/{unclear}").text
    assert "正在分拨" in page and "人工分拨" in page
    assert _count(system, cases) == 1
    assert web.get(f"/t/{token}").status_code == 200


def test_the_citizen_rates_the_result_through_the_engine(system, web):
    token = _token(_send(web))
    page = web.get(f"/t/{token}").text
    assert 'name="rating"' not in page  # not resolved yet: nothing to rate
    assert web.post(f"/t/{token}/rate", data={"rating": "satisfied"}).status_code == 409
    with system.db.connect() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    act(system, case_id, "accept")
    act(system, case_id, "resolve", reason="已安排清运并增加清运频次")
    page = web.get(f"/t/{token}").text
    assert 'name="rating"' in page and "已安排清运并增加清运频次" in page
    r = web.post(f"/t/{token}/rate", data={"rating": "satisfied", "comment": "很快"})
    assert r.status_code == 303
    row = case_row(system, case_id)
    assert row["status"] == "rated" and row["rating"] == "satisfied"
    assert "满意" in web.get(f"/t/{token}").text
    assert web.post(f"/t/{token}/rate", data={"rating": "basic"}).status_code == 409


def test_the_qr_code_opens_the_grids_page(web):
    r = web.get(f"/r/{GRID}/qr.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.startswith("<svg") and "<path" in r.text
    assert web.get("/r/nowhere/qr.svg").status_code == 404


def test_public_reporting_is_rate_limited_per_address(system, web):
    system.settings.rate_public = "2/60"
    codes = [_send(web, grid=f"361102001001G0{i}").status_code for i in (1, 2, 3)]
    assert codes == [303, 303, 429]
