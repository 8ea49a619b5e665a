"""Synthetic but plausible cities for the demo, the simulator and the tests.

``generate_city("small")`` is one district of Shangrao with 100 grids; ``"shangrao"`` is the whole
city at the scale of the source report (12 counties, 12,000 grids, ~20,000 grid workers, 60
departments); ``"jizhou"`` is 吉安市吉州区 (364 grids, the seeds' three grid levels: 10 streets
and towns, their villages and communities, and the grids of estates and village groups).
Everything comes from one seed through ``random.Random``, so the same seed always gives the
same city, byte for byte.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.domain.vocabulary import Tier
from backend.refdata import catalogue, geometry
from backend.refdata.geometry import Quad
from backend.refdata.model import (
    GRID_ROLES,
    Area,
    Category,
    CityData,
    Staff,
    Unit,
)


@dataclass(frozen=True, slots=True)
class _Spec:
    """Sizes of one kind of city."""

    name: str
    name_en: str
    county_codes: tuple[str, ...]
    townships: tuple[int, int]  # per county, inclusive range (small: exactly 10)
    communities: tuple[int, int]  # per township, inclusive range
    grids: int
    departments: int
    grid_staff: int
    handlers_per_department: tuple[int, int]
    township_mix: tuple[int, int] | None = None  # fixed (streets, towns); the rest are 乡
    # a one-county city: its prefecture (code, name) and the county's centre and extent
    prefecture: tuple[str, str] = (catalogue.SHANGRAO_CODE, "上饶市")
    centre: tuple[float, float] = (117.95, 28.45)
    extent: tuple[float, float] = (0.30, 0.24)


_SPECS: dict[str, _Spec] = {
    "small": _Spec(
        name="上饶市信州区",
        name_en="Xinzhou District, Shangrao",
        county_codes=("361102",),
        townships=(10, 10),
        communities=(2, 4),
        grids=100,
        departments=30,
        grid_staff=500,
        handlers_per_department=(2, 3),
        township_mix=(5, 3),
    ),
    "shangrao": _Spec(
        name="上饶市",
        name_en="Shangrao",
        county_codes=tuple(c[0] for c in catalogue.SHANGRAO_COUNTIES),
        townships=(15, 20),
        communities=(4, 9),
        grids=12_000,
        departments=60,
        grid_staff=20_000,
        handlers_per_department=(3, 5),
    ),
    "jizhou": _Spec(
        name="吉安市吉州区",
        name_en="Jizhou District, Ji'an",
        county_codes=(catalogue.JIZHOU_COUNTY[0],),
        townships=(10, 10),
        communities=(3, 6),
        grids=364,
        departments=30,
        grid_staff=364 * 8,  # 一格八员: eight roles in every grid
        handlers_per_department=(2, 3),
        township_mix=(6, 4),
        prefecture=(catalogue.JIAN_CODE, "吉安市"),
        centre=(114.98, 27.12),
        extent=(0.36, 0.30),
    ),
}

#: Valid values of ``generate_city(kind=...)``.
CITY_KINDS: tuple[str, ...] = tuple(_SPECS)

# Township types: street (街道, codes 001–099), town (镇, 100–199), rural township (乡, 200–399).
_TOWNSHIP_SUFFIX = {"street": "街道", "town": "镇", "xiang": "乡"}
_TOWNSHIP_CODE_BASE = {"street": 0, "town": 100, "xiang": 200}
# Community codes: residents' committees (社区) 001–199, villagers' committees (村) 200–399.
_URBAN_DENSITY = {"社区": 1.6, "村": 0.8}
_MAX_GRIDS_PER_COMMUNITY = 99  # grid codes are G01…G99


@dataclass(slots=True)
class _Node:
    """An area being built, with its polygon and its children."""

    code: str
    name: str
    level: str
    parent: str | None
    quad: Quad
    kind: str = ""  # township type, or 社区/村 for communities
    children: list[_Node] = field(default_factory=list)
    grids: int = 0  # communities: how many grids to cut


def generate_city(kind: str = "small", seed: int = 7) -> CityData:
    """Build a whole city's reference data from ``seed`` (same seed, same city)."""
    try:
        spec = _SPECS[kind]
    except KeyError:
        raise ValueError(
            f"unknown city kind {kind!r}; valid kinds: {', '.join(CITY_KINDS)}"
        ) from None

    def rng(stream: str) -> random.Random:
        # One independent stream per concern, so changing the names never moves the map.
        return random.Random(f"gridwatch:{kind}:{seed}:{stream}")

    geo, plan, names, people = rng("geo"), rng("plan"), rng("names"), rng("people")
    city, counties = _lay_out_counties(kind, spec, geo)
    _plan_townships(counties, spec, plan, geo)
    _name_places(counties, names)
    _allocate_grids(counties, spec.grids, plan)
    _cut_grids(counties, geo)

    areas = _areas(city, counties)
    units, departments = _units(city, counties, spec)
    staff = _staff(counties, units, departments, spec, people)
    categories = [
        Category(code, name, name_en, cls, owner, tier, complexity, major, tuple(keywords))
        for code, name, name_en, cls, owner, tier, complexity, major, keywords in (
            catalogue.CATEGORIES
        )
    ]
    return CityData(
        name=spec.name,
        name_en=spec.name_en,
        areas=areas,
        units=units,
        staff=staff,
        categories=categories,
        geojson=_geojson(counties),
    )


# --------------------------------------------------------------------------- geography


def _lay_out_counties(kind: str, spec: _Spec, geo: random.Random) -> tuple[_Node, list[_Node]]:
    """The city and its counties, each with a quad placed around real-ish coordinates."""
    counties_by_code = {c[0]: c for c in (*catalogue.SHANGRAO_COUNTIES, catalogue.JIZHOU_COUNTY)}
    if len(spec.county_codes) == 1:
        quad = geometry.jitter_quad(spec.centre, *spec.extent, geo)
        city = _Node(spec.prefecture[0], spec.prefecture[1], "city", None, quad)
        code, name, _en, ckind, _r, _c = counties_by_code[spec.county_codes[0]]
        return city, [_Node(code, name, "county", city.code, quad, kind=ckind)]
    quad = geometry.jitter_quad((117.40, 28.75), 2.10, 1.50, geo, skew=0.02)
    city = _Node(catalogue.SHANGRAO_CODE, "上饶市", "city", None, quad)
    cells = {
        (r, c): cell
        for r, strip in enumerate(geometry.split_rows(quad, 3, geo))
        for c, cell in enumerate(geometry.split_columns(strip, 4, geo))
    }
    counties = []
    for code in spec.county_codes:
        _code, name, _en, ckind, row, col = counties_by_code[code]
        counties.append(_Node(code, name, "county", city.code, cells[(row, col)], kind=ckind))
    return city, counties


def _plan_townships(
    counties: list[_Node], spec: _Spec, plan: random.Random, geo: random.Random
) -> None:
    """Townships and communities of every county: how many, which type, which polygon."""
    for county in counties:
        n = plan.randint(*spec.townships)
        if spec.township_mix is not None:
            streets, towns = spec.township_mix
        else:
            if county.kind == "district":
                streets = plan.randint(4, 7)
            elif county.kind == "city":
                streets = 3
            else:  # a county: its seat and perhaps one more
                streets = plan.randint(1, 2)
            towns = round((n - streets) * plan.uniform(0.5, 0.7))
        types = ["street"] * streets + ["town"] * towns + ["xiang"] * (n - streets - towns)
        # Streets take the cells nearest the county seat (the centre), rural townships the edge.
        centre = geometry.centroid(county.quad)
        cells = sorted(
            geometry.subdivide(county.quad, n, geo),
            key=lambda q: math.dist(geometry.centroid(q), centre),
        )
        seen: dict[str, int] = {"street": 0, "town": 0, "xiang": 0}
        for ttype, cell in zip(types, cells, strict=True):
            seen[ttype] += 1
            code = f"{county.code}{_TOWNSHIP_CODE_BASE[ttype] + seen[ttype]:03d}"
            county.children.append(_Node(code, "", "township", county.code, cell, kind=ttype))
        county.children.sort(key=lambda t: t.code)
        for township in county.children:
            _plan_communities(township, spec, plan, geo)


def _plan_communities(
    township: _Node, spec: _Spec, plan: random.Random, geo: random.Random
) -> None:
    low, high = spec.communities
    n = plan.randint(low, high)
    if township.kind == "street":
        urban = n
    elif township.kind == "town":
        urban = min(n - 1, plan.randint(1, 2))
    else:
        urban = 0
    kinds = ["社区"] * urban + ["村"] * (n - urban)
    centre = geometry.centroid(township.quad)
    cells = sorted(
        geometry.subdivide(township.quad, n, geo),
        key=lambda q: math.dist(geometry.centroid(q), centre),
    )
    counter = {"社区": 0, "村": 200}
    for ckind, cell in zip(kinds, cells, strict=True):
        counter[ckind] += 1
        code = f"{township.code}{counter[ckind]:03d}"
        township.children.append(_Node(code, "", "community", township.code, cell, kind=ckind))
    township.children.sort(key=lambda c: c.code)


def _place_name_pool() -> list[str]:
    pool = [a + b for a, b in itertools.product(catalogue.PLACE_FIRST, catalogue.PLACE_SECOND)]
    pool += [
        a + "家" + b
        for a, b in itertools.product(catalogue.PLACE_CLAN, catalogue.PLACE_CLAN_SECOND)
    ]
    return list(dict.fromkeys(p for p in pool if p[0] != p[1]))


def _name_places(counties: list[_Node], names: random.Random) -> None:
    """Unique stems city-wide, so an address naming a township or village is unambiguous."""
    places = [t for county in counties for t in county.children]
    places += [c for t in places for c in t.children]
    pool = _place_name_pool()
    if len(places) > len(pool):  # pragma: no cover - guarded by the spec sizes
        raise ValueError(f"need {len(places)} place names, the pool has {len(pool)}")
    for node, stem in zip(places, names.sample(pool, len(places)), strict=True):
        suffix = _TOWNSHIP_SUFFIX[node.kind] if node.level == "township" else node.kind
        node.name = stem + suffix


def _allocate_grids(counties: list[_Node], total: int, plan: random.Random) -> None:
    """Share ``total`` grids among communities: at least one each, denser in towns."""
    communities = [c for county in counties for t in county.children for c in t.children]
    if total < len(communities):
        raise ValueError(f"{total} grids cannot cover {len(communities)} communities")
    weights = [_URBAN_DENSITY[c.kind] * plan.uniform(0.6, 1.4) for c in communities]
    rest = total - len(communities)
    wsum = sum(weights)
    shares = [rest * w / wsum for w in weights]
    counts = [1 + math.floor(s) for s in shares]
    leftover = total - sum(counts)
    by_fraction = sorted(range(len(shares)), key=lambda i: (-(shares[i] % 1), i))
    for i in by_fraction[:leftover]:
        counts[i] += 1
    # Move any excess above the two-digit limit to the emptiest communities.
    for i in range(len(counts)):
        while counts[i] > _MAX_GRIDS_PER_COMMUNITY:
            j = min(range(len(counts)), key=counts.__getitem__)
            counts[i] -= 1
            counts[j] += 1
    for community, n in zip(communities, counts, strict=True):
        community.grids = n


def _cut_grids(counties: list[_Node], geo: random.Random) -> None:
    for county in counties:
        for township in county.children:
            for community in township.children:
                cells = geometry.subdivide(community.quad, community.grids, geo)
                for k, cell in enumerate(cells, start=1):
                    community.children.append(
                        _Node(
                            f"{community.code}G{k:02d}",
                            f"{community.name}第{k}网格",
                            "grid",
                            community.code,
                            cell,
                        )
                    )


def _walk(counties: list[_Node]) -> list[_Node]:
    """Counties and everything below them, depth first (which is also code order)."""
    out: list[_Node] = []

    def visit(node: _Node) -> None:
        out.append(node)
        for child in node.children:
            visit(child)

    for county in counties:
        visit(county)
    return out


def _areas(city: _Node, counties: list[_Node]) -> list[Area]:
    return [
        Area(n.code, n.name, n.level, n.parent, geometry.centroid(n.quad))
        for n in [city, *_walk(counties)]
    ]


def _geojson(counties: list[_Node]) -> dict[str, Any]:
    """Counties, townships, communities and grids as polygons, bottom level last."""
    nodes = _walk(counties)
    order = {"county": 0, "township": 1, "community": 2, "grid": 3}
    nodes.sort(key=lambda n: order[n.level])
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": n.code,
                "name": n.name,
                "level": n.level,
                "parent_code": n.parent,
            },
            "geometry": {"type": "Polygon", "coordinates": [geometry.ring(n.quad)]},
        }
        for n in nodes
    ]
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------- units and staff


def _units(city: _Node, counties: list[_Node], spec: _Spec) -> tuple[list[Unit], list[Unit]]:
    """Departments first, then per county its leader office, townships and grids."""
    single_county = len(counties) == 1
    owner = counties[0] if single_county else city
    departments = []
    for code, name, county_name, _en in catalogue.DEPARTMENTS[: spec.departments]:
        local = county_name if single_county and county_name else name
        departments.append(
            Unit(code, owner.name + local, Tier.DEPARTMENT, owner.code, "department")
        )
    units = list(departments)
    for county in counties:
        units.append(
            Unit(
                f"CO-{county.code}", f"{county.name}领导督办室", Tier.COUNTY, county.code, "county"
            )
        )
        for township in county.children:
            units.append(
                Unit(
                    f"TS-{township.code}",
                    f"{township.name}综治中心",
                    Tier.TOWNSHIP,
                    township.code,
                    "township",
                )
            )
            for community in township.children:
                for grid in community.children:
                    units.append(Unit(f"GRID-{grid.code}", grid.name, Tier.GRID, grid.code, "grid"))
    return units, departments


class _People:
    """Names and phone numbers for staff; phones are unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()
        # Zipf-like surname weights: the common ones really are common.
        self.surnames = catalogue.SURNAMES
        self.weights = list(itertools.accumulate(1 / (i + 8) for i in range(len(self.surnames))))
        self.given = catalogue.GIVEN_CHARS

    def name(self) -> str:
        surname = self.rng.choices(self.surnames, cum_weights=self.weights)[0]
        length = 1 if self.rng.random() < 0.25 else 2
        return surname + "".join(self.rng.choice(self.given) for _ in range(length))

    def phone(self) -> str:
        while True:
            number = self.rng.choice(catalogue.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number


def _staff(
    counties: list[_Node],
    units: list[Unit],
    departments: list[Unit],
    spec: _Spec,
    rng: random.Random,
) -> list[Staff]:
    """Grid workers (every grid has a 专职网格员, other roles spread), then handlers."""
    people = _People(rng)
    out: list[Staff] = []

    def make(prefix: str, width: int) -> Callable[[str, str, str | None], None]:
        counter = itertools.count(1)

        def add(role: str, unit_code: str, grid_code: str | None) -> None:
            staff_id = f"{prefix}{next(counter):0{width}d}"
            out.append(Staff(staff_id, people.name(), role, unit_code, grid_code, people.phone()))

        return add

    grid_units = [u for u in units if u.kind == "grid"]
    extra_roles = list(GRID_ROLES)[1:]
    n_extra = max(0, min(spec.grid_staff - len(grid_units), len(grid_units) * len(extra_roles)))
    extra = set(rng.sample(range(len(grid_units) * len(extra_roles)), n_extra))
    add_grid = make("GW", 6)
    for i, unit in enumerate(grid_units):
        add_grid("grid_worker", unit.code, unit.area_code)
        for j, role in enumerate(extra_roles):
            if i * len(extra_roles) + j in extra:
                add_grid(role, unit.code, unit.area_code)

    add_township = make("TS", 5)
    for unit in (u for u in units if u.kind == "township"):
        add_township("center_director", unit.code, None)
        for _ in range(rng.randint(1, 2)):
            add_township("grid_specialist", unit.code, None)
        add_township("grid_manager", unit.code, None)
        for _ in range(rng.randint(2, 3)):
            add_township("handler", unit.code, None)

    add_department = make("DP", 4)
    for unit in departments:
        add_department("dept_leader", unit.code, None)
        for _ in range(rng.randint(*spec.handlers_per_department)):
            add_department("handler", unit.code, None)

    add_leader = make("LD", 4)
    for county in counties:
        add_leader("county_leader", f"CO-{county.code}", None)
        for _ in range(2):
            add_leader("supervisor", f"CO-{county.code}", None)
    return out
