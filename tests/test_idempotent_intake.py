"""Retrying is safe (issue 14, DESIGN.md "Retrying is safe"): every intake route, sent again
after its first answer was lost to a client timeout, gives back what the first report became
(200 with the case) and never a second case.

The timeout is real: another connection holds a write lock on the reports table, the first
request waits behind it, the client gives up after half a second and sends again at once,
while the first is still in flight; then once more after the lock is gone."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from backend.api.app import create_api
from backend.auth.apikeys import create_key
from backend.auth.sessions import COOKIE
from backend.store.models import case_reports, cases
from tests.browser import serving
from tests.helpers import first_grid, grid_category
from tests.people import make_person, session_cookie

HOLD = 1.5  # seconds the reports table stays locked
IMPATIENT = 0.5  # the client's timeout on its first try


@contextmanager
def reports_locked(db: Engine, seconds: float) -> Iterator[None]:
    """Hold a write lock on ``case_reports`` from another connection for ``seconds``."""
    ready = threading.Event()

    def hold() -> None:
        with db.connect() as conn:
            if db.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(text("BEGIN"))
                conn.execute(text("LOCK TABLE case_reports IN SHARE ROW EXCLUSIVE MODE"))
            ready.set()
            time.sleep(seconds)
            conn.exec_driver_sql("COMMIT")

    th = threading.Thread(target=hold, daemon=True)
    th.start()
    assert ready.wait(10)
    try:
        yield
    finally:
        th.join(timeout=seconds + 10)


@pytest.fixture
def served(system) -> Iterator[tuple[str, str, str]]:
    """The API on a real port, an API key, and a handler's session cookie."""
    system.settings.rate_public = system.settings.rate_key = "100000/60"
    with system.db.begin() as conn:
        key = create_key(conn, "retrying", system.clock.now())
    grid_unit = system.ref.grid_unit[first_grid(system)]
    handler = make_person(system, "handler", units=[grid_unit])
    with serving(create_api(system)) as url:
        yield url, key, session_cookie(system, handler)


def _rest_ref(system, words: str) -> dict[str, Any]:
    body = {
        "category": grid_category(system),
        "description": words,
        "channel": "hotline",
        "grid": first_grid(system),
        "ref": f"crm-{uuid.uuid4().hex[:8]}",
    }
    return {"method": "POST", "url": "/api/v1/cases", "json": body}


def _rest_key(system, words: str) -> dict[str, Any]:
    call = _rest_ref(system, words)
    del call["json"]["ref"]
    return call


def _text_order(system, words: str) -> dict[str, Any]:
    body = {"channel": "hotline", "text": "杨店街道" + words, "order_no": uuid.uuid4().hex[:12]}
    return {"method": "POST", "url": "/api/v1/intake/text", "json": body}


def _text_key(system, words: str) -> dict[str, Any]:
    call = _text_order(system, words)
    del call["json"]["order_no"]
    return call


def _open311(system, words: str) -> dict[str, Any]:
    form = {
        "service_code": grid_category(system),
        "address_id": first_grid(system),
        "description": words,
        "phone": "13800138000",
    }
    return {"method": "POST", "url": "/open311/v2/requests.json", "data": form}


def _qr(system, words: str) -> dict[str, Any]:
    form = {"category": grid_category(system), "description": words, "phone": "13800138000"}
    return {"method": "POST", "url": f"/r/{first_grid(system)}", "data": form}


def _patrol(system, words: str) -> dict[str, Any]:
    form = {"category": grid_category(system), "description": words, "grid": first_grid(system)}
    return {"method": "POST", "url": "/work/patrol", "data": form}


ROUTES: dict[str, tuple[Callable[..., dict[str, Any]], bool, int]] = {
    # name: (the call, whether it needs the Idempotency-Key header, the retry's answer)
    "rest-ref": (_rest_ref, False, 200),
    "rest-header": (_rest_key, True, 200),
    "text-order-no": (_text_order, False, 200),
    "text-header": (_text_key, True, 200),
    "open311-header": (_open311, True, 200),
    "qr-header": (_qr, True, 303),
    "patrol-header": (_patrol, True, 303),
}


def _count(system, words: str) -> tuple[int, int]:
    with system.db.connect() as conn:
        reports = conn.execute(
            select(func.count()).where(case_reports.c.text.contains(words))
        ).scalar_one()
        made = conn.execute(
            select(func.count()).where(cases.c.description.contains(words))
        ).scalar_one()
    return int(reports), int(made)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_retry_after_a_timeout_finds_the_one_case(system, served, route):
    url, key, cookie = served
    make, needs_header, again = ROUTES[route]
    words = f"第{uuid.uuid4().hex[:6]}号路灯不亮"
    call = make(system, words)
    headers = {"Authorization": f"Bearer {key}", "Origin": url}
    if needs_header:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    if "data" in call and call["url"].startswith("/open311"):
        call["data"]["api_key"] = key
    cookies = {COOKIE: cookie}
    answers: list[int] = []
    with reports_locked(system.db, HOLD):
        with (
            httpx.Client(base_url=url, timeout=IMPATIENT, cookies=cookies) as impatient,
            pytest.raises(httpx.TimeoutException),
        ):
            impatient.request(headers=headers, **call)
        with httpx.Client(base_url=url, timeout=30, cookies=cookies) as client:
            answers.append(client.request(headers=headers, **call).status_code)
    with httpx.Client(base_url=url, timeout=30, cookies=cookies) as client:
        last = client.request(headers=headers, **call)
    assert last.status_code == again, last.text[:300]
    assert all(a < 300 or a == 303 for a in answers), answers
    deadline = time.monotonic() + 10  # the first request may still be finishing
    while _count(system, words) != (1, 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _count(system, words) == (1, 1), route
    if last.headers.get("content-type", "").startswith("application/json"):
        body = last.json()
        case_id = body[0]["service_request_id"] if isinstance(body, list) else body["id"]
        with system.db.connect() as conn:
            assert conn.execute(
                select(cases.c.id).where(cases.c.description.contains(words))
            ).scalar_one() == int(case_id)


def test_a_different_key_is_a_different_report(system, served):
    url, key, _ = served
    words = f"第{uuid.uuid4().hex[:6]}号井盖缺失"
    call = _rest_key(system, words)
    call["json"]["dedupe"] = False
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(2):
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())}
            assert client.request(headers=headers, **call).status_code == 201
    assert _count(system, words) == (2, 2)


def test_an_over_long_idempotency_key_is_refused(system, served):
    url, key, _ = served
    with httpx.Client(base_url=url, timeout=30) as client:
        r = client.request(
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k" * 201},
            **_rest_key(system, "路灯"),
        )
    assert r.status_code == 422
    assert "Idempotency-Key" in r.json()["errors"]
