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


def wall_area_for(search: str | None, ref: RefIndex, seen: Scope) -> WallArea | AreaProblem:
    """The wall a person may see: their own area unless the URL names one inside it. A person
    whose area is smaller than a township has no wall (it would show their neighbours')."""
    if seen.area is None:
        return wall_area(search, ref)
    if seen.level not in WALL_LEVELS:
        return AreaProblem(t("wall_area_too_small", "zh"), t("wall_area_too_small", "en"))
    asked = wall_area(search, ref)
    if isinstance(asked, AreaProblem):
        return asked
    if asked.scope.area is None:  # no area in the URL (or the city's): the person's own
        return WallArea(seen, ref.area_names.get(seen.area, seen.area))
    if not _inside(asked.scope, seen, ref):
        code = asked.scope.area
        return AreaProblem(
            t("wall_area_outside", "zh", area=code), t("wall_area_outside", "en", area=code)
        )
    return asked


def _inside(asked: Scope, seen: Scope, ref: RefIndex) -> bool:
    """Whether every case of ``asked`` is one ``seen`` may see."""
    if asked.area == seen.area:
        return True
    if seen.level == "county" and asked.level == "township":
        grids = ref.grids_by_area.get(asked.area or "", [])
        return bool(grids) and all(ref.grids[g].county_code == seen.area for g in grids)
    return False
