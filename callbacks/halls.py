"""The service-hall wall and a hall's page: pushed live, and answered from the screen.

A persistent websocket callback on every ``/halls`` page is woken by ``HallWatcher`` whenever
the hall processor publishes a change, and sends the page its halls and alerts redrawn from
SQL (at most every ``MIN_GAP`` seconds, and every ``REFRESH`` seconds for the alerts' ages).
Nothing on the page polls. Acknowledging and resolving an alert are guarded SQL updates
(backend/halls/alerts.py) by the person signed in (``hall_actor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, Patch, State, ctx, no_update, set_props
from dash.exceptions import WebsocketDisconnected

from backend.core.i18n import t
from backend.halls import alerts
from backend.halls.rules import RulePack, load_rules
from backend.queries.halls import alert_rows, hall_day, halls_view, open_alert_counts
from backend.system import System
from callbacks.viewer import hall_actor, viewer_scope
from dashboard.hall_watch import HallWatch, HallWatcher
from layouts import halls as layout
from layouts import ids

HALL_PATH = re.compile(r"^/halls/([A-Za-z0-9_-]{1,32})/?$")
#: Seconds between two redraws of one screen however fast changes come.
MIN_GAP = 0.1
#: Seconds after which a screen is redrawn anyway (the alerts' ages move on).
REFRESH = 30.0
#: Seconds to wait for a browser to take in a frame before sending the next one anyway.
ACK_WAIT = 5.0


#: Writes the cells and figures a frame carries into their elements (``assets/halls.js``).
CELLS_JS = """
function (data) {
    if (window.gwHalls) { window.gwHalls.write(data); }
    return window.dash_clientside.no_update;
}
"""


def hall_of(path: str | None) -> str | None:
    m = HALL_PATH.match(path or "")
    return m.group(1) if m else None


def is_halls(path: str | None) -> bool:
    return (path or "").rstrip("/") == "/halls" or hall_of(path) is not None


@dataclass
class Shown:
    """What one screen was last sent, so the next frame carries only what changed."""

    halls: dict[str, Any] = field(default_factory=dict)  # hall code → its view, in wall order
    summary: Any = None  # (halls, windows) the summary was drawn for
    figures: Any = None  # and its figures
    alerts: Any = None
    table: Any = None
    seq: int = 0


def frame(
    system: System,
    code: str | None,
    shown: Shown,
    changed: set[str] | None = None,
    alerts_changed: bool = True,
) -> dict[str, dict[str, Any]]:
    """The props a hall screen must change now, from SQL: on the wall, the cells and figures
    of the halls that ``changed`` (None: all) as data for ``assets/halls.js``, a card redrawn
    only when more than its numbers changed, the summary and the alerts; on a hall's page its
    window table and alerts; the clock always."""
    now = system.clock.now()
    scope = viewer_scope()
    first = not shown.halls and shown.table is None
    everything = changed is None or first
    with system.db.connect() as conn:
        if code is not None and not everything and code not in (changed or ()):
            view = None  # this hall's page, and another hall changed
        else:
            view = halls_view(
                conn,
                system.halls,
                now,
                system.calendar,
                system.tz,
                scope=scope,
                only=code,
                among=None if everything else changed,
            )
        counts = None
        if code is None and alerts_changed and not everything:
            counts = open_alert_counts(conn, list(shown.halls))
        rows = None
        if alerts_changed or everything:
            rows = alert_rows(conn, now, scope=scope, hall=code, unresolved=True)
    # the clock rides as data, as the cells do: a prop of a component to render in a page of
    # thousands costs the browser more than the whole frame's data (bench/RESULTS.md)
    clock = f"{now.astimezone(system.tz):%Y-%m-%d %H:%M:%S}"
    data: dict[str, Any] = {"clock": clock}
    out: dict[str, dict[str, Any]] = {ids.HALLS_CELLS: {"data": data}}
    if rows is not None and rows != shown.alerts:
        shown.alerts = rows
        out[ids.HALLS_ALERTS] = {"children": layout.alert_items(rows)}
    if code is not None:
        if view and view[0] != shown.table:
            shown.table = view[0]
            staff, shifts = people(system, code)
            out[ids.HALLS_GRID] = {"children": layout.hall_table(view[0], staff, shifts)}
        return out
    _wall_changes(shown, view or [], counts, everything, out, data)
    return out


def _wall_changes(
    shown: Shown,
    view: list[dict[str, Any]],
    counts: dict[str, int] | None,
    everything: bool,
    out: dict[str, dict[str, Any]],
    data: dict[str, Any],
) -> None:
    """Fold the halls reread into what the screen shows and put what changed into ``out``."""
    if everything and list(shown.halls) != [h["code"] for h in view]:
        shown.halls = {h["code"]: h for h in view}
        out[ids.HALLS_GRID] = {"children": layout.hall_cards(view)}
    else:
        fresh = {h["code"]: h for h in view if h["code"] in shown.halls}
        if counts is not None:  # alerts changed: every hall's count, from SQL
            for c, h in shown.halls.items():
                n = counts.get(c, 0)
                base = fresh.get(c, h)
                if base["open_alerts"] != n:
                    fresh[c] = {**base, "open_alerts": n}
        cards, cells, figures = Patch(), {}, {}
        order = list(shown.halls)
        for c, new in fresh.items():
            old = shown.halls[c]
            if new == old:
                continue
            if _shape(new) != _shape(old):  # a hall opened or closed, a window added: redraw
                cards[order.index(c)] = layout.hall_cards([new])[0]
                out[ids.HALLS_GRID] = {"children": cards}
            else:
                for w_old, w_new in zip(old["windows"], new["windows"], strict=True):
                    drawn = layout.cell(new, w_new)
                    if drawn != layout.cell(old, w_old):
                        cells[layout.cell_id(new, w_new)] = drawn
                if layout.card_figures(new) != layout.card_figures(old):
                    figures[c] = layout.card_figures(new)
            shown.halls[c] = new
        if cells or figures:
            data.update(cells=cells, halls=figures)
    view_now = list(shown.halls.values())
    size = (len(view_now), sum(len(h["windows"]) for h in view_now))
    figures_now = layout.summary_figures(view_now)
    if size != shown.summary:
        out[ids.HALLS_SUMMARY] = {"children": layout.summary(view_now)}
    elif figures_now != shown.figures:
        data["summary"] = dict(zip(layout.SUMMARY_IDS, figures_now, strict=True))
    shown.summary, shown.figures = size, figures_now


def _shape(h: dict[str, Any]) -> tuple[Any, ...]:
    """What a card is drawn from besides its numbers and cells."""
    return (h["name"], h["open"], tuple((w["code"], w["name"]) for w in h["windows"]))


def people(system: System, code: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Staff names by id, and each window's shifts, of one hall (reference data)."""
    data = system.halls
    staff = {s.staff_id: s.name for s in data.staff if s.hall_code == code}
    shifts: dict[str, list[str]] = {}
    for sh in data.shifts:
        if sh.hall_code == code:
            shifts.setdefault(sh.window_code, []).append(f"{sh.start}-{sh.end}")
    return staff, shifts


def register(app: Dash, system: System, watcher: HallWatcher, pack: RulePack | None = None) -> None:
    rules = pack or load_rules()

    @app.callback(persistent=True, websocket=True, hidden=True)
    async def stream_halls() -> None:
        """Runs on every page while it is open; pushes to the hall screens only."""
        ws = ctx.websocket
        if ws is None:
            return
        with contextlib.suppress(WebsocketDisconnected):
            path = await _prop(ws, ids.URL, "pathname")
            if not is_halls(path):
                return
            w = watcher.watch()
            try:
                await _follow(ws, w, system)
            finally:
                watcher.unwatch(w)

    app.clientside_callback(
        CELLS_JS, Output(ids.HALLS_CELLS_SINK, "children"), Input(ids.HALLS_CELLS, "data")
    )

    @app.callback(
        Output(ids.HALLS_ACK_RESULT, "children"),
        Input({"type": ids.HALL_ACK, "alert": ALL}, "n_clicks"),
        Input({"type": ids.HALL_RESOLVE, "alert": ALL}, "n_clicks"),
        State(ids.HALLS_ACK_WHO, "value"),
        State(ids.HALLS_ACK_NOTE, "value"),
        State(ids.HALLS, "className"),
        prevent_initial_call=True,
    )
    def answer(acks: list[Any], resolves: list[Any], who: Any, note: Any, cls: Any) -> Any:
        trig = ctx.triggered_id
        if not isinstance(trig, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update  # a button just drawn, not clicked
        lang = "en" if "lang-en" in str(cls or "") else "zh"
        person = hall_actor(who if isinstance(who, str) else None)
        text = note.strip()[:500] if isinstance(note, str) else ""
        if person is None or not text:
            return dbc.Alert(t("hall_ack_missing", lang), color="warning", id="hall-ack-missing")
        alert_id = int(trig["alert"])
        now = system.clock.now()
        try:
            with system.db.begin() as conn:
                if trig["type"] == ids.HALL_ACK:
                    alerts.acknowledge(conn, alert_id, person, text, now)
                else:
                    alerts.resolve(conn, alert_id, person, text, now, rules)
        except alerts.AlertConflict as exc:
            action = t("hall_ack" if trig["type"] == ids.HALL_ACK else "hall_resolve", lang)
            msg = t("hall_ack_conflict", lang, state=t(f"alert_{exc.state}", lang), action=action)
            return dbc.Alert(msg, color="danger", id="hall-ack-conflict")
        except alerts.AlertNotFound:
            return dbc.Alert(t("hall_not_found", lang), color="danger")
        system.redis.publish(system.keys.hall_live, b'{"answer": true}')
        done = "hall_ack_done" if trig["type"] == ids.HALL_ACK else "hall_resolve_done"
        return dbc.Alert(t(done, lang), color="success", id="hall-ack-done", duration=6000)

    @app.callback(
        Output(ids.HALLS, "className"),
        Input(ids.HALLS_LANG_TOGGLE, "n_clicks"),
        State(ids.HALLS, "className"),
        prevent_initial_call=True,
    )
    def language(n: int | None, cls: str | None) -> Any:
        if not n:
            return no_update
        return "gw-halls lang-zh" if "lang-en" in (cls or "") else "gw-halls lang-en"


async def _prop(ws: Any, component: str, prop: str, tries: int = 50) -> Any:
    for _ in range(tries):
        try:
            value = await ws.get_prop(component, prop, timeout=10)
        except TimeoutError:
            value = None
        if value is not None or ws.is_shutdown:
            return value
        await asyncio.sleep(0.1)
    return None


async def _follow(ws: Any, w: HallWatch, system: System) -> None:
    """Send a frame when woken (or every REFRESH seconds), at most every MIN_GAP seconds, and
    only once the browser has taken in the one before (backpressure: a busy screen gets fewer,
    fuller frames, never a growing queue); stop when the page leaves the halls. Each frame
    rereads only what the watch says changed since the last one."""
    loop = asyncio.get_running_loop()
    woken = True  # the first frame at once
    last = 0.0
    shown = Shown()
    where: str | None = None
    while not ws.is_shutdown:
        if not woken:
            woken = await w.wait(REFRESH)
            if not woken and loop.time() - last >= REFRESH:
                w.everything()  # the ages move on; and a full look heals all
                woken = True
            if not woken:
                continue
        try:
            path = await ws.get_prop(ids.URL, "pathname", timeout=10)
        except TimeoutError:
            continue
        if not is_halls(path):
            await asyncio.sleep(0.5)
            woken = False
            continue
        if path != where:  # a page drawn anew (the router, on a new path): everything again
            seq = await ws.get_prop(ids.HALLS_SEQ, "data", timeout=10)
            if seq is None:
                await asyncio.sleep(0.1)  # the page is still being drawn
                continue
            shown, where = Shown(), path
            w.everything()
        gap = MIN_GAP - (loop.time() - last)
        if gap > 0:
            await asyncio.sleep(gap)
        changed, alerts_changed = w.take()
        props = await asyncio.to_thread(
            frame, system, hall_of(path), shown, changed, alerts_changed
        )
        last = loop.time()
        shown.seq += 1
        props[ids.HALLS_SEQ] = {"data": shown.seq}
        for component, values in props.items():
            set_props(component, values)
        if await _taken_in(ws, shown.seq):  # the page was drawn anew meanwhile
            shown, woken = Shown(), True
            w.everything()
            continue
        woken = False


async def _taken_in(ws: Any, seq: int) -> bool:
    """Wait (up to ACK_WAIT) until the browser's page holds frame ``seq``; True if it shows a
    page drawn anew instead (its frame number back at 0), which needs everything again."""
    loop = asyncio.get_running_loop()
    until = loop.time() + ACK_WAIT
    while not ws.is_shutdown and loop.time() < until:
        with contextlib.suppress(TimeoutError):
            got = await ws.get_prop(ids.HALLS_SEQ, "data", timeout=ACK_WAIT)
            if got == seq:
                return False
            if got == 0 and seq > 1:  # (frame 1 may not have landed yet)
                return True
        await asyncio.sleep(0.01)
    return False


def screen(system: System, path: str, city: str) -> Any:
    """The page the router puts at a ``/halls`` path (the stream fills in the live parts)."""
    code = hall_of(path)
    if code is None:
        return layout.page(city)
    now = system.clock.now()
    scope = viewer_scope()
    with system.db.connect() as conn:
        view = halls_view(
            conn, system.halls, now, system.calendar, system.tz, scope=scope, only=code
        )
        if not view:
            return layout.not_found(code)
        local = now.astimezone(system.tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        day = hall_day(conn, code, start, start + timedelta(days=1))
        rows = alert_rows(conn, now, scope=scope, hall=code, unresolved=True)
    staff, shifts = people(system, code)
    return layout.hall_page(city, view[0], day, rows, staff, shifts, local)
