"""The duty officer's wall (值班大屏): pure functions from data to component trees.

Every label is written in both languages and the page shows one of them by a class on its root
(``lang-zh`` / ``lang-en``), so switching language changes no data and live updates need not
know which language a screen shows. Citizen text never appears here; names and codes go in as
plain strings, which Dash renders as text, escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from dash import dcc, html

from backend.core.i18n import duration, t
from backend.live.wall import TIERS
from backend.queries.live import TickerItem
from layouts import ids
from layouts.svg import data_uri, intake_svg


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile across the top: its key (its id, and its label's translation key), the figure
    of the wall model's ``kpi()`` it shows, and how that figure is written; its base (the
    counts a rate is of, or what a count holds) as figures of ``kpi()`` and a unit label, so
    no rate stands without its n. Its definition is ``def_<key>``, a hover or tap away."""

    key: str
    figure: str
    show: Callable[[Any], str] = str
    base: tuple[str, ...] = ()
    base_label: str = ""
    base_first: bool = False  # the base's label reads before its number


#: The tiles across the top, in reading order (a new tile: a row here, its label and its
#: definition ``def_<key>`` in the translation table, and its figure in ``WallModel.kpi`` if
#: it is a new one).
TILES = (
    Tile("received_today", "received_today", base_label="base_since_midnight", base_first=True),
    Tile(
        "open",
        "open",
        base=("awaiting_triage",),
        base_label="base_awaiting_triage",
        base_first=True,
    ),
    Tile(
        "closed_today",
        "closed_today",
        base=("closed_of_today",),
        base_label="base_reported_today",
        base_first=True,
    ),
    Tile("close_rate", "close_rate_today", pct, ("closed_of_today", "handled_today"), "base_cases"),
    Tile(
        "on_time_rate",
        "on_time_rate_today",
        pct,
        ("on_time_of_today", "closed_of_today"),
        "base_cases",
    ),
    Tile(
        "satisfaction_rate",
        "satisfaction_rate_today",
        pct,
        ("satisfied_today", "rated_today"),
        "base_ratings",
    ),
)
KPI_KEYS = tuple(tile.key for tile in TILES)
#: Map fill by load: no open cases, then rising open load, then overdue.
MAP_EMPTY = "#17233b"
MAP_OPEN = ("#1d4a73", "#2a6fa8", "#3a93d6", "#5cb6ff")
MAP_OVERDUE = ("#c8553d", "#ff3b3b")
CHANNEL_COLOURS = {
    "grid_worker": "#5cb6ff",
    "hotline": "#ffb347",
    "qr": "#7ee081",
    "wechat": "#4fd1c5",
    "walk_in": "#c792ea",
    "app": "#f78fb3",
    "open311": "#a0aec0",
}
TICKER_SHOWN = 14
STUCK_SHOWN = 6
#: What flashes on the ticker: intake of these severities, and every overdue line.
FLASH_SEVERITIES = frozenset({"urgent", "major"})


def bi(key: str, **kw: object) -> list[html.Span]:
    """A label in both languages; the page's root class shows one."""
    return [
        html.Span(t(key, "zh", **kw), className="zh"),
        html.Span(t(key, "en", **kw), className="en"),
    ]


def bi_text(zh: str, en: str) -> list[html.Span]:
    return [html.Span(zh, className="zh"), html.Span(en, className="en")]


# --------------------------------------------------------------------------- the page


def page(
    city: str, map_src: str, intake_src: str, lang: str = "zh", area: str | None = None
) -> html.Div:
    """The wall; ``area`` names a district wall's area (its frames carry that area only)."""
    return html.Div(
        [
            dcc.Store(id=ids.LANG, data=lang, storage_type="local"),
            dcc.Store(id=ids.WALL_PULSE),
            html.Div(id=ids.WALL_SINK, hidden=True),
            html.Div(id=ids.WALL_MAP_SINK, hidden=True),
            dcc.Store(id=ids.WALL_MAP_PAINT),
            html.Div(id=ids.WALL_MAP_PAINT_SINK, hidden=True),
            _header(city),
            html.Div([_kpi_tile(tile) for tile in TILES] + [_overdue_tile()], className="gw-kpis"),
            html.Div(
                [
                    html.Section(
                        [
                            _panel_title("funnel_title", "def_funnel"),
                            html.Div(
                                [_funnel_head()] + [_funnel_row(tier) for tier in TIERS],
                                className="gw-funnel",
                            ),
                            _panel_title("intake_title"),
                            _channel_legend(),
                            html.Img(id=ids.WALL_INTAKE, src=intake_src, className="gw-intake"),
                        ],
                        className="gw-col gw-col-left",
                    ),
                    html.Section(
                        [
                            _panel_title("map_title", "def_map"),
                            html.Div(
                                [
                                    # the image carries the map; assets/live.js draws it inline
                                    # beside it, where each area is a link with a tooltip
                                    html.Img(id=ids.WALL_MAP, src=map_src, className="gw-map"),
                                    html.Div(id=ids.WALL_MAP_LIVE, className="gw-map-live"),
                                ],
                                className="gw-map-box",
                            ),
                            _map_legend(),
                        ],
                        className="gw-col gw-col-mid",
                    ),
                    html.Section(
                        [
                            _panel_title("stuck_units_title", "def_stuck"),
                            html.Table(
                                [
                                    html.Thead(
                                        html.Tr(
                                            [
                                                html.Th(bi("col_unit")),
                                                html.Th(bi("open"), className="num"),
                                                html.Th(bi("overdue_cases_short"), className="num"),
                                                html.Th(bi("col_mean_wait"), className="num"),
                                            ]
                                        )
                                    ),
                                    html.Tbody(id=ids.WALL_STUCK),
                                ],
                                className="gw-stuck",
                            ),
                            _panel_title("ticker_title", "def_ticker"),
                            html.Ul(id=ids.WALL_TICKER, className="gw-ticker", children=[]),
                        ],
                        className="gw-col gw-col-right",
                    ),
                ],
                className="gw-main",
            ),
        ],
        id=ids.WALL,
        className=f"gw-wall lang-{lang}",
        **cast(Any, {"data-area": area or ""}),
    )


def _header(city: str) -> html.Header:
    return html.Header(
        [
            html.H1(
                [html.Span(city, id=ids.WALL_CITY, className="gw-city"), *bi("wall_title")],
                className="gw-title",
            ),
            html.Div(
                [
                    html.Span(id=ids.NOTICE, className="gw-notices"),
                    html.Span(id=ids.WALL_CLOCK, className="gw-clock"),
                    html.Span(
                        [
                            html.Span(className="gw-dot"),
                            html.Span(bi("live"), className="gw-when-live"),
                            html.Span(
                                [
                                    " · ",
                                    html.Span("0", className="gw-age"),
                                    " ",
                                    *bi("seconds_ago"),
                                ],
                                className="gw-when-live",
                            ),
                            html.Span(bi("reconnecting"), className="gw-when-stale"),
                        ],
                        id=ids.WALL_LIVE,
                        className="gw-live is-stale",
                    ),
                    # client-side only (assets/live.js): nothing here changes another wall
                    html.Button(
                        [
                            html.Span(bi("sound_off"), className="gw-when-off"),
                            html.Span(bi("sound_on"), className="gw-when-on"),
                        ],
                        id=ids.WALL_SOUND,
                        className="btn gw-sound",
                        **cast(Any, {"aria-pressed": "false"}),
                    ),
                    html.Button(bi("fullscreen"), id=ids.WALL_FULLSCREEN, className="btn"),
                    html.Button(bi_text("English", "中文"), id=ids.LANG_TOGGLE, className="btn"),
                ],
                className="gw-header-right",
            ),
        ],
        className="gw-header",
    )


def _definition(key: str) -> html.Div:
    """What a figure counts, shown on hover, or on a tap (the tile takes the focus)."""
    return html.Div(bi(key), className="gw-def", role="tooltip")


def _panel_title(key: str, definition: str | None = None) -> html.H2:
    if definition is None:
        return html.H2(bi(key), className="gw-panel-title")
    return html.H2(
        [*bi(key), html.Span("ⓘ", className="gw-info"), _definition(definition)],
        className="gw-panel-title has-def",
        tabIndex="0",
    )


def _kpi_tile(tile: Tile) -> html.Div:
    base: list[Any] = []
    if tile.base:
        base.append(html.Span("—", id=ids.kpi_base(tile.key), className="gw-base-n"))
    if tile.base_label:
        label = html.Span(bi(tile.base_label), className="gw-base-label")
        base = [label, " ", *base] if tile.base_first else [*base, " ", label]
    return html.Div(
        [
            html.Div("—", id=ids.kpi_value(tile.key), className="gw-kpi-value"),
            html.Div(
                [*bi(tile.key), html.Span("ⓘ", className="gw-info")], className="gw-kpi-label"
            ),
            html.Div(base, className="gw-kpi-base"),
            _definition(f"def_{tile.key}"),
        ],
        className="gw-kpi has-def",
        tabIndex="0",
        **cast(Any, {"data-kpi": tile.key}),
    )


def _overdue_tile() -> html.Div:
    parts = []
    for tier in TIERS:
        key = f"went_overdue_{tier}"
        parts.append(
            html.Div(
                [
                    html.Div("—", id=ids.kpi_value(key), className="gw-kpi-value"),
                    html.Div(bi(f"tier_{tier}"), className="gw-kpi-label"),
                ],
                className="gw-kpi-part",
                **cast(Any, {"data-kpi": key}),
            )
        )
    return html.Div(
        [
            html.Div(
                [
                    *bi("overdue_cases_open"),
                    " ",
                    html.Span("—", id=ids.kpi_value("overdue_cases_open"), className="gw-od-n"),
                    " · ",
                    *bi("went_overdue_by_tier"),
                    html.Span("ⓘ", className="gw-info"),
                ],
                className="gw-kpi-group-label",
            ),
            html.Div(parts, className="gw-kpi-parts"),
            html.Div(
                [
                    html.Span(bi("of_which_past_due_now"), className="gw-base-label"),
                    " ",
                    html.Span("—", id=ids.kpi_value("overdue"), className="gw-base-n"),
                    " ",
                    html.Span(bi("base_cases"), className="gw-base-label"),
                ],
                className="gw-kpi-base",
            ),
            _definition("def_overdue_cases"),
        ],
        className="gw-kpi gw-kpi-overdue has-def",
        tabIndex="0",
        **cast(Any, {"data-kpi": "overdue_cases"}),
    )


def _funnel_head() -> html.Div:
    return html.Div(
        [
            html.Div(),
            html.Div(),
            html.Div(bi("open"), className="gw-funnel-open"),
            html.Div(bi("overdue_cases_short"), className="gw-funnel-overdue"),
        ],
        className="gw-funnel-row gw-funnel-head",
    )


def _funnel_row(tier: str) -> html.Div:
    return html.Div(
        [
            html.Div(bi(f"tier_{tier}"), className="gw-funnel-label"),
            html.Div(
                html.Div(id=ids.funnel(tier, "bar"), className="gw-funnel-bar"),
                className="gw-funnel-track",
            ),
            html.Div("0", id=ids.funnel(tier, "open"), className="gw-funnel-open"),
            html.Div("0", id=ids.funnel(tier, "overdue"), className="gw-funnel-overdue"),
        ],
        className="gw-funnel-row",
        **cast(Any, {"data-tier": tier}),
    )


def _map_legend() -> html.Div:
    items = [
        (MAP_EMPTY, "legend_none"),
        (MAP_OPEN[1], "legend_open"),
        (MAP_OPEN[3], "legend_busy"),
        (MAP_OVERDUE[1], "legend_overdue_cases"),
    ]
    return html.Div(
        [
            html.Span(
                [html.I(style={"background": c}), *bi(k)],
                className="gw-legend-item",
            )
            for c, k in items
        ],
        className="gw-legend",
    )


def _channel_legend() -> html.Div:
    return html.Div(
        [
            html.Span(
                [html.I(style={"background": c}), *bi(f"channel_{ch}")], className="gw-legend-item"
            )
            for ch, c in CHANNEL_COLOURS.items()
        ],
        className="gw-legend gw-legend-channels",
    )


def area_error(message_zh: str, message_en: str, lang: str = "zh") -> html.Div:
    """A district wall asked for an area it cannot show: say why, and where to go instead."""
    return html.Div(
        [
            html.P(bi_text(message_zh, message_en), className="gw-area-error-text"),
            html.A(bi("wall_back_to_city"), href="/", className="btn"),
        ],
        id=ids.WALL_AREA_ERROR,
        className=f"gw-wall gw-area-error lang-{lang}",
        role="alert",
    )


# --------------------------------------------------------------------------- live pieces


def kpi_values(k: dict[str, Any]) -> dict[str, str]:
    """Element id → the text it shows: each tile's figure and base, and the 超期件."""
    out = {ids.kpi_value(tile.key): tile.show(k[tile.figure]) for tile in TILES}
    for tile in TILES:
        if len(tile.base) == 2:  # a rate: "part/whole"
            out[ids.kpi_base(tile.key)] = f"{k[tile.base[0]]}/{k[tile.base[1]]}"
        elif tile.base:
            out[ids.kpi_base(tile.key)] = str(k[tile.base[0]])
    for tier, v in k["by_tier"].items():
        out[ids.kpi_value(f"went_overdue_{tier}")] = str(v["went_overdue"])
    out[ids.kpi_value("overdue_cases_open")] = str(k["overdue_cases_open"])
    out[ids.kpi_value("overdue")] = str(k["overdue"])
    return out


def funnel_values(by_tier: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    """Component id → props for the tier funnel: open cases now at each tier, and the
    超期件 among them."""
    top = max([v["open"] for v in by_tier.values()] + [1])
    out: dict[str, dict[str, Any]] = {}
    for tier, v in by_tier.items():
        out[ids.funnel(tier, "bar")] = {"style": {"width": f"{100 * v['open'] / top:.1f}%"}}
        out[ids.funnel(tier, "open")] = {"children": str(v["open"])}
        out[ids.funnel(tier, "overdue")] = {
            "children": str(v["overdue_cases"]),
            "className": "gw-funnel-overdue" + (" is-hot" if v["overdue_cases"] else ""),
        }
    return out


def wall_numbers(k: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Element id → what ``assets/live.js`` writes into it: text ``t``, width ``w``, class ``c``.

    The numbers change with nearly every event, so they travel in the pulse as data and are
    written straight into their elements, instead of as one ``set_props`` per element: in
    Chromium each ``set_props`` costs a pass over every component of the page.
    """
    out = {key: {"t": text} for key, text in kpi_values(k).items()}
    for key, props in funnel_values(k["by_tier"]).items():
        n: dict[str, str] = {}
        if "children" in props:
            n["t"] = props["children"]
        if "style" in props:
            n["w"] = props["style"]["width"]
        if "className" in props:
            n["c"] = props["className"]
        out[key] = n
    return out


def case_href(case_id: int) -> str:
    return f"/leader/case/{case_id}"


def unit_href(unit: str) -> str:
    return "/leader?" + urlencode({"unit": unit})


def area_href(area: str) -> str:
    return "/leader?" + urlencode({"area": area})


def flashes(item: TickerItem, major: bool = False) -> bool:
    """Urgent or major intake (by its severity, or a category of the whistle list's major
    matters such as 道路塌陷), and every case going overdue, flash on the wall."""
    if item.kind == "overdue":
        return True
    return item.kind == "new" and (major or item.severity in FLASH_SEVERITIES)


def ticker_item(
    item: TickerItem, category: tuple[str, str], unit: str, tz: Any, major: bool = False
) -> html.Li:
    """One line of the ticker, a link to its case in a new tab (the wall itself stays as it
    is, for everyone); the key keeps React from re-creating the lines below it."""
    flash = " is-flash" if flashes(item, major) else ""
    return html.Li(
        html.A(
            [
                html.Span(f"{item.at.astimezone(tz):%H:%M:%S}", className="gw-t-time"),
                html.Span(bi(item.kind.label_key), className=f"gw-t-kind gw-k-{item.kind}"),
                html.Span(item.code, className="gw-t-code"),
                html.Span(bi_text(*category), className="gw-t-cat"),
                html.Span(unit, className="gw-t-unit"),
            ],
            href=case_href(item.case_id),
            target="_blank",
            rel="noopener",
            className="gw-t-link",
        ),
        key=str(item.seq),
        className=f"gw-t gw-t-{item.kind}{flash}",
        **cast(
            Any,
            {
                "data-case": str(item.case_id),
                "data-kind": item.kind,
                "data-severity": item.severity,
            },
        ),
    )


def stuck_rows(rows: list[tuple[str, str, int, int, float]]) -> list[html.Tr]:
    """(unit code, unit name, open, 超期件, mean seconds in stage) → table rows; the unit
    opens on the leader's desk in a new tab."""
    return [
        html.Tr(
            [
                html.Td(
                    html.A(name, href=unit_href(code), target="_blank", rel="noopener"),
                    className="gw-s-unit",
                ),
                html.Td(str(n_open), className="num"),
                html.Td(str(n_over), className="num" + (" is-hot" if n_over else "")),
                html.Td(bi_text(duration(mean, "zh"), duration(mean, "en")), className="num"),
            ],
            **cast(Any, {"data-unit": code}),
        )
        for code, name, n_open, n_over, mean in rows
    ]


def map_tip(name: str, code: str, n_open: int, n_overdue: int) -> str:
    """One area's tooltip on the map, in both languages (a tooltip cannot follow the page's
    language class)."""
    kw = {"name": name, "code": code, "open": n_open, "overdue": n_overdue}
    return f"{t('map_tip', 'zh', **kw)}\n{t('map_tip', 'en', **kw)}"


def map_colour(n_open: int, n_overdue: int, grids: int, typical: float = 2.0) -> str:
    """The fill for an area's load, per grid it covers, against the city's ``typical`` load
    per grid (its median): a quiet city and a busy one both show where the load is heavy."""
    if n_overdue:
        return MAP_OVERDUE[1] if n_overdue >= 2 * max(1, grids // 4) else MAP_OVERDUE[0]
    if not n_open:
        return MAP_EMPTY
    ratio = n_open / max(1, grids) / max(typical, 1e-9)
    for limit, colour in zip((0.6, 1.0, 1.6), MAP_OPEN, strict=False):
        if ratio <= limit:
            return colour
    return MAP_OPEN[3]


def typical_load(loads: list[tuple[int, int]]) -> float:
    """The median open cases per grid over the areas with any: (open, grids) pairs."""
    per_grid = sorted(n / max(1, g) for n, g in loads if n)
    return per_grid[len(per_grid) // 2] if per_grid else 1.0


def intake_chart(hours: list[datetime], by_channel: dict[str, list[int]], tz: Any) -> str:
    """The intake chart's image: hours in local time, channels stacked in a fixed order."""
    labels = [f"{h.astimezone(tz):%H}" for h in hours]
    zeros = [0] * len(hours)
    series = [(colour, by_channel.get(ch, zeros)) for ch, colour in CHANNEL_COLOURS.items()]
    return data_uri(intake_svg(labels, series))
