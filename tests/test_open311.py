"""Open311 GeoReport v2, spoken by published Python Open311 clients against a real server:
``georeport`` (services, definitions, requests; JSON and XML) and ``three`` (POST, form
encoded with api_key). Plus the specification's errors and XML shapes."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import httpx
import pytest

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from tests.browser import serving

GRID = "361102001001G02"


@pytest.fixture
def server(system):
    with serving(create_api(system)) as url:
        yield url


@pytest.fixture
def key(system):
    with system.db.begin() as conn:
        return create_key(conn, "fixmystreet", system.clock.now())


def _three(endpoint: str, key: str):
    # ``three`` (0.8, Code for America) was written for Python 2: it uses itertools.ifilter,
    # which Python 3 calls filter. A one-line shim here, nothing vendored.
    if not hasattr(itertools, "ifilter"):
        itertools.ifilter = filter  # type: ignore[attr-defined]
    from three import Three

    return Three(endpoint + "/", api_key=key, format="json")


def test_georeport_client_reads_services_and_definitions_in_json_and_xml(system, server):
    from georeport import GeoReport

    for fmt in ("json", "xml"):
        client = GeoReport(server + "/open311/v2", output_format=fmt)
        services = client.get_service_list()
        codes = [s["service_code"] for s in services]
        assert sorted(codes) == sorted(system.ref.categories)
        fire = next(s for s in services if s["service_code"] == "fire")
        assert fire["service_name"] == "火情" and fire["type"] == "realtime"
        assert fire["metadata"] in (True, "true") and fire["group"] == "应急处置"
        definition = client.get_service_definition("illegal_parking")
        assert definition["service_code"] == "illegal_parking"
        attrs = definition["attributes"]
        if fmt == "xml":
            attrs = attrs["attribute"]
        assert {a["code"] for a in attrs} == {"severity", "grid"}


def test_three_posts_a_request_and_georeport_follows_it(system, server, key):
    three = _three(server + "/open311/v2", key)
    posted = three.post(
        "illegal_parking",
        address_id=GRID,
        description="小区消防通道口长期有车辆乱停乱放",
        first_name="明",
        last_name="王",
        phone="13800000000",
        account_id="acct-7",
    )
    assert three.post_response.status_code == 200, three.post_response.text
    assert len(posted) == 1 and posted[0]["account_id"] == "acct-7"
    rid = posted[0]["service_request_id"]
    assert "已受理" in posted[0]["service_notice"]

    from georeport import GeoReport

    for fmt in ("json", "xml"):
        client = GeoReport(server + "/open311/v2", output_format=fmt)
        req = client.get_service_request(rid)
        assert req["service_request_id"] == rid and req["status"] == "open"
        assert req["service_code"] == "illegal_parking" and req["address_id"] == GRID
        assert req["description"] == "小区消防通道口长期有车辆乱停乱放"
        assert req["agency_responsible"].endswith("第2网格")
        listed = client.get_service_requests(service_code="illegal_parking", status="open")
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one → a dict
        assert [r["service_request_id"] for r in listed] == [rid]
    # the case went through the engine like any other
    case = httpx.get(
        server + f"/api/v1/cases/{rid}", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert case["channel"] == "open311" and case["status"] == "dispatched"
    assert [e["type"] for e in case["events"]] == ["reported", "dispatched"]
    # reporting the same matter again is answered with the same request
    again = three.post("illegal_parking", address_id=GRID, description="消防通道口有车乱停乱放")
    assert again[0]["service_request_id"] == rid and "共2人反映" in again[0]["service_notice"]


def test_posting_with_coordinates_or_an_address(system, server, key):
    g = system.ref.grids[GRID]
    r = httpx.post(
        server + "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "streetlight_out",
            "lat": g.lat,
            "long": g.lon,
            "description": "路灯不亮",
        },
    )
    assert r.status_code == 200, r.text
    case_id = r.json()[0]["service_request_id"]
    got = httpx.get(server + f"/open311/v2/requests/{case_id}.json").json()[0]
    assert got["address_id"] == GRID and got["lat"] == g.lat
    r = httpx.post(
        server + "/open311/v2/requests.xml",
        data={
            "api_key": key,
            "service_code": "streetlight_out",
            "address_string": "解放路12号",
            "description": "路灯不亮 <script>",
        },
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests" and root.find("request/service_request_id") is not None
    rid = root.findtext("request/service_request_id")
    x = httpx.get(server + f"/open311/v2/requests/{rid}.xml")
    req = ET.fromstring(x.content).find("request")
    assert req.findtext("status") == "open" and req.findtext("address") == "解放路12号"
    assert req.findtext("description") == "路灯不亮 <script>"  # escaped in the XML, intact here
    assert b"<script>" not in x.content


def _errors(r: httpx.Response) -> list[dict]:
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list) and all({"code", "description"} <= set(e) for e in body)
    return body


def test_the_specifications_errors(system, server, key):
    base = server + "/open311/v2"
    # 403: missing or invalid api_key
    r = httpx.post(base + "/requests.json", data={"service_code": "fire", "address_string": "x"})
    assert r.status_code == 403 and _errors(r)[0]["code"] == 403
    r = httpx.post(
        base + "/requests.json",
        data={"api_key": "gwk_nope", "service_code": "fire", "lat": 1, "long": 2},
    )
    assert r.status_code == 403
    # XML errors
    r = httpx.post(base + "/requests.xml", data={"service_code": "fire"})
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root.findtext("error/code") == "403"
    # 400: service_code not provided; 404: not found
    r = httpx.post(base + "/requests.json", data={"api_key": key, "address_string": "x"})
    assert r.status_code == 400 and "service_code" in _errors(r)[0]["description"]
    r = httpx.post(
        base + "/requests.json", data={"api_key": key, "service_code": "ufo", "lat": 1, "long": 1}
    )
    assert r.status_code == 404
    # 400: no location; half a coordinate
    r = httpx.post(base + "/requests.json", data={"api_key": key, "service_code": "fire"})
    assert r.status_code == 400 and "location" in _errors(r)[0]["description"]
    r = httpx.post(
        base + "/requests.json", data={"api_key": key, "service_code": "fire", "lat": "28.4"}
    )
    assert r.status_code == 400
    # jurisdiction_id: ours is accepted, another is 404
    ours = httpx.get(base + "/discovery.json").json()
    assert ours["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert httpx.get(base + "/services.json", params={"jurisdiction_id": "3611"}).status_code == 200
    r = httpx.get(base + "/services.json", params={"jurisdiction_id": "sfgov.org"})
    assert r.status_code == 404 and "jurisdiction_id" in _errors(r)[0]["description"]
    # unknown service definition, request, token
    assert httpx.get(base + "/services/ufo.json").status_code == 404
    assert httpx.get(base + "/requests/424242.json").status_code == 404
    assert httpx.get(base + "/requests/abc.xml").status_code == 404
    assert httpx.get(base + "/tokens/123.json").status_code == 404
    # bad dates and spans
    r = httpx.get(base + "/requests.json", params={"start_date": "yesterday"})
    assert r.status_code == 400
    r = httpx.get(
        base + "/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert r.status_code == 400 and "90 days" in _errors(r)[0]["description"]
    # a body that is not a form; one that is too large
    r = httpx.post(
        base + "/requests.json", content=b'{"a":1}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 415
    r = httpx.post(
        base + "/requests.json",
        content=b"api_key=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and _errors(r)[0]["code"] == 413


def test_discovery_in_xml(server):
    r = httpx.get(server + "/open311/v2/discovery.xml")
    assert r.status_code == 200 and r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(r.content)
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/url").endswith("/open311/v2")


def test_posting_is_rate_limited_per_key(system, server, key):
    system.settings.rate_key = "2/60"
    data = {
        "api_key": key,
        "service_code": "fire",
        "address_string": "解放路1号",
        "description": "冒烟",
    }
    codes = [
        httpx.post(server + "/open311/v2/requests.json", data=data).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
