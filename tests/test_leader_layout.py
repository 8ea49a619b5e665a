"""The leader's pages as component trees: every label translated in both languages, and the
dropdowns of a large city sent in part and searched on the server."""

from __future__ import annotations

import json
from datetime import date

import plotly.io as pio
import pytest

from backend.queries.filters import DrillFilter
from backend.queries.scope import Scope
from backend.queries.timeline import load_timeline
from layouts.leader import analysis, case, common, overview, periodic
from tests.helpers import act, report


def _strings(component) -> str:
    def enc(o):
        return o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o)

    return json.dumps(component.to_plotly_json(), default=enc, ensure_ascii=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_leader_label_is_translated(system, clock, lang):
    ref = system.ref
    case_id = report(system, description="楼道堆放杂物")
    act(system, case_id, "accept")
    with system.db.connect() as conn:
        tl = load_timeline(conn, case_id, clock.now(), scope=Scope.city())
    f = DrillFilter(area=sorted(ref.area_levels)[3])
    pages = [
        common.shell("城", "/leader", "", lang, "now", overview.page(lang, ref), f, ref),
        case.page(tl, ref, lang, system.tz, "/leader"),
        analysis.bottlenecks_page(lang),
        analysis.risk_page(lang),
        periodic.assessment_page("monthly", date(2026, 11, 1), lang),
        periodic.reports_page("daily", date(2026, 11, 22), lang),
    ]
    text = "".join(_strings(p) for p in pages)
    # an unknown key shows itself as "[key]" (backend/core/i18n.t)
    missing = [
        part
        for part in text.split('"')
        if part.startswith("[") and part.endswith("]") and part[1:-1].isidentifier()
    ]
    assert not missing, missing
    # Chinese by default, English when asked: the navigation says so
    assert ("总览" in text) == (lang == "zh") and ("Overview" in text) == (lang == "en")


def test_a_large_citys_dropdowns_are_searched_not_sent_whole(system, monkeypatch):
    ref = system.ref
    monkeypatch.setattr(common, "MAX_OPTIONS", 50)  # the small city, treated as a large one
    areas = common.area_options(ref)
    levels = {ref.area_levels[o["value"]] for o in areas}
    assert levels == {"city", "county", "township"}
    grid = sorted(ref.grids)[17]
    assert grid in {o["value"] for o in common.area_options(ref, grid)}  # the chosen one
    found = common.search_areas(ref, ref.area_names[grid], None)
    assert grid in {o["value"] for o in found}
    units = common.unit_options(ref, "zh")
    assert all(ref.units[o["value"]].tier.value != "grid" for o in units)
    grid_unit = next(u for u in sorted(ref.units) if ref.units[u].tier.value == "grid")
    hits = common.search_units(ref, ref.units[grid_unit].name, "zh", None, with_tier=True)
    assert grid_unit in {o["value"] for o in hits} and "（网格）" in hits[-1]["label"]
    assert len(common.search_units(ref, "网格", "zh", None)) <= len(units) + common.MATCHES


def test_charts_are_plain_figures():
    from backend.queries.bottlenecks import Distribution, Flows, Trend

    d = Distribution("grid", 10, 5.0, {0.05: 1.0, 0.25: 2.0, 0.5: 4.0, 0.75: 8.0, 0.95: 16.0})
    for fig in (
        analysis.tier_figure([d], "zh"),
        analysis.unit_figure([d], lambda u: u, "en"),
        analysis.sankey_figure(Flows({("intake", "grid"): 3, ("grid", "completed"): 3}, 0), "zh"),
        analysis.trend_figure(Trend([date(2026, 11, 2)], ["a"], {"a": [3]}, {"a": [1]}), str, "zh"),
    ):
        pio.to_json(fig)  # serialisable as Dash sends it
    box = analysis.tier_figure([d], "zh").data[0]
    assert (box.q1[0], box.median[0], box.q3[0]) == (2.0, 4.0, 8.0)
