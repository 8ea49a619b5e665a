"""The walls of one web process: the city's live bridge, and a district wall's on demand.

Each area shown gets its own ``LiveBridge`` (one model, the same frames for every screen of
that area), made the first time a screen asks for the area; all of them are fed by the
process's one Redis subscriber (``LiveFeed``). The scope is
applied by the bridge's model and snapshot, as for every query; a screen never filters.
"""

from __future__ import annotations

import threading
from typing import Any

from backend.queries.scope import Scope
from backend.system import System
from dashboard.live_bridge import FRAME_INTERVAL, LiveBridge
from dashboard.live_feed import LiveFeed
from layouts.svg import CityMap, data_uri, map_svg, project_city
from layouts.wall import MAP_EMPTY, intake_chart
from layouts.wall import page as wall_page


class Walls:
    """A bridge and a blank page per area shown; the city's is ``city``."""

    def __init__(
        self,
        system: System,
        city: str,
        geojson: dict[str, Any],
        *,
        frame_interval: float = FRAME_INTERVAL,
    ) -> None:
        self.system = system
        self.city_name = city
        self.geojson = geojson
        self.frame_interval = frame_interval
        self._lock = threading.Lock()
        self._maps: dict[Scope, CityMap] = {}
        self._bridges: dict[Scope, LiveBridge] = {}
        self.feed = LiveFeed(system)
        self.city = self.bridge(Scope.city())

    def city_map(self, scope: Scope) -> CityMap:
        """The map of the area: the city's, or only the grids and townships inside it."""
        with self._lock:
            found = self._maps.get(scope)
            if found is None:
                ref = self.system.ref
                grids_per_area = {code: len(grids) for code, grids in ref.grids_by_area.items()}
                found = project_city(_features_in(self.geojson, scope, ref), grids_per_area)
                self._maps[scope] = found
            return found

    def bridge(self, scope: Scope) -> LiveBridge:
        city_map = self.city_map(scope)
        with self._lock:
            found = self._bridges.get(scope)
            if found is None:
                found = LiveBridge(
                    self.system,
                    city_map,
                    scope=scope,
                    feed=self.feed,
                    frame_interval=self.frame_interval,
                )
                self._bridges[scope] = found
            return found

    def page(self, scope: Scope, name: str | None = None) -> Any:
        """The wall as it is drawn before its first frame (blank map and chart)."""
        shapes = self.city_map(scope)
        blank_map = data_uri(map_svg(shapes, [MAP_EMPTY] * len(shapes.shapes)))
        blank_chart = intake_chart([], {}, self.system.tz)
        title = self.city_name if name is None else f"{self.city_name} · {name}"
        return wall_page(title, blank_map, blank_chart, area=scope.area)

    def stop(self) -> None:
        with self._lock:
            bridges = list(self._bridges.values())
        for b in bridges:
            b.stop()


def _features_in(geojson: dict[str, Any], scope: Scope, ref: Any) -> dict[str, Any]:
    """The features of the map inside ``scope``: its grids and the townships they are in."""
    if scope.area is None:
        return geojson
    grids = set(ref.grids_by_area.get(scope.area, ()))
    towns = {ref.grids[g].township_code for g in grids if g in ref.grids}
    keep = []
    for f in geojson.get("features", []):
        props = f.get("properties") or {}
        level, code = props.get("level"), props.get("code")
        if (level == "grid" and code in grids) or (level == "township" and code in towns):
            keep.append(f)
    return {**geojson, "features": keep}
