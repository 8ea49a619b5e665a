"""Components as the plain JSON data Dash sends for them, made once.

Dash turns a component into JSON with plotly's encoder, which calls back into Python for every
component of every update, for every screen the update goes to: a wall frame with its ticker
lines cost about 1.7 ms per screen that way, and 0.06 ms as plain data (bench/RESULTS.md). A
frame shared by many screens is made plain once, where it is built, and the browser receives
the very same JSON (a ``Patch`` included: its operations, as Dash's renderer reads them).
"""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """``value`` with every component (and ``Patch``) replaced by its JSON form, recursively."""
    as_json = getattr(value, "to_plotly_json", None)
    if as_json is not None:
        return plain(as_json())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def el(tag: str, children: Any = None, **props: Any) -> dict[str, Any]:
    """The JSON Dash sends for ``html.<tag>(children, **props)``, without making the component:
    a table of a few hundred rows is thousands of components, each checked on creation and
    turned into JSON by a call back into Python (about 40 µs each, the overview's two tables
    85 ms of Python and 75 ms of JSON for Shangrao's townships), where this is a dict. Wildcard
    props (``data-*``, ``aria-*``) go in ``props`` under their own names."""
    return {
        "props": {"children": children, **props},
        "type": tag,
        "namespace": "dash_html_components",
    }
