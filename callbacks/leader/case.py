"""The case page: the leader's actions as engine commands, and the page kept live.

An action is one command through ``system.engine.apply``, like any other change: it lands in
the event log and goes out on pub/sub. A refusal (the state machine's 409, bad input's 422) is
said on the page in words. The page follows its case: a persistent websocket callback, woken by
``CaseWatcher`` whenever the engine publishes a change of that case, redraws it from SQL.
The case page reads the primary, not the leader desk's replica (``system.read_db``): it shows
an action the moment it is done, and a change the moment it is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update, set_props
from dash.exceptions import WebsocketDisconnected

from backend.auth.permissions import Permission
from backend.core.errors import CaseNotFound, CommandInvalid, GridwatchError, TransitionRefused
from backend.core.i18n import message, t
from backend.domain.commands import action_command
from backend.queries.timeline import Timeline, load_timeline
from backend.system import System
from callbacks.router import case_id_of
from callbacks.viewer import may, viewer_actor, viewer_scope
from dashboard.case_watch import CaseWatcher
from layouts import ids
from layouts.leader import case as case_layout
from layouts.leader.common import status_name

ACTIONS = {
    ids.ACT_INSTRUCT: "instruct",
    ids.ACT_REASSIGN: "reassign",
    ids.ACT_ESCALATE: "escalate",
    ids.ACT_CONSULT: "consult",
}
#: how the form names the command's fields
FIELD_LABELS = {
    "text": "field_text",
    "unit": "field_unit",
    "reason": "field_reason",
    "lead": "consult_lead",
    "co_units": "consult_co",
    "action": "field_action",
}
ACTOR = "leader:web"
#: each action's own form fields, emptied once it has been done
FORMS = {
    ids.ACT_INSTRUCT: (ids.ACT_TEXT,),
    ids.ACT_REASSIGN: (ids.ACT_UNIT, ids.ACT_REASSIGN_REASON),
    ids.ACT_ESCALATE: (ids.ACT_ESCALATE_REASON,),
    ids.ACT_CONSULT: (ids.ACT_LEAD, ids.ACT_CO, ids.ACT_CONSULT_REASON),
}
FORM_FIELDS = tuple(f for fields in FORMS.values() for f in fields)


def refusal(exc: GridwatchError, lang: str) -> dbc.Alert:
    """The engine's answer in words: what was refused and why, or which fields to fix; in
    the page's language (the engine's own words are the API's, in English)."""
    if isinstance(exc, TransitionRefused):
        why = message(exc.reason, lang)
        if why == exc.reason:  # a reason the table does not know: say what was refused
            why = t("refuse_other", lang, status=status_name(exc.status, lang))
        return dbc.Alert(
            [html.Strong(t("act_refused", lang) + " "), html.Span(why)],
            color="danger",
            id="act-refused",
        )
    if isinstance(exc, CommandInvalid):
        items = [html.Li(field_problem(k, v, lang)) for k, v in sorted(exc.errors.items())]
        return dbc.Alert(
            [html.Strong(t("act_invalid", lang)), html.Ul(items)], color="warning", id="act-invalid"
        )
    if isinstance(exc, CaseNotFound):
        return dbc.Alert(t("case_not_found", lang), color="warning", id="act-invalid")
    return dbc.Alert(t("act_failed", lang), color="danger", id="act-refused")


def field_problem(field: str, problem: str, lang: str) -> str:
    """One field's problem as the form names it ("请填写批示内容"), never the API's words."""
    label = t(FIELD_LABELS.get(field, "field_action"), lang)
    too_long = _TOO_LONG.fullmatch(problem)
    if too_long:
        return t("invalid_too_long", lang, field=label, n=too_long.group(1))
    if field == "co_units" and "lead" in problem:
        return t("invalid_co_lead", lang)
    if field in ("text", "unit", "reason", "lead", "co_units"):
        return t(f"invalid_{field}", lang)
    return t("invalid_field", lang, field=label)


_TOO_LONG = re.compile(r"a text of at most (\d+) characters")


def _render(tl: Timeline, system: System, lang: str, back: str) -> tuple[Any, Any]:
    ref, tz = system.ref, system.tz
    return case_layout.header(tl, ref, lang, tz, back), case_layout.body(tl, ref, lang, tz)


def register(app: Dash, system: System, watcher: CaseWatcher) -> None:
    @app.callback(
        Output(ids.ACT_RESULT, "children"),
        Output(ids.CASE_HEADER, "children"),
        Output(ids.CASE_BODY, "children"),
        Output(ids.CASE_SEQ, "data"),
        *[Output(f, "value") for f in FORM_FIELDS],
        *[Input(b, "n_clicks") for b in ACTIONS],
        State(ids.CASE_ID, "data"),
        State(ids.ACT_TEXT, "value"),
        State(ids.ACT_UNIT, "value"),
        State(ids.ACT_REASSIGN_REASON, "value"),
        State(ids.ACT_ESCALATE_REASON, "value"),
        State(ids.ACT_LEAD, "value"),
        State(ids.ACT_CO, "value"),
        State(ids.ACT_CONSULT_REASON, "value"),
        State(ids.URL, "search"),
        State(ids.LEADER_LANG, "data"),
        prevent_initial_call=True,
    )
    def act(*args: Any) -> tuple[Any, ...]:
        keep = (no_update,) * len(FORM_FIELDS)
        trig = ctx.triggered_id
        if trig not in ACTIONS or not ctx.triggered or not ctx.triggered[0]["value"]:
            return (no_update,) * 4 + keep
        case_id, text, unit, re_reason, esc_reason, lead, co, con_reason, search, lang = args[4:]
        lang = lang if lang in ("zh", "en") else "zh"
        if not isinstance(case_id, int) or isinstance(case_id, bool) or not 0 < case_id < 2**63:
            bad = dbc.Alert(t("invalid_case", lang), color="warning", id="act-invalid")
            return (bad, no_update, no_update, no_update) + keep
        action = ACTIONS[trig]
        if not may(Permission.ACT):  # the desk is open to some who may not act on cases
            said = [
                html.Strong(t("act_refused", lang) + " "),
                html.Span(t("act_not_allowed", lang)),
            ]
            return (
                dbc.Alert(said, color="danger", id="act-refused"),
                no_update,
                no_update,
                no_update,
            )
        params: dict[str, Any] = {
            "instruct": {"text": text},
            "reassign": {"unit": unit, "reason": re_reason},
            "escalate": {"reason": esc_reason},
            "consult": {"lead": lead, "co_units": co or [], "reason": con_reason},
        }[action]
        params = {k: v for k, v in params.items() if v is not None}
        cmd = action_command(action, params, case_id=case_id, actor=viewer_actor(ACTOR))
        result = system.engine.apply([cmd]).results[0]
        if not result.ok:
            assert result.error is not None
            return (refusal(result.error, lang), no_update, no_update, no_update) + keep
        with system.db.connect() as conn:
            tl = load_timeline(conn, case_id, system.clock.now(), scope=viewer_scope())
        head, body = _render(tl, system, lang, "/leader" + (search or ""))
        done = dbc.Alert(
            t(f"act_done_{action}", lang), color="success", id="act-done", duration=8000
        )
        # the action is done: its form starts empty again, the others keep what was typed
        cleared = tuple(None if f in FORMS[trig] else no_update for f in FORM_FIELDS)
        return (done, head, body, tl.last_seq) + cleared

    @app.callback(persistent=True, websocket=True, hidden=True)
    async def stream_case() -> None:
        """Runs on every leader page while it is open; follows the case a case page shows."""
        ws = ctx.websocket
        if ws is None:
            return
        with contextlib.suppress(WebsocketDisconnected):
            path = await _prop(ws, ids.URL, "pathname")
            if not (path or "").startswith("/leader"):
                return  # the wall has its own stream
            w = watcher.watch()
            try:
                await _follow(ws, w, system)
            finally:
                watcher.unwatch(w)


async def _prop(ws: Any, component: str, prop: str, tries: int = 50) -> Any:
    """A prop of the page, waiting a little for it to be mounted."""
    for _ in range(tries):
        try:
            value = await ws.get_prop(component, prop, timeout=10)
        except TimeoutError:
            value = None
        if value is not None or ws.is_shutdown:
            return value
        await asyncio.sleep(0.1)
    return None


async def _follow(ws: Any, w: Any, system: System) -> None:
    shown: int | None = None
    while not ws.is_shutdown:
        try:
            path = await ws.get_prop(ids.URL, "pathname", timeout=10)
        except TimeoutError:
            continue
        cid = case_id_of(path)
        w.case_id = cid
        if cid is None:
            shown = None
            await w.wait(1.0)
            continue
        if cid == shown and not await w.wait(1.0):
            continue  # nothing happened to it; look at the URL again
        seq = await ws.get_prop(ids.CASE_SEQ, "data", timeout=10)
        if seq is None:
            await asyncio.sleep(0.1)  # the page is still being drawn
            continue
        shown = cid
        lang = await ws.get_prop(ids.LEADER_LANG, "data", timeout=10) or "zh"
        search = await ws.get_prop(ids.URL, "search", timeout=10) or ""
        try:
            tl = await asyncio.to_thread(_load, system, cid)
        except CaseNotFound:
            continue
        if tl.last_seq != seq:
            head, body = _render(tl, system, lang, "/leader" + search)
            set_props(ids.CASE_HEADER, {"children": head})
            set_props(ids.CASE_BODY, {"children": body})
            set_props(ids.CASE_SEQ, {"data": tl.last_seq})


def _load(system: System, case_id: int) -> Timeline:
    # the primary: woken by the engine's change, the replica may not have replayed it yet
    with system.db.connect() as conn:
        return load_timeline(conn, case_id, system.clock.now(), scope=viewer_scope())
