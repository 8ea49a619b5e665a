"""The frame every leader screen shares: the navigation bar, the filter bar, and formatting.

Light theme (Bootstrap through dash-bootstrap-components), one language at a time: the page
is built for the language chosen, and built again when it changes. Names and codes go in as
plain strings, which Dash renders as escaped text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import dcc, html

from backend.core.i18n import t
from backend.queries.filters import CHANNELS, COLOURS, OPEN_VALUES, TIERS, DrillFilter
from backend.refdata.index import RefIndex
from layouts import ids

#: (path, label key) of the leader's screens, in the navigation bar's order
PAGES = (
    ("/leader", "nav_overview"),
    ("/leader/bottlenecks", "nav_bottlenecks"),
    ("/leader/risk", "nav_risk"),
    ("/leader/assessment", "nav_assessment"),
    ("/leader/reports", "nav_reports"),
)
#: where the case page finds a citizen's photo (dashboard/leader.py serves it, in scope)
PHOTO_URL = "/leader/photos/"
#: pages whose content follows the filter bar
FILTERED = ("/leader", "/leader/bottlenecks", "/leader/risk")
COLOUR_CLASS = {
    "green": "success",
    "yellow": "warning",
    "orange": "orange",
    "red": "danger",
}


# ----------------------------------------------------------------------------- formatting


def pct(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v * 100:.{digits}f}%"


def hours(seconds: float | None, lang: str) -> str:
    """A duration for people: minutes, hours, or days past two days."""
    if seconds is None:
        return "—"
    s = abs(seconds)
    if s < 3600:
        return t("minutes", lang, n=f"{s / 60:.0f}")
    if s < 48 * 3600:
        return t("hours", lang, n=f"{s / 3600:.1f}")
    return t("days", lang, n=f"{s / 86400:.1f}")


def local_time(v: datetime | str | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if v is None:
        return "—"
    dt = datetime.fromisoformat(v) if isinstance(v, str) else v
    return dt.astimezone(tz).strftime(fmt)


def unit_name(ref: RefIndex, code: str | None) -> str:
    if not code:
        return "—"
    u = ref.units.get(code)
    return u.name if u else code


def area_name(ref: RefIndex, code: str | None) -> str:
    if not code:
        return "—"
    return ref.area_names.get(code, code)


def category_name(ref: RefIndex, code: str | None, lang: str) -> str:
    if not code:
        return "—"
    c = ref.categories.get(code)
    if c is None:
        return code
    return c.name_en if lang == "en" else c.name


def tier_name(tier: str | None, lang: str) -> str:
    return t(f"tier_{tier}", lang) if tier else t("untriaged", lang)


def status_name(status: str | None, lang: str) -> str:
    return t(f"status_{status}", lang) if status else "—"


def colour_badge(colour: str, lang: str) -> dbc.Badge:
    return dbc.Badge(
        t(f"colour_{colour}", lang),
        color=COLOUR_CLASS.get(colour, "secondary"),
        className=f"gw-colour gw-colour-{colour}",
    )


# ----------------------------------------------------------------------------- the frame


def navbar(
    city: str, path: str, search: str, lang: str, clock_text: str, status: Any = None
) -> dbc.Navbar:
    """The leader's navigation: the filters travel with the links (the URL's search part).
    ``status`` goes before the clock (the read replica's lag, when there is one)."""
    links = [
        dbc.NavItem(
            dcc.Link(
                t(key, lang),
                href=href + (search if href in FILTERED else ""),
                className="nav-link" + (" active" if path == href else ""),
                id=f"nav-{href.rsplit('/', 1)[-1]}",
            )
        )
        for href, key in PAGES
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                html.Div(
                    [
                        html.Span(city, className="gw-l-city"),
                        html.Span(t("leader_title", lang), className="gw-l-title"),
                    ],
                    className="navbar-brand",
                ),
                dbc.Nav(links, className="me-auto", navbar=True),
                html.Div(
                    [
                        *([status] if status is not None else []),
                        html.Span(clock_text, className="gw-l-clock"),
                        # a plain link: the wall is its own full page, with its own live stream
                        html.A(
                            t("nav_wall", lang), href="/", className="btn btn-outline-light btn-sm"
                        ),
                        dbc.Button(
                            t("language", lang),
                            id=ids.LEADER_LANG_TOGGLE,
                            size="sm",
                            color="light",
                        ),
                    ],
                    className="gw-l-navright",
                ),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="gw-l-navbar",
    )


def _options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in pairs]


#: a list longer than this is searched on the server, not sent whole (12,000 grids in Shangrao)
MAX_OPTIONS = 600
MATCHES = 50
_DEPTH = {"city": 0, "county": 1, "township": 2, "community": 3, "grid": 4}


def _area_option(ref: RefIndex, code: str) -> dict[str, Any]:
    pad = "\u3000" * _DEPTH.get(ref.area_levels.get(code, ""), 0)
    return {"label": f"{pad}{ref.area_names.get(code, code)}", "value": code, "search": code}


def area_options(ref: RefIndex, selected: str | None = None) -> list[dict[str, Any]]:
    """The area tree, depth first, indented: city → county → township (→ community → grid).

    A large city sends the upper levels; communities and grids come by search
    (``search_areas``), and the selected one is always there."""
    children: dict[str | None, list[str]] = {}
    parents = _area_parents(ref)
    small = len(ref.area_levels) <= MAX_OPTIONS
    for code, level in ref.area_levels.items():
        if small or level in ("city", "county", "township") or code == selected:
            children.setdefault(parents.get(code), []).append(code)
    out: list[dict[str, Any]] = []

    def walk(code: str) -> None:
        out.append(_area_option(ref, code))
        for child in sorted(children.get(code, [])):
            walk(child)

    for root in sorted(children.get(None, [])):
        walk(root)
    if selected and selected in ref.area_levels and selected not in {o["value"] for o in out}:
        out.append(_area_option(ref, selected))
    return out


def search_areas(ref: RefIndex, text: str, selected: str | None) -> list[dict[str, Any]]:
    """The upper levels, plus the areas whose name or code contains ``text``."""
    base = area_options(ref, selected)
    seen = {o["value"] for o in base}
    hits = sorted(
        code
        for code, name in ref.area_names.items()
        if code not in seen and (text in name or text in code)
    )
    return base + [_area_option(ref, code) for code in hits[:MATCHES]]


def _unit_option(ref: RefIndex, code: str, lang: str, with_tier: bool) -> dict[str, Any]:
    u = ref.units[code]
    label = f"{u.name}（{tier_name(u.tier.value, lang)}）" if with_tier else u.name
    return {"label": label, "value": code, "search": f"{u.name} {code}"}


def unit_options(
    ref: RefIndex, lang: str, selected: Any = None, *, with_tier: bool = False
) -> list[dict[str, Any]]:
    """Units by tier and name. A large city sends every unit above the grids; grid units come
    by search (``search_units``), and the selected ones are always there."""
    chosen = set(selected if isinstance(selected, list) else [selected] if selected else [])
    small = len(ref.units) <= MAX_OPTIONS
    units = sorted(
        (u for u in ref.units.values() if small or u.tier.value != "grid" or u.code in chosen),
        key=lambda u: (u.tier.rank, u.name),
    )
    return [_unit_option(ref, u.code, lang, with_tier) for u in units]


def search_units(
    ref: RefIndex, text: str, lang: str, selected: Any, *, with_tier: bool = False
) -> list[dict[str, Any]]:
    base = unit_options(ref, lang, selected, with_tier=with_tier)
    seen = {o["value"] for o in base}
    hits = sorted(
        (
            u
            for u in ref.units.values()
            if u.code not in seen and (text in u.name or text in u.code)
        ),
        key=lambda u: u.name,
    )
    return base + [_unit_option(ref, u.code, lang, with_tier) for u in hits[:MATCHES]]


def _area_parents(ref: RefIndex) -> dict[str, str | None]:
    """Parents from the grids' ancestry (the index keeps grids' community/township/county)."""
    parents: dict[str, str | None] = {}
    for g in ref.grids.values():
        parents[g.code] = g.community_code or g.township_code
        if g.community_code:
            parents[g.community_code] = g.township_code
        parents[g.township_code] = g.county_code
    city = [c for c, lvl in ref.area_levels.items() if lvl == "city"]
    for code, level in ref.area_levels.items():
        if level == "county":
            parents[code] = city[0] if city else None
        parents.setdefault(code, None)
    return parents


def filter_bar(f: DrillFilter, ref: RefIndex, lang: str) -> html.Div:
    """Every filter of the leader's screens, set from ``f`` (the URL)."""
    cats = sorted(ref.categories.values(), key=lambda c: c.code)

    def dd(id_: str, options: list[dict[str, Any]], value: Any, key: str, width: str) -> html.Div:
        return html.Div(
            [
                dbc.Label(t(key, lang), html_for=id_, className="gw-f-label"),
                dcc.Dropdown(
                    id=id_,
                    options=options,
                    value=value,
                    placeholder=t("f_all", lang),
                    clearable=True,
                    searchable=True,
                    className="gw-f-dd",
                ),
            ],
            className=f"gw-f gw-f-{width}",
        )

    return html.Div(
        [
            dd(ids.F_AREA, area_options(ref, f.area), f.area, "f_area", "wide"),
            dd(
                ids.F_TIER,
                _options([(x, tier_name(x, lang)) for x in TIERS]),
                f.tier,
                "f_tier",
                "narrow",
            ),
            dd(ids.F_UNIT, unit_options(ref, lang, f.unit), f.unit, "f_unit", "wide"),
            dd(
                ids.F_CATEGORY,
                _options([(c.code, c.name_en if lang == "en" else c.name) for c in cats]),
                f.category,
                "f_category",
                "mid",
            ),
            dd(
                ids.F_CHANNEL,
                _options([(x, t(f"channel_{x}", lang)) for x in CHANNELS]),
                f.channel,
                "f_channel",
                "mid",
            ),
            dd(
                ids.F_STATUS,
                _options([(x, status_name(x, lang)) for x in OPEN_VALUES]),
                f.status,
                "f_status",
                "narrow",
            ),
            dd(
                ids.F_COLOUR,
                _options([(x, t(f"colour_{x}", lang)) for x in COLOURS]),
                f.colour,
                "f_colour",
                "narrow",
            ),
            html.Div(
                [
                    dbc.Label(t("f_dates", lang), className="gw-f-label"),
                    dcc.DatePickerRange(
                        id=ids.F_DATES,
                        start_date=f.date_from.isoformat() if f.date_from else None,
                        end_date=f.date_to.isoformat() if f.date_to else None,
                        display_format="YYYY-MM-DD",
                        clearable=True,
                        start_date_placeholder_text=t("f_from", lang),
                        end_date_placeholder_text=t("f_to", lang),
                        className="gw-f-dates",
                    ),
                    # the picker's clear button is labelled "Clear Dates" by dcc itself;
                    # dashboard/assets/leader_grid.js relabels it with this
                    html.Span(t("clear_dates", lang), id="gw-clear-dates-label", hidden=True),
                ],
                className="gw-f gw-f-dates-wrap",
            ),
            html.Div(
                dbc.Button(
                    t("f_reset", lang), id=ids.F_RESET, color="secondary", outline=True, size="sm"
                ),
                className="gw-f gw-f-reset",
            ),
            html.Div(id=ids.F_ERRORS, className="gw-f-errors"),
        ],
        className="gw-filterbar",
    )


def shell(
    city: str,
    path: str,
    search: str,
    lang: str,
    clock_text: str,
    body: Any,
    f: DrillFilter | None = None,
    ref: RefIndex | None = None,
    status: Any = None,
) -> html.Div:
    """A leader page: the bar, the filters (on the filtered screens) and the page's body."""
    parts: list[Any] = [navbar(city, path, search, lang, clock_text, status)]
    inner: list[Any] = []
    if f is not None and ref is not None:
        inner.append(filter_bar(f, ref, lang))
    inner.append(body)
    parts.append(dbc.Container(inner, fluid=True, className="gw-l-main"))
    return html.Div(parts, className=f"gw-leader lang-{lang}", id="leader-root")


def card(title: str, body: Any, *, className: str = "", right: Any = None) -> dbc.Card:
    header = html.Div([html.Span(title), right] if right is not None else [html.Span(title)])
    return dbc.Card(
        [dbc.CardHeader(header, className="gw-card-h"), dbc.CardBody(body)],
        className=f"gw-card {className}".strip(),
    )
