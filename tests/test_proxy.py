"""Two web processes behind nginx (Debian's package, running the shipped site file), an engine,
one database and one Redis: a real Chromium wall and protocol screens get every push through
the proxy, spread over both web processes, and keep getting them when one web process is
killed with SIGKILL. The rate limits count the client's address, not the proxy's."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from backend.auth.apikeys import create_key
from backend.auth.sessions import COOKIE
from backend.bus.connection import embedded_socket
from backend.system import System
from bench.ws_screen import ProtocolScreen
from tests.browser import chromium
from tests.helpers import grid_category
from tests.people import PASSWORD, make_person
from tests.proxyproc import EngineProcess, Nginx, WebProcess, nginx_binary

pytestmark = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is needed: ./run test installs Debian's package"
)

SECRET = "proxy-test-secret-the-same-on-every-web-process"


class Deployment:
    def __init__(self, web: list[WebProcess], engine: EngineProcess, nginx: Nginx) -> None:
        self.web = web
        self.engine = engine
        self.nginx = nginx


@pytest.fixture
def deployment(system: System, redis_var: Path, tmp_path: Path) -> Iterator[Deployment]:
    s = system.settings
    base = dict(os.environ)
    base.pop("GRIDWATCH_POLICY", None)
    base.update(
        DATABASE_URL=s.effective_database_url,
        REDIS_URL=s.redis_url or f"unix://{embedded_socket(redis_var)}",
        GRIDWATCH_REDIS_PREFIX=s.key_prefix,
        # two machines share nothing on disk: the cookie key is set, the same on each
        GRIDWATCH_SECRET_KEY=SECRET,
        GRIDWATCH_RATE_LOGIN="3/60",
    )
    web = []
    for name in ("a", "b"):
        var = tmp_path / f"web-{name}"
        var.mkdir()
        web.append(WebProcess({**base, "GRIDWATCH_VAR": str(var)}, tmp_path / f"web-{name}.log"))
    engine = EngineProcess(
        {**base, "GRIDWATCH_VAR": str(tmp_path / "web-a")}, tmp_path / "engine.log"
    )
    nginx = Nginx(tmp_path / "nginx", [w.port for w in web])
    try:
        for w in web:
            w.spawn()
        engine.start()
        for w in web:
            w.ready()
        nginx.start()
        yield Deployment(web, engine, nginx)
    finally:
        nginx.stop()
        engine.stop()
        for w in web:
            w.stop()


def _sign_in(system: System, url: str) -> str:
    """Through the proxy's login form, as a person would: the session cookie it sets."""
    person = make_person(system, "duty_officer")
    res = httpx.post(
        url + "/login",
        data={"username": person.username, "password": PASSWORD},
        headers={"Origin": url},
    )
    assert res.status_code == 303, res.text[:300]
    return res.cookies[COOKIE]


def _wait(what: str, ok: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _shown(screen: ProtocolScreen) -> str | None:
    return screen.seen[-1][1] if screen.seen else None


def _tile(browser: Any) -> str:
    try:
        return str(browser.find_element(By.ID, "wall-kpi-open").text)
    except Exception:  # the page between two renders
        return ""


def test_screens_behind_nginx_get_every_push_from_both_web_processes_and_outlive_one(
    system: System, deployment: Deployment
) -> None:
    url = deployment.nginx.url
    cookie = _sign_in(system, url)
    with system.db.begin() as conn:
        key = create_key(conn, "hotline-12345", system.clock.now())
    grids = sorted(system.ref.grids)

    def post(n: int) -> None:
        res = httpx.post(
            url + "/api/v1/cases",
            json={
                "category": grid_category(system),
                "description": f"楼道堆放杂物 {n}",
                "channel": "hotline",
                "grid": grids[n],
            },
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert res.status_code == 201, res.text[:300]

    browser = chromium()
    screens = [ProtocolScreen(url, cookie, reconnect=True) for _ in range(6)]
    try:
        browser.get(url + "/login")
        browser.add_cookie({"name": COOKIE, "value": cookie, "path": "/", "httpOnly": True})
        browser.get(url + "/")
        _wait("the wall in Chromium", lambda: _tile(browser) == "0", 60)
        for s in screens:
            s.start()
        _wait("every protocol screen's first frame", lambda: all(_shown(s) for s in screens))
        assert {_shown(s) for s in screens} == {"0"}

        post(1)
        _wait("the first push on every screen", lambda: all(_shown(s) == "1" for s in screens))
        _wait("the first push in Chromium", lambda: _tile(browser) == "1")

        # one web process dies without a word: its screens come back through the proxy
        a, b = deployment.web
        a.kill()
        post(2)
        _wait(
            "the second push on every screen",
            lambda: all(_shown(s) == "2" for s in screens),
            45,
        )
        _wait("the second push in Chromium", lambda: _tile(browser) == "2", 45)
        moved = [s for s in screens if s.reconnects]
        # the screens were spread: some were on the killed process, some on the other
        assert 0 < len(moved) < len(screens), [s.reconnects for s in screens]
        assert not [s.error for s in screens if s.error]
        # the page was never reloaded: its worker reconnected by itself
        assert (
            browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
        )
    finally:
        browser.quit()
        for s in screens:
            s.stop()
        for s in screens:
            s.join(timeout=10)
    # nginx logs a websocket when it ends: both web processes served them
    _wait(
        "nginx to log the websockets",
        lambda: (
            {f"127.0.0.1:{w.port}" for w in deployment.web} <= set(deployment.nginx.upstreams_of())
        ),
        15,
    )


def _login_from(address: str, url: str, forwarded: str | None = None) -> int:
    headers = {"Origin": url}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as c:
        res = c.post(url + "/login", data={"username": "nobody", "password": "x"}, headers=headers)
    return res.status_code


def test_the_login_limit_counts_each_client_behind_the_proxy_not_the_proxy(
    system: System, deployment: Deployment
) -> None:
    """GRIDWATCH_RATE_LOGIN is 3 a minute here. Through nginx the web processes see the
    client's own address, shared by both processes through Redis; a client cannot name
    another address to escape its count."""
    url = deployment.nginx.url
    assert [_login_from("127.0.0.2", url) for _ in range(3)] == [401, 401, 401]
    assert _login_from("127.0.0.2", url) == 429
    assert _login_from("127.0.0.2", url, forwarded="198.51.100.7") == 429
    assert _login_from("127.0.0.3", url) == 401  # another client has its own count
