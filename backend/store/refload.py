"""Write a city's reference data (areas, units, staff, categories) into SQL, once."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select

from backend.refdata.model import CityData
from backend.store.models import areas, categories, settings_kv, staff, units

_CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i : i + _CHUNK]


def city_loaded(conn: Connection) -> str | None:
    """The name of the city already in the database, or None."""
    if conn.execute(select(func.count()).select_from(areas)).scalar_one() == 0:
        return None
    row = conn.execute(select(settings_kv.c.value).where(settings_kv.c.key == "city")).first()
    return row[0] if row else "unknown"


def load_city_into(conn: Connection, city: CityData, kind: str) -> None:
    """Replace the reference tables with ``city`` (in the caller's transaction)."""
    for t in (staff, categories, units, areas):
        conn.execute(delete(t))
    conn.execute(
        delete(settings_kv).where(settings_kv.c.key.in_(["city", "city_kind", "map_geojson"]))
    )
    area_rows = [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent_code": a.parent_code,
            "lon": a.centroid[0] if a.centroid else None,
            "lat": a.centroid[1] if a.centroid else None,
        }
        for a in city.areas
    ]
    unit_rows = [
        {
            "code": u.code,
            "name": u.name,
            "tier": str(u.tier),
            "area_code": u.area_code,
            "kind": u.kind,
        }
        for u in city.units
    ]
    staff_rows = [
        {
            "staff_id": s.staff_id,
            "name": s.name,
            "role": s.role,
            "unit_code": s.unit_code,
            "grid_code": s.grid_code,
            "phone": s.phone,
        }
        for s in city.staff
    ]
    cat_rows = [
        {
            "code": c.code,
            "name": c.name,
            "name_en": c.name_en,
            "whistle_class": c.whistle_class,
            "owner_unit": c.owner_unit,
            "default_tier": str(c.default_tier),
            "complexity": c.complexity,
            "major": c.major,
            "keywords": "|".join(c.keywords),
        }
        for c in city.categories
    ]
    for table, rows in (
        (areas, area_rows),
        (units, unit_rows),
        (staff, staff_rows),
        (categories, cat_rows),
    ):
        for chunk in _chunks(rows):
            conn.execute(insert(table), chunk)
    conn.execute(
        insert(settings_kv),
        [
            {"key": "city", "value": city.name},
            {"key": "city_kind", "value": kind},
            {"key": "map_geojson", "value": orjson.dumps(city.geojson).decode()},
        ],
    )


def city_map(conn: Connection) -> tuple[str, dict[str, Any]]:
    """The city's name and its map (GeoJSON) as loaded with the reference data."""
    rows = dict(
        conn.execute(
            select(settings_kv.c.key, settings_kv.c.value).where(
                settings_kv.c.key.in_(["city", "map_geojson"])
            )
        ).all()
    )
    geo = orjson.loads(rows["map_geojson"]) if "map_geojson" in rows else {"features": []}
    return rows.get("city", ""), geo
