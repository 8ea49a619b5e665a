"""One Dash app, a screen per path: the wall at ``/``, the leader's screens under ``/leader``.

The router renders the page for the URL's path (and the leader's language); a change of the
URL's search part (the filters) does not re-render a page, the page's own callbacks follow it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update

from backend.api.gate import page_permission
from backend.core.errors import CaseNotFound
from backend.core.i18n import t
from backend.drill.periods import KINDS, last_complete
from backend.queries.filters import DrillFilter
from backend.queries.timeline import load_timeline
from backend.store.refload import city_loaded
from backend.system import System
from callbacks.halls import is_halls
from callbacks.halls import screen as halls_screen
from callbacks.viewer import may, viewer_scope
from dashboard.drill_jobs import DrillJobs
from layouts import ids
from layouts.leader import analysis, case, overview, periodic
from layouts.leader.common import shell
from layouts.leader.replica import lag_badge

CASE_PATH = re.compile(r"^/leader/case/(\d+)/?$")


def city_name(system: System) -> str:
    with system.db.connect() as conn:
        return city_loaded(conn) or ""


def case_id_of(path: str | None) -> int | None:
    m = CASE_PATH.match(path or "")
    return int(m.group(1)) if m else None


def period_args(search: str | None, today: date, default: str) -> tuple[str, date]:
    """The period a link asks for (``?kind=monthly&day=2026-11-01``), else the last complete
    one of ``default``."""
    q = parse_qs((search or "").lstrip("?"))
    kind = (q.get("kind") or [default])[0]
    kind = kind if kind in KINDS else default
    try:
        day = date.fromisoformat((q.get("day") or [""])[0])
    except ValueError:
        day = last_complete(kind, today).start
    return kind, day


def register(app: Dash, system: System, wall: Callable[[str], Any], jobs: DrillJobs) -> None:
    city: dict[str, str | None] = {"name": None}

    def leader(path: str, search: str, lang: str) -> Any:
        jobs.start()
        if city["name"] is None:
            city["name"] = city_name(system)
        now = system.clock.now()
        clock_text = f"{now.astimezone(system.tz):%Y-%m-%d %H:%M}"
        ref, tz = system.ref, system.tz
        f = DrillFilter.lenient(search, ref)
        back = "/leader" + f.to_query()
        meter = system.replica_lag
        status = (
            lag_badge(meter.current().seconds, system.settings.replica_lag_warn_s, lang)
            if meter is not None
            else None
        )

        def frame(body: Any, filtered: bool = False) -> Any:
            return shell(
                city["name"] or "",
                path,
                f.to_query(),
                lang,
                clock_text,
                body,
                f if filtered else None,
                ref,
                status,
            )

        cid = case_id_of(path)
        if cid is not None:
            try:
                # the primary, not the replica: the case page is where a leader acts, and
                # comes back to, and must show what was just done
                with system.db.connect() as conn:
                    tl = load_timeline(conn, cid, now, scope=viewer_scope())
            except CaseNotFound:
                return frame(case.not_found(lang, str(cid), back))
            return frame(case.page(tl, ref, lang, tz, back))
        clean = path.rstrip("/") or "/"
        if clean == "/leader":
            return frame(overview.page(lang, ref), True)
        if clean == "/leader/bottlenecks":
            return frame(analysis.bottlenecks_page(lang), True)
        if clean == "/leader/risk":
            return frame(analysis.risk_page(lang), True)
        today = now.astimezone(tz).date()
        if clean == "/leader/assessment":
            kind, day = period_args(search, today, "monthly")
            return frame(periodic.assessment_page(kind, day, lang))
        if clean == "/leader/reports":
            kind, day = period_args(search, today, "daily")
            return frame(periodic.reports_page(kind, day, lang))
        return frame(dbc.Alert(t("page_not_found", lang), color="warning"))

    @app.callback(
        Output(ids.PAGE, "children"),
        Output(ids.SHOWN, "data"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        Input(ids.LEADER_LANG, "data"),
        State(ids.SHOWN, "data"),
        State(ids.FILTERS, "data"),
    )
    def route(
        pathname: str | None,
        search: str | None,
        lang: str | None,
        shown: str | None,
        filters: str | None,
    ) -> tuple[Any, Any]:
        path = pathname or "/"
        if ctx.triggered_id == ids.URL and path == shown and (search or "") == (filters or ""):
            # the page wrote its own filters into the URL: it shows them already
            return no_update, no_update
        needed = page_permission(path)
        if needed is not None and not may(needed):  # moved here without loading the page
            return html.Div(t("gate_forbidden", "zh"), className="gw-404"), path
        if path == "/":
            return wall(search or ""), path  # ?area=<code>: a district wall
        if is_halls(path):
            if city["name"] is None:
                city["name"] = city_name(system)
            return halls_screen(system, path, city["name"] or ""), path
        if path.startswith("/leader"):
            return leader(path, search or "", "en" if lang == "en" else "zh"), path
        return html.Div(t("page_not_found", "zh"), className="gw-404"), path

    @app.callback(
        Output(ids.LEADER_LANG, "data"),
        Input(ids.LEADER_LANG_TOGGLE, "n_clicks"),
        State(ids.LEADER_LANG, "data"),
        prevent_initial_call=True,
    )
    def toggle(n: int | None, lang: str | None) -> Any:
        if not n:  # the button was just drawn (a page change), not clicked
            return no_update
        return "zh" if lang == "en" else "en"
