"""Which area a wall shows: ``/?area=<code>`` is a district wall, the city's without it.

A wall is scoped like every other screen (``backend.queries.scope.Scope``), so a district
wall's figures, map and ticker are that area's only. A code that names no county or township
gets a clear message in both languages, never a 500 and never the city's figures by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from backend.core.i18n import t
from backend.queries.scope import Scope
from backend.refdata.index import RefIndex

#: The levels a wall can be scoped to (``Scope``'s), and the city's own code (the whole city).
WALL_LEVELS = ("county", "township")
#: An area code is short; anything longer is not looked up at all.
MAX_CODE = 32


@dataclass(frozen=True, slots=True)
class WallArea:
    """The area a wall shows: its scope and its name for the title (the city's: ``None``)."""

    scope: Scope
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AreaProblem:
    """Why a wall cannot show the area asked for, in both languages."""

    zh: str
    en: str


def wall_area(search: str | None, ref: RefIndex) -> WallArea | AreaProblem:
    """The URL's search part (``?area=361102003``) → the wall's area, or what is wrong."""
    values = parse_qs((search or "").lstrip("?"), keep_blank_values=True).get("area")
    if not values:
        return WallArea(Scope.city())
    code = values[-1].strip()
    example = _example(ref)
    level = ref.area_levels.get(code) if len(code) <= MAX_CODE else None
    if level is None:
        shown = code if len(code) <= MAX_CODE else code[:MAX_CODE] + "…"
        return AreaProblem(
            t("wall_area_unknown", "zh", area=shown, example=example),
            t("wall_area_unknown", "en", area=shown, example=example),
        )
    if level == "city":
        return WallArea(Scope.city())
    if level not in WALL_LEVELS:
        return AreaProblem(
            t("wall_area_level", "zh", area=code, level=_level(level, "zh"), example=example),
            t("wall_area_level", "en", area=code, level=_level(level, "en"), example=example),
        )
    return WallArea(Scope(area=code, level=level), ref.area_names.get(code, code))


_LEVEL_KEYS = {"community": "wall_level_community", "grid": "wall_level_grid"}


def _level(level: str, lang: str) -> str:
    key = _LEVEL_KEYS.get(level)
    return t(key, lang) if key else level


def _example(ref: RefIndex) -> str:
    towns = sorted(c for c, lv in ref.area_levels.items() if lv == "township")
    return towns[0] if towns else ""
