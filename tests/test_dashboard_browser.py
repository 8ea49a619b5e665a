"""The overview page in a real headless Chromium, served by the real web process."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.app import create_app
from tests.helpers import report

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(system) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(system), host="127.0.0.1", port=port, log_level="warning", ws="wsproto"
    )
    srv = uvicorn.Server(config)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 15
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "web server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    binary = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert binary and driver_path, "chromium and chromedriver are needed: ./run test installs them"
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--window-size=1920,1080",
    ):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    yield drv
    drv.quit()


def _kpi(browser: webdriver.Chrome, key: str) -> str:
    """A tile's value, or "" while the tiles are being re-rendered."""
    try:
        el = browser.find_element(By.CSS_SELECTOR, f'[data-kpi="{key}"] .gw-kpi-value')
        return str(el.text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def test_overview_shows_the_city_and_switches_language(system, server, browser):
    report(system)
    report(system, grid=sorted(system.ref.grids)[5])
    browser.get(server + "/")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "h1"), "网格化社会治理指挥中心"))
    wait.until(lambda b: _kpi(b, "open") == "2")
    assert _kpi(browser, "received_today") == "2"
    rows = browser.find_elements(By.CSS_SELECTOR, ".gw-table tbody tr")
    assert len(rows) == 2
    assert "GW20261123" in rows[0].text
    browser.find_element(By.CSS_SELECTOR, "button.btn-link").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "h1"), "operations centre"))
    assert "Open cases stuck longest" in browser.page_source


def test_refresh_shows_new_cases(system, server, browser):
    browser.get(server + "/")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: _kpi(b, "open") == "0")
    report(system)
    browser.find_element(By.CSS_SELECTOR, "button.btn-secondary").click()
    wait.until(lambda b: _kpi(b, "open") == "1")
