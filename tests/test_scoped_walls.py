"""Each person's wall is scoped to their area, in the live fan-out too: a township-A duty
officer's wall and a township-B one's run side by side in real Chromium while cases of both
arrive, and nothing of B ever reaches A's page (every text the page ever held is recorded);
a person cannot widen their wall with ``/?area=``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from backend.queries.reports import kpi
from backend.queries.scope import Scope
from dashboard.app import create_app
from tests.browser import chromium, serving
from tests.helpers import report
from tests.people import sign_in_browser
from tests.test_wall_browser import is_live, ticker, tile

pytestmark = pytest.mark.browser

#: every text node the page ever shows, kept as it comes (a frame that came and went counts)
RECORD = """
window.__seen = [];
new MutationObserver(function (ms) {
  ms.forEach(function (m) {
    m.addedNodes.forEach(function (n) { window.__seen.push(n.textContent || ''); });
    if (m.type === 'characterData') window.__seen.push(m.target.textContent || '');
  });
}).observe(document.body, {childList: true, subtree: true, characterData: true});
"""


@pytest.fixture
def site(system) -> Iterator[str]:
    app = create_app(system)
    with serving(app) as url:
        yield url
    app.state.walls.stop()


def _towns(system) -> tuple[str, str, dict[str, list[str]]]:
    by_town: dict[str, list[str]] = {}
    for g in sorted(system.ref.grids):
        by_town.setdefault(system.ref.grids[g].township_code, []).append(g)
    a, b = sorted(by_town)[:2]
    return a, b, by_town


def _wall(url: str, system, town: str) -> Any:
    drv = chromium()
    sign_in_browser(drv, url, system, "duty_officer", area=town)
    drv.get(url + "/")
    WebDriverWait(drv, 45, poll_frequency=0.1).until(
        lambda d: is_live(d) and tile(d, "open") not in ("", "—")
    )
    drv.execute_script(RECORD)
    return drv


def test_two_township_walls_side_by_side_never_carry_each_others_cases(system, site):
    a, b, by_town = _towns(system)
    ref = system.ref
    wall_a, wall_b = _wall(site, system, a), _wall(site, system, b)
    try:
        assert ref.area_names[a] in wall_a.find_element(By.ID, "wall-city").text
        assert ref.area_names[b] in wall_b.find_element(By.ID, "wall-city").text
        mine, theirs = [], []
        for i in range(4):  # interleaved, as a city's reports come
            mine.append(report(system, grid=by_town[a][i % len(by_town[a])]))
            theirs.append(report(system, grid=by_town[b][i % len(by_town[b])]))
        for drv, own in ((wall_a, mine), (wall_b, theirs)):
            WebDriverWait(drv, 45, poll_frequency=0.1).until(
                lambda d, own=own: {c for _k, c in ticker(d)} >= {str(c) for c in own}
            )
        for drv, town, _own, other, other_town in (
            (wall_a, a, mine, theirs, b),
            (wall_b, b, theirs, mine, a),
        ):
            shown = {c for _k, c in ticker(drv)}
            assert not shown & {str(c) for c in other}
            with system.db.connect() as conn:
                k = kpi(conn, system.clock.now(), system.tz, scope=Scope(town, "township"))
            assert tile(drv, "open") == str(k["open"])
            seen = " ".join(drv.execute_script("return window.__seen"))
            # the other township's grids' names never reached this page, not even for a frame
            names = {ref.area_names[g] for g in by_town[other_town]}
            assert not [n for n in names if n in seen], other_town
    finally:
        wall_a.quit()
        wall_b.quit()


def test_a_person_cannot_widen_their_wall(system, site):
    a, b, _ = _towns(system)
    drv = chromium()
    try:
        sign_in_browser(drv, site, system, "duty_officer", area=a)
        for asked in (b, system.ref.grids[sorted(system.ref.grids)[0]].county_code):
            drv.get(f"{site}/?area={asked}")
            msg = WebDriverWait(drv, 30).until(
                lambda d: d.find_elements(By.ID, "wall-area-error") or None
            )[0]
            assert "不在您的管辖范围内" in msg.text
            assert "wall-kpi-open" not in drv.page_source or tile(drv, "open") in ("", "—")
        drv.get(f"{site}/?area={a}")  # their own, named: fine
        WebDriverWait(drv, 45).until(lambda d: is_live(d))
        assert system.ref.area_names[a] in drv.find_element(By.ID, "wall-city").text
    finally:
        drv.quit()
