"""Reference data as plain files a real city can bring (CSV, YAML, GeoJSON), and back.

A directory holds ``city.yaml``, ``areas.csv``, ``units.csv``, ``staff.csv``,
``categories.csv`` and, optionally, ``map.geojson``. Loading checks everything the engine relies
on and reports every problem with its file, line and column, so whoever maintains the
spreadsheets can fix them without reading code; on any problem nothing is returned.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backend.core.errors import GridwatchError
from backend.domain.vocabulary import Tier
from backend.refdata.model import (
    COMPLEXITIES,
    KIND_AREA_LEVELS,
    KIND_TIER,
    LEVELS,
    PARENT_LEVEL,
    UNIT_KINDS,
    WHISTLE_CLASSES,
    Area,
    Category,
    CityData,
    Staff,
    Unit,
)

CITY_FILE = "city.yaml"
AREAS_FILE = "areas.csv"
UNITS_FILE = "units.csv"
STAFF_FILE = "staff.csv"
CATEGORIES_FILE = "categories.csv"
MAP_FILE = "map.geojson"

# (required columns, optional columns), in the order they are written.
AREAS_COLUMNS = (("code", "name", "level", "parent_code"), ("lon", "lat"))
UNITS_COLUMNS = (("code", "name", "tier", "area_code", "kind"), ())
STAFF_COLUMNS = (("staff_id", "name", "role", "unit_code"), ("grid_code", "phone"))
CATEGORIES_COLUMNS = (
    ("code", "name", "whistle_class", "owner_unit", "default_tier", "complexity"),
    ("name_en", "major", "keywords"),
)
KEYWORD_SEPARATOR = "|"

_TIERS = tuple(t.value for t in Tier)
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否", ""}
_MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one place of one file."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column:
            where += f", column {self.column}" if self.line is not None else f", {self.column}"
        return f"{where}: {self.message}"


class RefDataError(GridwatchError):
    """Reference files that cannot be used. ``problems`` lists all of them, first one first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("RefDataError needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        self.file, self.line, self.column = first.file, first.line, first.column
        if len(self.problems) == 1:
            message = str(first)
        else:
            lines = [str(p) for p in self.problems[:_MAX_LISTED]]
            if len(self.problems) > _MAX_LISTED:
                lines.append(f"… and {len(self.problems) - _MAX_LISTED} more")
            message = f"{first}\n({len(self.problems)} problems)\n" + "\n".join(lines)
        super().__init__(message)


# --------------------------------------------------------------------------- writing


def write_city(city: CityData, directory: Path) -> None:
    """Write ``city`` as plain files in ``directory`` (created if needed), UTF-8 without BOM."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / CITY_FILE).open("w", encoding="utf-8") as f:
        yaml.safe_dump(
            {"name": city.name, "name_en": city.name_en}, f, allow_unicode=True, sort_keys=False
        )
    _write_csv(
        directory / AREAS_FILE,
        _header(AREAS_COLUMNS),
        (
            (
                a.code,
                a.name,
                a.level,
                a.parent_code,
                *(a.centroid if a.centroid is not None else (None, None)),
            )
            for a in city.areas
        ),
    )
    _write_csv(
        directory / UNITS_FILE,
        _header(UNITS_COLUMNS),
        ((u.code, u.name, u.tier.value, u.area_code, u.kind) for u in city.units),
    )
    _write_csv(
        directory / STAFF_FILE,
        _header(STAFF_COLUMNS),
        ((s.staff_id, s.name, s.role, s.unit_code, s.grid_code, s.phone) for s in city.staff),
    )
    _write_csv(
        directory / CATEGORIES_FILE,
        _header(CATEGORIES_COLUMNS),
        (
            (
                c.code,
                c.name,
                c.whistle_class,
                c.owner_unit,
                c.default_tier.value,
                c.complexity,
                c.name_en,
                "true" if c.major else "false",
                KEYWORD_SEPARATOR.join(c.keywords),
            )
            for c in city.categories
        ),
    )
    _write_geojson(directory / MAP_FILE, city.geojson)


def _header(columns: tuple[tuple[str, ...], tuple[str, ...]]) -> list[str]:
    return [*columns[0], *columns[1]]


def _write_csv(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def _write_geojson(path: Path, geojson: dict[str, Any]) -> None:
    """Compact JSON with one feature per line: small, yet diffable and greppable."""
    features = geojson.get("features", [])
    head = {k: v for k, v in geojson.items() if k != "features"}
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1])
        f.write(',"features":[\n' if head else '"features":[\n')
        for i, feature in enumerate(features):
            f.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
            f.write(",\n" if i < len(features) - 1 else "\n")
        f.write("]}\n")


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    values: dict[str, str]


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.items.append(Problem(file, line, column, message))

    def raise_any(self) -> None:
        if self.items:
            raise RefDataError(self.items)


def _one_of(value: str, allowed: Iterable[str]) -> str:
    return f"{value!r} is not one of {', '.join(allowed)}"


def _read_text(path: Path, problems: _Problems) -> str | None:
    name = path.name
    if not path.is_file():
        problems.add(name, None, None, f"file not found in {path.parent}")
        return None
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problems.add(name, line, None, "is not UTF-8 text (save the file as UTF-8)")
        return None


def _read_csv(
    path: Path, columns: tuple[tuple[str, ...], tuple[str, ...]], problems: _Problems
) -> list[_Row]:
    """Rows as {column: stripped value}; header names match case-insensitively."""
    name = path.name
    text = _read_text(path, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if not any(header):
            problems.add(name, 1, None, "is empty; the first line must name the columns")
            return []
        duplicated = sorted({h for h in header if h and header.count(h) > 1})
        if duplicated:
            problems.add(name, 1, None, f"column(s) named twice: {', '.join(duplicated)}")
        missing = [c for c in columns[0] if c not in header]
        if missing:
            problems.add(name, 1, None, f"missing required column(s): {', '.join(missing)}")
        if duplicated or missing:
            return []
        wanted = [(i, h) for i, h in enumerate(header) if h in columns[0] or h in columns[1]]
        last = reader.line_num
        for record in reader:
            line, last = last + 1, reader.line_num
            if not any(v.strip() for v in record):
                continue
            if len(record) > len(header) and any(v.strip() for v in record[len(header) :]):
                problems.add(
                    name, line, None, f"{len(record)} values but {len(header)} columns in header"
                )
                continue
            values = {c: "" for c in columns[1]}
            values.update({h: record[i].strip() if i < len(record) else "" for i, h in wanted})
            rows.append(_Row(line, values))
    except csv.Error as exc:
        problems.add(name, reader.line_num, None, f"is not valid CSV: {exc}")
        return []
    return rows


def _parse_float(
    row: _Row, column: str, low: float, high: float, file: str, problems: _Problems
) -> float | None:
    raw = row.values[column]
    try:
        value = float(raw)
    except ValueError:
        problems.add(file, row.line, column, f"{raw!r} is not a number")
        return None
    if not low <= value <= high:
        problems.add(file, row.line, column, f"{raw} is outside {low:g}…{high:g}")
        return None
    return value


def _unique(
    row: _Row, column: str, seen: dict[str, int], file: str, problems: _Problems
) -> str | None:
    """The row's key, or None (and a problem) if it is empty or seen before."""
    key = row.values[column]
    if not key:
        problems.add(file, row.line, column, "is empty")
        return None
    if key in seen:
        problems.add(file, row.line, column, f"duplicate {key!r} (first on line {seen[key]})")
        return None
    seen[key] = row.line
    return key


def _required(row: _Row, columns: Iterable[str], file: str, problems: _Problems) -> bool:
    ok = True
    for column in columns:
        if not row.values[column]:
            problems.add(file, row.line, column, "is empty")
            ok = False
    return ok


def _load_city_file(path: Path, problems: _Problems) -> tuple[str, str]:
    text = _read_text(path, problems)
    if text is None:
        return "", ""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.add(path.name, line, None, f"is not valid YAML: {exc}")
        return "", ""
    if not isinstance(doc, dict):
        problems.add(path.name, None, None, "must be a mapping with keys name and name_en")
        return "", ""
    name, name_en = doc.get("name"), doc.get("name_en", "")
    if not isinstance(name, str) or not name.strip():
        problems.add(path.name, None, "name", "missing or empty key 'name'")
        name = ""
    if not isinstance(name_en, str):
        problems.add(path.name, None, "name_en", "'name_en' must be text")
        name_en = ""
    return name.strip(), name_en.strip()


def load_city(directory: Path) -> CityData:
    """Read and validate a city directory; raise ``RefDataError`` listing every problem."""
    directory = Path(directory)
    problems = _Problems()
    name, name_en = _load_city_file(directory / CITY_FILE, problems)
    area_rows = _read_csv(directory / AREAS_FILE, AREAS_COLUMNS, problems)
    unit_rows = _read_csv(directory / UNITS_FILE, UNITS_COLUMNS, problems)
    staff_rows = _read_csv(directory / STAFF_FILE, STAFF_COLUMNS, problems)
    category_rows = _read_csv(directory / CATEGORIES_FILE, CATEGORIES_COLUMNS, problems)
    problems.raise_any()  # unreadable files or missing columns: nothing more to say

    areas, area_lines = _parse_areas(area_rows, problems)
    units, unit_lines = _parse_units(unit_rows, areas, area_lines, problems)
    staff = _parse_staff(staff_rows, areas, units, unit_lines, problems)
    categories = _parse_categories(category_rows, units, unit_lines, problems)
    geojson = _load_geojson(directory / MAP_FILE, area_lines, problems)
    problems.raise_any()
    return CityData(
        name=name,
        name_en=name_en,
        areas=list(areas.values()),
        units=list(units.values()),
        staff=staff,
        categories=categories,
        geojson=geojson,
    )


def _parse_areas(rows: list[_Row], problems: _Problems) -> tuple[dict[str, Area], dict[str, int]]:
    """Areas by code (file order) and the line of every code seen, valid or not."""
    file = AREAS_FILE
    lines: dict[str, int] = {}
    areas: dict[str, Area] = {}
    for row in rows:
        code = _unique(row, "code", lines, file, problems)
        if code is None:
            continue
        v = row.values
        ok = _required(row, ("name",), file, problems)
        if v["level"] not in LEVELS:
            problems.add(file, row.line, "level", _one_of(v["level"], LEVELS))
            ok = False
        centroid: tuple[float, float] | None = None
        if v["lon"] or v["lat"]:
            lon = _parse_float(row, "lon", -180, 180, file, problems)
            lat = _parse_float(row, "lat", -90, 90, file, problems)
            if lon is None or lat is None:
                ok = False
            else:
                centroid = (lon, lat)
        if ok:
            areas[code] = Area(code, v["name"], v["level"], v["parent_code"] or None, centroid)

    cities = [a for a in areas.values() if a.level == "city"]
    if rows and not cities and len(areas) == len(lines):
        problems.add(file, None, "level", "no area of level city: the tree needs a root")
    for extra in cities[1:]:
        problems.add(
            file,
            lines[extra.code],
            "level",
            f"a second city (first on line {lines[cities[0].code]}); one city per directory",
        )
    for area in areas.values():
        line, parent = lines[area.code], area.parent_code
        if parent is None:
            if area.level != "city":
                problems.add(file, line, "parent_code", f"is empty; a {area.level} needs a parent")
            continue
        if area.level == "city":
            problems.add(file, line, "parent_code", "a city has no parent; leave it empty")
            continue
        if parent not in lines:
            problems.add(file, line, "parent_code", f"{parent!r} is not a known area code")
            continue
        if not area.code.startswith(parent) or area.code == parent:
            problems.add(
                file,
                line,
                "code",
                f"{area.code!r} does not start with its parent's code {parent!r}",
            )
        expected = PARENT_LEVEL[area.level]
        parent_area = areas.get(parent)
        if parent_area is not None and parent_area.level != expected:
            problems.add(
                file,
                line,
                "parent_code",
                f"{parent!r} is a {parent_area.level}; "
                f"a {area.level}'s parent must be a {expected}",
            )
    return areas, lines


def _parse_units(
    rows: list[_Row], areas: dict[str, Area], area_lines: dict[str, int], problems: _Problems
) -> tuple[dict[str, Unit], dict[str, int]]:
    file = UNITS_FILE
    lines: dict[str, int] = {}
    units: dict[str, Unit] = {}
    routed: dict[tuple[str, Tier], Unit] = {}
    for row in rows:
        code = _unique(row, "code", lines, file, problems)
        if code is None:
            continue
        v = row.values
        ok = _required(row, ("name",), file, problems)
        tier: Tier | None = None
        if v["tier"] in _TIERS:
            tier = Tier(v["tier"])
        else:
            problems.add(file, row.line, "tier", _one_of(v["tier"], _TIERS))
            ok = False
        kind = v["kind"]
        if kind not in UNIT_KINDS:
            problems.add(file, row.line, "kind", _one_of(kind, UNIT_KINDS))
            ok = False
        elif tier is not None and KIND_TIER[kind] is not tier:
            problems.add(
                file,
                row.line,
                "tier",
                f"{tier.value!r} does not fit kind {kind!r} (a {kind} unit works at tier "
                f"{KIND_TIER[kind].value})",
            )
            ok = False
        area_code = v["area_code"]
        area = areas.get(area_code)
        if area_code not in area_lines:
            problems.add(file, row.line, "area_code", f"{area_code!r} is not a known area code")
            ok = False
        elif area is not None and kind in KIND_AREA_LEVELS:
            allowed = KIND_AREA_LEVELS[kind]
            if area.level not in allowed:
                problems.add(
                    file,
                    row.line,
                    "area_code",
                    f"{area_code!r} is a {area.level}; a {kind} unit belongs to a "
                    f"{' or '.join(allowed)}",
                )
                ok = False
        if not ok or tier is None:
            continue
        unit = Unit(code, v["name"], tier, area_code, kind)
        units[code] = unit
        if tier is not Tier.DEPARTMENT:
            other = routed.setdefault((area_code, tier), unit)
            if other is not unit:
                problems.add(
                    file,
                    row.line,
                    "area_code",
                    f"{area_code!r} already has a {tier.value} unit {other.code!r} "
                    f"(line {lines[other.code]})",
                )
    # Routing needs a unit for every grid, township and county.
    if not problems.items:
        for area in areas.values():
            tier = {"grid": Tier.GRID, "township": Tier.TOWNSHIP, "county": Tier.COUNTY}.get(
                area.level
            )
            if tier is not None and (area.code, tier) not in routed:
                problems.add(
                    AREAS_FILE,
                    area_lines[area.code],
                    "code",
                    f"{area.level} {area.code!r} has no {tier.value} unit in {file}",
                )
    return units, lines


def _parse_staff(
    rows: list[_Row],
    areas: dict[str, Area],
    units: dict[str, Unit],
    unit_lines: dict[str, int],
    problems: _Problems,
) -> list[Staff]:
    file = STAFF_FILE
    seen: dict[str, int] = {}
    staff: list[Staff] = []
    for row in rows:
        staff_id = _unique(row, "staff_id", seen, file, problems)
        if staff_id is None:
            continue
        v = row.values
        ok = _required(row, ("name", "role"), file, problems)
        if v["unit_code"] not in unit_lines:
            problems.add(
                file, row.line, "unit_code", f"{v['unit_code']!r} is not a known unit code"
            )
            ok = False
        grid_code = v["grid_code"] or None
        if grid_code is not None:
            area = areas.get(grid_code)
            if area is None:
                problems.add(file, row.line, "grid_code", f"{grid_code!r} is not a known area code")
                ok = False
            elif area.level != "grid":
                problems.add(file, row.line, "grid_code", f"{grid_code!r} is a {area.level}")
                ok = False
        if ok:
            staff.append(
                Staff(staff_id, v["name"], v["role"], v["unit_code"], grid_code, v["phone"] or None)
            )
    return staff


def _parse_categories(
    rows: list[_Row], units: dict[str, Unit], unit_lines: dict[str, int], problems: _Problems
) -> list[Category]:
    file = CATEGORIES_FILE
    seen: dict[str, int] = {}
    categories: list[Category] = []
    for row in rows:
        code = _unique(row, "code", seen, file, problems)
        if code is None:
            continue
        v = row.values
        ok = _required(row, ("name",), file, problems)
        if v["whistle_class"] not in WHISTLE_CLASSES:
            problems.add(
                file, row.line, "whistle_class", _one_of(v["whistle_class"], WHISTLE_CLASSES)
            )
            ok = False
        if v["default_tier"] not in _TIERS:
            problems.add(file, row.line, "default_tier", _one_of(v["default_tier"], _TIERS))
            ok = False
        if v["complexity"] not in COMPLEXITIES:
            problems.add(file, row.line, "complexity", _one_of(v["complexity"], COMPLEXITIES))
            ok = False
        major = v["major"].lower()
        if major not in _TRUE | _FALSE:
            problems.add(file, row.line, "major", f"{v['major']!r} is not true or false")
            ok = False
        owner = v["owner_unit"]
        unit = units.get(owner)
        if owner not in unit_lines:
            problems.add(file, row.line, "owner_unit", f"{owner!r} is not a known unit code")
            ok = False
        elif unit is not None and unit.kind != "department":
            problems.add(
                file,
                row.line,
                "owner_unit",
                f"{owner!r} is a {unit.kind} unit, not a department",
            )
            ok = False
        if ok:
            keywords = tuple(k.strip() for k in v["keywords"].split(KEYWORD_SEPARATOR) if k.strip())
            categories.append(
                Category(
                    code,
                    v["name"],
                    v["name_en"],
                    v["whistle_class"],
                    owner,
                    Tier(v["default_tier"]),
                    v["complexity"],
                    major in _TRUE,
                    keywords,
                )
            )
    return categories


def _load_geojson(path: Path, area_lines: dict[str, int], problems: _Problems) -> dict[str, Any]:
    """The map is optional: a city without polygons gets an empty FeatureCollection."""
    if not path.exists():
        return {"type": "FeatureCollection", "features": []}
    text = _read_text(path, problems)
    if text is None:
        return {}
    file = path.name
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(file, exc.lineno, None, f"is not valid JSON: {exc.msg} (column {exc.colno})")
        return {}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        problems.add(file, None, "type", "must be a GeoJSON FeatureCollection")
        return {}
    features = doc.get("features")
    if not isinstance(features, list):
        problems.add(file, None, "features", "must be a list")
        return {}
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        props = feature.get("properties") if isinstance(feature, dict) else None
        code = props.get("code") if isinstance(props, dict) else None
        if code not in area_lines:
            problems.add(file, None, f"{where}.properties.code", f"{code!r} is not a known area")
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        problem = _geometry_problem(geom)
        if problem:
            problems.add(file, None, f"{where}.geometry", problem)
    return doc


def _geometry_problem(geom: object) -> str | None:
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        return "must be a Polygon or MultiPolygon"
    coords = geom.get("coordinates")
    polygons = [coords] if geom["type"] == "Polygon" else coords
    if not isinstance(polygons, list):
        return "has no coordinates"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "has an empty polygon"
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                return "has a ring with fewer than 4 positions"
            if ring[0] != ring[-1]:
                return "has a ring that is not closed (first position != last)"
    return None
