"""Reference data of one city: areas, units, staff, the whistle list and the map.

Plain frozen dataclasses, so the generator, the file loader and the SQL seeding all speak the
same shapes, and a city's data can be compared for equality after a round trip through files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.domain.vocabulary import Tier

#: Area levels, top down (city → county/district → township/street → community/village → grid).
LEVELS: tuple[str, ...] = ("city", "county", "township", "community", "grid")
#: The level a parent must have, for every level that has a parent.
PARENT_LEVEL: dict[str, str] = {
    "county": "city",
    "township": "county",
    "community": "township",
    "grid": "community",
}
LEVEL_NAMES: dict[str, str] = {
    "city": "市",
    "county": "县(区)",
    "township": "乡镇(街道)",
    "community": "社区(村)",
    "grid": "网格",
}

#: Unit kinds; each kind works at the tier of the same name.
UNIT_KINDS: tuple[str, ...] = ("grid", "township", "department", "county")
KIND_TIER: dict[str, Tier] = {
    "grid": Tier.GRID,
    "township": Tier.TOWNSHIP,
    "department": Tier.DEPARTMENT,
    "county": Tier.COUNTY,
}
#: Levels a unit of each kind may be attached to (departments: city-wide or county-wide).
KIND_AREA_LEVELS: dict[str, tuple[str, ...]] = {
    "grid": ("grid",),
    "township": ("township",),
    "department": ("city", "county"),
    "county": ("county",),
}

#: The three classes of the whistle list (吹哨清单, Daguan).
WHISTLE_CLASSES: dict[str, str] = {
    "enforcement": "综合执法",
    "management": "管理服务",
    "emergency": "应急处置",
}
#: Complexity drives the 13710 deadlines (simple 3 wd, general 7, complex 10).
COMPLEXITIES: tuple[str, ...] = ("simple", "general", "complex")

#: 一格八员: the eight roles a grid may have, in display order; the first is always staffed.
GRID_ROLES: dict[str, str] = {
    "grid_worker": "专职网格员",
    "security_patrol": "治安巡防员",
    "city_management": "城管协管员",
    "environment_monitor": "环保监督员",
    "work_safety": "安全生产监督员",
    "fire_safety": "消防网格员",
    "food_drug": "食品药品协管员",
    "mediator": "人民调解员",
}
#: Every role code the generator uses, with its Chinese name (files may bring other roles).
ROLE_NAMES: dict[str, str] = {
    **GRID_ROLES,
    "center_director": "综治中心主任",
    "grid_specialist": "网格专干",
    "grid_manager": "网格管理员",
    "handler": "承办人",
    "dept_leader": "分管领导",
    "county_leader": "县领导",
    "supervisor": "督办员",
}


@dataclass(frozen=True, slots=True)
class Area:
    """One node of the area tree. ``centroid`` is (lon, lat), GeoJSON order."""

    code: str
    name: str
    level: str
    parent_code: str | None
    centroid: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Unit:
    """Who handles a case (承办单位): a grid, a township centre, a department, a leader office."""

    code: str
    name: str
    tier: Tier
    area_code: str
    kind: str


@dataclass(frozen=True, slots=True)
class Staff:
    """One person (一员一号). ``grid_code`` is set for grid roles only."""

    staff_id: str
    name: str
    role: str
    unit_code: str
    grid_code: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Category:
    """One matter of the whistle list, with who owns it and where it is handled first."""

    code: str
    name: str
    name_en: str
    whistle_class: str
    owner_unit: str
    default_tier: Tier
    complexity: str
    major: bool
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CityData:
    """Everything the engine routes with, plus a map that draws offline.

    Lookups are indexed once in ``__post_init__``; the indexes take no part in equality.
    """

    name: str
    name_en: str
    areas: list[Area]
    units: list[Unit]
    staff: list[Staff]
    categories: list[Category]
    geojson: dict[str, Any]
    _areas: dict[str, Area] = field(init=False, repr=False, compare=False)
    _units: dict[str, Unit] = field(init=False, repr=False, compare=False)
    _categories: dict[str, Category] = field(init=False, repr=False, compare=False)
    _unit_at: dict[tuple[str, Tier], Unit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_areas", {a.code: a for a in self.areas})
        object.__setattr__(self, "_units", {u.code: u for u in self.units})
        object.__setattr__(self, "_categories", {c.code: c for c in self.categories})
        unit_at: dict[tuple[str, Tier], Unit] = {}
        for u in self.units:
            if u.tier is not Tier.DEPARTMENT:
                unit_at.setdefault((u.area_code, u.tier), u)
        object.__setattr__(self, "_unit_at", unit_at)

    # ------------------------------------------------------------------ lookups

    def area(self, code: str) -> Area:
        try:
            return self._areas[code]
        except KeyError:
            raise KeyError(f"no area {code!r}") from None

    def unit(self, code: str) -> Unit:
        try:
            return self._units[code]
        except KeyError:
            raise KeyError(f"no unit {code!r}") from None

    def category(self, code: str) -> Category:
        try:
            return self._categories[code]
        except KeyError:
            raise KeyError(f"no category {code!r}") from None

    def grid(self, code: str) -> Area:
        area = self.area(code)
        if area.level != "grid":
            raise KeyError(f"area {code!r} is a {area.level}, not a grid")
        return area

    def areas_at(self, level: str) -> list[Area]:
        """All areas of one level, in file order."""
        return [a for a in self.areas if a.level == level]

    def ancestor(self, code: str, level: str) -> Area:
        """The area of ``level`` that contains ``code`` (the area itself if it has that level)."""
        area = self.area(code)
        while area.level != level:
            if area.parent_code is None:
                raise KeyError(f"area {code!r} is not inside any {level}")
            area = self.area(area.parent_code)
        return area

    def township_of(self, grid_code: str) -> Area:
        return self.ancestor(self.grid(grid_code).code, "township")

    def county_of(self, code: str) -> Area:
        return self.ancestor(code, "county")

    def unit_at(self, area_code: str, tier: Tier) -> Unit:
        """The grid, township or county unit attached to an area."""
        try:
            return self._unit_at[(area_code, tier)]
        except KeyError:
            raise KeyError(f"no {tier} unit for area {area_code!r}") from None

    def unit_for_tier(self, grid_code: str, tier: Tier, category_code: str) -> Unit:
        """Routing: who handles a ``category_code`` case from ``grid_code`` at ``tier``.

        grid → the grid's own unit; township → its township centre; department → the
        category's owner department; county → the leader office of the grid's county.
        """
        grid = self.grid(grid_code)
        tier = Tier(tier)
        if tier is Tier.GRID:
            return self.unit_at(grid.code, Tier.GRID)
        if tier is Tier.TOWNSHIP:
            return self.unit_at(self.township_of(grid.code).code, Tier.TOWNSHIP)
        if tier is Tier.DEPARTMENT:
            return self.unit(self.category(category_code).owner_unit)
        return self.unit_at(self.county_of(grid.code).code, Tier.COUNTY)
