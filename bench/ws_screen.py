"""A wall screen at the protocol level: it speaks the Dash websocket protocol as the browser's
renderer does, with nothing drawn.

Twenty software-rendered Chromiums need far more than this machine's two cores, while on a
real wall each screen is its own PC. To measure what twenty screens cost the *server*, the
benchmark opens one real Chromium (whose DOM latency it measures) and makes up the rest with
these: each connects to ``/_dash-ws-callback``, starts the wall's persistent stream callback,
takes in every frame the server sends and answers its acknowledgement requests, exactly as
the renderer does. It notes when each new "open" count arrives, so its delivery latency can
be read beside the browser's.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import httpx
import orjson
import websocket  # websocket-client

from backend.auth.sessions import COOKIE
from layouts import ids

OPEN_TILE = ids.kpi_value("open")


class ProtocolScreen(threading.Thread):
    """One connected wall with no renderer: frames in, acknowledgements out."""

    def __init__(self, url: str, cookie: str, search: str = "", reconnect: bool = False) -> None:
        super().__init__(name="protocol-screen", daemon=True)
        self.url = url
        self.cookie = cookie
        self.search = search  # the page's ?area=… (a district wall), as its URL would say
        #: connect again when the link drops, as the browser's worker does (behind a proxy,
        #: to whichever web process is still there)
        self.reconnect = reconnect
        self.reconnects = 0
        self.seen: list[tuple[float, str]] = []  # (epoch ms, open tile) as frames arrive
        self.frames = 0
        self.received = 0  # bytes of every message, what the screen's link carries
        self.error: str | None = None
        self._halt = threading.Event()
        self._ws: Any = None

    def stop(self) -> None:
        self._halt.set()
        if self._ws is not None:
            self._ws.close()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._run()
            except Exception as exc:  # the benchmark reports it; a screen must not die silently
                if self._halt.is_set():
                    return
                if not self.reconnect:
                    self.error = f"{type(exc).__name__}: {exc}"
                    return
                self.reconnects += 1
                self._halt.wait(0.5)

    def _run(self) -> None:
        stream = next(
            d["output"]
            for d in httpx.get(
                self.url + "/_dash-dependencies", cookies={COOKIE: self.cookie}, timeout=30
            ).json()
            if d.get("persistent") and d.get("websocket")
        )
        host = urlparse(self.url).netloc
        self._ws = ws = websocket.create_connection(
            f"ws://{host}/_dash-ws-callback",
            origin=self.url,
            cookie=f"{COOKIE}={self.cookie}",  # signed in, like the browser beside it
            timeout=30,
            skip_utf8_validation=True,  # pure Python in websocket-client: not the screen's cost
        )
        renderer = str(uuid.uuid4())
        ws.send(
            orjson.dumps(
                {
                    "type": "callback_request",
                    "rendererId": renderer,
                    "requestId": f"{renderer}-1",
                    "payload": {
                        "output": stream,
                        "inputs": [],
                        "changedPropIds": [],
                        "parsedChangedPropsIds": [],
                    },
                }
            )
        )
        while not self._halt.is_set():
            raw = ws.recv()
            self.received += len(raw)
            if not raw:
                if not ws.connected:
                    raise ConnectionError("the server closed the link")
                continue
            body = orjson.loads(raw)  # in C: the client's cost is not what is measured
            for msg in body if isinstance(body, list) else [body]:
                self._take(ws, renderer, msg)

    def _take(self, ws: Any, renderer: str, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "set_props":
            payload = msg["payload"]
            if payload.get("componentId") != ids.WALL_PULSE:
                return
            self.frames += 1
            data = payload["props"].get("data") or {}
            tile = orjson.loads(data.get("numbers") or "{}").get(OPEN_TILE)
            if tile is not None:
                self.seen.append((time.time() * 1000.0, str(tile.get("t"))))
        elif kind == "get_props_request":
            # the renderer answers with the props' current values, as a wall page has them:
            # the page's path, that the wall's components are there, when the pulse came
            asked = msg["payload"]
            known = {
                "pathname": "/",
                "search": self.search,
                "id": asked.get("componentId"),
                "modified_timestamp": int(time.time() * 1000),
            }
            ws.send(
                orjson.dumps(
                    {
                        "type": "get_props_response",
                        "rendererId": renderer,
                        "requestId": msg["requestId"],
                        "payload": {p: known.get(p) for p in asked.get("properties", [])},
                    }
                )
            )


def _screens_process(url: str, cookie: str, searches: list[str], stop: Any, results: Any) -> None:
    from backend.core.runtime import die_with_parent

    die_with_parent()  # the screens end with the benchmark, however that ends
    screens = [ProtocolScreen(url, cookie, search) for search in searches]
    for s in screens:
        s.start()
    stop.wait()
    for s in screens:
        s.stop()
    results.put(([(s.seen, s.frames, s.error) for s in screens], sum(s.received for s in screens)))


class ProtocolScreens:
    """``n`` protocol screens in a process of their own, off the measuring process's cores'
    schedule: what they cost is theirs, as a PC per screen would be."""

    def __init__(self, url: str, cookie: str, n: int, searches: list[str] | None = None) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self._halt = ctx.Event()
        self._results = ctx.Queue()
        self._proc = ctx.Process(
            target=_screens_process,
            args=(url, cookie, searches or [""] * n, self._halt, self._results),
            daemon=True,
        )
        self.n = n
        self.received = 0  # bytes all its screens took in, known after ``finish``

    def start(self) -> None:
        if self.n:
            self._proc.start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.n else None

    def finish(self) -> list[tuple[list[tuple[float, str]], int, str | None]]:
        """Stop every screen; (arrivals, frames, error) of each."""
        if not self.n:
            return []
        self._halt.set()
        out, self.received = self._results.get(timeout=60)
        self._proc.join(timeout=30)
        return list(out)
