"""Reference data the public pages list: the whistle-list categories and the city's own code.

The same for every viewer, so these take no scope: the scope filters cases, not the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, select

from backend.store.models import areas, categories


def category_rows(conn: Connection) -> Sequence[RowMapping]:
    """Every category (code, names, whistle class, keywords, …), by code."""
    return conn.execute(select(categories).order_by(categories.c.code)).mappings().all()


def city_code(conn: Connection) -> str | None:
    """The area code of the city (the top of the area tree), if one is loaded."""
    return conn.execute(select(areas.c.code).where(areas.c.level == "city")).scalar()
