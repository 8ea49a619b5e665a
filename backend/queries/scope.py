"""Who sees what: a scope filters every query and every live push, in this one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, true


@dataclass(frozen=True, slots=True)
class Scope:
    """An area a user may see: the whole city (``area=None``), a county or a township."""

    area: str | None = None
    level: str | None = None  # "county" | "township"

    @classmethod
    def city(cls) -> Scope:
        return cls()

    def clause(self, table: Table) -> ColumnElement[bool]:
        """The SQL condition restricting ``table`` (which has county/township columns)."""
        if self.area is None:
            return true()
        if self.level == "county":
            return and_(table.c.county_code == self.area)
        return and_(table.c.township_code == self.area)

    def admits(self, delta: dict[str, Any]) -> bool:
        """The same rule for a live delta, so screens and queries always agree."""
        if self.area is None:
            return True
        key = "county_code" if self.level == "county" else "township_code"
        return delta.get(key) == self.area
