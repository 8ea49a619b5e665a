"""Who sees what: a scope filters every query and every live push, in this one place."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, true

from backend.refdata.index import RefIndex

#: the column of a case (and of its delta) that names an area of each level
_COLUMN = {"county": "county_code", "township": "township_code", "grid": "grid_code"}


@dataclass(frozen=True, slots=True)
class Scope:
    """An area a user may see: the whole city (``area=None``), a county, a township, a
    community (its grids, listed) or a grid."""

    area: str | None = None
    level: str | None = None  # "county" | "township" | "community" | "grid"
    grids: tuple[str, ...] = ()  # a community's grids
    #: a handler's units: only the cases one of them holds now (None: any unit)
    units: tuple[str, ...] | None = None

    @classmethod
    def city(cls) -> Scope:
        return cls()

    def held_by(self, units: tuple[str, ...]) -> Scope:
        """This area narrowed to the cases now held by ``units`` (a handler's workbench)."""
        return replace(self, units=tuple(units))

    def clause(self, table: Table) -> ColumnElement[bool]:
        """The SQL condition restricting ``table`` (which has county/township columns)."""
        area = self._area_clause(table)
        if self.units is None:
            return area
        held = table.c.unit_code.in_(self.units) if self.units else false()
        return held if self.area is None else and_(area, held)

    def _area_clause(self, table: Table) -> ColumnElement[bool]:
        if self.area is None:
            return true()
        if self.level == "community":
            return table.c.grid_code.in_(self.grids) if self.grids else false()
        return and_(table.c[_COLUMN.get(self.level or "township", "township_code")] == self.area)

    def admits(self, delta: dict[str, Any]) -> bool:
        """The same rule for a live delta, so screens and queries always agree."""
        if self.units is not None and delta.get("unit_code") not in self.units:
            return False
        if self.area is None:
            return True
        if self.level == "community":
            return delta.get("grid_code") in self.grids
        return delta.get(_COLUMN.get(self.level or "township", "township_code")) == self.area


def scope_of_area(ref: RefIndex, area: str | None) -> Scope:
    """The scope of a person or a key with this area (None or the city: everything)."""
    if area is None:
        return Scope.city()
    level = ref.area_levels.get(area)
    if level is None:
        # an area no longer in the reference data sees nothing rather than everything
        return Scope(area, "grid")
    if level == "city":
        return Scope.city()
    if level == "community":
        return Scope(area, level, tuple(sorted(ref.grids_by_area.get(area, ()))))
    return Scope(area, level)
