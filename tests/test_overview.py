"""The overview screen's pure parts: the calendar notice, the tiles and the table."""

from __future__ import annotations

from dash import html

from callbacks.overview import calendar_notice
from dashboard.i18n import TEXT, duration, t
from layouts.overview import kpi_tiles, stuck_table
from tests.conftest import local


def _texts(component) -> list[str]:
    out = []
    children = getattr(component, "children", None)
    if isinstance(children, str):
        out.append(children)
    elif isinstance(children, list):
        for c in children:
            out += _texts(c) if not isinstance(c, str) else [c]
    elif children is not None:
        out += _texts(children)
    return out


def test_the_2027_calendar_is_announced_weeks_ahead(system):
    notice = calendar_notice(system, local(2026, 11, 23, 9, 0), "zh")
    assert notice, "the 2027 calendar is provisional (or missing) and must be announced"
    text = " ".join(n.children for n in notice)
    assert "2027" in text
    en = " ".join(n.children for n in calendar_notice(system, local(2026, 11, 23, 9), "en"))
    assert "2027" in en and ("provisional" in en or "Monday" in en)


def test_every_text_has_both_languages():
    for key, (zh, en) in TEXT.items():
        assert zh and en, key
    assert t("open", "zh") == "在办" and t("open", "en") == "Open"
    assert t("nope") == "[nope]"
    assert duration(3 * 3600) == "3.0 小时" and duration(3 * 86400, "en") == "3.0 d"


def test_tiles_and_table_render_the_figures():
    k = {
        "received_today": 7,
        "open": 5,
        "closed_today": 2,
        "close_rate_today": 0.5,
        "on_time_rate_today": None,
        "satisfaction_rate_today": 1.0,
        "by_tier": {
            "grid": {"open": 3, "overdue": 1},
            "township": {"open": 2, "overdue": 0},
            "department": {"open": 0, "overdue": 0},
            "county": {"open": 0, "overdue": 0},
        },
    }
    tiles = kpi_tiles(k, "zh")
    values = [tile.children[0].children for tile in tiles]
    assert values[:6] == ["7", "5", "2", "50.0%", "—", "100.0%"]
    assert values[6] == "1" and "gw-danger" in tiles[6].className
    item = {
        "code": "GW2026112300000001",
        "category_name": "<b>邻里纠纷</b>",
        "unit_name": "网格",
        "tier": "grid",
        "seconds_in_stage": 7200,
        "seconds_left": -3600,
        "colour": "red",
    }
    table = stuck_table([item], "zh")
    texts = _texts(table)
    # text goes in as a plain string: Dash renders it as text, never as markup
    assert "<b>邻里纠纷</b>" in texts
    assert "超期 1.0 小时" in texts
    assert not any(isinstance(c, html.B) for c in table.children[1].children[0].children)
