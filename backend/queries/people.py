"""Who a case's handler is: a staff id (一员一号) as the leader reads it, a name and a unit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Select, select

from backend.store.models import staff, users


@dataclass(frozen=True, slots=True)
class Person:
    staff_id: str
    name: str
    unit_code: str


def people(conn: Connection, staff_ids: Iterable[str | None]) -> dict[str, Person]:
    """The staff named by ``staff_ids`` (a block of table rows, one case): one query by key.
    An id on no one's card (an integration's own operator) is simply absent."""
    wanted = sorted({s for s in staff_ids if s})
    if not wanted:
        return {}
    rows = conn.execute(
        select(staff.c.staff_id, staff.c.name, staff.c.unit_code).where(
            staff.c.staff_id.in_(wanted)
        )
    )
    found = {r.staff_id: Person(r.staff_id, r.name, r.unit_code) for r in rows}
    # a signed-in person's actions are signed user:<name>: their name, and their first unit
    accounts = [s.removeprefix("user:") for s in wanted if s.startswith("user:")]
    if accounts:
        for r in conn.execute(
            select(users.c.username, users.c.display_name, users.c.units).where(
                users.c.username.in_(accounts)
            )
        ):
            units = r.units or []
            found[f"user:{r.username}"] = Person(
                f"user:{r.username}", r.display_name, units[0] if units else ""
            )
    return found


def ids_named(text: str) -> Select[tuple[str]]:
    """A subquery of the staff ids whose name contains ``text``: the handler column's filter
    matches what the table shows (the name), not only the id."""
    return select(staff.c.staff_id).where(staff.c.name.contains(text, autoescape=True))
