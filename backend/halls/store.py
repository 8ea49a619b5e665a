"""Halls' reference data in SQL: loaded once at ``gridwatch init``, read back by every process."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select

from backend.halls.model import Hall, HallData, HallStaff, Shift, Window
from backend.store.models import hall_shifts, hall_staff, hall_windows, halls, settings_kv


def halls_loaded(conn: Connection) -> bool:
    return bool(conn.execute(select(func.count()).select_from(halls)).scalar_one())


def stored_city_kind(conn: Connection) -> str | None:
    """The kind of city ``gridwatch init`` loaded (``small``, ``shangrao``, ``files:…``)."""
    row = conn.execute(select(settings_kv.c.value).where(settings_kv.c.key == "city_kind")).first()
    return row[0] if row else None


def load_halls_into(conn: Connection, data: HallData) -> None:
    """Replace the halls' reference tables with ``data`` (in the caller's transaction)."""
    for t in (hall_shifts, hall_staff, hall_windows, halls):
        conn.execute(delete(t))
    if data.halls:
        conn.execute(
            insert(halls),
            [
                {
                    "code": h.code,
                    "name": h.name,
                    "kind": h.kind,
                    "township_code": h.township_code,
                    "county_code": h.county_code,
                    "hours": h.hours,
                }
                for h in data.halls
            ],
        )
    if data.windows:
        conn.execute(
            insert(hall_windows),
            [
                {
                    "hall_code": w.hall_code,
                    "code": w.code,
                    "name": w.name,
                    "services": "|".join(w.services),
                }
                for w in data.windows
            ],
        )
    if data.staff:
        conn.execute(
            insert(hall_staff),
            [
                {
                    "staff_id": s.staff_id,
                    "name": s.name,
                    "hall_code": s.hall_code,
                    "window_code": s.window_code,
                    "phone": s.phone,
                }
                for s in data.staff
            ],
        )
    if data.shifts:
        conn.execute(
            insert(hall_shifts),
            [
                {
                    "staff_id": s.staff_id,
                    "hall_code": s.hall_code,
                    "window_code": s.window_code,
                    "start_time": s.start,
                    "end_time": s.end,
                }
                for s in data.shifts
            ],
        )


def read_halls(conn: Connection) -> HallData:
    """Every hall with its windows, staff and shifts, in code order."""
    hs = [
        Hall(r.code, r.name, r.kind, r.township_code, r.county_code, r.hours)
        for r in conn.execute(select(halls).order_by(halls.c.code))
    ]
    ws = [
        Window(r.hall_code, r.code, r.name, tuple(s for s in r.services.split("|") if s))
        for r in conn.execute(
            select(hall_windows).order_by(hall_windows.c.hall_code, hall_windows.c.code)
        )
    ]
    st = [
        HallStaff(r.staff_id, r.name, r.hall_code, r.window_code, r.phone)
        for r in conn.execute(select(hall_staff).order_by(hall_staff.c.staff_id))
    ]
    sh = [
        Shift(r.staff_id, r.hall_code, r.window_code, r.start_time, r.end_time)
        for r in conn.execute(select(hall_shifts).order_by(hall_shifts.c.id))
    ]
    return HallData(hs, ws, st, sh)
