"""The service-hall wall in a real headless Chromium, served by the real web process and
pushed from real Redis: windows and alerts change live, an alert is acknowledged from the
screen, and the wall fits 1920×1080 and 3840×2160 with no scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from backend.halls.processor import HallProcessor
from backend.halls.rules import load_rules
from backend.store.models import hall_alerts
from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.hallsdata import ev, load_halls
from tests.people import sign_in_browser
from tests.test_halls_processor import HALL, only

pytestmark = pytest.mark.browser


@pytest.fixture
def proc(system, small_city) -> HallProcessor:
    load_halls(system, small_city)
    p = HallProcessor(system, only(load_rules(), "window_vacant"))
    p.start()
    return p


@pytest.fixture
def served(system, proc) -> Iterator[str]:
    app = create_app(system)
    with serving(app) as url:
        yield url
    app.state.bridge.stop()
    app.state.leader.stop()
    app.state.hall_watch.stop()


def cls(b: Any, element_id: str) -> str:
    try:
        return str(b.find_element(By.ID, element_id).get_attribute("class") or "")
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def text(b: Any, element_id: str) -> str:
    try:
        return str(b.find_element(By.ID, element_id).text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def overflow(b: Any) -> list[int]:
    return list(
        b.execute_script(
            "var e = document.documentElement;"
            "return [e.scrollWidth - window.innerWidth, e.scrollHeight - window.innerHeight];"
        )
    )


def test_the_hall_wall_follows_the_halls_and_answers_alerts(system, clock, proc, served) -> None:
    b = chromium()
    try:
        sign_in_browser(b, served, system, "hall_supervisor", username="li.ducha")
        b.get(served + "/halls")
        wait = WebDriverWait(b, 45, poll_frequency=0.1)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".gw-hall")) == 11)
        cell = f"win-{HALL}-01"
        assert "is-vacant" in cls(b, cell)
        now = clock.now()
        proc.apply([ev(HALL, "staff_arrived", now, "01", staff="s1")])
        wait.until(lambda d: "is-staffed" in cls(d, cell))
        snap = "https://video.example/snap/1.jpg"
        proc.apply(
            [
                ev(HALL, "ticket_taken", now, "01", ticket="A1"),
                ev(HALL, "staff_left", now, "01", staff="s1", snapshot=snap),
            ]
        )
        wait.until(lambda d: "is-vacant" in cls(d, cell) and text(d, cell) == "1")
        clock.advance(timedelta(minutes=6))
        proc.tick()
        with system.db.connect() as conn:
            alert_id = conn.execute(select(hall_alerts.c.id)).scalar_one()
        wait.until(lambda d: "窗口空岗" in text(d, f"alert-{alert_id}"))
        img = b.find_element(By.CSS_SELECTOR, f"#alert-{alert_id} img")
        assert img.get_attribute("src") == snap
        assert "has-alerts" in cls(b, f"hall-{HALL}")
        # acknowledging needs a note (who acknowledges is the person signed in)
        button = f"//li[@id='alert-{alert_id}']//button[1]"
        b.find_element(By.XPATH, button).click()
        wait.until(lambda d: d.find_elements(By.ID, "hall-ack-missing"))
        b.find_element(By.ID, "halls-ack-note").send_keys("已电话联系乡镇分管领导")
        b.find_element(By.XPATH, button).click()
        wait.until(lambda d: d.find_elements(By.ID, "hall-ack-done"))
        with system.db.connect() as conn:
            row = conn.execute(select(hall_alerts)).one()
        assert (row.state, row.acked_by, row.note) == (
            "acknowledged",
            "user:li.ducha",
            "已电话联系乡镇分管领导",
        )
        wait.until(lambda d: "is-acknowledged" in cls(d, f"alert-{alert_id}"))
        assert overflow(b) == [0, 0]
        # the page never reloaded and never polled: one document, fed over the websocket
        nav = b.execute_script("return performance.getEntriesByType('navigation').length")
        assert nav == 1
        # the language switch
        b.find_element(By.ID, "halls-lang-toggle").click()
        wait.until(lambda d: "Window vacant" in text(d, f"alert-{alert_id}"))
        # a hall's page, with its windows and its day
        b.get(served + f"/halls/{HALL}")
        wait.until(lambda d: "1号窗口" in text(d, "halls-grid"))
        wait.until(lambda d: f"alert-{alert_id}" in d.page_source)
        b.get(served + "/halls/H-nowhere")
        wait.until(lambda d: "没有这个服务中心" in text(d, "halls"))
    finally:
        b.quit()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_hall_wall_fits_the_screen(system, small_city, clock, proc, served, width, height):
    # a busy day: every window with a queue, a few alerts
    now = clock.now()
    events = []
    for w in system.halls.windows:
        events.append(ev(w.hall_code, "ticket_taken", now, w.code, ticket=f"{w.code}-1"))
        events.append(ev(w.hall_code, "staff_left", now, w.code, staff="x"))
    proc.apply(events)
    clock.advance(timedelta(minutes=6))
    proc.tick()
    b = chromium(width, height)
    try:
        sign_in_browser(b, served, system, "hall_supervisor")
        b.get(served + "/halls")
        wait = WebDriverWait(b, 45, poll_frequency=0.1)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".gw-alert.is-open")) >= 10)
        assert overflow(b) == [0, 0]
        # every hall card is inside the screen
        bottom = b.execute_script(
            "return Math.max.apply(null, Array.from(document.querySelectorAll('.gw-hall'))"
            ".map(function (e) { return e.getBoundingClientRect().bottom; }));"
        )
        assert bottom <= height
    finally:
        b.quit()
