"""A wall frame handed to a screen's websocket by ``callbacks.wall.send_frame``: the same
messages Dash's own ``set_props`` would queue, encoded once per frame, not once per screen, and
queued as one websocket message (an array, which the page's worker applies as one batch) with
the request for the page's acknowledgement last."""

from __future__ import annotations

import asyncio
import json
import threading

import janus
import pytest
from dash import Patch
from dash.backends.ws import DashWebsocketCallback

from callbacks.wall import frame_taken, send_frame
from dashboard.live_bridge import Frame
from layouts import ids
from layouts.plain import plain


def _frame() -> Frame:
    ticker = Patch()
    ticker.insert(0, {"type": "Li", "namespace": "dash_html_components", "props": {"id": "x"}})
    return Frame(
        7,
        False,
        {
            ids.WALL_PULSE: {"data": {"link": "live", "frame": 7, "numbers": '{"a":{"t":"3"}}'}},
            ids.WALL_CLOCK: {"children": "2026-12-04 08:00:00"},
            ids.WALL_TICKER: {"children": plain(ticker)},
            ids.WALL_INTAKE: {"src": "data:image/svg+xml;base64,PHN2Zy8+"},
        },
    )


def _drain(q: janus.Queue[str]) -> list[object]:
    out = []
    while not q.sync_q.empty():
        out.append(json.loads(q.sync_q.get_nowait()))
    return out


def test_the_fast_path_queues_what_dash_would_once_per_frame() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        frame = _frame()
        queues: list[janus.Queue[str]] = []
        for renderer in ("r-1", "r-2"):
            q: janus.Queue[str] = janus.Queue()
            queues.append(q)
            ws = DashWebsocketCallback({}, renderer, q, threading.Event(), loop)
            ack = send_frame(ws, frame)
            queued = _drain(q)
            assert len(queued) == 1 and isinstance(queued[0], list)  # one message, an array
            *sent, asked = queued[0]
            # last, the request the page answers once it has the frame: pending until then
            assert ack is not None and asked["type"] == "get_props_request"
            assert asked["rendererId"] == renderer and asked["requestId"] == ack[0]
            assert asked["payload"] == {
                "componentId": ids.WALL_PULSE,
                "properties": ["modified_timestamp"],
            }
            assert ws._get_pending_get_props()[ack[0]] is ack[1] and not ack[1].done()
            # what Dash's own set_props would have queued for this screen
            expected_q: janus.Queue[str] = janus.Queue()
            expected_ws = DashWebsocketCallback({}, renderer, expected_q, threading.Event(), loop)
            for component_id, props in frame.props.items():
                for prop, value in props.items():
                    expected_ws.set_prop_sync(component_id, prop, value)
            assert sent == _drain(expected_q)
            assert len(sent) == 4 and {m["rendererId"] for m in sent} == {renderer}  # type: ignore[index]
            expected_q.close()
        assert frame.texts is not None  # encoded by the first screen, reused by the second
        for q in queues:
            q.close()

    asyncio.run(scenario())


def test_a_closed_screen_is_sent_nothing() -> None:
    async def scenario() -> None:
        q: janus.Queue[str] = janus.Queue()
        closed = threading.Event()
        closed.set()
        send_frame(DashWebsocketCallback({}, "r", q, closed, asyncio.get_running_loop()), _frame())
        assert q.sync_q.empty()
        q.close()

    asyncio.run(scenario())


def test_a_frame_is_taken_when_the_page_answers_and_not_before() -> None:
    async def scenario() -> None:
        q: janus.Queue[str] = janus.Queue()
        pending: dict[str, object] = {}
        ws = DashWebsocketCallback(pending, "r", q, threading.Event(), asyncio.get_running_loop())
        unanswered = send_frame(ws, _frame())
        assert unanswered is not None
        with pytest.raises(TimeoutError):
            await frame_taken(ws, unanswered, 0.05)
        assert pending == {}  # given up: nothing left behind
        answered = send_frame(ws, _frame())
        assert answered is not None
        # Dash's receiving loop resolves the request when the page's answer comes
        asyncio.get_running_loop().call_later(
            0.01, lambda: answered[1].set_result({"modified_timestamp": 1})
        )
        await frame_taken(ws, answered, 5.0)
        assert pending == {}
        q.close()

    asyncio.run(scenario())
