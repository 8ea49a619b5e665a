"""Read-only lookups over the reference data the engine routes with (loaded from SQL once)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from backend.domain.vocabulary import Tier
from backend.store.models import areas, categories, staff, units


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    code: str
    name: str
    name_en: str
    owner_unit: str
    default_tier: Tier
    complexity: str
    major: bool


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    tier: Tier
    area_code: str
    kind: str


@dataclass(frozen=True, slots=True)
class GridInfo:
    code: str
    name: str
    community_code: str
    township_code: str
    county_code: str
    lon: float | None
    lat: float | None


@dataclass(slots=True)
class RefIndex:
    """Grids, units and categories by code, plus the routing rule for each tier."""

    grids: dict[str, GridInfo] = field(default_factory=dict)
    units: dict[str, UnitInfo] = field(default_factory=dict)
    categories: dict[str, CategoryInfo] = field(default_factory=dict)
    area_names: dict[str, str] = field(default_factory=dict)
    area_levels: dict[str, str] = field(default_factory=dict)
    grid_unit: dict[str, str] = field(default_factory=dict)
    township_unit: dict[str, str] = field(default_factory=dict)
    county_unit: dict[str, str] = field(default_factory=dict)
    grids_by_area: dict[str, list[str]] = field(default_factory=dict)
    #: the staff ids of each unit, in id order: who can hold (sign for) its cases
    staff_by_unit: dict[str, list[str]] = field(default_factory=dict)
    #: built on first use by ``locate``: the grids' bounding box, area names by level
    _bbox: tuple[float, float, float, float] | None = None
    _names: dict[str, list[tuple[str, str]]] | None = None
    #: per level, one pattern of all its names: most addresses (another city's records) hold
    #: none of them, told by one search instead of a loop over every name
    _any_name: dict[str, re.Pattern[str] | None] | None = None

    @classmethod
    def load(cls, conn: Connection) -> RefIndex:
        idx = cls()
        parent: dict[str, str | None] = {}
        coords: dict[str, tuple[float | None, float | None]] = {}
        for a in conn.execute(select(areas)).mappings():
            parent[a["code"]] = a["parent_code"]
            idx.area_names[a["code"]] = a["name"]
            idx.area_levels[a["code"]] = a["level"]
            coords[a["code"]] = (a["lon"], a["lat"])

        def ancestor(code: str, level: str) -> str:
            cur: str | None = code
            while cur is not None and idx.area_levels.get(cur) != level:
                cur = parent.get(cur)
            return cur or ""

        for code, level in idx.area_levels.items():
            if level != "grid":
                continue
            lon, lat = coords[code]
            g = GridInfo(
                code=code,
                name=idx.area_names[code],
                community_code=ancestor(code, "community"),
                township_code=ancestor(code, "township"),
                county_code=ancestor(code, "county"),
                lon=lon,
                lat=lat,
            )
            idx.grids[code] = g
            for area in (g.community_code, g.township_code, g.county_code):
                idx.grids_by_area.setdefault(area, []).append(code)
        for u in conn.execute(select(units)).mappings():
            info = UnitInfo(u["code"], u["name"], Tier(u["tier"]), u["area_code"], u["kind"])
            idx.units[info.code] = info
            if info.tier is Tier.GRID:
                idx.grid_unit[info.area_code] = info.code
            elif info.tier is Tier.TOWNSHIP:
                idx.township_unit[info.area_code] = info.code
            elif info.tier is Tier.COUNTY:
                idx.county_unit[info.area_code] = info.code
        for sid, unit_code in conn.execute(
            select(staff.c.staff_id, staff.c.unit_code).order_by(staff.c.staff_id)
        ):
            idx.staff_by_unit.setdefault(unit_code, []).append(sid)
        for c in conn.execute(select(categories)).mappings():
            idx.categories[c["code"]] = CategoryInfo(
                c["code"],
                c["name"],
                c["name_en"],
                c["owner_unit"],
                Tier(c["default_tier"]),
                c["complexity"],
                bool(c["major"]),
            )
        return idx

    def unit_for(self, grid_code: str, tier: Tier, category: str) -> str:
        """Routing: who handles a case of ``category`` from ``grid_code`` at ``tier``."""
        g = self.grids[grid_code]
        if tier is Tier.GRID:
            return self.grid_unit[g.code]
        if tier is Tier.TOWNSHIP:
            return self.township_unit[g.township_code]
        if tier is Tier.DEPARTMENT:
            return self.categories[category].owner_unit
        return self.county_unit[g.county_code]

    def _near(self, lat: float, lon: float) -> bool:
        """Within ~5 km of the box around the grid centres: a cheap test before the search
        (records imported from another city are nowhere near)."""
        if self._bbox is None:
            pts = [
                (g.lat, g.lon)
                for g in self.grids.values()
                if g.lat is not None and g.lon is not None
            ]
            if not pts:
                return False
            lats = [p[0] for p in pts]
            lons = [p[1] for p in pts]
            m = 0.1  # degrees: more than 5 km at any latitude a city has
            self._bbox = (min(lats) - m, max(lats) + m, min(lons) - m, max(lons) + m)
        lo_lat, hi_lat, lo_lon, hi_lon = self._bbox
        return lo_lat <= lat <= hi_lat and lo_lon <= lon <= hi_lon

    def locate(self, lat: float | None, lon: float | None, address: str | None) -> str | None:
        """Find the grid for coordinates (nearest grid centre) or an address (area names)."""
        if lat is not None and lon is not None and self._near(lat, lon):
            best, best_d = None, math.inf
            for g in self.grids.values():
                if g.lat is None or g.lon is None:
                    continue
                d = (g.lat - lat) ** 2 + ((g.lon - lon) * math.cos(math.radians(lat))) ** 2
                if d < best_d:
                    best, best_d = g.code, d
            # farther than ~5 km from any grid centre: not in this city
            if best is not None and best_d <= (5 / 111.0) ** 2:
                return best
        if address:
            # a named grid, or an area that has only one grid; never a guess among several
            # (such a case waits for a person to dispatch it)
            if self._names is None:
                self._names = {
                    lv: [
                        (c, n)
                        for c, n in self.area_names.items()
                        if self.area_levels[c] == lv and n
                    ]
                    for lv in ("grid", "community", "township")
                }
                self._any_name = {
                    lv: re.compile("|".join(re.escape(n) for _, n in names)) if names else None
                    for lv, names in self._names.items()
                }
            assert self._any_name is not None
            for level in ("grid", "community", "township"):
                pattern = self._any_name[level]
                if pattern is None or pattern.search(address) is None:
                    continue  # no name of this level in the address
                for code, name in self._names[level]:
                    if name in address:
                        if level == "grid":
                            return code
                        members = self.grids_by_area.get(code)
                        if members and len(members) == 1:
                            return members[0]
        return None
