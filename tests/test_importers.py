"""``gridwatch import``: historical cases from real civic-data exports (MyLA311 and NYC 311
CSV columns, Open311 JSON), written here as small files, loaded through the engine."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.cli import app
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import case_events, cases

LA_COLUMNS = [
    "SRNumber",
    "CreatedDate",
    "UpdatedDate",
    "ActionTaken",
    "Owner",
    "RequestType",
    "Status",
    "RequestSource",
    "CreatedByUserOrganization",
    "MobileOS",
    "Anonymous",
    "AssignTo",
    "ServiceDate",
    "ClosedDate",
    "AddressVerified",
    "ApproximateAddress",
    "Address",
    "HouseNumber",
    "Direction",
    "StreetName",
    "Suffix",
    "ZipCode",
    "Latitude",
    "Longitude",
    "Location",
    "TBMPage",
    "TBMColumn",
    "TBMRow",
    "APC",
    "CD",
    "CDMember",
    "NC",
    "NCName",
    "PolicePrecinct",
]
NYC_COLUMNS = [
    "Unique Key", "Created Date", "Closed Date", "Agency", "Agency Name", "Complaint Type",
    "Descriptor", "Location Type", "Incident Zip", "Incident Address", "Street Name",
    "Cross Street 1", "Cross Street 2", "Intersection Street 1", "Intersection Street 2",
    "Address Type", "City", "Landmark", "Facility Type", "Status", "Due Date",
    "Resolution Description", "Resolution Action Updated Date", "Community Board", "BBL",
    "Borough", "X Coordinate (State Plane)", "Y Coordinate (State Plane)",
    "Open Data Channel Type", "Park Facility Name", "Park Borough", "Vehicle Type",
    "Taxi Company Borough", "Taxi Pick Up Location", "Bridge Highway Name",
    "Bridge Highway Direction", "Road Ramp", "Bridge Highway Segment", "Latitude", "Longitude",
    "Location",
]  # fmt: skip


def write_csv(path, columns, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})


def rows_of(system) -> dict[str, Any]:
    with system.db.connect() as conn:
        return {r["ref"]: r for r in conn.execute(select(cases)).mappings()}


def _la_rows() -> list[dict[str, str]]:
    base = {"Owner": "BOS", "RequestSource": "Mobile App", "Status": "Closed"}
    return [
        {**base, "SRNumber": "1-1001", "CreatedDate": "01/02/2019 08:15:00 AM",
         "UpdatedDate": "01/03/2019 09:00:00 AM", "ClosedDate": "01/03/2019 08:45:00 AM",
         "RequestType": "Bulky Items", "ActionTaken": "SR Created",
         "Address": "1200 W 7TH ST, 90017", "Latitude": "34.0522", "Longitude": "-118.2637"},
        # closed, no close date: the last update is the close time
        {**base, "SRNumber": "1-1002", "CreatedDate": "01/02/2019 09:00:00 AM",
         "UpdatedDate": "01/04/2019 10:00:00 AM", "RequestType": "Graffiti Removal",
         "Owner": "OCB", "RequestSource": "Call", "Address": "300 N SPRING ST"},
        # closed, neither date: closed at an unknown time
        {**base, "SRNumber": "1-1003", "CreatedDate": "01/02/2019 10:00:00 AM",
         "RequestType": "Single Streetlight Issue", "Owner": "BSL",
         "Address": "5TH ST AND MAIN ST", "Latitude": "0", "Longitude": "0"},
        # open, blank coordinates but a Location column
        {**base, "SRNumber": "1-1004", "CreatedDate": "01/05/2019 11:30:00 AM",
         "Status": "Open", "RequestType": "Illegal Dumping Pickup",
         "Location": "(34.0407, -118.2468)"},
        # a bad creation time: reported by line and column, skipped
        {**base, "SRNumber": "1-1005", "CreatedDate": "13/45/2019 99:00",
         "RequestType": "Bulky Items", "Address": "1 MAIN ST"},
        {**base, "SRNumber": "1-1006", "CreatedDate": "01/06/2019 08:00:00 AM",
         "Status": "Cancelled", "UpdatedDate": "01/06/2019 09:00:00 AM",
         "RequestType": "Electronic Waste", "Address": "10 MAIN ST\nREAR ENTRANCE"},
        # a request type the mapping does not know: the default category, counted
        {**base, "SRNumber": "1-1007", "CreatedDate": "01/07/2019 08:00:00 AM",
         "Status": "Open", "RequestType": "Pothole Repair", "Address": "20 MAIN ST"},
        # nowhere to place it: skipped
        {**base, "SRNumber": "1-1008", "CreatedDate": "01/07/2019 09:00:00 AM",
         "Status": "Open", "RequestType": "Bulky Items"},
    ]  # fmt: skip


def test_la311_export_through_the_engine(system, cli, tmp_path):
    path = tmp_path / "myla311.csv"
    write_csv(path, LA_COLUMNS, _la_rows())
    r = cli(str(path), "--format", "la311")
    assert r.exit_code == 3, r.output
    # bad rows by file:line:column (the header is line 1; row 5 is on line 6, CreatedDate is
    # column 2; the row after the two-line address starts on line 9)
    assert f"{path}:6:2: CreatedDate: not a date and time: '13/45/2019 99:00'" in r.stderr
    assert f"{path}:10:17: no address and no coordinates" in r.stderr
    assert "imported: 6" in r.stdout and "skipped (bad rows, listed above): 2" in r.stdout
    assert "closed at their UpdatedDate instead: 1" in r.stdout
    assert "no close date at all" in r.stdout and "'Pothole Repair' (1)" in r.stdout
    got = rows_of(system)
    assert set(got) == {f"la311:1-100{i}" for i in (1, 2, 3, 4, 6, 7)}
    first = got["la311:1-1001"]
    assert first["status"] == "closed" and first["unit_code"] == "BOS"
    assert first["category"] == "garbage_collection" and first["channel"] == "app"
    assert (first["source"], first["source_type"], first["source_channel"]) == (
        "la311",
        "Bulky Items",
        "Mobile App",
    )
    # the source's own times (Los Angeles local), not the import's
    assert first["reported_at"] == datetime(2019, 1, 2, 16, 15, tzinfo=UTC)
    assert first["completed_at"] == datetime(2019, 1, 3, 16, 45, tzinfo=UTC)
    assert first["lat"] == 34.0522 and first["grid_code"] is None
    proxy = got["la311:1-1002"]
    assert proxy["completed_at"] == datetime(2019, 1, 4, 18, 0, tzinfo=UTC)
    assert proxy["channel"] == "hotline" and proxy["unit_code"] == "OCB"
    unknown = got["la311:1-1003"]
    assert unknown["status"] == "closed" and unknown["completed_at"] is None
    assert unknown["lat"] is None  # 0,0 is no coordinate
    assert got["la311:1-1004"]["status"] == "dispatched" and got["la311:1-1004"]["lat"] == 34.0407
    assert got["la311:1-1006"]["status"] == "cancelled"
    assert got["la311:1-1006"]["address"].startswith("10 MAIN ST\nREAR ENTRANCE")
    assert got["la311:1-1007"]["category"] == "policy_inquiry"
    # every case change went through the engine: the event log has it, at the source's times
    with system.db.connect() as conn:
        evs = conn.execute(
            select(case_events.c.type, case_events.c.at)
            .where(case_events.c.case_id == first["id"])
            .order_by(case_events.c.seq)
        ).all()
        rep = build_report(
            conn,
            datetime(2019, 1, 1, tzinfo=UTC),
            datetime(2019, 2, 1, tzinfo=UTC),
            datetime(2019, 3, 1, tzinfo=UTC),
            scope=Scope.city(),
        )
    assert [e.type for e in evs] == ["reported", "dispatched", "closed"]
    assert evs[-1].at == datetime(2019, 1, 3, 16, 45, tzinfo=UTC)
    # by_unit keyed by the source's own department codes; the unknown close time stays out
    # of the time-to-close median but counts as closed
    assert {"BOS", "OCB", "BSL"} <= set(rep["by_unit"])
    assert rep["closed"] == 3 and rep["cancelled"] == 1 and rep["cases_total"] == 6
    assert rep["median_hours_to_close"] == pytest.approx((24.5 + 49) / 2)
    # importing the same file again changes nothing
    again = cli(str(path), "--format", "la311")
    assert "imported: 0" in again.stdout and "already imported: 6" in again.stdout
    assert len(rows_of(system)) == 6


def test_a_newer_export_closes_what_was_open(system, cli, tmp_path):
    path = tmp_path / "la.csv"
    row = {"SRNumber": "9-1", "CreatedDate": "03/01/2020 08:00:00 AM", "Status": "Open",
           "RequestType": "Bulky Items", "Owner": "BOS", "Address": "1 MAIN ST"}  # fmt: skip
    write_csv(path, LA_COLUMNS, [row])
    assert cli(str(path), "--format", "la311").exit_code == 0
    assert rows_of(system)["la311:9-1"]["status"] == "dispatched"
    write_csv(
        path, LA_COLUMNS, [{**row, "Status": "Closed", "ClosedDate": "03/02/2020 08:00:00 AM"}]
    )
    r = cli(str(path), "--format", "la311")
    assert r.exit_code == 0 and "already imported: 1" in r.stdout
    assert rows_of(system)["la311:9-1"]["status"] == "closed"


def test_nyc311_export_in_both_column_spellings(system, cli, tmp_path):
    rows = [
        {"Unique Key": "50000001", "Created Date": "02/10/2021 11:05:00 PM",
         "Closed Date": "02/11/2021 01:05:00 AM", "Agency": "NYPD",
         "Agency Name": "New York City Police Department", "Complaint Type": "Noise - Residential",
         "Descriptor": "Loud Music/Party", "Incident Zip": "10027",
         "Incident Address": "100 WEST 125 STREET", "City": "NEW YORK", "Status": "Closed",
         "Borough": "MANHATTAN", "Open Data Channel Type": "PHONE", "Latitude": "40.8090",
         "Longitude": "-73.9480"},
        # closed with a close date before it was created (the 1900 placeholder): not a close
        # date; the resolution update is used instead
        {"Unique Key": "50000002", "Created Date": "02/10/2021 08:00:00 AM",
         "Closed Date": "01/01/1900 12:00:00 AM", "Agency": "DSNY",
         "Complaint Type": "Missed Collection", "Status": "Closed",
         "Resolution Action Updated Date": "02/12/2021 08:00:00 AM",
         "Intersection Street 1": "BROADWAY", "Intersection Street 2": "WEST 110 STREET",
         "Borough": "MANHATTAN", "Open Data Channel Type": "ONLINE"},
        {"Unique Key": "", "Created Date": "02/10/2021 08:00:00 AM", "Complaint Type": "Graffiti",
         "Incident Address": "1 MAIN ST"},
    ]  # fmt: skip
    portal = tmp_path / "nyc_portal.csv"
    write_csv(portal, NYC_COLUMNS, rows)
    r = cli(str(portal), "--format", "nyc311")
    assert r.exit_code == 3 and f"{portal}:4:1: Unique Key is empty" in r.stderr
    got = rows_of(system)
    noise = got["nyc311:50000001"]
    assert noise["unit_code"] == "NYPD" and noise["category"] == "noise_nuisance"
    assert noise["channel"] == "hotline" and noise["source_channel"] == "PHONE"
    assert noise["description"] == "Noise - Residential: Loud Music/Party"
    assert noise["reported_at"] == datetime(2021, 2, 11, 4, 5, tzinfo=UTC)
    missed = got["nyc311:50000002"]
    assert missed["completed_at"] == datetime(2021, 2, 12, 13, 0, tzinfo=UTC)
    assert missed["address"].startswith("BROADWAY & WEST 110 STREET")
    assert "Resolution Action Updated Date instead: 1" in r.stdout
    # the API's spelling of the same columns: unique_key, created_date, …, ISO times
    api = tmp_path / "nyc_api.csv"
    api_cols = [c.lower().replace(" ", "_").replace("(", "").replace(")", "") for c in NYC_COLUMNS]
    write_csv(
        api,
        api_cols,
        [{"unique_key": "50000003", "created_date": "2021-02-13T10:00:00.000",
          "agency": "DOT", "complaint_type": "Street Light Condition", "status": "Open",
          "incident_address": "5 AVENUE A", "open_data_channel_type": "MOBILE"}],
    )  # fmt: skip
    r = cli(str(api), "--format", "nyc311")
    assert r.exit_code == 0, r.output
    light = rows_of(system)["nyc311:50000003"]
    assert light["category"] == "streetlight_out" and light["unit_code"] == "DOT"
    assert light["channel"] == "app"


def test_open311_json_array_and_lines(system, cli, tmp_path):
    requests = [
        {"service_request_id": "638344", "status": "closed", "status_notes": "Duplicate request.",
         "service_name": "Sidewalk and Curb Issues", "service_code": "006",
         "description": None, "agency_responsible": None,
         "requested_datetime": "2010-04-14T06:37:38-08:00",
         "updated_datetime": "2010-04-15T06:37:38-08:00",
         "address": "8TH AVE and JUDAH ST", "lat": 37.762221815, "long": -122.4651145},
        {"service_request_id": "638349", "status": "open", "service_code": "streetlight_out",
         "description": "路灯不亮", "agency_responsible": "城市管理局",
         "requested_datetime": "2010-04-19T06:37:38+08:00", "address": "新潭社区"},
        {"service_request_id": "638350", "status": "open", "service_code": "x",
         "requested_datetime": "not a time", "address": "somewhere"},
    ]  # fmt: skip
    path = tmp_path / "requests.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in requests) + "\n]")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("categories:\n  '006': broken_facilities\ndefault_category: null\n")
    r = cli(str(path), "--format", "open311", "--mapping", str(mapping))
    assert r.exit_code == 3, r.output
    assert f"{path}:4:1: 638350: requested_datetime" in r.stderr
    got = rows_of(system)
    first = got["open311:638344"]
    assert first["category"] == "broken_facilities" and first["status"] == "closed"
    assert first["completed_at"] == datetime(2010, 4, 15, 14, 37, 38, tzinfo=UTC)
    assert first["description"] == "Sidewalk and Curb Issues" and first["channel"] == "open311"
    second = got["open311:638349"]
    assert second["category"] == "streetlight_out" and second["unit_code"] == "城市管理局"
    # JSON Lines, and a file that breaks off: everything before the break is kept, and the
    # break is named
    lines = tmp_path / "requests.jsonl"
    lines.write_text(
        json.dumps({"service_request_id": "7", "service_code": "fire", "lat": 28.4, "long": 117.9,
                    "requested_datetime": "2026-01-05T10:00:00+08:00"}) + "\n"
        + '{"service_request_id": "8", "service_code": "fi'
    )  # fmt: skip
    r = cli(str(lines), "--format", "open311")
    assert r.exit_code == 2 and f"{lines}:2:1: not valid JSON" in r.stderr
    assert rows_of(system)["open311:7"]["category"] == "fire"


def test_fatal_problems_are_named(system, cli, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b,c\n1,2,3\n")
    r = cli(str(wrong), "--format", "la311")
    assert r.exit_code == 2 and "missing column(s) SRNumber, CreatedDate, RequestType" in r.stderr
    r = cli(str(tmp_path / "absent.csv"), "--format", "la311")
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = cli(str(wrong), "--format", "excel")
    assert r.exit_code == 2 and "--format must be one of" in r.stderr
    bad_map = tmp_path / "m.yaml"
    bad_map.write_text("categories:\n  Bulky Items: nonsense\n")
    r = cli(str(wrong), "--format", "la311", "--mapping", str(bad_map))
    assert r.exit_code == 2 and "unknown category code(s): nonsense" in r.stderr
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 0


def test_the_progress_bar_is_drawn(system, settings, tmp_path):
    path = tmp_path / "la.csv"
    write_csv(path, LA_COLUMNS, _la_rows()[:2])
    env = {
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url,
        "GRIDWATCH_VAR": str(settings.var_dir),
        "GRIDWATCH_REDIS_PREFIX": settings.key_prefix,
    }
    r = CliRunner().invoke(app, ["import", str(path), "--format", "la311"], env=env)
    assert r.exit_code == 0, r.output
    assert "importing la.csv" in r.stderr and "━" in r.stderr
