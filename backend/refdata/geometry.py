"""Synthetic geography: split convex quadrilaterals into irregular convex quadrilaterals.

Every area is a convex quad (lon, lat corners, counter-clockwise from the south-west). A quad is
split into horizontal strips and each strip into cells by straight, slightly slanted cuts whose
end points lie on the parent's edges; so the children tile their parent exactly, stay convex and
stay inside it, and a map drawn from them needs no tile server.
"""

from __future__ import annotations

import math
import random

Point = tuple[float, float]
#: Corners south-west, south-east, north-east, north-west (counter-clockwise).
Quad = tuple[Point, Point, Point, Point]

#: GeoJSON coordinates are rounded to 5 decimals (about 1 m).
DECIMALS = 5


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _cuts(
    rng: random.Random, n: int, spread: float = 0.3, slant: float = 0.35
) -> tuple[list[float], list[float]]:
    """Fractions 0 = c0 < c1 < … < cn = 1 on one edge and a slanted copy on the opposite edge.

    Each cut moves by less than half the narrower neighbouring gap, so cuts never cross.
    """
    weights = [1.0 + rng.uniform(-spread, spread) for _ in range(n)]
    total = sum(weights)
    near = [0.0]
    acc = 0.0
    for w in weights:
        acc += w
        near.append(acc / total)
    near[-1] = 1.0
    far = [0.0]
    for i in range(1, n):
        gap = min(near[i] - near[i - 1], near[i + 1] - near[i])
        far.append(near[i] + rng.uniform(-slant, slant) * gap)
    far.append(1.0)
    return near, far


def split_columns(quad: Quad, n: int, rng: random.Random) -> list[Quad]:
    """Split west → east into ``n`` cells by cuts from the south edge to the north edge."""
    sw, se, ne, nw = quad
    south, north = _cuts(rng, n)
    bottom = [_lerp(sw, se, t) for t in south]
    top = [_lerp(nw, ne, t) for t in north]
    return [(bottom[i], bottom[i + 1], top[i + 1], top[i]) for i in range(n)]


def split_rows(quad: Quad, n: int, rng: random.Random) -> list[Quad]:
    """Split south → north into ``n`` strips by cuts from the west edge to the east edge."""
    sw, se, ne, nw = quad
    west, east = _cuts(rng, n)
    left = [_lerp(sw, nw, t) for t in west]
    right = [_lerp(se, ne, t) for t in east]
    return [(left[i], right[i], right[i + 1], left[i + 1]) for i in range(n)]


def _size_km(quad: Quad) -> tuple[float, float]:
    sw, se, ne, nw = quad
    lat = (sw[1] + nw[1]) / 2
    kx = 111.32 * math.cos(math.radians(lat))
    width = (math.dist(sw, se) + math.dist(nw, ne)) / 2 * kx
    height = (math.dist(sw, nw) + math.dist(se, ne)) / 2 * 110.57
    return width, height


def row_counts(quad: Quad, n: int, rng: random.Random) -> list[int]:
    """How many cells each strip gets so that the ``n`` cells come out roughly square."""
    width, height = _size_km(quad)
    rows = max(1, min(n, round(math.sqrt(n * height / max(width, 1e-9)))))
    counts = [n // rows] * rows
    for i in rng.sample(range(rows), n % rows):
        counts[i] += 1
    return counts


def subdivide(
    quad: Quad, n: int, rng: random.Random, counts: list[int] | None = None
) -> list[Quad]:
    """Split a quad into ``n`` cells laid like bricks (strips of cells), south-west first."""
    if n < 1:
        raise ValueError("cannot split an area into fewer than one cell")
    counts = counts if counts is not None else row_counts(quad, n, rng)
    if sum(counts) != n:
        raise ValueError(f"row counts {counts} do not add up to {n}")
    cells: list[Quad] = []
    for strip, k in zip(split_rows(quad, len(counts), rng), counts, strict=True):
        cells.extend(split_columns(strip, k, rng))
    return cells


def jitter_quad(
    centre: Point, width: float, height: float, rng: random.Random, skew: float = 0.04
) -> Quad:
    """A roughly rectangular quad (degrees) around ``centre`` with each corner nudged."""
    cx, cy = centre
    hw, hh = width / 2, height / 2

    def corner(dx: float, dy: float) -> Point:
        return (
            cx + dx * hw * (1 + rng.uniform(-skew, skew)),
            cy + dy * hh * (1 + rng.uniform(-skew, skew)),
        )

    return (corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1))


def centroid(quad: Quad) -> Point:
    """Mean of the corners, rounded: inside any convex quad, cheap, good enough for a label."""
    return (
        round(sum(p[0] for p in quad) / 4, DECIMALS),
        round(sum(p[1] for p in quad) / 4, DECIMALS),
    )


def ring(quad: Quad) -> list[list[float]]:
    """A closed, counter-clockwise GeoJSON linear ring with rounded coordinates."""
    pts = [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in quad]
    return [*pts, list(pts[0])]


def signed_area(ring_: list[list[float]]) -> float:
    """Shoelace area: positive for a counter-clockwise ring (RFC 7946 exterior rings)."""
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring_, ring_[1:], strict=False)
    )


def contains(ring_: list[list[float]], point: Point) -> bool:
    """Point in polygon (even-odd rule) for one closed ring."""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(ring_, ring_[1:], strict=False):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside
