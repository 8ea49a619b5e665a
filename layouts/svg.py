"""The wall's map and intake chart as SVG images, drawn on the server from plain data.

A wall redraws these every second for days. As images they cost the browser one decode, not a
charting library's pass over every trace and not a React subtree, and they stay sharp at any
resolution. The map is drawn from the city's own GeoJSON polygons: no tile server, so it works
offline.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from html import escape
from typing import Any

#: The size of the drawing; the image scales to its box.
MAP_WIDTH = 1000
#: Township names are written on the map up to this many townships (beyond, they crowd).
MAX_LABELS = 40
#: Their size in map units: about 25 px on a 1920×1080 wall.
LABEL_SIZE = 32
CHART_WIDTH, CHART_HEIGHT = 480, 300


@dataclass(frozen=True, slots=True)
class MapShape:
    """One filled polygon of the map: the area it is and how many grids it covers."""

    code: str
    name: str
    level: str
    grids: int
    path: str  # SVG path data, in map coordinates


@dataclass(frozen=True, slots=True)
class CityMap:
    """The projected polygons, ready to be coloured."""

    shapes: tuple[MapShape, ...]
    borders: str  # township borders over the grids, one SVG path
    width: int
    height: int
    #: township names and where to write them (map coordinates), when few enough to read
    labels: tuple[tuple[str, float, float], ...] = ()


def project_city(geojson: dict[str, Any], grids_per_area: dict[str, int]) -> CityMap:
    """Project the city (equirectangular, scaled by the cosine of its latitude) into the box.

    Grids are filled when there are few enough to see (up to 3,000); otherwise townships are.
    """
    features = [
        f
        for f in geojson.get("features", [])
        if (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")
        and f["geometry"]["coordinates"]
    ]
    grid_count = sum(1 for f in features if f["properties"].get("level") == "grid")
    fill_level = "grid" if 0 < grid_count <= 3000 else "township"
    # every feature as its list of rings: outer rings and holes, of one or several polygons
    rings = [(f["properties"], _rings(f["geometry"])) for f in features]
    points = [pt for _p, rs in rings for ring in rs for pt in ring]
    if not points:
        return CityMap((), "", MAP_WIDTH, MAP_WIDTH // 2)
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * kx, 1e-9)
    span_y = max(max(lats) - min(lats), 1e-9)
    scale = MAP_WIDTH / span_x
    height = max(1, math.ceil(span_y * scale))

    def path(rs: list[list[list[float]]]) -> str:
        out = []
        for ring in rs:
            xy = [
                f"{(pt[0] - min(lons)) * kx * scale:.1f},{(max(lats) - pt[1]) * scale:.1f}"
                for pt in ring
            ]
            out.append("M" + "L".join(xy) + "Z")
        return "".join(out)

    shapes = tuple(
        MapShape(
            p["code"],
            p.get("name", ""),
            fill_level,
            grids_per_area.get(p["code"], 1),
            path(rs),
        )
        for p, rs in rings
        if p.get("level") == fill_level
    )
    borders = (
        "".join(path(rs) for p, rs in rings if p.get("level") == "township")
        if fill_level == "grid"
        else ""
    )
    towns = [(p, rs) for p, rs in rings if p.get("level") == "township" and rs]
    labels: tuple[tuple[str, float, float], ...] = ()
    if len(towns) <= MAX_LABELS:
        labels = tuple(
            (
                str(p.get("name", "")),
                (_mid([pt[0] for pt in rs[0]]) - min(lons)) * kx * scale,
                (max(lats) - _mid([pt[1] for pt in rs[0]])) * scale,
            )
            for p, rs in towns
        )
    return CityMap(shapes, borders, MAP_WIDTH, height, labels)


def _mid(values: list[float]) -> float:
    """The middle of a ring's extent: inside the convex quads the cities are made of."""
    return (min(values) + max(values)) / 2


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def map_svg(
    city: CityMap,
    colours: list[str],
    titles: list[str] | None = None,
    links: list[str] | None = None,
) -> str:
    """The map with each shape filled with its colour (in ``city.shapes`` order); each shape's
    tooltip is its title (by default its name) and, with ``links``, it is a link that opens in
    a new tab. Township names are written over the shapes."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-4 -4 {city.width + 8} '
        f'{city.height + 8}" preserveAspectRatio="xMidYMid meet">'
        '<g stroke="#0b1220" stroke-width="1" stroke-linejoin="round" fill-rule="evenodd">'
    ]
    for i, (shape, colour) in enumerate(zip(city.shapes, colours, strict=True)):
        title = escape(titles[i] if titles is not None else shape.name)
        path = (
            f'<path data-code="{escape(shape.code)}" fill="{colour}" d="{shape.path}">'
            f"<title>{title}</title></path>"
        )
        if links is not None:
            path = f'<a href="{escape(links[i])}" target="_blank" rel="noopener">{path}</a>'
        parts.append(path)
    parts.append("</g>")
    if city.borders:
        parts.append(f'<path fill="none" stroke="#9fb3d1" stroke-width="2.2" d="{city.borders}"/>')
    if city.labels:
        parts.append(
            f'<g class="gw-map-labels" font-size="{LABEL_SIZE}" font-weight="700" '
            'fill="#f2f6fc" stroke="#0b1220" stroke-width="6" paint-order="stroke" '
            'text-anchor="middle" dominant-baseline="middle" pointer-events="none" '
            'font-family="Noto Sans CJK SC, Noto Sans SC, sans-serif">'
        )
        for name, x, y in city.labels:
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}">{escape(name)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def intake_svg(labels: list[str], series: list[tuple[str, list[int]]]) -> str:
    """Stacked bars: one per hour, one colour per channel (``series`` = [(colour, counts)])."""
    left, bottom, top = 34, 24, 8
    w, h = CHART_WIDTH - left - 4, CHART_HEIGHT - bottom - top
    n = max(1, len(labels))
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    peak = max([*totals, 1])
    step = _nice_step(peak)
    ymax = step * math.ceil(peak / step)
    bar = w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" '
        'preserveAspectRatio="none" font-family="sans-serif" font-size="12" fill="#9fb3d1">'
    ]
    for v in range(0, ymax + 1, step):
        y = top + h - h * v / ymax
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#1e2b45"/>'
            f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{v}</text>'
        )
    for i, label in enumerate(labels):
        x = left + i * bar
        base = float(top + h)
        for colour, counts in series:
            if counts[i]:
                bh = h * counts[i] / ymax
                base -= bh
                parts.append(
                    f'<rect x="{x + bar * 0.1:.1f}" y="{base:.1f}" width="{bar * 0.8:.1f}" '
                    f'height="{bh:.1f}" fill="{colour}"/>'
                )
        if i % 2 == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{CHART_HEIGHT - 6}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if peak / step <= 5:
            return step
    return 10 ** len(str(peak))


def data_uri(svg: str) -> str:
    """An ``<img src>`` for an SVG document."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def svg_of(uri: str) -> str:
    """The SVG document inside a data URI made by ``data_uri`` (for tests and tools)."""
    return base64.b64decode(uri.split(",", 1)[1]).decode()
