"""Reference data: generator sizes and integrity, routing, the offline map, files round trip."""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from backend.domain.vocabulary import TIER_ORDER, Tier
from backend.refdata import (
    CITY_KINDS,
    CityData,
    RefDataError,
    generate_city,
    load_city,
    write_city,
)
from backend.refdata.geometry import contains, signed_area
from backend.refdata.model import GRID_ROLES, PARENT_LEVEL, WHISTLE_CLASSES

SHANGRAO_COUNTIES = {
    "信州区",
    "广丰区",
    "广信区",
    "玉山县",
    "铅山县",
    "横峰县",
    "弋阳县",
    "余干县",
    "鄱阳县",
    "万年县",
    "婺源县",
    "德兴市",
}


@pytest.fixture(scope="module")
def small() -> CityData:
    return generate_city("small", seed=7)


@pytest.fixture(scope="module")
def shangrao_timed() -> tuple[CityData, float]:
    started = time.perf_counter()
    city = generate_city("shangrao", seed=7)
    return city, time.perf_counter() - started


@pytest.fixture(scope="module")
def shangrao(shangrao_timed: tuple[CityData, float]) -> CityData:
    return shangrao_timed[0]


@pytest.fixture(params=["small", "shangrao"])
def city(request: pytest.FixtureRequest) -> CityData:
    return request.getfixturevalue(request.param)


def levels(city: CityData) -> Counter[str]:
    return Counter(a.level for a in city.areas)


def kinds(city: CityData) -> Counter[str]:
    return Counter(u.kind for u in city.units)


# --------------------------------------------------------------------------- generator


def test_small_counts(small: CityData) -> None:
    assert levels(small) == {
        "city": 1,
        "county": 1,
        "township": 10,
        "community": levels(small)["community"],
        "grid": 100,
    }
    assert kinds(small) == {"grid": 100, "township": 10, "department": 30, "county": 1}
    per_township = Counter(a.parent_code for a in small.areas_at("community"))
    assert all(2 <= n <= 4 for n in per_township.values())
    names = [t.name for t in small.areas_at("township")]
    assert any(n.endswith("街道") for n in names)
    assert any(n.endswith("镇") or n.endswith("乡") for n in names)
    assert small.area("361102").name == "信州区"
    assert len(small.categories) == 36


def test_shangrao_counts_and_speed(shangrao_timed: tuple[CityData, float]) -> None:
    city, seconds = shangrao_timed
    assert seconds < 10
    assert levels(city)["grid"] == 12_000
    assert {a.name for a in city.areas_at("county")} == SHANGRAO_COUNTIES
    per_county = Counter(a.parent_code for a in city.areas_at("township"))
    assert all(15 <= n <= 20 for n in per_county.values())
    assert kinds(city) == {
        "grid": 12_000,
        "township": levels(city)["township"],
        "department": 60,
        "county": 12,
    }
    grid_staff = [s for s in city.staff if s.grid_code is not None]
    assert 19_000 <= len(grid_staff) <= 21_000


def test_categories_form_the_whistle_list(city: CityData) -> None:
    assert Counter(c.whistle_class for c in city.categories) == {
        "enforcement": 12,
        "management": 14,
        "emergency": 10,
    }
    assert set(WHISTLE_CLASSES) == {c.whistle_class for c in city.categories}
    names = {c.name for c in city.categories}
    for required in ("邻里纠纷", "装修噪音", "油烟扰民", "违章搭建", "占道经营", "环境卫生"):
        assert required in names
    for required in ("公共设施损坏", "安全隐患", "拖欠工资", "政策咨询", "土地纠纷"):
        assert required in names
    assert all(
        c.keywords and c.complexity in ("simple", "general", "complex") for c in city.categories
    )
    majors = [c for c in city.categories if c.major]
    assert majors and all(c.whistle_class == "emergency" for c in majors)
    assert city.category("land_dispute").default_tier is Tier.TOWNSHIP
    assert Counter(c.default_tier for c in city.categories).most_common(1)[0][0] is Tier.GRID


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        generate_city("atlantis")
    for kind in CITY_KINDS:
        assert kind in str(err.value)


def test_deterministic() -> None:
    assert generate_city("small", seed=3) == generate_city("small", seed=3)
    assert generate_city("small", seed=3) != generate_city("small", seed=4)


def test_codes_and_ids_are_unique(city: CityData) -> None:
    for values in (
        [a.code for a in city.areas],
        [u.code for u in city.units],
        [s.staff_id for s in city.staff],
        [c.code for c in city.categories],
        [s.phone for s in city.staff],
    ):
        assert len(values) == len(set(values))
    # place names are unique city-wide, so an address naming one is unambiguous
    places = [a.name for a in city.areas if a.level in ("township", "community", "grid")]
    assert len(places) == len(set(places))


def test_hierarchy_and_code_prefixes(city: CityData) -> None:
    patterns = {
        "city": r"\d{4}",
        "county": r"\d{6}",
        "township": r"\d{9}",
        "community": r"\d{12}",
        "grid": r"\d{12}G\d{2}",
    }
    roots = [a for a in city.areas if a.parent_code is None]
    assert [a.level for a in roots] == ["city"]
    for area in city.areas:
        assert re.fullmatch(patterns[area.level], area.code), area
        if area.parent_code is not None:
            parent = city.area(area.parent_code)
            assert parent.level == PARENT_LEVEL[area.level]
            assert area.code.startswith(parent.code)
        assert area.centroid is not None


def test_staff(city: CityData) -> None:
    units = {u.code: u for u in city.units}
    roles_by_grid: dict[str, list[str]] = {}
    for person in city.staff:
        assert person.unit_code in units
        assert 2 <= len(person.name) <= 3
        assert person.phone is not None and re.fullmatch(r"1\d{10}", person.phone)
        if person.grid_code is not None:
            assert units[person.unit_code].area_code == person.grid_code
            assert person.role in GRID_ROLES
            roles_by_grid.setdefault(person.grid_code, []).append(person.role)
    grids = city.areas_at("grid")
    assert set(roles_by_grid) == {g.code for g in grids}  # every grid is staffed
    for roles in roles_by_grid.values():
        assert "grid_worker" in roles
        assert len(roles) == len(set(roles)) <= 8  # 一格八员
    handler_units = {s.unit_code for s in city.staff if s.role == "handler"}
    assert {u.code for u in city.units if u.kind in ("township", "department")} <= handler_units


def test_small_grids_have_several_roles(small: CityData) -> None:
    per_grid = Counter(s.grid_code for s in small.staff if s.grid_code)
    assert sum(per_grid.values()) / len(per_grid) >= 3


# --------------------------------------------------------------------------- routing


def test_routing_for_every_tier(city: CityData) -> None:
    categories = city.categories
    for i, grid in enumerate(city.areas_at("grid")[::97]):
        category = categories[i % len(categories)]
        township = city.township_of(grid.code)
        county = city.county_of(grid.code)
        assert township.level == "township" and grid.code.startswith(township.code)
        assert county.level == "county" and grid.code.startswith(county.code)

        unit = city.unit_for_tier(grid.code, Tier.GRID, category.code)
        assert (unit.kind, unit.tier, unit.area_code) == ("grid", Tier.GRID, grid.code)
        unit = city.unit_for_tier(grid.code, Tier.TOWNSHIP, category.code)
        assert (unit.kind, unit.tier, unit.area_code) == ("township", Tier.TOWNSHIP, township.code)
        unit = city.unit_for_tier(grid.code, Tier.DEPARTMENT, category.code)
        assert unit.code == category.owner_unit and unit.kind == "department"
        unit = city.unit_for_tier(grid.code, Tier.COUNTY, category.code)
        assert (unit.kind, unit.tier, unit.area_code) == ("county", Tier.COUNTY, county.code)
        # every tier a case can climb to has someone to hand it to
        assert len({city.unit_for_tier(grid.code, t, category.code).code for t in TIER_ORDER}) == 4


def test_routing_accepts_plain_strings_and_rejects_non_grids(small: CityData) -> None:
    grid = small.areas_at("grid")[0]
    assert small.unit_for_tier(grid.code, "township", "sanitation").kind == "township"  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        small.unit_for_tier(grid.parent_code or "", Tier.GRID, "sanitation")
    with pytest.raises(KeyError):
        small.grid("nope")


def test_every_owner_is_a_department(city: CityData) -> None:
    for category in city.categories:
        assert city.unit(category.owner_unit).kind == "department"


# --------------------------------------------------------------------------- map


def _bbox(ring: list[list[float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def test_geojson_is_valid_and_nested(city: CityData) -> None:
    gj = city.geojson
    assert gj["type"] == "FeatureCollection"
    rings: dict[str, list[list[float]]] = {}
    for feature in gj["features"]:
        props = feature["properties"]
        assert set(props) == {"code", "name", "level", "parent_code"}
        assert feature["geometry"]["type"] == "Polygon"
        ring = feature["geometry"]["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1]  # closed
        assert signed_area(ring) > 0  # counter-clockwise exterior ring
        assert all(round(v, 5) == v for p in ring for v in p)
        assert 116 < ring[0][0] < 119 and 27.5 < ring[0][1] < 30  # around Shangrao
        rings[props["code"]] = ring
    for area in city.areas:
        if area.level in ("township", "grid"):
            assert area.code in rings, area
    eps = 2e-5  # rounding to 5 decimals
    for grid in city.areas_at("grid"):
        township = city.township_of(grid.code)
        west, south, east, north = _bbox(rings[township.code])
        assert grid.centroid is not None
        lon, lat = grid.centroid
        assert west <= lon <= east and south <= lat <= north
        assert contains(rings[township.code], grid.centroid)
        assert contains(rings[grid.code], grid.centroid)
        for x, y in rings[grid.code]:
            assert west - eps <= x <= east + eps and south - eps <= y <= north + eps


def test_map_file_is_small_enough(shangrao: CityData, tmp_path: Path) -> None:
    write_city(shangrao, tmp_path)
    assert (tmp_path / "map.geojson").stat().st_size < 5_000_000


# --------------------------------------------------------------------------- files


def test_round_trip(city: CityData, tmp_path: Path) -> None:
    write_city(city, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "areas.csv",
        "categories.csv",
        "city.yaml",
        "map.geojson",
        "staff.csv",
        "units.csv",
    ]
    loaded = load_city(tmp_path)
    assert loaded == city
    grid = loaded.areas_at("grid")[5]
    assert loaded.unit_for_tier(grid.code, Tier.COUNTY, "sanitation") == city.unit_for_tier(
        grid.code, Tier.COUNTY, "sanitation"
    )


def test_categories_file_joins_keywords(small: CityData, tmp_path: Path) -> None:
    write_city(small, tmp_path)
    rows = list(csv.DictReader((tmp_path / "categories.csv").open(encoding="utf-8")))
    first = small.categories[0]
    assert rows[0]["keywords"] == "|".join(first.keywords)
    assert rows[0]["major"] in ("true", "false")


def test_bom_and_header_case_are_accepted(small: CityData, tmp_path: Path) -> None:
    write_city(small, tmp_path)
    path = tmp_path / "units.csv"
    text = path.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    path.write_text("\ufeff" + header.upper() + "\r\n" + rest.replace("\n", "\r\n"), "utf-8")
    assert load_city(tmp_path) == small


def test_map_is_optional(small: CityData, tmp_path: Path) -> None:
    write_city(small, tmp_path)
    (tmp_path / "map.geojson").unlink()
    loaded = load_city(tmp_path)
    assert loaded.geojson == {"type": "FeatureCollection", "features": []}
    assert loaded.areas == small.areas


# ---- validation: each broken file names the file, the line and the column


def _edit(directory: Path, file: str, row: int, column: str, value: str) -> int:
    """Set one cell of a data row (0-based); return the row's line number in the file."""
    path = directory / file
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[row + 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return row + 2


def _row_of(directory: Path, file: str, column: str, value: str) -> int:
    with (directory / file).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return next(i for i, r in enumerate(rows) if r[column] == value)


@pytest.fixture
def city_dir(small: CityData, tmp_path: Path) -> Path:
    write_city(small, tmp_path)
    return tmp_path


def _error(directory: Path) -> RefDataError:
    with pytest.raises(RefDataError) as err:
        load_city(directory)
    return err.value


def test_unknown_tier(city_dir: Path) -> None:
    line = _edit(city_dir, "units.csv", 12, "tier", "provincial")
    assert str(_error(city_dir)) == (
        f"units.csv line {line}, column tier: 'provincial' is not one of grid, township, "
        "department, county"
    )


def test_unknown_level(city_dir: Path) -> None:
    line = _edit(city_dir, "areas.csv", 20, "level", "province")
    err = _error(city_dir)
    assert str(err).startswith(f"areas.csv line {line}, column level: 'province' is not one of")
    assert (err.file, err.line, err.column) == ("areas.csv", line, "level")


def test_unknown_parent(city_dir: Path) -> None:
    line = _edit(city_dir, "areas.csv", 7, "parent_code", "999999999")
    assert str(_error(city_dir)) == (
        f"areas.csv line {line}, column parent_code: '999999999' is not a known area code"
    )


def test_duplicate_area_code(city_dir: Path, small: CityData) -> None:
    line = _edit(city_dir, "areas.csv", 9, "code", small.areas[8].code)
    assert str(_error(city_dir)).startswith(f"areas.csv line {line}, column code: duplicate")


def test_grid_code_not_under_its_parent(city_dir: Path, small: CityData) -> None:
    grid = small.areas_at("grid")[0]
    other = next(c for c in small.areas_at("community") if not grid.code.startswith(c.code))
    row = _row_of(city_dir, "areas.csv", "code", grid.code)
    line = _edit(city_dir, "areas.csv", row, "parent_code", other.code)
    assert str(_error(city_dir)) == (
        f"areas.csv line {line}, column code: {grid.code!r} does not start with its "
        f"parent's code {other.code!r}"
    )


def test_parent_of_wrong_level(city_dir: Path, small: CityData) -> None:
    grid = small.areas_at("grid")[0]
    township = small.township_of(grid.code)
    row = _row_of(city_dir, "areas.csv", "code", grid.code)
    line = _edit(city_dir, "areas.csv", row, "parent_code", township.code)
    err = _error(city_dir)
    assert (err.file, err.line, err.column) == ("areas.csv", line, "parent_code")
    assert "parent must be a community" in str(err)


def test_duplicate_unit_and_staff_ids(city_dir: Path, small: CityData) -> None:
    unit_line = _edit(city_dir, "units.csv", 3, "code", small.units[0].code)
    staff_line = _edit(city_dir, "staff.csv", 40, "staff_id", small.staff[2].staff_id)
    err = _error(city_dir)
    assert str(err).startswith(f"units.csv line {unit_line}, column code: duplicate 'D-ZJ'")
    assert f"staff.csv line {staff_line}, column staff_id: duplicate" in str(err)


def test_owner_not_a_department(city_dir: Path, small: CityData) -> None:
    township_unit = next(u for u in small.units if u.kind == "township")
    line = _edit(city_dir, "categories.csv", 4, "owner_unit", township_unit.code)
    assert str(_error(city_dir)) == (
        f"categories.csv line {line}, column owner_unit: {township_unit.code!r} is a "
        "township unit, not a department"
    )


def test_owner_unknown(city_dir: Path) -> None:
    line = _edit(city_dir, "categories.csv", 0, "owner_unit", "D-NOPE")
    assert str(_error(city_dir)) == (
        f"categories.csv line {line}, column owner_unit: 'D-NOPE' is not a known unit code"
    )


def test_category_bad_values(city_dir: Path) -> None:
    tier_line = _edit(city_dir, "categories.csv", 1, "default_tier", "city")
    cx_line = _edit(city_dir, "categories.csv", 2, "complexity", "hard")
    err = _error(city_dir)
    assert f"categories.csv line {tier_line}, column default_tier: 'city'" in str(err)
    assert f"categories.csv line {cx_line}, column complexity: 'hard'" in str(err)


def test_staff_on_unknown_unit(city_dir: Path) -> None:
    line = _edit(city_dir, "staff.csv", 33, "unit_code", "GRID-000")
    assert str(_error(city_dir)) == (
        f"staff.csv line {line}, column unit_code: 'GRID-000' is not a known unit code"
    )


def test_unit_attached_to_wrong_area(city_dir: Path, small: CityData) -> None:
    row = next(i for i, u in enumerate(small.units) if u.kind == "grid")
    line = _edit(city_dir, "units.csv", row, "area_code", small.areas_at("township")[0].code)
    err = _error(city_dir)
    assert (err.line, err.column) == (line, "area_code")
    assert "a grid unit belongs to a grid" in str(err)


def test_grid_without_unit(city_dir: Path, small: CityData) -> None:
    grid = small.areas_at("grid")[3]
    path = city_dir / "units.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if f",{grid.code}," not in x), encoding="utf-8")
    line = _row_of(city_dir, "areas.csv", "code", grid.code) + 2
    err = _error(city_dir)
    assert str(err.problems[0]) == (
        f"areas.csv line {line}, column code: grid {grid.code!r} has no grid unit in units.csv"
    )
    # its staff now point at a unit that is gone: reported too, not silently dropped
    assert {p.file for p in err.problems[1:]} == {"staff.csv"}


def test_missing_columns_are_named(city_dir: Path) -> None:
    path = city_dir / "units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [[r[0], r[1], r[3]] for r in csv.reader(f)]  # drop tier and kind
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert str(_error(city_dir)) == "units.csv line 1: missing required column(s): tier, kind"


def test_missing_file(city_dir: Path) -> None:
    (city_dir / "staff.csv").unlink()
    err = _error(city_dir)
    assert err.file == "staff.csv" and "not found" in str(err)


def test_not_utf8(city_dir: Path) -> None:
    path = city_dir / "areas.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_bytes("".join(lines[:5]).encode() + "".join(lines[5:]).encode("gbk"))
    err = _error(city_dir)
    assert (err.file, err.line) == ("areas.csv", 6)
    assert "UTF-8" in str(err)


def test_unclosed_ring_in_map(city_dir: Path) -> None:
    path = city_dir / "map.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][2]["geometry"]["coordinates"][0].pop()
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert str(_error(city_dir)).startswith("map.geojson, features[2].geometry: has a ring")


def test_every_problem_is_listed(city_dir: Path) -> None:
    first = _edit(city_dir, "units.csv", 5, "tier", "x")
    _edit(city_dir, "units.csv", 6, "kind", "y")
    _edit(city_dir, "staff.csv", 1, "unit_code", "z")
    err = _error(city_dir)
    assert (err.file, err.line, err.column) == ("units.csv", first, "tier")
    assert [p.column for p in err.problems] == ["tier", "kind", "unit_code"]
