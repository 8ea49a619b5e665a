"""Who is looking: the scope every screen's queries are asked with.

The whole city until people log in (the accounts issue); then the signed-in user's area. The
screens never filter by themselves: they pass this scope to the query layer.
"""

from __future__ import annotations

from backend.queries.scope import Scope


def viewer_scope() -> Scope:
    return Scope.city()


def acting_person(typed: str | None) -> str | None:
    """Who acts from a screen (acknowledges an alert, say). Until people sign in (issue 11) it
    is the name typed in the form; then it will be the session's user, here, in one place."""
    name = (typed or "").strip()
    return name[:64] or None
