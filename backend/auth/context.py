"""Who is acting and what they may see, for code far from the request: Dash callbacks (over
HTTP or the websocket) and the engine commands they send. Set by the web gate
(backend/api/gate.py) for the whole of a request or websocket connection; Dash copies the
context into the threads that run callbacks."""

from __future__ import annotations

from contextvars import ContextVar, Token

from backend.auth.accounts import Person
from backend.queries.scope import Scope

_current: ContextVar[tuple[Person, Scope] | None] = ContextVar("gridwatch_person", default=None)


def acting_person() -> Person | None:
    bound = _current.get()
    return bound[0] if bound else None


def acting_scope() -> Scope | None:
    bound = _current.get()
    return bound[1] if bound else None


def bind_person(person: Person, scope: Scope) -> Token[tuple[Person, Scope] | None]:
    return _current.set((person, scope))


def unbind_person(token: Token[tuple[Person, Scope] | None]) -> None:
    _current.reset(token)
