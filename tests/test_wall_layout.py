"""The wall's pure parts: labels in both languages, the calendar notice, the map and its colours."""

from __future__ import annotations

from backend.core.i18n import TEXT, duration, t
from backend.refdata.generator import generate_city
from callbacks.wall import calendar_notice
from layouts import ids
from layouts.svg import data_uri, map_svg, project_city, svg_of
from layouts.wall import (
    MAP_EMPTY,
    MAP_OPEN,
    MAP_OVERDUE,
    funnel_values,
    intake_chart,
    kpi_values,
    map_colour,
    page,
    typical_load,
)
from tests.conftest import local


def _ids(component, out=None) -> set[str]:
    out = set() if out is None else out
    cid = getattr(component, "id", None)
    if isinstance(cid, str):
        out.add(cid)
    children = getattr(component, "children", None)
    for c in children if isinstance(children, list) else [children]:
        if c is not None and not isinstance(c, str):
            _ids(c, out)
    return out


def test_the_2027_calendar_is_announced_weeks_ahead(system):
    notice = calendar_notice(system, local(2026, 11, 23, 9, 0), "zh")
    assert notice, "the 2027 calendar is provisional (or missing) and must be announced"
    assert "2027" in " ".join(n.children for n in notice)
    en = " ".join(n.children for n in calendar_notice(system, local(2026, 11, 23, 9), "en"))
    assert "2027" in en and ("provisional" in en or "calendar" in en)
    # a compact badge, its whole sentence on hover
    assert all(len(n.children) <= 16 and "2027" in n.title for n in notice)


def test_every_text_has_both_languages():
    for key, (zh, en) in TEXT.items():
        assert zh and en, key
    assert t("open", "zh") == "在办" and t("open", "en") == "Open"
    assert t("nope") == "[nope]"
    assert duration(3 * 3600) == "3.0 小时" and duration(3 * 86400, "en") == "3.0 d"


def test_the_map_is_drawn_from_the_citys_own_polygons():
    city = generate_city("small")
    grids = [f for f in city.geojson["features"] if f["properties"]["level"] == "grid"]
    projected = project_city(city.geojson, {})
    assert [s.code for s in projected.shapes] == [f["properties"]["code"] for f in grids]
    colours = [MAP_OPEN[0]] * len(grids)
    colours[3] = MAP_OVERDUE[1]
    svg = svg_of(data_uri(map_svg(projected, colours)))
    assert svg.count("<path data-code=") == len(grids)
    assert f'data-code="{grids[3]["properties"]["code"]}" fill="{MAP_OVERDUE[1]}"' in svg
    # township names are written on the map, inside it
    towns = [
        f["properties"]["name"]
        for f in city.geojson["features"]
        if f["properties"]["level"] == "township"
    ]
    assert [name for name, _x, _y in projected.labels] == towns
    for _name, x, y in projected.labels:
        assert 0 <= x <= projected.width and 0 <= y <= projected.height
    assert all(f">{name}</text>" in svg for name in towns)
    # with links and tooltips, each area opens in a new tab; names are escaped
    code = grids[0]["properties"]["code"]
    tips = ["<b>&"] * len(grids)
    linked = map_svg(
        projected, colours, tips, [f"/leader?area={g['properties']['code']}" for g in grids]
    )
    assert (
        f'<a href="/leader?area={code}" target="_blank" rel="noopener"><path data-code="{code}"'
        in linked
    )
    assert "<title>&lt;b&gt;&amp;</title>" in linked and "<b>&" not in linked
    assert projected.borders and 'fill="none"' in svg  # township borders over the grids
    # every shape lies inside the drawing
    for shape in projected.shapes:
        for pair in shape.path.strip("MZ").split("L"):
            x, y = map(float, pair.split(","))
            assert 0 <= x <= projected.width + 0.1 and 0 <= y <= projected.height + 0.1
    page_ids = _ids(page("上饶市信州区", data_uri(svg), intake_chart([], {}, None)))
    for key in ("received_today", "open", "closed_today", "went_overdue_county"):
        assert ids.kpi_value(key) in page_ids
    for key in ("close_rate", "on_time_rate", "satisfaction_rate"):
        assert ids.kpi_base(key) in page_ids  # every rate with its base
    assert {ids.WALL_MAP, ids.WALL_TICKER, ids.WALL_STUCK, ids.WALL_INTAKE} <= page_ids


def test_colours_follow_load_and_overdue():
    assert map_colour(0, 0, 1) == MAP_EMPTY
    assert map_colour(1, 0, 1, typical=2) == MAP_OPEN[0]
    assert map_colour(2, 0, 1, typical=2) == MAP_OPEN[1]
    assert map_colour(9, 0, 1, typical=2) == MAP_OPEN[3]
    assert map_colour(9, 0, 10, typical=2) == MAP_OPEN[0]  # a township of ten grids
    assert map_colour(90, 0, 10, typical=2) == MAP_OPEN[3]
    assert map_colour(3, 1, 1) == MAP_OVERDUE[0]
    assert map_colour(3, 2, 1) == MAP_OVERDUE[1]
    # the scale follows the city: the median load per grid is "typical"
    assert typical_load([(2, 1), (4, 1), (30, 10), (0, 1)]) == 3.0
    assert typical_load([]) == 1.0


def test_tiles_and_funnel_show_the_figures():
    k = {
        "received_today": 7,
        "handled_today": 6,
        "closed_of_today": 3,
        "on_time_of_today": 0,
        "rated_today": 1,
        "satisfied_today": 1,
        "open": 5,
        "awaiting_triage": 0,
        "closed_today": 2,
        "overdue": 1,
        "overdue_cases_open": 2,
        "close_rate_today": 0.5,
        "on_time_rate_today": None,
        "satisfaction_rate_today": 1.0,
        "by_tier": {
            "grid": {"open": 4, "overdue": 0, "overdue_cases": 0, "went_overdue": 2},
            "county": {"open": 1, "overdue": 1, "overdue_cases": 2, "went_overdue": 1},
        },
    }
    v = kpi_values(k)
    assert v[ids.kpi_value("close_rate")] == "50.0%"
    assert v[ids.kpi_base("close_rate")] == "3/6"  # the rate's base beside it
    assert v[ids.kpi_base("satisfaction_rate")] == "1/1"
    assert v[ids.kpi_base("closed_today")] == "3"  # of them reported today
    assert v[ids.kpi_value("on_time_rate")] == "—"
    # 超期件 by the tier where they went overdue; those past their deadline now beside them
    assert v[ids.kpi_value("went_overdue_grid")] == "2"
    assert v[ids.kpi_value("went_overdue_county")] == "1"
    assert v[ids.kpi_value("overdue_cases_open")] == "2"
    assert v[ids.kpi_value("overdue")] == "1"
    f = funnel_values(k["by_tier"])
    assert f[ids.funnel("grid", "bar")]["style"]["width"] == "100.0%"
    assert f[ids.funnel("county", "bar")]["style"]["width"] == "25.0%"
    assert "is-hot" in f[ids.funnel("county", "overdue")]["className"]
    assert f[ids.funnel("county", "overdue")]["children"] == "2"  # 超期件 now at the county
    assert "is-hot" not in f[ids.funnel("grid", "overdue")]["className"]


def test_an_area_in_several_pieces_is_drawn_whole_with_its_holes():
    square = [[117.9, 28.4], [118.0, 28.4], [118.0, 28.5], [117.9, 28.5], [117.9, 28.4]]
    hole = [[117.93, 28.43], [117.96, 28.43], [117.96, 28.46], [117.93, 28.43]]
    island = [[118.1, 28.4], [118.2, 28.4], [118.2, 28.5], [118.1, 28.4]]
    geo = {
        "features": [
            {
                "properties": {"code": "G1", "name": "一", "level": "grid"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[square, hole], [island]]},
            },
            {
                "properties": {"code": "G2", "name": "二", "level": "grid"},
                "geometry": {"type": "Polygon", "coordinates": [island]},
            },
        ]
    }
    city = project_city(geo, {})
    assert [s.code for s in city.shapes] == ["G1", "G2"]
    assert city.shapes[0].path.count("M") == 3  # outer ring, hole, island
    assert 'fill-rule="evenodd"' in map_svg(city, [MAP_EMPTY, MAP_EMPTY])
