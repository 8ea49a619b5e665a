"""The leader's screens in a real headless Chromium, on a simulated city: from the city to one
stuck case in three clicks, the URL that carries the filters, the leader's actions and their
refusals, the case page following its case live, and the reports and their downloads."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from backend.core.i18n import t
from backend.domain.case import case_code
from backend.domain.vocabulary import OPEN_STATUSES
from backend.drill.export import COLUMNS
from backend.drill.periods import period_of
from backend.drill.risk import refresh_risk
from backend.queries.reports import FIGURES, build_report
from backend.queries.scope import Scope
from backend.store.models import cases
from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.drilldata import simulate
from tests.helpers import act, events_of, report
from tests.people import sign_in_browser

pytestmark = pytest.mark.browser
OPEN = [s.value for s in OPEN_STATUSES]


@pytest.fixture
def city(system, clock) -> Iterator[tuple[str, Any]]:
    simulate(system, clock, days=5)
    refresh_risk(system.db, clock.now())
    app = create_app(system)
    with serving(app) as url:
        yield url, app
    app.state.bridge.stop()
    app.state.leader.stop()


@pytest.fixture
def browser(system, city) -> Iterator[Any]:
    """A Chromium signed in as a leader."""
    drv = chromium()
    sign_in_browser(drv, city[0], system, "leader", username="leader1", display_name="王主任")
    yield drv
    drv.quit()


def _wait(b: Any, seconds: float = 45) -> WebDriverWait:
    return WebDriverWait(
        b, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )


def _text(b: Any, css: str) -> str:
    try:
        return str(b.find_element(By.CSS_SELECTOR, css).text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def _click(b: Any, el: Any) -> None:
    b.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    try:
        el.click()
    except ElementClickInterceptedException:
        b.execute_script("arguments[0].click();", el)


def _count(b: Any) -> int | None:
    digits = "".join(ch for ch in _text(b, "#stuck-count") if ch.isdigit())
    return int(digits) if digits else None


def _query(b: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(b.current_url).query).items()}


def _open_count(system: Any, **where: str) -> int:
    cond = [cases.c.status.in_(OPEN)] + [cases.c[k] == v for k, v in where.items()]
    with system.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cases).where(*cond)).scalar_one())


def _query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _first_row(b: Any, table: str) -> Any:
    rows = b.find_elements(By.CSS_SELECTOR, f"#{table} tr.gw-b-row")
    return rows[0] if rows else None


def _grid_codes(b: Any) -> list[str]:
    """The case numbers the stuck table shows, top to bottom."""
    cells = b.find_elements(By.CSS_SELECTOR, '#stuck-grid .ag-row [col-id="code"]')
    return [c.text for c in cells if c.text.startswith("GW")]


def test_three_clicks_from_the_city_to_a_stuck_case_and_the_url_carries_the_filters(
    system, city, browser
):
    url, _app = city
    b = browser
    b.get(url + "/leader")
    wait = _wait(b)
    total_open = _open_count(system)
    wait.until(lambda d: _count(d) == total_open and _first_row(d, "leader-areas") is not None)
    # click 1: the township with most open cases
    row = _first_row(b, "leader-areas")
    town = json.loads(row.get_attribute("id"))["code"]
    _click(b, row)
    wait.until(lambda d: _query(d).get("area") == town)
    wait.until(lambda d: _count(d) == _open_count(system, township_code=town))
    # click 2: the unit there with most open cases
    wait.until(lambda d: _first_row(d, "leader-units") is not None)
    unit_row = _first_row(b, "leader-units")
    unit = json.loads(unit_row.get_attribute("id"))["code"]
    _click(b, unit_row)
    wait.until(lambda d: _query(d) == {"area": town, "unit": unit})
    expect = _open_count(system, township_code=town, unit_code=unit)
    with system.db.connect() as conn:
        longest = conn.execute(
            select(cases.c.id, cases.c.reported_at)
            .where(cases.c.status.in_(OPEN), cases.c.township_code == town)
            .where(cases.c.unit_code == unit)
            .order_by(cases.c.stage_started_at, cases.c.id)
        ).first()
    code = case_code(longest[0], longest[1])
    first_cell = '#stuck-grid .ag-row[row-index="0"] [col-id="code"]'
    wait.until(lambda d: _count(d) == expect and _text(d, first_cell) == code)
    shared = b.current_url
    # click 3: the case that has waited longest in its stage (the table's default order); a
    # case number is a real link that opens the case in a new tab, the table stays as it was
    link = b.find_element(By.CSS_SELECTOR, first_cell + " a")
    assert link.get_attribute("target") == "_blank"
    table_tab = b.current_window_handle
    _click(b, link)
    wait.until(lambda d: len(d.window_handles) == 2)
    assert urlparse(b.current_url).path == "/leader"
    b.switch_to.window(next(h for h in b.window_handles if h != table_tab))
    wait.until(lambda d: "/leader/case/" in d.current_url)
    assert _query(b) == _query_of(shared)  # the filters travel with the link
    case_id = int(urlparse(b.current_url).path.rsplit("/", 1)[1])
    wait.until(lambda d: _text(d, "#case-code") == code)
    with system.db.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one()
    assert case_id == longest[0]
    assert row["unit_code"] == unit and row["township_code"] == town
    # the whole timeline, newest first, one line per event in the log
    n_events = len(events_of(system, case_id))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#case-timeline li")) == n_events)
    first_type = b.find_element(By.CSS_SELECTOR, "#case-timeline li").get_attribute("data-type")
    assert first_type == events_of(system, case_id)[-1]["type"]
    assert len(b.find_elements(By.CSS_SELECTOR, "#case-stages tbody tr")) >= 1
    # the page never reloaded on the way
    assert b.execute_script("return performance.getEntriesByType('navigation').length") == 1
    # back to the list keeps the filters
    _click(b, b.find_element(By.ID, "case-back"))
    wait.until(lambda d: urlparse(d.current_url).path == "/leader" and _count(d) == expect)

    # the shared link, opened in a fresh browser, shows the same filtered view
    other = chromium()
    try:
        sign_in_browser(other, url, system, "leader")  # another leader, given the link
        other.get(shared)
        w2 = _wait(other)
        w2.until(lambda d: _count(d) == expect)
        area_shown = _text(other, "#f-area")
        assert system.ref.area_names[town] in area_shown
        assert system.ref.units[unit].name in _text(other, "#f-unit")
        w2.until(lambda d: code in _grid_codes(d))
    finally:
        other.quit()


def _pick(b: Any, dropdown: str, text: str) -> None:
    """Choose an option of a Dash dropdown as a person does: open it, type, click."""
    _click(b, b.find_element(By.ID, dropdown))

    def search_field(d: Any) -> Any:
        # the dropdown focuses its search field once it has opened, not at the click
        el = d.switch_to.active_element
        return el if el.tag_name == "input" else None

    _wait(b, 10).until(search_field).send_keys(text)

    def option(d: Any) -> Any:
        for o in d.find_elements(By.CSS_SELECTOR, "[role=option]"):
            if o.text.startswith(text):
                return o
        return None

    _click(b, _wait(b, 10).until(option))


def _open_case_page(b: Any, url: str, case_id: int) -> WebDriverWait:
    b.get(f"{url}/leader/case/{case_id}")
    wait = _wait(b)
    wait.until(lambda d: _text(d, "#case-code").startswith("GW"))
    return wait


def _timeline_types(b: Any) -> list[str]:
    return [
        li.get_attribute("data-type")
        for li in b.find_elements(By.CSS_SELECTOR, "#case-timeline li")
    ]


def test_leader_actions_are_engine_commands_and_refusals_are_said_in_words(system, city, browser):
    url, _app = city
    b = browser
    case_id = report(
        system,
        grid=sorted(system.ref.grids)[5],
        description="<b>楼道</b>堆放杂物<script>alert(1)</script>",
    )
    act(system, case_id, "accept")
    wait = _open_case_page(b, url, case_id)
    # citizen text is text, not markup
    desc = b.find_element(By.ID, "case-description")
    assert desc.text == "<b>楼道</b>堆放杂物<script>alert(1)</script>"
    assert not desc.find_elements(By.TAG_NAME, "b")
    # 批示: recorded in the log, shown at once
    b.find_element(By.ID, "act-instruct-text").send_keys("请三日内办结并回复")
    _click(b, b.find_element(By.ID, "act-instruct"))
    wait.until(lambda d: _text(d, "#act-done") != "")
    wait.until(lambda d: _timeline_types(d)[:1] == ["instructed"])
    assert "请三日内办结并回复" in _text(b, "#case-timeline li")
    evs = events_of(system, case_id)
    assert evs[-1]["type"] == "instructed" and evs[-1]["actor"] == "user:leader1"
    assert evs[-1]["reason"] == "请三日内办结并回复"
    # done: its form is empty again
    wait.until(lambda d: d.find_element(By.ID, "act-instruct-text").get_attribute("value") == "")
    # an instruction with no text: said in Chinese, nothing stored
    _click(b, b.find_element(By.ID, "act-instruct"))
    wait.until(lambda d: "请填写批示内容" in _text(d, "#act-invalid"))
    assert "required" not in _text(b, "#act-invalid")
    # escalation needs a reason: said per field, nothing stored
    _click(b, b.find_element(By.ID, "act-escalate"))
    wait.until(lambda d: "请填写理由" in _text(d, "#act-invalid"))
    assert len(events_of(system, case_id)) == len(evs)
    # reassigning to the unit that has it already is refused by the state machine
    unit = evs[-1]["to_unit"]
    _pick(b, "act-reassign-unit", system.ref.units[unit].name)
    b.find_element(By.ID, "act-reassign-reason").send_keys("调整")
    _click(b, b.find_element(By.ID, "act-reassign"))
    wait.until(lambda d: "该事项已由这个单位承办" in _text(d, "#act-refused"))
    assert "already" not in _text(b, "#act-refused")
    assert len(events_of(system, case_id)) == len(evs)
    # a refused action keeps what was typed, to be corrected
    assert b.find_element(By.ID, "act-reassign-reason").get_attribute("value") == "调整"
    # escalate, with a reason: the case climbs a tier
    b.find_element(By.ID, "act-escalate-reason").send_keys("群众多次反映")
    _click(b, b.find_element(By.ID, "act-escalate"))
    wait.until(lambda d: _timeline_types(d)[:1] == ["escalated"])
    with system.db.connect() as conn:
        tier = conn.execute(select(cases.c.tier).where(cases.c.id == case_id)).scalar_one()
    assert tier == "township"
    assert "乡镇" in _text(b, "#case-header")
    wait.until(lambda d: d.find_element(By.ID, "act-escalate-reason").get_attribute("value") == "")
    # who did what, in words: the leader's desk, not "leader:web"
    assert "王主任" in _text(b, "#case-timeline")  # the signed-in leader, by name
    assert "leader:web" not in _text(b, "#case-timeline")


def test_the_case_page_follows_its_case_live(system, city, browser):
    url, app = city
    b = browser
    case_id = report(system, grid=sorted(system.ref.grids)[9])
    wait = _open_case_page(b, url, case_id)
    n = len(events_of(system, case_id))
    wait.until(lambda d: len(_timeline_types(d)) == n)
    time.sleep(1.5)  # the page's follower is listening by now
    act(system, case_id, "accept")  # a handler somewhere signs for it
    wait.until(lambda d: _timeline_types(d)[:1] == ["accepted"])
    act(system, case_id, "instruct", text="领导关注")
    wait.until(lambda d: _timeline_types(d)[:1] == ["instructed"])
    assert "领导关注" in _text(b, "#case-timeline li")
    assert b.execute_script("return performance.getEntriesByType('navigation').length") == 1
    # the wall's stream never started for this page
    assert app.state.bridge.screens == 0


def _download_dir(b: Any, path: Path) -> None:
    b.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(path)}
    )


def _wait_file(path: Path, suffix: str) -> Path:
    deadline = time.time() + 30
    while time.time() < deadline:
        found = [p for p in path.iterdir() if p.suffix == suffix]
        if found and found[0].stat().st_size > 0:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded")


def test_the_report_on_screen_and_its_files_are_the_report(system, clock, city, browser, tmp_path):
    url, _app = city
    b = browser
    _download_dir(b, tmp_path)
    b.get(url + "/leader/reports?kind=daily&day=2026-11-10")
    wait = _wait(b)
    wait.until(lambda d: _text(d, "#rep-cases_total") not in ("", "—"))
    p = period_of("daily", __import__("datetime").date(2026, 11, 10))
    frm, to = p.window(system.tz)
    with system.db.connect() as conn:
        rep = build_report(conn, frm, to, clock.now(), scope=Scope.city())
    assert _text(b, "#rep-cases_total") == str(rep["cases_total"])
    assert _text(b, "#rep-closed") == str(rep["closed"])
    assert _text(b, "#rep-close_rate") == f"{rep['close_rate'] * 100:.1f}%"
    for tier, figs in rep["by_tier"].items():
        cell = b.find_element(
            By.CSS_SELECTOR, f'#report-by_tier tr[data-key="{tier}"] td[data-fig="cases_total"]'
        )
        assert cell.text == str(figs["cases_total"])
    _click(b, b.find_element(By.ID, "report-csv"))
    got = _wait_file(tmp_path, ".csv").read_text(encoding="utf-8-sig")
    body = [ln for ln in got.splitlines() if not ln.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(body))))
    total = next(r for r in rows if r["section"] == "total")
    assert {k: total[k] for k in FIGURES} == {
        k: "" if rep[k] is None else str(rep[k]) for k in FIGURES
    }
    for r in rows:
        if r["section"] != "total":
            figs = rep[r["section"]][r["key"]]
            assert int(r["cases_total"]) == figs["cases_total"]
    _click(b, b.find_element(By.ID, "report-xlsx"))
    wb = load_workbook(_wait_file(tmp_path, ".xlsx"))
    # the leader's workbook, in the page's language; the service halls on a sheet of their own
    assert wb.sheetnames == ["汇总", "明细", "服务中心"]
    table = [[c.value for c in row] for row in wb["明细"].iter_rows()]
    assert table[0][3:] == [t(f"fig_{k}", "zh") for k in FIGURES]
    first = dict(zip(COLUMNS, table[1], strict=False))
    assert {k: first[k] for k in FIGURES} == {k: rep[k] for k in FIGURES}


def test_bottlenecks_risk_and_assessment_pages(system, city, browser):
    url, app = city
    b = browser
    b.get(url + "/leader/bottlenecks")
    wait = _wait(b)

    def traces(d: Any, graph: str) -> list[Any]:
        return d.execute_script(
            "var g = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
            "return g && g.data ? g.data.map(function (t) { return t.name || t.type; }) : [];",
            graph,
        )

    wait.until(lambda d: len(traces(d, "chart-dwell-tier")) >= 2)
    assert any("网格" in n for n in traces(b, "chart-dwell-tier"))
    wait.until(lambda d: traces(d, "chart-sankey") == ["sankey"])
    wait.until(lambda d: len(traces(d, "chart-trend")) >= 1)
    # narrowing to one tier narrows the chart (the URL says so too)
    b.get(url + "/leader/bottlenecks?tier=township")
    wait.until(
        lambda d: (
            len(traces(d, "chart-dwell-tier")) == 1 and "乡镇" in traces(d, "chart-dwell-tier")[0]
        )
    )
    # the risk screen: open cases, riskiest first
    b.get(url + "/leader/risk")
    wait.until(lambda d: len(_grid_codes(d)) >= 3)
    shown = b.execute_script(
        "var api = dash_ag_grid.getApi('stuck-grid'); var out = [];"
        "api.forEachNode(function (n) { if (n.data && out.length < 20) out.push(n.data.risk_p); });"
        "return out;"
    )
    assert shown == sorted(shown, reverse=True) and shown[0] > 0
    # the assessment: a ranking, in English after the switch
    b.get(url + "/leader/assessment?kind=daily&day=2026-11-11")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#assess-rows tbody tr")) > 0)
    _click(b, b.find_element(By.ID, "leader-lang-toggle"))
    wait.until(lambda d: "Assessment" in _text(d, "#assess-title"))
    assert "Ranking" in _text(b, ".gw-card-h")
    assert app.state.bridge.screens == 0
    assert not [e for e in b.get_log("browser") if e["level"] == "SEVERE"]
