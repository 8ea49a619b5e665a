"""Who is looking: the person signed in, and the scope every screen's queries are asked with.

The web gate (backend/api/gate.py) binds both for every request and websocket; the screens
never filter by themselves: they pass this scope to the query layer.
"""

from __future__ import annotations

from backend.auth.accounts import Person
from backend.auth.context import acting_person, acting_scope
from backend.auth.permissions import Permission
from backend.queries.scope import Scope


def viewer_scope() -> Scope:
    """The signed-in person's area; the whole city only outside any request (a test calling a
    callback directly), since the gate lets no request through without a person."""
    return acting_scope() or Scope.city()


def viewer() -> Person | None:
    return acting_person()


def viewer_actor(fallback: str = "leader:web") -> str:
    """How the event log signs what the person on this screen does."""
    person = acting_person()
    return person.actor if person else fallback


def may(permission: Permission) -> bool:
    """Whether the person on this screen may do it (nobody signed in: no)."""
    person = acting_person()
    return person is not None and person.may(permission)


def hall_actor(typed: str | None) -> str | None:
    """Who acknowledges or resolves a hall alert: the signed-in person (what they typed is
    not asked for then); the typed name only where no one is signed in (a callback called
    directly in a test)."""
    person = acting_person()
    if person is not None:
        return person.actor
    name = (typed or "").strip()
    return name[:64] or None
