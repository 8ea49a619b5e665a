"""Every Dash callback asks for the permission of the screen it belongs to.

The gate (backend/api/gate.py) lets any signed-in person reach Dash's routes, since one
``/_dash-update-component`` serves every screen; here each callback, over HTTP or the
websocket, is wrapped so that a person without its screen's permission gets nothing
(PreventUpdate: the request answers 204 and no data). A callback module missing from the table
stops the app at start, so no new screen goes unguarded by mistake.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from dash import Dash
from dash.exceptions import PreventUpdate

from backend.auth.permissions import Permission
from callbacks.viewer import may

#: callback module (prefix) → what its person must be allowed; None: signed in is enough
#: (the router draws a refusal itself for a page the person may not open)
CALLBACK_PERMISSIONS: tuple[tuple[str, Permission | None], ...] = (
    ("callbacks.router", None),
    ("callbacks.wall", Permission.WALL),
    ("callbacks.wall_area", Permission.WALL),
    ("callbacks.leader", Permission.DESK),
    ("callbacks.halls", Permission.HALLS),
)


def permission_of(module: str) -> Permission | None:
    for prefix, permission in CALLBACK_PERMISSIONS:
        if module == prefix or module.startswith(prefix + "."):
            return permission
    raise LookupError(f"callbacks in {module} have no permission in dashboard/guard.py")


def _guarded(fn: Callable[..., Any], needed: Permission) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            if not may(needed):
                raise PreventUpdate
            return await fn(*args, **kwargs)

        return guarded_async

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not may(needed):
            raise PreventUpdate
        return fn(*args, **kwargs)

    return guarded


def guard_callbacks(app: Dash) -> int:
    """Wrap every registered callback; how many were wrapped."""
    wrapped = 0
    for entry in app.callback_map.values():
        fn = entry.get("callback")
        if fn is None:  # a clientside callback: it runs in the browser, on data it was given
            continue
        needed = permission_of(fn.__module__)
        if needed is not None:
            entry["callback"] = _guarded(fn, needed)
            wrapped += 1
    return wrapped
