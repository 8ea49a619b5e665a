"""码上办: the QR page per grid, photo upload, the tracking link and the citizen's rating."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_api
from backend.domain.case import case_code
from backend.store.models import case_reports, cases, report_photos
from tests.helpers import act, case_row
from tests.images import png
from tests.people import sign_in_client

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


def test_the_qr_code_is_a_standalone_svg_that_opens_the_grids_page(system, web):
    r = web.get(f"/r/{GRID}/qr.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"  # a browser draws it, not raw XML
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    assert path.get("d") == _qr_path(f"http://testserver/r/{GRID}")
    system.settings.public_url = "https://gw.example.gov.cn/"  # what citizens can reach
    root = ElementTree.fromstring(web.get(f"/r/{GRID}/qr.svg").content)
    assert root.find("{http://www.w3.org/2000/svg}path").get("d") == _qr_path(
        f"https://gw.example.gov.cn/r/{GRID}"
    )
    missing = web.get("/r/nowhere/qr.svg")
    assert missing.status_code == 404 and "网格" in missing.text


def _qr_path(url: str) -> str:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", svgns=True, border=2)
    path = ElementTree.fromstring(buf.getvalue()).find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    return str(path.get("d"))


def test_a_townships_posters_hold_every_grid_six_to_a_page(system, web):
    township = system.ref.grids[GRID].township_code
    grids = system.ref.grids_by_area[township]
    assert web.get(f"/posters/{township}").status_code == 401  # staff only
    sign_in_client(web, system, "duty_officer")
    r = web.get(f"/posters/{township}")
    assert r.status_code == 200
    shown = re.findall(r'class="poster" data-grid="([^"]+)"', r.text)
    assert sorted(shown) == sorted(grids) and len(grids) > 1
    assert r.text.count('class="sheet"') == -(-len(grids) // 6)
    assert system.ref.area_names[township] in r.text and "新潭社区" in r.text
    assert f'src="/r/{GRID}/qr.svg"' in r.text
    assert "size: A4" in r.text
    community = system.ref.grids[GRID].community_code
    small = web.get(f"/posters/{community}")
    assert small.status_code == 200
    assert len(re.findall(r'class="poster"', small.text)) == len(
        system.ref.grids_by_area[community]
    )
    county = web.get(f"/posters/{system.ref.grids[GRID].county_code}")
    assert county.status_code == 422 and "按乡镇（街道）或社区打印" in county.text
    assert web.get("/posters/nowhere").status_code == 404
    hostile = web.get("/posters/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status_code == 404 and "<script>alert" not in hostile.text
    assert "Print" in web.get(f"/posters/{township}?lang=en").text


def _code_of(system, case_id: int) -> str:
    row = case_row(system, case_id)
    return case_code(case_id, row["reported_at"], system.tz)


def test_a_citizen_finds_the_case_again_by_its_code_and_phone(system, web):
    old = _token(_send(web, reporter="王先生", phone="138 0013 8000"))
    with system.db.connect() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    code = _code_of(system, case_id)
    form = web.get("/t")
    assert form.status_code == 200 and 'name="phone4"' in form.text
    assert 'href="/t"' in web.get(f"/r/{GRID}").text  # the QR form links to it
    # wrong digits, unknown code, a real code of another date: all read the same
    for c, d in (
        (code, "8001"),
        ("GW2026112399999999", "8000"),
        ("GW20200101" + code[10:], "8000"),
    ):
        r = web.post("/t", data={"code": c, "phone4": d})
        assert r.status_code == 404 and "未找到" in r.text, c
    assert web.get(f"/t/{old}").status_code == 200  # nothing changed
    r = web.post("/t", data={"code": " " + code.lower() + " ", "phone4": "8000"})
    assert r.status_code == 303
    new = _token(r)
    assert new != old and "found=1" in r.headers["location"]
    page = web.get(r.headers["location"])
    assert page.status_code == 200 and "原链接已失效" in page.text and code in page.text
    assert f'href="http://testserver/t/{new}"' in page.text and 'id="copy-link"' in page.text
    assert web.get(f"/t/{old}").status_code == 404  # the lost link no longer opens it


def test_finding_refuses_bad_fields_with_a_message_per_field(system, web):
    _token(_send(web))  # no phone left
    with system.db.connect() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    code = _code_of(system, case_id)
    r = web.post("/t", data={"code": "12345", "phone4": "12a4"})
    assert r.status_code == 422
    assert "请填写正确的事项编号" in r.text and "后四位数字" in r.text
    assert 'value="12345"' in r.text  # the form keeps what was typed
    r = web.post("/t", data={"code": "<b>GW</b>", "phone4": ""})
    assert r.status_code == 422 and "<b>GW" not in r.text.split("<form")[1]
    assert web.post("/t", data={"code": code, "phone4": "0000"}).status_code == 404
    en = web.post("/t?lang=en", data={"code": "x", "phone4": "1"})
    assert en.status_code == 422 and "Enter a case number" in en.text
    assert web.post(
        "/t", content=b"\xff\xfe", headers={"Content-Type": "text/plain"}
    ).status_code in (
        400,
        415,
        422,
    )


def test_guessing_the_digits_is_rate_limited(system, web):
    system.settings.rate_public = "2/60"
    tries = [
        web.post("/t", data={"code": "GW2026112300000001", "phone4": f"{i:04d}"}) for i in range(3)
    ]
    assert [r.status_code for r in tries] == [404, 404, 429]
    assert "提交过于频繁" in tries[2].text


def test_the_citizen_sees_what_was_done_before_rating(system, web):
    token = _token(_send(web))
    assert "办理结果" not in web.get(f"/t/{token}").text
    with system.db.connect() as conn:
        case_id = conn.execute(select(cases.c.id)).scalar_one()
    act(system, case_id, "accept")
    act(system, case_id, "resolve", reason="已联系环卫所，当日下午清运完毕")
    page = web.get(f"/t/{token}").text
    result = page.index('id="result"')
    assert result < page.index('name="rating"')
    assert "已联系环卫所，当日下午清运完毕" in page[result : page.index('name="rating"')]


def test_public_reporting_is_rate_limited_per_address(system, web):
    system.settings.rate_public = "2/60"
    codes = [_send(web, grid=f"361102001001G0{i}").status_code for i in (1, 2, 3)]
    assert codes == [303, 303, 429]
