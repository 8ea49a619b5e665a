"""The app's root: the URL, the leader's language, and the page the router puts there."""

from __future__ import annotations

from dash import dcc, html

from layouts import ids


def root() -> html.Div:
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.LEADER_LANG, data="zh", storage_type="local"),
            # the filters the leader's page shows, as a URL search part; and the page's path
            dcc.Store(id=ids.FILTERS, data=""),
            dcc.Store(id=ids.SHOWN, data=None),
            html.Div(id=ids.PAGE),
        ]
    )
