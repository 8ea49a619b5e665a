"""The app's root: the URL, the leader's language, and the page the router puts there."""

from __future__ import annotations

from dash import dcc, html

from layouts import ids


def root() -> html.Div:
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.LEADER_LANG, data="zh", storage_type="local"),
            html.Div(id=ids.PAGE),
        ]
    )
